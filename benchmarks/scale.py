"""Index build time, query latency and peak memory as the corpus grows from the seed policy alone
to all ~1,900 regulations of ../shared/corpus-scale. Each size runs in its own process so peak
RSS is its own. Prints a table; asserts nothing.

    .venv/bin/python benchmarks/scale.py [--sizes 1,10,100,500,1909]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCALE = ROOT.parent / "shared" / "corpus-scale"
sys.path.insert(0, str(ROOT))
QUESTIONS = ["上云上平台合同额50万元，补贴多少？", "首贷有补助吗？", "专利纠纷可以申请行政调解吗？",
             "进入专板培育层的企业有奖励吗？", "北京市社保缴费基数上限是多少？", "参加线上外贸展会的费用能补贴吗？"]


def one(size: int) -> dict:
    from assistant import Assistant
    from assistant.api import Toolkit
    from assistant.settings import Settings

    regs = sorted(p for p in SCALE.rglob("*.md") if p.name != "README.md")[: size - 1]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for i, p in enumerate(regs):
            shutil.copy(p, corpus / f"{i:04d}-{p.name}")
        settings = Settings.from_env({}, index_dir=Path(tmp) / "index")
        t0 = time.perf_counter()
        manifest = Toolkit.load(settings).build([ROOT / "corpus", corpus], settings.index_dir)
        build_s = time.perf_counter() - t0
        bot = Assistant.load(settings=settings)
        for q in QUESTIONS:
            bot.ask(q)
        times = []
        for _ in range(5):
            for q in QUESTIONS:
                t = time.perf_counter()
                bot.ask(q)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        disk = sum(f.stat().st_size for f in settings.index_dir.rglob("*") if f.is_file())
        return {"documents": manifest["documents"], "clauses": manifest["clauses"], "chunks": manifest["chunks"],
                "build_s": round(build_s, 1), "p50_ms": round(times[len(times) // 2], 1),
                "p95_ms": round(times[int(len(times) * 0.95)], 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "index_mb": round(disk / 2**20, 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1,10,100,500,1909")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print("| documents | clauses | chunks | build (s) | ask p50 (ms) | ask p95 (ms) | peak RSS (MB) | index on disk (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True)
        if out.returncode:
            print(f"| {size} | failed: {out.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {r['documents']} | {r['clauses']} | {r['chunks']} | {r['build_s']} | {r['p50_ms']} | "
              f"{r['p95_ms']} | {r['peak_rss_mb']} | {r['index_mb']} |", flush=True)


if __name__ == "__main__":
    main()
