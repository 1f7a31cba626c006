"""python -m evals run SET [SET…] [--index DIR] [--out DIR] [--compare PREV] [--baseline] [--gate]"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tomllib
from pathlib import Path

from .report import compare_runs, html_report, markdown
from .runner import run_cases, run_cases_cli, summarise
from .sets import check_sections, read_set

THRESHOLDS = Path(__file__).with_name("thresholds.toml")


def gate_failures(summary: dict, thresholds: dict) -> list[str]:
    """Metrics below their floor (thresholds only ever move up)."""
    out = []
    for key, floor in thresholds.items():
        value = summary["overall"].get(key)
        if value is None or value < floor:
            out.append(f"{key} = {value} < {floor}")
    return out


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    p = argparse.ArgumentParser(prog="python -m evals")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="评测一个或多个用例集（.jsonl/.csv/.xlsx）")
    run.add_argument("sets", nargs="+")
    run.add_argument("--index")
    run.add_argument("--corpus", help="索引不存在时用于构建的语料目录")
    run.add_argument("--out", help="报告目录（results.json、report.html、summary.md）")
    run.add_argument("--compare", help="上次的 results.json")
    run.add_argument("--baseline", action="store_true", help="同时评测朴素 RAG 基线")
    run.add_argument("--gate", action="store_true", help=f"低于 {THRESHOLDS.name} 的门槛则失败")
    run.add_argument("--split", choices=["tuning", "heldout"],
                     help="STARD：只评测调参部分或留出部分（evals/stard.py，按 id 的哈希固定划分）")
    run.add_argument("--via", choices=["api", "cli"], default="api",
                     help="api：Python 接口；cli：批量命令行 python -m assistant ask --jsonl")
    cal = sub.add_parser("calibrate", help="在混合开发数据上校准拒答判断，写入 corpus/gate.toml")
    cal.add_argument("--config", default=str(Path(__file__).with_name("calibration.toml")))
    cal.add_argument("--out", help="模型文件（默认 corpus/gate.toml）")
    cal.add_argument("--rebuild", action="store_true", help="重建校准用的索引")
    args = p.parse_args(argv)
    if args.command == "calibrate":
        from .calibrate import calibrate

        return calibrate(Path(args.config), Path(args.out) if args.out else None, args.rebuild)

    from assistant import Assistant

    bot = Assistant.load(args.index, corpus_dir=args.corpus)
    cases, problems = [], []
    for s in args.sets:
        c, pr = read_set(Path(s))
        cases += c
        problems += pr
    if args.split:
        from .stard import is_heldout

        cases = [c for c in cases if is_heldout(c.id) == (args.split == "heldout")]
    known = {c.key for c in bot.index.clauses}
    bad_sections = check_sections(cases, known)
    problems += bad_sections
    bad_sources = {pr.source for pr in bad_sections}
    cases = [c for c in cases if c.source not in bad_sources]
    results = (run_cases_cli(bot, cases, bot.index.directory.parent.parent) if args.via == "cli"
               else run_cases(bot, cases))
    summary = summarise(results)
    baseline = None
    if args.baseline:
        from .baseline import Baseline

        b = Baseline(bot)
        baseline = b.evaluate(cases)
        b.close()
    compare = compare_runs(results, Path(args.compare)) if args.compare else None
    text = markdown(summary, problems, baseline, compare)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.md").write_text(text, encoding="utf-8")
        (out / "results.json").write_text(json.dumps([r.to_dict() for r in results], ensure_ascii=False,
                                                     indent=1), encoding="utf-8")
        (out / "report.html").write_text(html_report(summary, results, problems, baseline), encoding="utf-8")
        print(f"\n报告已写入 {out}/report.html", file=sys.stderr)
    if args.gate:
        thresholds = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))["overall"]
        failures = gate_failures(summary, thresholds)
        for f in failures:
            print(f"门槛未达到：{f}", file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
