"""The offline answerer: one pipeline of named stages, each reading the Query and recording its
decision in the answer's trace.

    understand (assistant/understand/query.py)  message → Query of Asks
    select     (assistant/retrieve/select.py)   which documents
    calculate  (assistant/calculate/router.py)  which rule, which amount, what it gives
    retrieve   (assistant/retrieve/search.py)   which clauses
    gate       (assistant/answer/gate.py)       covered or not, answered how, and why
    compose    (assistant/answer/compose.py)    verdict, lead, quotes, notes, calculation
    render     (assistant/answer/render.py)     chat text and hotline speech
"""
from __future__ import annotations

from dataclasses import replace

from assistant.answer.calibration import GateModel
from assistant.answer.compose import Composer
from assistant.answer.gate import Gate, GateDecision
from assistant.answer.parts import DocumentPart
from assistant.answer.render import assemble
from assistant.calculate.router import route
from assistant.calculate.rules import Rule
from assistant.models import Answer, AnswerPart
from assistant.retrieve.hybrid import HybridRetriever
from assistant.retrieve.search import Searcher
from assistant.retrieve.select import Selection, Selector
from assistant.settings import Settings
from assistant.store.index import Index
from assistant.understand.cues import Cues
from assistant.understand.lexicon import Lexicon
from assistant.understand.places import Gazetteer
from assistant.understand.query import Ask, Query, Reader
from assistant.understand.question import Rejection
from assistant.understand.terms import QueryTerms, is_function_word
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats


