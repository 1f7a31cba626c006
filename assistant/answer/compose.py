"""Compose: an AnswerPart for one ask — its verdict (only where entailed), lead, verbatim quotes,
notes and calculation — from what the gate decided. No text is rendered here (answer/render.py)."""
from __future__ import annotations

import re

from assistant.answer.parts import DocumentPart
from assistant.answer.sentences import best_sentences, gives_money, states_figure, states_money
from assistant.answer.verdict import entailed, split_verdict
from assistant.calculate.calculators import result_line
from assistant.calculate.router import Routed
from assistant.calculate.rules import Rule
from assistant.documents.textnorm import sentences
from assistant.models import AnswerPart, Citation, Clause, Document, Hit
from assistant.understand.cues import Cues
from assistant.understand.query import Ask, Query
from assistant.understand.terms import QueryTerms

# Qualification levels the policy's scope clause leaves out.
EXCLUDED_LEVELS = ("区级", "省级", "无")
WHOLE_ARTICLE = 400  # an article up to this long is quoted whole
LAW_ARTICLES = 3  # articles quoted for a question about laws (the best and those found next)
EXTRA_ARTICLE_SHARE = 0.5  # …each speaking of at least half as much of the question as the best
_PERIOD = re.compile(r"(?:执行期|有效期)至(\d{4})年[^，。（(]*(?:[（(][^）)]*[）)])?")
_QUOTED = re.compile(r"“([^”]+)”")
_OPEN, _CLOSE = "（(“「《", "）)”」》"


def phrases(quote: str) -> list[str]:
    """The quote's comma-separated phrases, never split inside brackets or quotation marks."""
    out, depth, current = [], 0, ""
    for ch in quote:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
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


def _without_label(sentence: str, label: str) -> str:
    """第十五条 经营者应当… → 经营者应当… (the label is said before it)."""
    return sentence[len(label):].lstrip() if sentence.startswith(label) else sentence


def cite(clause: Clause, quote: str) -> Citation:
    return Citation(clause.doc_id, clause.doc_title, clause.section, clause.label, quote)


