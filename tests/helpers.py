"""Small helpers the test modules share."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
