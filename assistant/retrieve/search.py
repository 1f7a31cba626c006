"""Retrieve: the clauses an ask is answered from, within the selected documents — the policy first,
a regulation only when it covers the question clearly better."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Clause, Hit
from assistant.retrieve.coverage import assess
from assistant.retrieve.hybrid import HybridRetriever
from assistant.retrieve.select import Selection
from assistant.understand.cues import Cues
from assistant.understand.lexicon import Lexicon
from assistant.understand.numerals import article_numeral
from assistant.understand.query import CONTEXT_TERMS, Ask

# How much better a regulation must cover a question before it is preferred to the policy.
PREFER_POLICY_MARGIN = 0.15


@dataclass(frozen=True)
class Retrieved:
    hits: list[Hit]
    reason: str

    def describe(self) -> dict:
        return {"decision": self.reason,
                "hits": [f"{h.clause.doc_title}#{h.clause.section}" for h in self.hits[:5]]}


class Searcher:
    def __init__(self, retriever: HybridRetriever, lexicon: Lexicon, primary_ids: list[str],
                 document_count: int, top_k: int, min_coverage: float, clauses: list[Clause] = (),
                 cues: Cues | None = None, judge=None):
        """judge(ask, hits) → how likely the hits answer the ask (the calibrated gate), or None."""
        self.retriever, self.lexicon = retriever, lexicon
        self.judge = judge
        self.primary_ids, self.document_count = primary_ids, document_count
        self.top_k, self.min_coverage = top_k, min_coverage
        self.cues = cues
        self.clauses_of: dict[str, list[Clause]] = {}
        for c in clauses:
            self.clauses_of.setdefault(c.doc_id, []).append(c)

    def search(self, ask: Ask, selection: Selection) -> Retrieved:
        found = self._search(ask, selection)
        if ask.intent.penalty and self.cues is not None:
            hits, followed = self.follow_penalty(found.hits)
            if not followed:
                hits, followed = self.penalty_found(found.hits, ask.intent.amount or ask.intent.money)
            if followed:
                return Retrieved(hits, f"{found.reason}; {followed}")
        return found

    def penalty_found(self, hits: list[Hit], money: bool) -> tuple[list[Hit], str]:
        """Asked what a breach costs, the first article found states no penalty and none refers to
        it by number: the best-ranked article of its document that states one (a fine, when money
        is asked: 罚多少钱) answers first — penalty articles list the acts they punish in their own
        words (阻挠…检查的), and the duty article follows it."""
        cue = "fine_stated" if money else "penalty_stated"
        if not hits or self.cues.has(cue, hits[0].clause.text):
            return hits, ""
        for hit in hits[1:]:
            if hit.clause.doc_id == hits[0].clause.doc_id and self.cues.has(cue, hit.clause.text):
                return [hit] + [h for h in hits if h is not hit], f"the penalty found: {hit.clause.label}"
        return hits, ""

    def follow_penalty(self, hits: list[Hit]) -> tuple[list[Hit], str]:
        """Asked what a breach costs (会被罚多少钱), and the article found states the duty, not the
        penalty: the article of the same document that refers to it (违反本条例第六条规定的，…
        罚款) and states a penalty answers first, the duty after it."""
        for hit in hits[:3]:
            duty = hit.clause
            if not duty.section.isdigit() or self.cues.has("penalty_stated", duty.text):
                continue
            reference = f"第{article_numeral(int(duty.section))}条"
            for clause in self.clauses_of.get(duty.doc_id, []):
                if clause.key != duty.key and reference in clause.text and self.cues.has("penalty_stated", clause.text):
                    rest = [h for h in hits if h.clause.key != clause.key]
                    return [Hit(clause, hits[0].score)] + rest, f"the penalty for {duty.label}: {clause.label}"
        return hits, ""

    def query_text(self, ask: Ask) -> str:
        """The ask's topic with the documents' words for its aliases (阿里云 → 上云上平台)."""
        return self.lexicon.expand(ask.topic, CONTEXT_TERMS)

    def _search(self, ask: Ask, selection: Selection) -> Retrieved:
        text = self.query_text(ask)
        if selection.named:
            return Retrieved(self.retriever.search(text, k=self.top_k, doc_ids=selection.doc_ids),
                             "within the selected documents")
        home = selection.home
        everything = self.retriever.search(text, k=self.top_k, doc_ids=home)
        primary = self.primary_ids
        if not primary or len(primary) == len(home or range(self.document_count)):
            return Retrieved(everything, "all selected documents")
        if not any(h.clause.doc_id in primary for h in everything):
            # The policy first only where it is among the best matches of all: on every policy
            # set it is whenever it answers, and a law's question it merely mentions (股权质押,
            # 医疗) is not answered from it.
            return Retrieved(everything, "the policy is not among the best matches")
        policy = self.retriever.search(text, k=self.top_k, doc_ids=primary)
        p_cov = assess(ask.terms, [h.clause for h in policy[:3]], self.min_coverage)
        a_cov = assess(ask.terms, [h.clause for h in everything[:3]], self.min_coverage)
        if self.judge is not None and max(p_cov.score, a_cov.score) < self.min_coverage:
            # Neither covers the ask's words well (挖竞争对手的技术骨干…): whichever the calibrated
            # gate finds likelier to answer it, the policy on a tie.
            p_policy, p_all = self.judge(ask, policy), self.judge(ask, everything)
            if p_policy >= p_all - PREFER_POLICY_MARGIN / 3:
                return Retrieved(policy, f"policy first (p {p_policy:.2f} vs {p_all:.2f})")
            return Retrieved(everything, f"a regulation is likelier to answer (p {p_all:.2f} vs {p_policy:.2f})")
        # The policy answers what it covers about as well as anything else does; one of its terms
        # found (租房 in 人才租房补贴) does not make it the answer to a tenant's question.
        if p_cov.covered_enough and p_cov.score >= a_cov.score - PREFER_POLICY_MARGIN and \
                (p_cov.score >= self.min_coverage or a_cov.score < self.min_coverage):
            return Retrieved(policy, f"policy first (covers {p_cov.score:.2f} vs {a_cov.score:.2f})")
        if a_cov.covered_enough or not p_cov.covered_enough:
            return Retrieved(everything, f"a regulation covers better ({a_cov.score:.2f} vs {p_cov.score:.2f})")
        return Retrieved(policy, "policy (nothing covers better)")
