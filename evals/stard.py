"""STARD (real layperson questions → statute articles; ../shared/evals/stard/README.md).

Gold is any of several (law title, article number) pairs. The dev file is split once, by a hash of
the id, into a tuning part and a held-out part scored only at the end of a round: tune on
`tuning()`, report `heldout()` separately.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARD = ROOT.parent / "shared" / "evals" / "stard"
DEV = STARD / "dev.jsonl"
LAWS = STARD / "laws"
HELDOUT_SHARE = 5  # one question in five (by a hash of its id) is held out


def load(path: Path = DEV) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_heldout(case_id: str) -> bool:
    return int(hashlib.sha1(case_id.encode("utf-8")).hexdigest(), 16) % HELDOUT_SHARE == 0


def tuning(path: Path = DEV) -> list[dict]:
    return [c for c in load(path) if not is_heldout(c["id"])]


def heldout(path: Path = DEV) -> list[dict]:
    return [c for c in load(path) if is_heldout(c["id"])]


def gold(case: dict) -> set[tuple[str, str]]:
    """The (title, section) pairs that answer the case; section as the answer dict gives it."""
    return {(a["title"], str(a["article"])) for a in case["articles"]}
