"""What every command shares: settings from the environment and flags, progress on stderr."""
from __future__ import annotations

import logging
import sys

from assistant.settings import Settings

log = logging.getLogger("assistant")


class ProgressBars:
    """Progress of long work on stderr: a tqdm bar per stage on a terminal, one line per finished
    stage otherwise (logs). Called from the build thread and Chroma's writer thread alike."""

    def __init__(self, stream=None, min_total: int = 200):
        import threading

        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_total = min_total
        self.bars: dict = {}
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        import time

        if total < self.min_total:
            return
        with self.lock:
            self.started.setdefault(stage, time.perf_counter())
            if self.tty:
                from tqdm import tqdm

                bar = self.bars.get(stage)
                if bar is None:
                    bar = self.bars[stage] = tqdm(total=total, desc=stage, file=self.stream,
                                                  position=len(self.bars), leave=True, unit="项")
                bar.update(done - bar.n)
                if done >= total:
                    bar.close()
            elif done >= total and stage not in self.bars:
                self.bars[stage] = True
                print(f"{stage}：{total} 项，用时 {time.perf_counter() - self.started[stage]:.1f} 秒",
                      file=self.stream, flush=True)


def _settings(args) -> Settings:
    return Settings.from_env(index_dir=getattr(args, "index", None))
