"""Run Q&A cases through the public API and score each answer."""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace

from . import metrics as m
from .sets import Case


@dataclass
class CaseResult:
    case: Case
    text: str
    refused: bool
    cited: list[str]  # "doc_id#section", in citation order
    quotes: list[dict]
    amount_yuan: int | None
    latency_ms: float
    checks: dict = field(default_factory=dict)
    passed: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["case"] = asdict(self.case)
        return d


def lost_at(case: Case, answer: dict) -> str | None:
    """Which stage lost a case whose gold is (title, article) pairs: the stage that declined, or
    retrieval when no gold article was among the clauses found, else the answer's composition."""
    if not case.articles:
        return None
    gold = set(case.articles)
    cited = [(c["title"], c["section"]) for c in answer["citations"]]
    if cited and cited[0] in gold:
        return None
    trace = answer.get("trace") or []
    if answer["refused"]:
        return next((t["stage"] for t in trace if t.get("decision") in ("decline", "rejected")), "answer")
    found = [tuple(h.rsplit("#", 1)) for t in trace if t["stage"] == "retrieve" for h in t.get("hits", [])]
    return "gate/compose" if any(f in gold for f in found) else "retrieve"


def stray_verdict(case: Case, answer: dict) -> bool | None:
    """A verdict (可以 / 不符合 …) given over articles none of which answers the question: the
    gold is (title, article) pairs and no cited article is one of them."""
    if not case.articles:
        return None
    verdicts = [answer.get("verdict")] + [p.get("verdict") for p in answer.get("parts") or []]
    if not any(verdicts):
        return False
    gold = set(case.articles)
    return not any((c["title"], c["section"]) in gold for c in answer["citations"])


def score(case: Case, answer: dict, latency_ms: float, doc_texts: dict[str, str]) -> CaseResult:
    # A case naming a document (title) only counts citations from that document.
    if case.articles:  # gold as (title, article) pairs: a citation is its title and section
        cited = [f"{c['title']}#{c['section']}" for c in answer["citations"]]
        case = replace(case, sections=[f"{t}#{a}" for t, a in case.articles])
    else:
        cited = [f"{c['doc_id']}#{c['section']}" if case.title in c.get("title", "") else "other-document#-"
                 for c in answer["citations"]]
    calc = answer.get("calculation")
    amount = calc["amount_yuan"] if calc else None
    text = answer["text"]
    sources = [c["quote"] for c in answer["citations"]] + [case.question]
    sources += [q for q, _ in case.history]
    for c in answer.get("calculations") or ([calc] if calc else []):
        sources += [str(c["amount_yuan"]), *map(str, c["inputs"].values()), *c["steps"]]
    checks = {
        "refused_ok": case.refused is None or answer["refused"] == case.refused,
        "hit1": m.hit_at(cited, case.sections, 1) if case.sections else None,
        "hit3": m.hit_at(cited, case.sections, 3) if case.sections else None,
        "rr": m.reciprocal_rank(cited, case.sections) if case.sections else None,
        "all_cited": m.all_cited(cited, case.sections) if case.sections else None,
        "citation_precision": m.citation_precision(cited, case.sections) if case.sections else None,
        "fact_recall": m.fact_recall(text, case.facts),
        "forbidden": m.forbidden_found(text, case.forbid),
        "amount_ok": None if case.amount_yuan is None else amount == case.amount_yuan,
        "ungrounded": m.ungrounded_numbers(text, sources),
        "quotes_valid": all(m.quote_is_verbatim(c["quote"], doc_texts.get(c["doc_id"], ""))
                            for c in answer["citations"]),
        "rouge_l": m.rouge_l_chars(text, case.reference) if case.reference else None,
        "hit_any": m.hit_at(cited, case.sections, len(cited) or 1) if case.articles else None,
        "lost_at": lost_at(case, answer),
        "stray_verdict": stray_verdict(case, answer),
    }
    if case.articles:  # any one gold article cited is right
        checks["all_cited"] = checks["hit_any"]
    passed = (checks["refused_ok"] and checks["all_cited"] is not False
              and checks["fact_recall"] == 1.0 and not checks["forbidden"]
              and checks["amount_ok"] is not False and not checks["ungrounded"]
              and checks["quotes_valid"])
    return CaseResult(case, text, answer["refused"], cited, answer["citations"], amount, latency_ms,
                      checks, passed)


def run_cases(bot, cases: list[Case]) -> list[CaseResult]:
    doc_texts = {d.doc_id: d.text for d in bot.documents()}
    results = []
    for case in cases:
        t0 = time.perf_counter()
        answer = bot.ask(case.question, case.history).to_dict()
        results.append(score(case, answer, (time.perf_counter() - t0) * 1000, doc_texts))
    return results


def run_cases_cli(bot, cases: list[Case], index_dir) -> list[CaseResult]:
    """The same cases through the batch CLI (python -m assistant ask --jsonl), as outside tools
    call it. Latency per question is the batch's wall time divided evenly (one process)."""
    import json
    import subprocess
    import sys

    doc_texts = {d.doc_id: d.text for d in bot.documents()}
    lines = [json.dumps({"id": str(i), "question": c.question, "history": [list(h) for h in c.history]},
                        ensure_ascii=False) for i, c in enumerate(cases)]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", "--jsonl", "-", "--index", str(index_dir)],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    each = (time.perf_counter() - t0) * 1000 / max(1, len(cases))
    answers = {a["id"]: a for a in map(json.loads, out.stdout.splitlines())}
    return [score(c, answers[str(i)], each, doc_texts) for i, c in enumerate(cases)]


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarise(results: list[CaseResult]) -> dict:
    def block(rs: list[CaseResult]) -> dict:
        c = [r.checks for r in rs]
        refusal = m.refusal_scores([(r.case.refused, r.refused) for r in rs if r.case.refused is not None])
        return {
            "cases": len(rs), "passed": sum(r.passed for r in rs),
            "pass_rate": _mean(r.passed for r in rs),
            "hit@1": _mean(x["hit1"] for x in c), "hit@3": _mean(x["hit3"] for x in c),
            "mrr": _mean(x["rr"] for x in c),
            "hit@any": _mean(x.get("hit_any") for x in c),
            "refusal_rate": _mean(r.refused for r in rs),
            "stray_verdicts": sum(bool(x.get("stray_verdict")) for x in c) if any(
                x.get("stray_verdict") is not None for x in c) else None,
            "lost_at": dict(Counter(x["lost_at"] for x in c if x.get("lost_at"))) or None,
            "citation_precision": _mean(x["citation_precision"] for x in c),
            "fact_recall": _mean(x["fact_recall"] for x in c),
            "amount_exact": _mean(x["amount_ok"] for x in c),
            "refusal_precision": refusal["precision"], "refusal_recall": refusal["recall"],
            "grounding": _mean(not x["ungrounded"] for x in c),
            "quote_validity": _mean(x["quotes_valid"] for x in c),
            "rouge_l_chars(weak)": _mean(x["rouge_l"] for x in c),
            "latency_p50_ms": m.percentile([r.latency_ms for r in rs], 50),
            "latency_p95_ms": m.percentile([r.latency_ms for r in rs], 95),
        }

    by_kind: dict[str, list[CaseResult]] = defaultdict(list)
    by_set: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        by_kind[r.case.kind].append(r)
        by_set[r.case.source.rsplit(":", 1)[0]].append(r)
    return {"overall": block(results), "by_kind": {k: block(v) for k, v in sorted(by_kind.items())},
            "by_set": {k: block(v) for k, v in by_set.items()}}
