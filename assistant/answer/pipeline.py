"""The offline answerer: deterministic Chinese answers built only from quotes and calculations."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.calculate.router import Routed, route
from assistant.answer.evidence import (FIGURE, MONEY_FIGURE, QueryTerms, assess, best_sentences, is_function_word,
                       query_terms)
from assistant.store.index import Index
from assistant.understand.lexicon import Lexicon, correct_typos
from assistant.models import Answer, Citation, Clause
from assistant.answer.parts import DocumentPart, asked_part
from assistant.understand.places import Gazetteer, Place
from assistant.understand.query import CONTEXT_TERMS, Ask, Query, Reader
from assistant.understand.question import Rejection, clean
from assistant.understand.references import named_article
from assistant.retrieve.hybrid import HybridRetriever
from assistant.calculate.rules import Rule
from assistant.settings import Settings
from assistant.answer.speech import speakable
from assistant.documents.textnorm import sentences
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats

_YES_NO = re.compile(r"(吗|么|嘛|能否|可否|是否|有没有|能不能|可不可以|行不行|有无)[?？。!！\s]*$|能否|是否|有没有|能不能|可不可以")
_HAS = re.compile(r"有没有|有无|有.{0,12}(吗|么)")
_SUPPORT = re.compile(r"支持|给予|奖励|资助|补助|补贴|鼓励|优先|推动|引导|享受|实行|纳入|放宽|提供|予以")
_MONEY_ASK = re.compile(r"补贴|补助|奖励|资金|钱|资助|报销|奖金|补多少")
_MONEY_GRANT = re.compile(r"资金|奖励|补助|补贴|资助|万元|%")
_VALIDITY = re.compile(r"执行期|有效期|截止|到期|期限|什么时候结束|到什么时候|管到|哪年|失效|过期|还有效")
# When it started: the policy's text states only until when it runs.
_STARTED = re.compile(r"(什么时候|何时|哪天|哪年|几号)(开始)?(实施|施行|执行|生效|发布|出台|印发)|"
                      r"(实施|施行|生效|发布|印发)(日期|时间)|开始(实施|施行|执行|生效)")
_YEAR = re.compile(r"(20\d\d)\s*年")
_ON_TOPIC = re.compile(r"专精特新|小巨人|政策|措施|支持|补贴|奖励|扶持|资助|十大")


# A question naming a region (not a title) answers from that region's documents with at least
# this share of its topic words covered.
REGION_COVERAGE = 0.3
# How much better a regulation must cover a question before it is preferred to the policy.
PREFER_POLICY_MARGIN = 0.15
# A topic word in at most this many chunks of the index is specific: a clause holding it is on
# the topic whatever its document is called (a few laws added: every word of theirs is).
SPECIFIC_CHUNKS = 12


def rule_clause_key(routed: Routed) -> str:
    return f"{routed.rule.doc_id}#{routed.rule.section}"


_GRANT = re.compile(r"给予|予以|提供|实行|优先")
# How to apply (when, where, with what): the policy text states none of it.
_PROCEDURE = re.compile(r"什么时候(开始)?(申报|申请|报名)|申报时间|申请时间|截止日期|去哪(个网站|里|儿)?(申请|申报|办|报)|"
                        r"在哪(里|儿)?(申请|申报|办理)|怎么申请|如何申请|怎么申报|如何申报|申请流程|申报流程|办理流程|"
                        r"(准备|需要|要)(什么|哪些)材料|申请材料|申报材料")
_PROCEDURE_STATED = re.compile(r"申报时间|申请材料|申报材料|受理")

_ELIGIBILITY_ASK = re.compile(r"能享受|能申请|可以享受|可以申请|适用|能不能享受|能不能申请|符合|能参加|有资格|有用吗|管用吗|用得上")


def _phrases(quote: str) -> list[str]:
    """The quote's comma-separated phrases, never split inside brackets or quotation marks."""
    out, depth, current = [], 0, ""
    for ch in quote:
        if ch in "（(“「《":
            depth += 1
        elif ch in "）)”」》":
            depth = max(0, depth - 1)
        if ch in "，,；;" and depth == 0:
            if current:
                out.append(current)
            current = ""
        else:
            current += ch
    if current:
        out.append(current)
    return out