class Composer:
    def __init__(self, clauses: list[Clause], clauses_by_key: dict[str, Clause], rules: list[Rule],
                 cues: Cues, policy_documents: list[Document], document_count: int, articles_of=lambda d: False,
                 item_marker: re.Pattern | None = None):
        """articles_of(doc_id): the document is built of articles (第X条), quoted article by article.
        item_marker: how a list item opens (（一）…, corpus/structure.toml), so a quote never cuts a
        list's head from its items."""
        self.clauses, self.clauses_by_key, self.rules, self.cues = clauses, clauses_by_key, rules, cues
        self.articles_of, self.item_marker = articles_of, item_marker
        self.clauses_of: dict[str, list[Clause]] = {}
        for c in clauses:
            self.clauses_of.setdefault(c.doc_id, []).append(c)
        self.policy_documents, self.document_count = policy_documents, document_count

    # ---- rules of the policy ---------------------------------------------------------------
    def scope_verdict(self, query: Query) -> AnswerPart | None:
        """区级, 省级 or not yet recognised: the policy's scope clause rules the enterprise out. The
        rule is the policy's own: it applies only to questions about the policy."""
        level = query.context.qualification
        scope_rule = next((r for r in self.rules if r.kind == "scope"), None)
        if level is None or scope_rule is None:
            return None
        about_policy = any(a.signature for a in query.asks)
        generic_ask = not about_policy and query.intent.eligibility and query.intent.on_topic
        if not about_policy and not generic_ask:
            return None  # not a question about the policy: its scope rule says nothing about it
        if level not in EXCLUDED_LEVELS and not generic_ask:
            return None  # 国家级/市级 asking about a measure: the measure answers
        if query.document is not None and query.document.document.doc_id != scope_rule.doc_id:
            return None  # the question is about another document
        clause = self.clauses_by_key.get(f"{scope_rule.doc_id}#{scope_rule.section}")
        if clause is None:
            return None
        quals = "和".join(scope_rule.get("qualifications", []))
        said = query.context.qualification_said
        if level in EXCLUDED_LEVELS:
            verdict, lead = "不符合", f"本政策适用于{quals}，您提到“{said}”，不在本政策适用范围内。"
        else:
            verdict, lead = "符合", f"本政策适用于{quals}，您提到的“{said}”在适用范围内。"
        return AnswerPart(subject=scope_rule.title, verdict=verdict, lead=lead,
                          citations=[cite(clause, scope_rule.quote)])

    def rule(self, ask: Ask, routed: Routed, clause: Clause) -> AnswerPart:
        """A rule of the policy answers: its verdict and lead (the calculator's), the readings it
        applied as notes, the quote the rule computes from, what it gives as said aloud — or,
        with no figure to compute from, the rule itself and what the caller must tell."""
        rule = routed.rule
        verdict, lead = routed.verdict, routed.lead
        said, rest = split_verdict(lead)
        if verdict and said == verdict:
            lead = rest  # the renderer says the verdict
        ask_back = needs = ""
        if routed.asks_input:
            verdict, lead = self._lead(ask, rule.quote)
            ask_back = routed.lead
            problem = any(getattr(a, "problem", None) for a in routed.amounts)
            needs = "" if problem else rule.input_label
        elif not lead:
            verdict, lead = self._lead(ask, rule.quote)
        result = ""
        if routed.calculation is not None and verdict != "不符合":  # 不符合: no figure is said
            result = result_line(rule, routed.calculation, spoken=True)
        notes = list(routed.notes) + ([rule.get("note")] if rule.get("note") else [])
        return AnswerPart(subject=rule.title, verdict=verdict, lead=lead,
                          citations=[cite(clause, rule.quote)], notes=notes,
                          calculation=routed.calculation, result=result, ask_back=ask_back, needs=needs)

    # ---- named articles and parts ------------------------------------------------------------
    def article(self, doc: Document, written: str, clause: Clause | None) -> AnswerPart:
        if clause is None:
            return self.refusal(f"已加载的《{doc.title}》中没有{written}，请核对条文序号。")
        quote = clause.text if len(clause.text) <= WHOLE_ARTICLE else \
            best_sentences(clause, QueryTerms([]), self.cues)[0]
        return AnswerPart(subject=f"《{clause.doc_title}》{clause.label}",
                          lead=f"《{clause.doc_title}》{clause.label}的规定如下。", citations=[cite(clause, quote)])

    def document_part(self, part: DocumentPart, document: Document) -> AnswerPart | None:
        """《…条例》的立法目的: the clause that states it, found by its wording; a regulation
        that states none gets that said (a policy's period is its scope clause's)."""
        clause = part.find(self.clauses_of.get(document.doc_id, []))
        if clause is not None:
            quote = clause.text
            if len(quote) > WHOLE_ARTICLE:  # the sentence that states it
                quote = next((s for s in sentences(clause.text) if part.clause.search(s)), quote)
            return AnswerPart(subject=part.name, lead=part.lead.format(title=clause.doc_title, label=clause.label),
                              citations=[cite(clause, quote)])
        if document.style == "articles":
            return self.refusal(f"已加载的《{document.title}》文本中没有写明{part.name}的条款（加载的文件可能不完整），"
                                f"无法依据原文回答，请以正式公布的文本为准。")
        return None

    # ---- periods and overviews -------------------------------------------------------------
    def period_clause(self, hits: list[Hit], named: bool, policy: bool) -> tuple[Clause, re.Match] | None:
        """The scope clause of the answering document (the first hit's) that states its period,
        else (policy: the ask is about the policy, or names nothing else: 2029年还能申请吗) the
        policy's."""
        doc_ids = [h.clause.doc_id for h in hits[:1]] + \
            ([d.doc_id for d in self.policy_documents] if policy and not named else [])
        for doc_id in dict.fromkeys(doc_ids):
            clause = self.clauses_by_key.get(f"{doc_id}#scope")
            if clause:
                m = _PERIOD.search(clause.text)
                return (clause, m) if m else None
        return None

    def validity(self, ask: Ask, found: tuple[Clause, re.Match]) -> AnswerPart:
        scope, m = found
        asked = max(ask.intent.years) if ask.intent.years else None
        period = m.group(0)  # up to the end of the period, with its bracketed proviso whole
        if asked and asked > int(m.group(1)):
            verdict = None
            lead = f"您问的是{asked}年，已超出本政策的执行期：本政策{period}。届时能否申请，请以届时有效的政策为准。"
        elif asked:
            verdict, lead = None, f"{asked}年在本政策执行期内：本政策{period}。"
        elif ask.intent.started:
            verdict, lead = None, f"原文未写明本政策开始实施或发布的日期；本政策{period}。"
        else:
            verdict, lead = None, f"本政策{period}。"
        return AnswerPart(subject="执行期", verdict=verdict, lead=lead, citations=[cite(scope, scope.text)])

    def overview(self) -> AnswerPart:
        doc = self.policy_documents[0]
        clauses = self.clauses_of.get(doc.doc_id, [])
        actions = [c.label for c in clauses if c.section not in ("preamble", "scope")]
        preamble = next((c for c in clauses if c.section == "preamble"), clauses[0])
        lead = f"《{doc.title}》包括以下措施：" + "；".join(actions) + "。请告诉我您关心哪一项，我可以给出原文和金额计算。"
        return AnswerPart(subject=doc.title, lead=lead, citations=[cite(preamble, preamble.text)])

    # ---- a lookup ------------------------------------------------------------------------------
    def lookup(self, ask: Ask, hits: list[Hit]) -> AnswerPart:
        terms = ask.terms
        primary = hits[0].clause
        chosen = [primary]
        uncovered = [t for t in terms.terms if not t.found_in(primary.label + primary.text)]
        for h in hits[1:3]:
            adds = [t for t in uncovered if t.found_in(h.clause.label + h.clause.text)]
            if adds and sum(t.weight for t in adds) >= 0.25 * sum(t.weight for t in terms.terms):
                chosen.append(h.clause)
                uncovered = [t for t in uncovered if t not in adds]
        if self.articles_of(primary.doc_id):
            # A question in people's words about a law: the next articles found that speak of it
            # about as much are quoted too, the way a lawyer cites the provisions that bear on it.
            def said(clause: Clause) -> float:
                return sum(t.weight for t in terms.terms if t.found_in(clause.label + clause.text))

            floor = EXTRA_ARTICLE_SHARE * said(primary)
            for h in hits[1:]:
                if len(chosen) >= LAW_ARTICLES:
                    break
                if h.clause not in chosen and self.articles_of(h.clause.doc_id) and said(h.clause) >= floor > 0:
                    chosen.append(h.clause)
        citations = [c for clause in chosen for c in self.citations(clause, terms)]
        # The lead speaks from the sentence that answers best, wherever it stands in the clause.
        top = best_sentences(primary, terms, self.cues, limit=1)[0]
        verdict, lead = self._lead(ask, top, primary)
        if self.articles_of(primary.doc_id) and not verdict:
            # An article is cited by its document and number, then what it says, whole.
            lead = f"《{primary.doc_title}》{primary.label}规定：{_without_label(top, primary.label)}"
        notes = []
        note = next((r.get("note") for r in self.rules if r.get("note") and top in r.quote), "")
        if note and note not in lead:
            notes.append(note)  # what the rule adds to its quote (区级补贴不低于市级标准 …)
        return AnswerPart(subject=self._subject(ask, primary), verdict=verdict, lead=lead, citations=citations,
                          notes=notes)

    @staticmethod
    def _subject(ask: Ask, clause: Clause) -> str:
        """What a part is about, as the hotline names it: the ask's weightiest word in the words
        of the clause (阿里云 → 上云上平台), else the clause's label."""
        text = clause.label + clause.text
        for term in sorted(ask.terms.terms, key=lambda t: -t.weight):
            found = next((a for a in term.alternatives if a in text), None)
            if found:
                return found
        return clause.label

    def citations(self, clause: Clause, terms: QueryTerms) -> list[Citation]:
        """An article short enough is quoted whole; otherwise one citation per run of adjacent
        chosen sentences, so every quote is verbatim."""
        if self.articles_of(clause.doc_id) and len(clause.text) <= WHOLE_ARTICLE:
            return [cite(clause, clause.text)]
        chosen = self._with_lists(clause.text, best_sentences(clause, terms, self.cues))
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
        return [cite(clause, r) for r in runs]

    def _with_lists(self, text: str, chosen: list[str]) -> list[str]:
        """A chosen sentence inside a list (…有下列情形之一的：（一）…；（二）…) brings the whole
        list: its head and every item, in order, so the quote says what the items are items of."""
        if self.item_marker is None:
            return chosen
        sents = sentences(text.replace("\n\n", "\n"))
        is_item = [bool(self.item_marker.match(s.lstrip())) or bool(self.item_marker.search(s.split("：")[-1][:4]))
                   and "：" in s for s in sents]
        keep = {i for i, s in enumerate(sents) if s in chosen}
        for i in sorted(keep):
            if not is_item[i] and not sents[i].rstrip().endswith(("：", ":")):
                continue
            start = i
            while start > 0 and is_item[start] and not ("：" in sents[start]):
                start -= 1
            end = i
            while end + 1 < len(sents) and self.item_marker.match(sents[end + 1].lstrip()):
                end += 1
            keep |= set(range(start, end + 1))
        return [sents[i] for i in sorted(keep)]

    def _lead(self, ask: Ask, quote: str, clause: Clause | None = None) -> tuple[str | None, str]:
        """(verdict, the direct answer): the verdict only where the sentence entails it, then the
        key phrases of the quote, never cut inside a bracket, and what the text does not state."""
        terms, intent = ask.terms, ask.intent
        pieces = phrases(quote.rstrip("。；;"))
        wanted = [p for p in pieces if (terms.wants_amount and states_figure(p))]
        wanted += [p for p in pieces if p not in wanted and any(t.found_in(p) for t in terms.terms)]
        core = [p for p in pieces if p in wanted[:2]] or pieces[:2]
        # What is granted closes the sentence (…，给予股权投资支持): name it even when the
        # question's words sit earlier in the sentence.
        grant = next((p for p in reversed(pieces) if self.cues.has("grant_phrase", p)), None)
        if grant and grant not in core:
            core = [p for p in pieces if p in core or p == grant]
        whole = clause.text if clause is not None else quote
        claimed = self._claimed(ask)
        if claimed and not states_money(quote):
            # "能拿1000万吗" against a clause without a figure: no 可以, the text decides nothing.
            return None, (f"原文未规定金额：该条款没有写明具体金额或比例，无法确认能否获得{claimed}。"
                          + "，".join(core) + "。")
        verdict = entailed(ask, quote, self.cues)
        lead = "，".join(core) + "。"
        if terms.wants_amount and not states_money(whole) and not states_figure(quote):
            lead += "原文未写明具体金额或比例。"  # only once the whole clause was checked
        if intent.procedure and not self.cues.has("procedure_stated", whole):
            lead += "原文未写明申报时间、渠道和材料，请以主管部门发布的申报通知为准。"
        return verdict, lead

    @staticmethod
    def _claimed(ask: Ask) -> str:
        """The amount an ask claims (能拿1000万吗), as written; '' when none."""
        from assistant.calculate.router import _split
        from assistant.understand.amounts import AmountError

        try:
            _, claims = _split(ask.asked)
        except AmountError:
            return ""
        return claims[0].text if claims else ""

    @staticmethod
    def caveat(part: AnswerPart, missing: tuple[str, ...]) -> AnswerPart:
        """What the text does not mention, said first (按合同额还是按发票金额: 原文未提及“发票”)."""
        if missing and not part.refused:
            part.notes.insert(0, "原文未提及" + "、".join(f"“{m}”" for m in missing) + "。")
        return part

    # ---- declines -------------------------------------------------------------------------------
    @staticmethod
    def refusal(text: str) -> AnswerPart:
        return AnswerPart(subject="", lead=text, refused=True)

    def decline(self, regions=(), missing=()) -> AnswerPart:
        docs = self.policy_documents
        titles = "、".join(f"《{d.title}》" for d in docs[:3])
        more = "等文件" if self.document_count > 3 else ""
        if regions:
            head = f"抱歉，已加载的政策文件不涉及{('、'.join(regions))}的政策，无法回答。"
        elif missing:
            topic = "、".join(list(missing)[:3])
            head = f"抱歉，已加载的政策文件未涉及“{topic}”相关内容，无法依据政策原文回答。"
        else:
            head = "抱歉，没有在已加载的政策文件中找到与您的问题相关的内容。"
        doc = docs[0]
        names = _QUOTED.findall("".join(c.label for c in self.clauses_of.get(doc.doc_id, [])))
        scope = f"（涵盖{'、'.join(names)}等方面）" if names else ""
        note = f"本助手依据{titles}{more}{scope}解答，建议向相关主管部门咨询您的问题。"
        return AnswerPart(subject="", lead=head, notes=[note], refused=True)
