"""Gate: is the ask covered by what was retrieved, and how is it to be answered — with the reason.

The gate reads the Ask (its weighed topic words, intent, named document), the selection, the
hits and the calculator's routing, and decides one thing: decline (and why) or answer as a rule,
a validity period, an overview, or a lookup of the best clause.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.calculate.router import Routed
from assistant.models import Clause, Hit
from assistant.retrieve.coverage import Coverage, assess
from assistant.retrieve.select import Selection
from assistant.understand.query import CONTEXT_TERMS, Ask, Query

# A question naming a region (not a title) answers from that region's documents with at least
# this share of its topic words covered.
REGION_COVERAGE = 0.3
# A topic word in at most this many chunks of the index is specific: a clause holding it is on
# the topic whatever its document is called (a few laws added: every word of theirs is).
SPECIFIC_CHUNKS = 12


@dataclass(frozen=True)
class GateDecision:
    kind: str  # "decline", "rule", "validity", "overview", "lookup"
    reason: str
    hits: list[Hit]
    coverage: Coverage | None = None
    caveat: tuple[str, ...] = ()  # must-match words the text does not mention, said in the answer
    missing: tuple[str, ...] = ()  # for a decline: the topic the documents do not cover

    @property
    def declines(self) -> bool:
        return self.kind == "decline"

    def describe(self) -> dict:
        out = {"decision": self.kind, "reason": self.reason}
        if self.coverage is not None:
            out["coverage"] = round(self.coverage.score, 3)
            out["missing"] = list(self.coverage.missing)[:5]
        return out


def rule_clause_key(routed: Routed) -> str:
    return f"{routed.rule.doc_id}#{routed.rule.section}"


class Gate:
    def __init__(self, index, clauses_by_key: dict[str, Clause], primary_ids: list[str], seg, lexicon,
                 stats, gazetteer, min_coverage: float, is_function_word):
        self.index, self.clauses_by_key = index, clauses_by_key
        self._primary = set(primary_ids)
        self.seg, self.lexicon, self.stats, self.gazetteer = seg, lexicon, stats, gazetteer
        self.min_coverage = min_coverage
        self.is_function_word = is_function_word

    def decide(self, query: Query, ask: Ask, selection: Selection, hits: list[Hit],
               routed: Routed | None, period_known: bool = False) -> GateDecision:
        """period_known: a scope clause states the period the ask asks about."""
        terms = ask.terms
        named, named_document = selection.named, selection.named_document
        if not named and routed is None and hits:
            # An unnamed regulation whose match is incidental neither answers nor helps cover.
            naming = self._naming_words(ask.text)
            kept = [h for h in hits if not self._incidental(naming, ask, h.clause)]
            if not kept:
                return GateDecision("decline", "only incidental matches in unnamed regulations", [])
            hits = kept
        top = [h.clause for h in hits[:3]]
        coverage = assess(terms, top, self.min_coverage)
        if named and hits and (named_document or coverage.score >= REGION_COVERAGE):
            coverage = replace(coverage, anchored=True)  # the document asked about answers
        caveat: tuple[str, ...] = ()
        if coverage.answerable_with_caveat:
            caveat = coverage.must_missing
        elif coverage.must_missing:
            return GateDecision("decline", "a must-match topic is missing", hits, coverage,
                                missing=coverage.must_missing)
        if named and not named_document and routed is None:
            if self._qualification_unsaid(query.text, top[:1]):
                return GateDecision("decline", "the region's clauses never name the qualification", hits, coverage)
            if not terms.terms and hits:  # 上海的企业有什么规定: the region's best clause
                return GateDecision("lookup", "the region's best clause", hits, coverage, caveat)
        rule_clause = self.rule_clause(routed)
        if routed and routed.calculation is None and hits and hits[0].clause.key != rule_clause_key(routed):
            rule_clause = None  # no figure to compute: the best-matching clause answers
        if rule_clause is not None:
            return GateDecision("rule", f"rule {routed.rule.id}", hits, coverage, caveat)
        if ask.intent.about_dates and period_known:
            return GateDecision("validity", "asks about the period", hits, coverage, caveat)
        if not terms.terms:
            if ask.intent.on_topic:
                return GateDecision("overview", "about the policy as a whole", hits, coverage, caveat)
            return GateDecision("decline", "no topic words", hits, coverage)
        if not coverage.covered_enough and not coverage.answerable_with_caveat:
            return GateDecision("decline", f"coverage {coverage.score:.2f} below {coverage.threshold}",
                                hits, coverage, missing=coverage.missing)
        return GateDecision("lookup", f"covered {coverage.score:.2f}", hits, coverage, caveat)

    def rule_clause(self, routed: Routed | None) -> Clause | None:
        if routed is None:
            return None
        return self.clauses_by_key.get(rule_clause_key(routed))

    @staticmethod
    def _qualification_unsaid(message: str, clauses: list[Clause]) -> bool:
        """Asked about another region's documents, the policy's qualification words are the topic
        (上海的专精特新企业有什么补贴): a region's clauses that never say them do not answer."""
        said = [t for t in CONTEXT_TERMS if t in message]
        text = "".join(c.text for c in clauses)
        return bool(said) and not any(t in text for t in said)

    def _incidental(self, naming: list[str], ask: Ask, clause: Clause) -> bool:
        """A regulation the question does not name answers only when it is about what is asked:
        a word of the question in its title or the clause's headings (中小企业 in 促进中小企业
        发展条例), or a topic word so rare in the index that finding it is itself the evidence.
        Among 1,900 regulations a common word (个人所得税, 营业执照) turns up in clauses about
        something else (院前急救, 营商环境). naming: the question's _naming_words."""
        terms = ask.terms
        if clause.doc_id in self._primary or not terms.terms:
            return False
        about = clause.doc_title + "".join(clause.heading_path)
        if any(t.found_in(about) for t in terms.terms) or any(w in about for w in naming):
            return False
        body = clause.label + clause.text
        return not any(self.index.bm25.chunk_frequency(t.word.lower()) <= SPECIFIC_CHUNKS
                       for t in terms.terms if t.found_in(body))

    def _naming_words(self, question: str) -> list[str]:
        """The question's words that could name a document's subject: words the documents use,
        not the legal language's function words, not places, not bare generic words (企业, 办法)
        though a longer one (中小企业) names a subject."""
        out = []
        for word, _, _ in self.seg.terms(question):
            if len(word) < 2 or not self.index.bm25.term_idf(word.lower()):
                continue
            if word in self.lexicon.generic and len(word) < 3:
                continue
            if self.is_function_word(word, self.stats) or self.gazetteer.is_place(word):
                continue
            out.append(word)
        return out
