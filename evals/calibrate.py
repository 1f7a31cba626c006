"""Calibrate the decline threshold (Settings.min_coverage) on dev sets to a stated refusal precision.

    python -m evals calibrate evals/sets/*.jsonl ../shared/evals/colloquial-dev.jsonl

For each threshold it prints refusal precision and recall and the pass rate, and picks the one
with the best recall whose precision meets the target (ties: the higher pass rate).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .runner import run_cases, summarise
from .sets import read_set

GRID = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


def calibrate(sets: list[Path], index: str | None, target: float) -> int:
    from assistant import Assistant
    from assistant.settings import Settings

    cases = [c for s in sets for c in read_set(s)[0] if c.refused is not None]
    base = Settings.from_env(index_dir=index)
    rows = []
    for t in GRID:
        bot = Assistant.load(settings=replace(base, min_coverage=t))
        o = summarise(run_cases(bot, cases))["overall"]
        rows.append((t, o["refusal_precision"] or 0.0, o["refusal_recall"] or 0.0, o["pass_rate"] or 0.0))
    print(f"拒答阈值校准（{len(cases)} 例，目标精确率 ≥ {target}）\n")
    print("| min_coverage | refusal precision | refusal recall | pass rate |\n|---|---|---|---|")
    for t, p, r, ok in rows:
        print(f"| {t} | {p:.3f} | {r:.3f} | {ok:.3f} |")
    meeting = [row for row in rows if row[1] >= target]
    if not meeting:
        print("\n没有阈值达到目标精确率。")
        return 1
    best = max(meeting, key=lambda row: (row[2], row[3]))
    print(f"\n选定 min_coverage = {best[0]}（精确率 {best[1]:.3f}，召回率 {best[2]:.3f}）")
    return 0
