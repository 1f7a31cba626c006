"""Warm per-question latency of Assistant.ask on the seed corpus, and the cold time from process
start to first answer for the CLI. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/latency.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round((len(s) - 1) * p / 100)))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    from assistant import Assistant
    from evals.sets import read_set

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        t0 = time.perf_counter()
        bot = Assistant.load(index)  # builds the index (first use)
        print(f"index build + load (seed corpus): {time.perf_counter() - t0:.2f} s")
        cases = [c for f in sorted((ROOT / "evals/sets").glob("*.jsonl")) for c in read_set(f)[0]]
        for c in cases[:20]:
            bot.ask(c.question, c.history)  # warm-up
        times = []
        for _ in range(args.rounds):
            for c in cases:
                t = time.perf_counter()
                bot.ask(c.question, c.history)
                times.append((time.perf_counter() - t) * 1000)
        print(f"warm ask: {len(times)} questions, p50 {pct(times, 50):.2f} ms, p95 {pct(times, 95):.2f} ms, "
              f"max {max(times):.2f} ms, mean {statistics.mean(times):.2f} ms")
        colds = []
        for q in ("上云上平台合同额50万元，补贴多少？", "首贷有补助吗？", "2029年还能申请吗？"):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "assistant", "ask", q, "--index", str(index), "--json"],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
            colds.append(time.perf_counter() - t)
            json.loads(out.stdout)
        print("cold CLI (process start → first answer, index present): "
              + ", ".join(f"{c:.2f} s" for c in colds))


if __name__ == "__main__":
    main()