def _claimed_amount(question: str) -> str:
    """The amount a question claims (能拿1000万吗), as written; '' when none."""
    from assistant.understand.amounts import AmountError
    from assistant.calculate.router import _split

    try:
        _, claims = _split(question)
    except AmountError:
        return ""
    return claims[0].text if claims else ""


# How a question asks (怎么算, 多少, 比例 …): a follow-up naming only a new topic borrows it.
_ASK_CUE = re.compile(r"怎么算|如何计算|多少|比例|最高|上限|几成|怎么补|能补|能拿|有没有|有什么|条件|怎么申请")

# Qualification levels the policy's scope clause leaves out.
EXCLUDED_LEVELS = ("区级", "省级", "无")


@dataclass
class Answerer:
    index: Index
    retriever: HybridRetriever
    seg: Segmenter
    lexicon: Lexicon
    rules: list[Rule]
    settings: Settings
    stats: WordStats
    gazetteer: Gazetteer
    parts: tuple[DocumentPart, ...] = ()

    def __post_init__(self):
        self.clauses_by_key = {c.key: c for c in self.index.clauses}
        self.clauses_of: dict[str, list[Clause]] = {}
        for c in self.index.clauses:
            self.clauses_of.setdefault(c.doc_id, []).append(c)
        self._vocabulary = self.lexicon.vocabulary()
        self.reader = Reader(self.lexicon, self.rules, self.gazetteer, self.index.documents)
        self.region_of = {d.doc_id: self.gazetteer.region_of(d) for d in self.index.documents}
        self._primary_ids = self.index.primary_doc_ids()  # read per question: computed once
        self._primary = set(self._primary_ids)
        self._home_cache: dict[frozenset, list[str] | None] = {}

    def _home_documents(self, callers: frozenset[str] = frozenset()) -> list[str] | None:
        """The documents a question naming no region is answered from: with the home region's
        own documents loaded besides the policy (北京's regulations), a Shanghai or Henan rule
        is not the caller's rule, so other regions' documents wait until the question names
        their region, or the caller says they are there (我们在河南). With none of the home
        region's loaded, every document an operator added answers. None: all."""
        if callers not in self._home_cache:
            home = self.settings.home_region
            ours = {home} | set(callers)
            docs = None
            if home and any(r == home and d not in self._primary for d, r in self.region_of.items()):
                docs = [d for d, r in self.region_of.items() if r is None or r in ours or d in self._primary]
                docs = docs if len(docs) < len(self.region_of) else None
            self._home_cache[callers] = docs
        return self._home_cache[callers]

    # ---- entry point -------------------------------------------------------------------
    def answer(self, raw_question: str, history: list | tuple = ()) -> Answer:
        q = clean(raw_question, self.settings.max_question_chars)
        if isinstance(q, Rejection):
            return Answer(q.message, True, short=q.message)
        text, fixes = correct_typos(q.text, self._vocabulary, self.seg.terms(q.text),
                                    self.seg.is_dictionary_word)
        notice = q.notice + "".join(f"已按“{right}”理解“{typed}”。" for typed, right in fixes)
        query = self.reader.read(text, history, notice)
        answer = self._answer_query(query)
        if query.notice:
            answer.text = query.notice + "\n" + answer.text
        return answer

    def _answer_query(self, query: Query) -> Answer:
        covered = {r for r in self.region_of.values() if r}
        aliased = [(s, e) for _, _, s, e in self.lexicon.expansions(query.text)]
        uncovered = [p.region for p in query.regions if p.region not in covered
                     and not any(s <= p.start < e for s, e in aliased)]  # 香港上市 is a listing
        if uncovered:
            return self._decline(list(dict.fromkeys(uncovered)), ())
        scope = self._scope_verdict(query)
        if scope is not None and all(not a.signature for a in query.asks):
            return scope  # 这些政策能享受吗: the scope clause is the whole answer
        parts = [self._answer_ask(query, ask, first=i == 0) for i, ask in enumerate(query.asks)]
        return self._combine(([scope] if scope else []) + parts, verdict_given=scope is not None)

    def _answer_ask(self, query: Query, ask: Ask, first: bool) -> Answer:
        followup = query.followup and first
        earlier = list(query.earlier) if followup else []
        # A follow-up with its own topic (那上云呢？) is about that topic; one without (那如果合同额
        # 是10万元呢？) continues the earlier question.
        topic = ask.topic_text(query.context)
        context = f"{earlier[0]} {topic}" if followup and not ask.signature else topic
        cue = ""
        if followup and ask.signature:
            # 那数字化转型呢？ after 上云补贴怎么算: the new topic, asked the way the last one was.
            cue = "".join(dict.fromkeys(_ASK_CUE.findall(earlier[0])))
            topic, context = f"{topic} {cue}", f"{context} {cue}"
        article = named_article(ask.text, self.index.documents, self.clauses_by_key)
        if article is not None:
            return self._article_answer(*article)
        named = query.document
        part = asked_part(ask.text, self.parts) if named is not None else None
        if part is not None:  # 《…条例》的立法目的: the clause that states it, by its wording
            clause = part.find(self.clauses_of.get(named.document.doc_id, []))
            if clause is not None:
                return self._part_answer(part, clause)
            if named.document.style == "articles":  # a policy's period is its scope clause's
                return self._part_unstated(part, named.document.title)
        if named is not None:
            # Within a named document its title's words say nothing about which article answers.
            context = context.replace(named.text, " ")
        # Rules trigger on the documents' words for the caller's words too (阿里云 → 上云上平台).
        routed = route(self.lexicon.expand(f"{ask.text} {cue}".strip(), CONTEXT_TERMS), earlier, self.rules,
                       followup, query.context.industry)
        terms = query_terms(context, self.seg, self.lexicon, self.index.bm25, self.stats, CONTEXT_TERMS)
        region_docs = self._region_docs(query.regions) if named is None else None
        if region_docs:
            terms = self._without_places(terms)
        doc_ids = [named.document.doc_id] if named is not None else region_docs
        home = self._home_documents(frozenset(p.region for p in query.context.places))
        hits = self._search(context, terms, doc_ids, home)
        # A question naming a loaded document, or a region only some documents are for, is
        # answered from their best clause (a missing must-match topic still declines).
        return self._compose(ask.text, context, terms, hits, routed, bool(doc_ids), named is not None,
                             message=query.text)

    def _without_places(self, terms: QueryTerms) -> QueryTerms:
        """A region the question names chooses the documents; it is not a topic a clause must
        cover (广东省 turns up in any Guangdong clause)."""
        return replace(terms, terms=[t for t in terms.terms if not self.gazetteer.is_place(t.word)])

    def _region_docs(self, regions: tuple[Place, ...]) -> list[str] | None:
        """A question about a region that only some loaded documents are for goes to them."""
        wanted = {p.region for p in regions}
        docs = [d for d, r in self.region_of.items() if r in wanted]
        return docs if docs and len(docs) < len(self.index.documents) and not set(docs) & self._primary \
            else None

    def _scope_verdict(self, query: Query) -> Answer | None:
        """区级, 省级 or not yet recognised: the policy's scope clause rules the enterprise out."""
        level = query.context.qualification
        scope_rule = next((r for r in self.rules if r.kind == "scope"), None)
        if level is None or scope_rule is None:
            return None
        generic_ask = all(not a.signature for a in query.asks) and _ELIGIBILITY_ASK.search(query.text)
        if level not in EXCLUDED_LEVELS and not generic_ask:
            return None  # 国家级/市级 asking about a measure: the measure answers
        if query.document is not None and query.document.document.doc_id != scope_rule.doc_id:
            return None  # the question is about another document (read once, in the Query)
        clause = self.clauses_by_key.get(f"{scope_rule.doc_id}#{scope_rule.section}")
        if clause is None:
            return None
        quals = "和".join(scope_rule.get("qualifications", []))
        said = query.context.qualification_said
        if level in EXCLUDED_LEVELS:
            lead = f"不符合：本政策适用于{quals}，您提到“{said}”，不在本政策适用范围内。"
        else:
            lead = f"符合：本政策适用于{quals}，您提到的“{said}”在适用范围内。"
        return self._render(lead, [Citation(clause.doc_id, clause.doc_title, clause.section,
                                            clause.label, scope_rule.quote)])

    def _combine(self, parts: list[Answer], verdict_given: bool) -> Answer:
        """One answer part per ask, each with its own citations; repeated parts said once."""
        kept, seen = [], set()
        for p in parts:
            key = tuple((c.doc_id, c.section, c.quote) for c in p.citations) or (p.text,)
            if key not in seen:
                seen.add(key)
                kept.append(p)
        if len(kept) == 1:
            return kept[0]
        if all(p.refused for p in kept):
            return kept[0]
        texts, shorts = [], []
        for i, p in enumerate(kept):
            text, short = (p.short, p.short) if p.refused else (p.text, p.short)
            if verdict_given:  # the scope verdict leads; what follows is the measure, no 可以
                text = text if i == 0 else "相关条款：" + _drop_yes(text)
                short = short if i == 0 else ""
            else:
                text = f"{'一二三四五六七八九十'[min(i, 9)]}、{text}"  # no digits: every digit is sourced
            texts.append(text)
            shorts.append(short)
        citations = list(dict.fromkeys(c for p in kept for c in p.citations))
        calculations = [p.calculation for p in kept if p.calculation]
        calculation = calculations[0] if calculations else None
        return Answer("\n\n".join(texts), False, citations, calculation,
                      short=speakable("".join(shorts)) if len(kept) == 1 else "".join(
                          speakable(s) for s in shorts if s), more_calculations=calculations[1:])

    def _search(self, context: str, terms: QueryTerms, doc_ids: list[str] | None = None,
                home: list[str] | None = None):
        """The policy documents first; a regulation only when it covers the question clearly better.
        doc_ids: the documents the question names (by title or region), searched alone.
        home: the documents a question naming none is answered from (None: all)."""
        expanded = self.lexicon.expand(context, CONTEXT_TERMS)
        if doc_ids:
            return self.retriever.search(expanded, k=self.settings.top_k, doc_ids=doc_ids)
        everything = self.retriever.search(expanded, k=self.settings.top_k, doc_ids=home)
        primary = self._primary_ids
        if not primary or len(primary) == len(home or self.index.documents):
            return everything
        policy = self.retriever.search(expanded, k=self.settings.top_k, doc_ids=primary)
        p_cov = assess(terms, [h.clause for h in policy[:3]], self.settings.min_coverage)
        a_cov = assess(terms, [h.clause for h in everything[:3]], self.settings.min_coverage)
        if p_cov.covered_enough and p_cov.score >= a_cov.score - PREFER_POLICY_MARGIN:
            return policy
        return everything if a_cov.covered_enough or not p_cov.covered_enough else policy

    def _article_answer(self, doc, written: str, clause: Clause | None) -> Answer:
        if clause is None:
            text = f"已加载的《{doc.title}》中没有{written}，请核对条文序号。"
            return Answer(text, True, short=text)
        quote = clause.text if len(clause.text) <= 400 else best_sentences(clause, QueryTerms([]))[0]
        cite = Citation(clause.doc_id, clause.doc_title, clause.section, clause.label, quote)
        lead = f"《{clause.doc_title}》{clause.label}的规定如下。"
        return self._render(lead, [cite])

    @staticmethod
    def _part_unstated(part: DocumentPart, title: str) -> Answer:
        text = (f"已加载的《{title}》文本中没有写明{part.name}的条款（加载的文件可能不完整），"
                f"无法依据原文回答，请以正式公布的文本为准。")
        return Answer(text, True, short=text)

    def _part_answer(self, part: DocumentPart, clause: Clause) -> Answer:
        quote = clause.text
        if len(quote) > 400:  # the sentence that states it
            quote = next((s for s in sentences(clause.text) if part.clause.search(s)), quote)
        cite = Citation(clause.doc_id, clause.doc_title, clause.section, clause.label, quote)
        return self._render(part.lead.format(title=clause.doc_title, label=clause.label), [cite])

    # ---- composition -------------------------------------------------------------------
    def _compose(self, question, context, terms: QueryTerms, hits, routed: Routed | None,
                 named: bool = False, named_document_asked: bool = False, message: str = "") -> Answer:
        """named: the search was limited to the documents the question names (by title or by
        region); a title answers from its best article, a region needs some words covered."""
        if not named and routed is None and hits:
            # An unnamed regulation whose match is incidental neither answers nor helps cover.
            naming = self._naming_words(question)
            hits = [h for h in hits if not self._incidental(naming, terms, h.clause)]
            if not hits:
                return self._decline((), ())
        top = [h.clause for h in hits[:3]]
        coverage = assess(terms, top, self.settings.min_coverage)
        if named and hits and (named_document_asked or coverage.score >= REGION_COVERAGE):
            coverage = replace(coverage, anchored=True)  # the document asked about answers
        caveat = ""
        if coverage.answerable_with_caveat:
            caveat = "原文未提及" + "、".join(f"“{m}”" for m in coverage.must_missing) + "。"
        elif coverage.must_missing:
            return self._decline((), coverage.must_missing)
        if named and not named_document_asked and routed is None:
            if self._qualification_unsaid(message or question, top[:1]):
                return self._decline((), ())
            if not terms.terms and hits:  # 上海的企业有什么规定: the region's best clause
                return self._lookup_answer(question, terms, hits)
        answer = self._answer_covered(question, context, terms, hits, routed, coverage, named)
        if caveat and not answer.refused:
            head, sep, rest = answer.text.partition("\n")
            answer.text = head + caveat + sep + rest
            answer.short = caveat + answer.short
        return answer

    @staticmethod
    def _qualification_unsaid(question: str, clauses: list[Clause]) -> bool:
        """Asked about another region's documents, the policy's qualification words are the topic
        (上海的专精特新企业有什么补贴): a region's clauses that never say them do not answer."""
        said = [t for t in CONTEXT_TERMS if t in question]
        text = "".join(c.text for c in clauses)
        return bool(said) and not any(t in text for t in said)

    def _incidental(self, naming: list[str], terms: QueryTerms, clause: Clause) -> bool:
        """A regulation the question does not name answers only when it is about what is asked:
        a word of the question in its title or the clause's headings (中小企业 in 促进中小企业
        发展条例), or a topic word so rare in the index that finding it is itself the evidence.
        Among 1,900 regulations a common word (个人所得税, 营业执照) turns up in clauses about
        something else (院前急救, 营商环境). naming: the question's _naming_words."""
        if clause.doc_id in self._primary or not terms.terms:
            return False
        about = clause.doc_title + "".join(clause.heading_path)
        if any(t.found_in(about) for t in terms.terms) or \
                any(w in about for w in naming):
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
            if is_function_word(word, self.stats) or self.gazetteer.is_place(word):
                continue
            out.append(word)
        return out

    def _answer_covered(self, question, context, terms: QueryTerms, hits, routed, coverage,
                        named: bool = False) -> Answer:
        rule_clause = self._rule_clause(routed)
        if routed and routed.calculation is None and hits \
                and hits[0].clause.key != rule_clause_key(routed):
            rule_clause = None  # no figure to compute: the best-matching clause answers
        if rule_clause is not None:
            return self._rule_answer(question, terms, routed, rule_clause, hits)
        if _VALIDITY.search(question) or _STARTED.search(question) or self._future_year(question):
            validity = self._validity_answer(question, hits, named)
            if validity:
                return validity
        if not terms.terms:
            return self._overview() if _ON_TOPIC.search(context) else self._decline((), ())
        if not coverage.covered_enough and not coverage.answerable_with_caveat:
            return self._decline((), coverage.missing)
        return self._lookup_answer(question, terms, hits)

    def _lookup_answer(self, question: str, terms: QueryTerms, hits) -> Answer:
        primary = hits[0].clause
        chosen = [primary]
        uncovered = [t for t in terms.terms if not t.found_in(primary.label + primary.text)]
        for h in hits[1:3]:
            adds = [t for t in uncovered if t.found_in(h.clause.label + h.clause.text)]
            if adds and sum(t.weight for t in adds) >= 0.25 * sum(t.weight for t in terms.terms):
                chosen.append(h.clause)
                uncovered = [t for t in uncovered if t not in adds]
        citations = [c for clause in chosen for c in self._citations(clause, terms)]
        # The lead speaks from the sentence that answers best, wherever it stands in the clause.
        top = best_sentences(primary, terms, limit=1)[0]
        lead = self._lead(question, top, terms)
        note = next((r.get("note") for r in self.rules if r.get("note") and top in r.quote), "")
        if note and note not in lead:
            lead += note  # what the rule adds to its quote (区级补贴不低于市级标准 …)
        return self._render(lead, citations)

    def _rule_answer(self, question, terms, routed: Routed, clause: Clause, hits) -> Answer:
        rule = routed.rule
        main = Citation(clause.doc_id, clause.doc_title, clause.section, clause.label, rule.quote)
        citations = [main]
        if routed.asks_input:
            # No figure computed: state the rule itself, then what is needed to compute.
            lead = self._lead(question, rule.quote, terms) + routed.lead
        else:
            lead = routed.lead or self._lead(question, rule.quote, terms)
        extra = []
        if routed.calculation:
            steps = routed.calculation.steps
            extra.append("计算过程：\n" + "\n".join(f"· {s}" for s in steps))
        if rule.get("note"):
            extra.append(rule.get("note"))
        return self._render(lead, citations, routed.calculation, extra)

    def _lead(self, question: str, quote: str, terms: QueryTerms) -> str:
        """The direct answer: the verdict first (有/可以, or that the text states no amount for an
        amount asked about), then the key phrases of the quote, never cut inside a bracket."""
        pieces = _phrases(quote.rstrip("。；;"))
        wanted = [p for p in pieces if (terms.wants_amount and FIGURE.search(p))]
        wanted += [p for p in pieces if p not in wanted and any(t.found_in(p) for t in terms.terms)]
        core = [p for p in pieces if p in wanted[:2]] or pieces[:2]
        # What is granted closes the sentence (…，给予股权投资支持): name it even when the
        # question's words sit earlier in the sentence.
        grant = next((p for p in reversed(pieces) if _GRANT.search(p)), None)
        if grant and grant not in core:
            core = [p for p in pieces if p in core or p == grant]
        claimed = _claimed_amount(question)
        money_asked = bool(_MONEY_ASK.search(question))
        states_amount = bool(MONEY_FIGURE.search(quote))  # 前30名 is a figure, not money
        if claimed and not states_amount:
            # "能拿1000万吗" against a clause without a figure: no 可以, the text decides nothing.
            return (f"原文未规定金额：该条款没有写明具体金额或比例，无法确认能否获得{claimed}。"
                    + "，".join(core) + "。")
        yes = ""
        # "有补贴吗" deserves 有 only when the quote grants money, not when it grants a procedure.
        grants = _MONEY_GRANT.search(quote) if money_asked else _SUPPORT.search(quote)
        if _YES_NO.search(question) and grants:
            yes = "有。" if _HAS.search(question) else "可以。"
        lead = yes + "，".join(core) + "。"
        if terms.wants_amount and not states_amount and not FIGURE.search(quote):
            lead += "原文未写明具体金额或比例。"
        if _PROCEDURE.search(question) and not _PROCEDURE_STATED.search(quote):
            lead += "原文未写明申报时间、渠道和材料，请以主管部门发布的申报通知为准。"
        return lead

    def _render(self, lead: str, citations: list[Citation], calculation=None, extra=()) -> Answer:
        lines = [lead, *extra]
        for c in citations:
            lines.append(f"原文：“{c.quote}”{self._cite_label(c)}")
        return Answer("\n".join(lines), False, citations, calculation, short=speakable(lead))

    def _cite_label(self, c: Citation) -> str:
        doc = next((d for d in self.index.documents if d.doc_id == c.doc_id), None)
        if doc is not None and doc.style == "articles":
            return f"【《{c.title}》{c.label}】"
        return f"【{c.label}】"

    def _citations(self, clause: Clause, terms: QueryTerms) -> list[Citation]:
        """One citation per run of adjacent chosen sentences, so every quote is verbatim."""
        chosen = best_sentences(clause, terms)
        text = clause.text
        runs: list[str] = []
        last_end = -1
        for s in chosen:
            start = text.find(s)
            if runs and 0 <= start and text[last_end:start].strip() == "":
                runs[-1] = text[text.find(runs[-1]):start + len(s)]
            else:
                runs.append(s)
            last_end = start + len(s)
        return [Citation(clause.doc_id, clause.doc_title, clause.section, clause.label, r) for r in runs]

    def _rule_clause(self, routed: Routed | None) -> Clause | None:
        if routed is None:
            return None
        return self.clauses_by_key.get(f"{routed.rule.doc_id}#{routed.rule.section}")

    # ---- validity, overview, decline ------------------------------------------------------
    def _future_year(self, question: str) -> int | None:
        years = [int(y) for y in _YEAR.findall(question)]
        return max(years) if years else None

    def _scope_clause(self, hits, named: bool = False) -> Clause | None:
        """The scope clause of a hit's document, else (a question naming no document) any one's."""
        doc_ids = [h.clause.doc_id for h in hits] + ([] if named else [d.doc_id for d in self.index.documents])
        for doc_id in doc_ids:
            clause = self.clauses_by_key.get(f"{doc_id}#scope")
            if clause:
                return clause
        return None

    def _validity_answer(self, question: str, hits, named: bool = False) -> Answer | None:
        scope = self._scope_clause(hits, named)
        if scope is None:
            return None
        # Up to the end of the period, with its bracketed proviso whole (never cut inside it).
        m = re.search(r"(?:执行期|有效期)至(\d{4})年[^，。（(]*(?:[（(][^）)]*[）)])?", scope.text)
        if not m:
            return None
        asked = self._future_year(question)
        period = m.group(0)
        if asked and asked > int(m.group(1)):
            lead = f"您问的是{asked}年，已超出本政策的执行期：本政策{period}。届时能否申请，请以届时有效的政策为准。"
        elif asked:
            lead = f"{asked}年在本政策执行期内：本政策{period}。"
        elif _STARTED.search(question):
            lead = f"原文未写明本政策开始实施或发布的日期；本政策{period}。"
        else:
            lead = f"本政策{period}。"
        cite = Citation(scope.doc_id, scope.doc_title, scope.section, scope.label, scope.text)
        return self._render(lead, [cite])

    def _policy_docs(self):
        primary = [d for d in self.index.documents if d.doc_id in self._primary]
        return primary or [d for d in self.index.documents if d.style == "policy"] or self.index.documents

    def _overview(self) -> Answer:
        doc = self._policy_docs()[0]
        clauses = [c for c in self.index.clauses if c.doc_id == doc.doc_id]
        actions = [c.label for c in clauses if c.section not in ("preamble", "scope")]
        preamble = next((c for c in clauses if c.section == "preamble"), clauses[0])
        lead = f"《{doc.title}》包括以下措施：" + "；".join(actions) + "。请告诉我您关心哪一项，我可以给出原文和金额计算。"
        cite = Citation(doc.doc_id, doc.title, preamble.section, preamble.label, preamble.text)
        return self._render(lead, [cite])

    def _decline(self, regions, missing) -> Answer:
        docs = self._policy_docs()
        titles = "、".join(f"《{d.title}》" for d in docs[:3])
        more = "等文件" if len(self.index.documents) > 3 else ""
        if regions:
            head = f"抱歉，已加载的政策文件不涉及{('、'.join(regions))}的政策，无法回答。"
        elif missing:
            topic = "、".join(list(missing)[:3])
            head = f"抱歉，已加载的政策文件未涉及“{topic}”相关内容，无法依据政策原文回答。"
        else:
            head = "抱歉，没有在已加载的政策文件中找到与您的问题相关的内容。"
        doc = self._policy_docs()[0]
        names = re.findall(r"“([^”]+)”", "".join(c.label for c in self.index.clauses
                                                if c.doc_id == doc.doc_id))
        scope = f"（涵盖{'、'.join(names)}等方面）" if names else ""
        text = f"{head}本助手依据{titles}{more}{scope}解答，建议向相关主管部门咨询您的问题。"
        return Answer(text, True, [], None, short=head)


def _drop_yes(text: str) -> str:
    return re.sub(r"^(可以|有)。", "", text)
