"""How long work reports how far it got: (stage, done, total). The CLI draws bars from it; the
library itself never prints."""
from __future__ import annotations

from typing import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None
