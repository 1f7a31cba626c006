"""Gate: is the ask covered by what was retrieved, and how is it to be answered — with the reason.

The gate reads the Ask (its weighed topic words, intent, named document), the selection, the
hits and the calculator's routing, and decides one thing: decline (and why) or answer as a rule,
a validity period, an overview, or a lookup of the best clause.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.calculate.router import Routed
from assistant.models import Clause, Hit
from assistant.answer.calibration import GateModel
from assistant.retrieve.coverage import Coverage, assess
from assistant.retrieve.select import Selection
from assistant.understand.query import CONTEXT_TERMS, Ask, Query

# A question naming a region (not a title) answers from that region's documents with at least
# this share of its topic words covered.
REGION_COVERAGE = 0.3
# A topic word in at most this many chunks of the index is specific: a clause holding it is on
# the topic whatever its document is called (a few laws added: every word of theirs is).
SPECIFIC_CHUNKS = 12
SPECIFIC_DOCUMENTS = 3  # … or in at most this many documents, however many of their clauses
# A clause covering at least this share of an ask's topic weight, in at least two words, is about
# the ask whatever its document is called: not an incidental match.
DEPTH_SHARE = 0.5
INCIDENTAL_CLOSENESS = 0.7  # cosine at which a clause is about the ask whatever its words: on dev, 0.7 keeps 5 more STARD answers and loses none elsewhere; 0.6 loses Beijing users' questions over 1,900 regulations


@dataclass(frozen=True)
class GateDecision:
    kind: str  # "decline", "rule", "validity", "overview", "lookup"
    reason: str
    hits: list[Hit]
    coverage: Coverage | None = None
    caveat: tuple[str, ...] = ()  # must-match words the text does not mention, said in the answer
    missing: tuple[str, ...] = ()  # for a decline: the topic the documents do not cover
    features: dict | None = None  # what the decision read (trace, calibration)

    @property
    def declines(self) -> bool:
        return self.kind == "decline"

    def describe(self) -> dict:
        out = {"decision": self.kind, "reason": self.reason}
        if self.features:
            out["features"] = self.features
        if self.coverage is not None:
            out["coverage"] = round(self.coverage.score, 3)
            out["missing"] = list(self.coverage.missing)[:5]
        return out


def rule_clause_key(routed: Routed) -> str:
    return f"{routed.rule.doc_id}#{routed.rule.section}"


class Gate:
    def __init__(self, index, clauses_by_key: dict[str, Clause], primary_ids: list[str], seg, lexicon,
                 stats, gazetteer, min_coverage: float, is_function_word, embed=None,
                 model: GateModel | None = None):
        """embed: the query embedder (text → unit vector), for how close in meaning the clauses are.
        model: the calibrated decision (corpus/gate.toml); without one, word coverage alone decides."""
        self.index, self.clauses_by_key = index, clauses_by_key
        self.embed, self.model = embed, model
        import numpy as np

        doc_number = {d.doc_id: i for i, d in enumerate(index.documents)}
        self._doc_of_chunk = np.fromiter((doc_number.get(index.clauses[ch.clause].doc_id, -1) for ch in index.chunks),
                                         dtype=np.int32, count=len(index.chunks))
        self._specificity: dict[str, bool] = {}
        self._rows_of_clause: dict[str, list[int]] = {}
        for row, chunk in enumerate(index.chunks):
            self._rows_of_clause.setdefault(index.clauses[chunk.clause].key, []).append(row)
        self._primary = set(primary_ids)
        self.seg, self.lexicon, self.stats, self.gazetteer = seg, lexicon, stats, gazetteer
        self.min_coverage = min_coverage
        self.is_function_word = is_function_word

    def decide(self, query: Query, ask: Ask, selection: Selection, hits: list[Hit],
               routed: Routed | None, period_known: bool = False) -> GateDecision:
        """period_known: a scope clause states the period the ask asks about."""
        incidental = 0.0
        if not selection.named and routed is None and hits:
            # An unnamed regulation whose match is incidental (a common word in a clause about
            # something else) neither answers nor helps cover.
            naming = self._naming_words(ask.text)
            flags = [self._incidental(naming, ask, h.clause) for h in hits]
            incidental = sum(flags[:3]) / len(flags[:3])
            kept = [h for h, f in zip(hits, flags) if not f]
            if not kept:
                evidence = {**self.evidence(ask, hits), "incidental": 1.0}
                return GateDecision("decline", "only incidental matches in unnamed regulations", [],
                                    features=evidence, missing=self._nameable(evidence["unseen_words"]))
            hits = kept
        return self._decide(query, ask, selection, hits, routed, period_known, incidental)

    def likelihood(self, ask: Ask, hits: list[Hit]) -> float:
        """How likely these hits answer the ask, by the calibrated model (retrieval compares the
        policy's clauses with everyone's by it)."""
        if not hits or self.model is None:
            return 0.0
        coverage = assess(ask.terms, [h.clause for h in hits[:3]], self.min_coverage)
        return self.model.probability(self.evidence(ask, hits, coverage))

    def evidence(self, ask: Ask, hits: list[Hit], coverage: Coverage | None = None,
                 incidental: float = 0.0) -> dict:
        """What the decision reads: how much of the ask the clauses cover, whether its weightiest
        word is there, how much of it no loaded document uses at all, how close in meaning."""
        terms = ask.terms.terms
        total = sum(t.weight for t in terms) or 1.0
        top = [h.clause for h in hits[:3]]
        text3 = "".join(c.doc_title + c.label + c.text for c in top)
        text1 = "".join(c.doc_title + c.label + c.text for c in top[:1])
        ranked = sorted(terms, key=lambda t: -t.weight)
        unseen = [t for t in terms if self._unseen(t, text3)]
        return {
            "cov3": round(sum(t.weight for t in terms if t.found_in(text3)) / total, 3),
            "cov1": round(sum(t.weight for t in terms if t.found_in(text1)) / total, 3),
            "chief": bool(ranked) and ranked[0].found_in(text3),
            "n_terms": len(terms),
            "unseen": round(sum(t.weight for t in unseen) / total, 3),
            "unseen_words": [t.word for t in unseen][:3],
            "policy_top": bool(top) and top[0].doc_id in self._primary,
            "dense": self._closeness(ask, top),
            "anchored": bool(coverage and coverage.anchored),
            "incidental": round(incidental, 3),
        }

    def _closeness(self, ask: Ask, clauses: list[Clause]) -> float:
        """The highest cosine between the ask and a chunk of the clauses (0 without an embedder)."""
        rows = [r for c in clauses for r in self._rows_of_clause.get(c.key, ())]
        words = " ".join(t.word for t in ask.terms.terms)  # the topic's own words: no fillers (呃，那个…)
        if self.embed is None or not rows or not words:
            return 0.0
        vector = self.embed(words)
        return round(float(max(self.index.vectors[rows] @ vector)), 3)

    def _unseen(self, term, text: str) -> bool:
        """A topic word no loaded document uses (in any of its forms): not in the clauses found,
        not a word of the index."""
        bm25 = self.index.bm25
        known = any(bm25.term_idf(w.lower()) for w in (*term.alternatives, *term.parts))
        return not term.found_in(text) and not known  # 散装白酒: the index speaks of 散装

    def _decide(self, query: Query, ask: Ask, selection: Selection, hits: list[Hit],
                routed: Routed | None, period_known: bool, incidental: float) -> GateDecision:
        terms = ask.terms
        named, named_document = selection.named, selection.named_document
        top = [h.clause for h in hits[:3]]
        coverage = assess(terms, top, self.min_coverage)
        if named and hits and (named_document or coverage.score >= REGION_COVERAGE):
            coverage = replace(coverage, anchored=True)  # the document asked about answers
        evidence = self.evidence(ask, hits, coverage, incidental)

        def decided(kind: str, reason: str, **kw) -> GateDecision:
            return GateDecision(kind, reason, hits, coverage, features=evidence, **kw)

        caveat: tuple[str, ...] = ()
        if coverage.answerable_with_caveat:
            caveat = coverage.must_missing
        elif coverage.must_missing:
            return decided("decline", "a must-match topic is missing", missing=coverage.must_missing)
        if named and not named_document and routed is None:
            if self._qualification_unsaid(query.text, top[:1]):
                return decided("decline", "the region's clauses never name the qualification")
            if not terms.terms and hits:  # 上海的企业有什么规定: the region's best clause
                return decided("lookup", "the region's best clause", caveat=caveat)
        rule_clause = self.rule_clause(routed)
        if routed and routed.calculation is None and hits and hits[0].clause.key != rule_clause_key(routed):
            rule_clause = None  # no figure to compute: the best-matching clause answers
        if rule_clause is not None:
            return decided("rule", f"rule {routed.rule.id}", caveat=caveat)
        if ask.intent.about_dates and period_known:
            return decided("validity", "asks about the period", caveat=caveat)
        if not terms.terms:
            if ask.intent.on_topic:
                return decided("overview", "about the policy as a whole", caveat=caveat)
            return decided("decline", "no topic words")
        if not hits:
            return decided("decline", "nothing retrieved", missing=self._nameable(coverage.missing))
        if named_document or coverage.answerable_with_caveat:
            return decided("lookup", "the document asked about answers", caveat=caveat)
        missing = self._nameable(evidence["unseen_words"]) or self._nameable(coverage.missing)
        evidence["decides"] = True  # this decision is the calibrated one (evals/calibrate.py fits it)
        if self.model is None:  # word coverage alone
            if coverage.covered_enough:
                return decided("lookup", f"covered {coverage.score:.2f}", caveat=caveat)
            return decided("decline", f"coverage {coverage.score:.2f} below {coverage.threshold}", missing=missing)
        covered, p = self.model.covers(evidence)
        evidence["p"] = round(p, 3)
        if covered:
            return decided("lookup", f"calibrated p={p:.2f}", caveat=caveat)
        return decided("decline", f"calibrated p={p:.2f} below {self.model.threshold:.2f}", missing=missing)

    def _nameable(self, words) -> tuple[str, ...]:
        """The missing words a decline may name as the caller's topic: real words (a dictionary's
        or the documents'), never a segmenter's guess (有个 in 上海有个子公司)."""
        return tuple(w for w in words if self.seg.is_dictionary_word(w) or self.index.bm25.term_idf(w.lower()))

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
        body = clause.label + clause.text
        found = [t for t in terms.terms if t.found_in(body)]
        total = sum(t.weight for t in terms.terms) or 1.0
        if len(found) >= 2 and sum(t.weight for t in found) >= DEPTH_SHARE * total:
            return False  # the clause speaks of most of what is asked
        about = clause.doc_title + "".join(clause.heading_path)
        if any(t.found_in(about) for t in terms.terms) or any(w in about for w in naming):
            return False
        if any(self._specific(t.word.lower()) for t in terms.terms if t.found_in(body)):
            return False
        # Words alone say incidental; a clause close in meaning to the ask is about it all the same.
        return self._closeness(ask, [clause]) < INCIDENTAL_CLOSENESS

    def _specific(self, word: str) -> bool:
        """A word rare in the index, or concentrated in a few of its documents (承揽合同: many
        articles, all of one code), is evidence of its topic wherever it is found; a word spread
        over many documents (个人所得税 in regulations on first aid and on business) is not."""
        found = self._specificity.get(word)
        if found is None:
            bm25 = self.index.bm25
            row = bm25.vocab.get(word)
            if row is None:
                found = False
            else:
                chunks = bm25.weights.indices[bm25.weights.indptr[row]:bm25.weights.indptr[row + 1]]
                documents = len(set(self._doc_of_chunk[chunks].tolist()))
                found = len(chunks) <= SPECIFIC_CHUNKS or documents <= SPECIFIC_DOCUMENTS
            if len(self._specificity) > 100_000:
                self._specificity.clear()
            self._specificity[word] = found
        return found

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