class Pipeline:
    def __init__(self, index: Index, retriever: HybridRetriever, seg: Segmenter, lexicon: Lexicon,
                 rules: list[Rule], settings: Settings, stats: WordStats, gazetteer: Gazetteer,
                 parts: tuple[DocumentPart, ...], cues: Cues, gate_model: GateModel | None = None,
                 item_marker=None, version_marker=None):
        self.index, self.retriever, self.seg, self.lexicon = index, retriever, seg, lexicon
        self.rules, self.settings, self.stats, self.gazetteer, self.cues = rules, settings, stats, gazetteer, cues
        self.clauses_by_key = {c.key: c for c in index.clauses}
        if gate_model is not None:
            gate_model = gate_model.reading(index.embedder_name)
        primary = index.primary_doc_ids()
        self._primary = set(primary)
        self.selector = Selector(index.documents, gazetteer, primary, settings.home_region)
        self.region_of = self.selector.region_of
        self.reader = Reader(cues, lexicon, rules, gazetteer, index.documents, seg, stats, index.bm25,
                             self.clauses_by_key, parts, settings.max_question_chars, version_marker)
        self.gate = Gate(index, self.clauses_by_key, primary, seg, lexicon, stats, gazetteer,
                         settings.min_coverage, is_function_word, retriever.query_vector,
                         gate_model)
        self.searcher = Searcher(retriever, lexicon, primary, len(index.documents), settings.top_k,
                                 settings.min_coverage, index.clauses, cues,
                                 self.gate.likelihood if gate_model is not None else None)
        self._articles = {d.doc_id for d in index.documents if d.style == "articles"}
        self.composer = Composer(index.clauses, self.clauses_by_key, rules, cues,
                                 self.selector.policy_documents(), len(index.documents), self.articles_of,
                                 item_marker)

    def articles_of(self, doc_id: str) -> bool:
        """Whether a document is built of articles (its citations name the document)."""
        return doc_id in self._articles

    # ---- the whole message -------------------------------------------------------------------
    def answer(self, raw_question, history: list | tuple = ()) -> Answer:
        query = self.reader.understand(raw_question, history)
        if isinstance(query, Rejection):
            part = AnswerPart(lead=query.message, refused=True)
            return assemble([part], self.articles_of, trace=[{"stage": "understand", "decision": "rejected",
                                                               "reason": query.message}])
        trace = [{"stage": "understand", "asks": [a.describe() for a in query.asks],
                  "context": {"qualification": query.context.qualification,
                              "industry": query.context.industry,
                              "document": query.document.document.title if query.document else None,
                              "followup": query.followup}}]
        aliased = [(s, e) for _, _, s, e in self.lexicon.expansions(query.text)]
        uncovered = self.selector.uncovered_regions(query, aliased)
        if uncovered:
            trace.append({"stage": "select", "decision": "decline", "reason": f"no document for {uncovered}"})
            return assemble([self.composer.decline(regions=uncovered)], self.articles_of, query.notice,
                            trace=trace)
        scope = self.composer.scope_verdict(query)
        if scope is not None:
            trace.append({"stage": "gate", "decision": "rule", "reason": f"scope: {scope.verdict}"})
            if all(not a.signature for a in query.asks):
                return assemble([scope], self.articles_of, query.notice, trace=trace)
        parts = [self.answer_ask(query, ask, i, trace) for i, ask in enumerate(query.asks)]
        parts = _said_once(([scope] if scope else []) + parts)
        return assemble(parts, self.articles_of, query.notice, verdict_first=scope is not None, trace=trace)

    # ---- one ask --------------------------------------------------------------------------------
    def answer_ask(self, query: Query, ask: Ask, i: int, trace: list) -> AnswerPart:
        def record(stage: str, detail: dict) -> None:
            trace.append({"stage": stage, "ask": i, **detail})

        if ask.article is not None:
            record("select", {"decision": "named article", "article": ask.article[1]})
            return self.composer.article(*ask.article)
        if ask.part is not None and query.document is not None:
            part = self.composer.document_part(ask.part, query.document.document)
            if part is not None:
                record("select", {"decision": f"named document part: {ask.part.name}"})
                return part
        selection = self.selector.select(query, ask)
        record("select", selection.describe())
        if selection.named and not selection.named_document:
            ask = replace(ask, terms=self._without_places(ask.terms))
        rules = [r for r in self.rules if r.id == ask.rule_only] if ask.rule_only else self.rules
        routed = route(ask.rule_text, list(ask.earlier), rules, ask.followup, query.context.industry)
        record("calculate", {"decision": routed.rule.id if routed else None,
                             "amount_yuan": routed.calculation.amount_yuan if routed and routed.calculation else None})
        retrieved = self.searcher.search(ask, selection)
        record("retrieve", retrieved.describe())
        period = None
        # A period answers an ask about the policy's own period (2029年还能申请吗, 这个政策有效期多长);
        # 劳动合同到期 is about a contract.
        # 到期 in 政策什么时候到期 says what is asked, not about what: no topic of its own.
        topic = [t for t in ask.terms.terms if not self.cues.has("validity", t.word)
                 and not self.cues.has("started", t.word)]
        about_policy = not topic or bool(ask.signature) or \
            (ask.intent.on_topic and (ask.intent.validity or ask.intent.started))
        if ask.intent.about_dates and about_policy:
            # The policy's own period only where the policy is what answers (逾期利息 found in a
            # law on loans is not asking when the policy ends).
            policy_answers = not topic or bool(retrieved.hits) and \
                retrieved.hits[0].clause.doc_id in self._primary
            period = self.composer.period_clause(retrieved.hits, selection.named, policy_answers)
        decision = self.gate.decide(query, ask, selection, retrieved.hits, routed, period is not None)
        record("gate", decision.describe())
        part = self.composer.caveat(self.compose(ask, decision, routed, period), decision.caveat)
        record("compose", {"verdict": part.verdict, "refused": part.refused,
                           "citations": [f"{c.title}#{c.section}" for c in part.citations]})
        return part

    def compose(self, ask: Ask, decision: GateDecision, routed, period) -> AnswerPart:
        composer = self.composer
        if decision.kind == "decline":
            return composer.decline(missing=decision.missing)
        if decision.kind == "rule":
            return composer.rule(ask, routed, self.gate.rule_clause(routed))
        if decision.kind == "validity":
            return composer.validity(ask, period)
        if decision.kind == "overview":
            return composer.overview()
        return composer.lookup(ask, decision.hits)

    def _without_places(self, terms: QueryTerms) -> QueryTerms:
        """A region the question names chooses the documents; it is not a topic a clause must
        cover (广东省 turns up in any Guangdong clause)."""
        return replace(terms, terms=[t for t in terms.terms if not self.gazetteer.is_place(t.word)])


def _said_once(parts: list[AnswerPart]) -> list[AnswerPart]:
    """Repeated parts (two asks answered by the same quote) are said once."""
    kept, seen = [], set()
    for p in parts:
        key = tuple((c.doc_id, c.section, c.quote) for c in p.citations) or (p.lead,)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept
