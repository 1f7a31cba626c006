"""A whole message → a Query: the asks in it, and the enterprise context around them.

Parsed once: the Reader cleans the message, reads typos, splits it into asks and gives each ask
everything later stages need — its topic words, intent, amounts, the rules it triggers, the
document, article or part it names, and whether it continues the conversation. Select, retrieve,
gate, compose and render read the Query, never the raw string. Context (who is calling, district,
industry, qualification level, greetings and thanks) feeds eligibility and calculators; it is
never the topic of an ask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.answer.parts import DocumentPart, asked_part
from assistant.models import Clause, Document
from assistant.understand.amounts import AmountError, Mention as Amount, find_amounts
from assistant.understand.context import EnterpriseContext, industry, places, qualification
from assistant.understand.cues import Cues
from assistant.understand.intent import Intent, read_intent
from assistant.understand.lexicon import Lexicon, correct_typos
from assistant.understand.places import Gazetteer, Place
from assistant.understand.question import Rejection, clean
from assistant.understand.references import Mention, document_mention, named_article
from assistant.understand.terms import QueryTerms, is_function_word, query_terms
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats

_SENTENCE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]*")
_PIECE = re.compile(r"[^，,。！？!?；;：:]+[，,。！？!?；;：:]*")
_ITEM_CUT = re.compile(r"[，,、；;]")

# A word of a message weighing less than this share of the index's rarest word is no topic of its own
# (花了, a segmenter's guess like 能报); a known topic word (研发, 个人所得税) weighs more.
OWN_TOPIC_SHARE = 0.25
# Nouns that describe the enterprise (parsed into EnterpriseContext), not what it asks about.
CONTEXT_TERMS = frozenset({"制造业", "建筑业", "非建筑业", "专精特新", "小巨人", "国家级专精特新“小巨人”企业",
                           "市级专精特新中小企业", "合同额", "主营业务收入", "实际发生费用"})
# The measures among them describe the enterprise when the ask gives their figure (合同额500万);
# without one, their everyday words are the topic (保理合同的管辖权, 个人收入怎么纳税).
MEASURE_TERMS = frozenset({"合同额", "主营业务收入", "实际发生费用"})


@dataclass(frozen=True)
class Ask:
    text: str  # the ask's own words, as the message says them
    signature: frozenset[str] = frozenset()  # the policy topics it names (rule ids, canonical terms)
    spoken: tuple[str, ...] = ()  # its greeting and self-introduction pieces (您好, 我是顺义一家…)
    asked: str = ""  # the ask without those pieces: what intent and amounts are read from
    topic: str = ""  # what retrieval and coverage read: no context, no greetings, no document name
    followup: bool = False  # continues the conversation (那如果合同额是10万元呢？)
    earlier: tuple[str, ...] = ()  # the earlier questions it continues, latest first
    cue: str = ""  # how the earlier question asked, borrowed by a follow-up naming a new topic
    intent: Intent = field(default_factory=Intent)
    amounts: tuple[Amount, ...] = ()  # money amounts the ask states, in order
    amount_problem: str = ""  # an amount that cannot be read for sure (负数 …), said back
    rule_text: str = ""  # the words rules trigger on: the ask, the documents' words for its aliases
    terms: QueryTerms = field(default_factory=lambda: QueryTerms([]))
    words: tuple[str, ...] = ()  # its content words, as segmented (what a verdict must find stated)
    article: tuple | None = None  # (document, 第X条 as written, clause or None): a named article
    part: DocumentPart | None = None  # a named document's part (立法目的, 施行日期 …)
    rule_only: str = ""  # one of several rules the ask names with no figure: only this rule answers it

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(sorted(s.removeprefix("rule:") for s in self.signature if s.startswith("rule:")))

    def describe(self) -> dict:
        """The ask as the trace shows it."""
        return {"text": self.text, "topic": self.topic.strip(), "intent": self.intent.kind,
                "rules": list(self.rules), "amounts": [a.text for a in self.amounts],
                "followup": self.followup, "spoken": list(self.spoken),
                "terms": [t.word for t in self.terms.terms], "must_match": list(self.terms.must_match)}


@dataclass(frozen=True)
class Query:
    text: str  # the whole message, cleaned, simplified, typos read
    asks: tuple[Ask, ...]
    context: EnterpriseContext
    regions: tuple[Place, ...] = ()  # places the message asks about (not where the caller is)
    document: Mention | None = None  # a loaded document the message names
    notice: str = ""
    earlier: tuple[str, ...] = ()  # earlier questions, latest first
    followup: bool = False
    intent: Intent = field(default_factory=Intent)  # of the whole message (eligibility of 这些政策)


def sentences(text: str, cues: Cues) -> list[str]:
    """Sentences, and within them the pieces a 一是/另外 opens; nothing said is dropped but the
    enumerators themselves."""
    pieces = []
    enumerators = set(cues.phrases("enumerator"))
    for s in (m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)):
        cuts = sorted({m.start() for m in cues.find("enumerator", s)} | {0, len(s)})
        for a, b in zip(cuts, cuts[1:]):
            piece = s[a:b]
            for e in sorted(enumerators, key=len, reverse=True):
                if piece.startswith(e):
                    piece = piece[len(e):]
                    break
            if piece.strip():
                pieces.append(piece)
    return pieces


def is_followup(question: str, cues: Cues) -> bool:
    return cues.has("followup", question) or len(question) <= 6


@dataclass
class Reader:
    """What reading a message needs: the cues, the lexicon, the rules' triggers, geography, the
    loaded documents and the index's words (a word's weight depends on how rare it is there)."""

    cues: Cues
    lexicon: Lexicon
    rules: list
    gazetteer: Gazetteer
    documents: list[Document]
    seg: Segmenter
    stats: WordStats
    bm25: object
    clauses_by_key: dict[str, Clause] = field(default_factory=dict)
    parts: tuple[DocumentPart, ...] = ()
    max_chars: int = 2000
    version_marker: object = None  # a version's mark at a title's end (corpus/structure.toml)

    def __post_init__(self):
        self._vocabulary = self.lexicon.vocabulary()

    # ---- the message ---------------------------------------------------------------------
    def understand(self, raw, history) -> Query | Rejection:
        """Clean the message (or say why there is none), read typos, then read it."""
        q = clean(raw, self.max_chars, self.cues)
        if isinstance(q, Rejection):
            return q
        text, fixes = correct_typos(q.text, self._vocabulary, self.seg.terms(q.text),
                                    self.seg.is_dictionary_word)
        notice = q.notice + "".join(f"已按“{right}”理解“{typed}”。" for typed, right in fixes)
        return self.read(text, history, notice)

    def read(self, text: str, history, notice: str = "") -> Query:
        turns = history if isinstance(history, (list, tuple)) else []
        earlier = tuple(str(h[0]) for h in reversed(turns)
                        if isinstance(h, (list, tuple)) and h and str(h[0]).strip())
        own, asked_places = places(text, self.gazetteer, self.cues)
        level, said = qualification(text, self.cues)
        context = EnterpriseContext(level, said, industry(text, self.cues), own)
        document = document_mention(text, self.documents, self.cues, self.version_marker)
        followup = bool(earlier) and (is_followup(text, self.cues) or self._gives_only_a_figure(text))
        asks = [self._complete(a, context, document, earlier if followup and i == 0 else ())
                for i, a in enumerate(self.split_asks(text))]
        asks = [one for a in asks for one in self._one_per_rule(a)]
        return Query(text, tuple(asks), context, asked_places, document, notice, earlier, followup,
                     read_intent(text, self.cues))

    def _one_per_rule(self, ask: Ask) -> list[Ask]:
        """数字化改造和上云上平台这两块补贴各按多少比例: an ask naming several rules and no figure
        asks each of them — one ask per rule, in the order the message names them. (With figures,
        split_asks has already given each rule its own.)"""
        if len(ask.rules) < 2 or ask.amounts or ask.amount_problem or ask.followup:
            return [ask]
        # Where the message names each rule: its first trigger in the ask's words (the signature
        # that gave ask.rules was read from them).
        named = sorted((min((ask.text.find(t) for t in r.triggers if t in ask.text), default=len(ask.text)), r.id)
                       for r in self.rules if r.id in ask.rules)
        return [replace(ask, rule_only=rule_id) for _, rule_id in named]

    def _gives_only_a_figure(self, text: str) -> bool:
        """我们花了20万，最多给多少 after 参展费用能补多少: a figure and no topic of its own (no rule,
        no word weighing like a topic) answers the earlier question with that figure."""
        try:
            figure = bool(find_amounts(text))
        except AmountError:
            figure = True  # a figure it cannot read for sure (50万美元): asked back, in the earlier topic
        if not figure or self.signature(text):
            return False
        terms = query_terms(text, self.seg, self.lexicon, self.bm25, self.stats, CONTEXT_TERMS)
        return all(t.weight < OWN_TOPIC_SHARE * self.bm25.max_idf() for t in terms.terms)

    # ---- topics -----------------------------------------------------------------------------
    def signature(self, text: str) -> set[str]:
        """The policy topics a piece of text names: rules it triggers, the documents' words for
        its aliases, policy terms. Context nouns (制造业, 小巨人) are not topics."""
        sig = {f"rule:{r.id}" for r in self.rules if r.kind != "scope" and r.trigger_in(text)}
        sig |= {c for _, c, _, _ in self.lexicon.expansions(text) if self.lexicon.is_policy_topic(c)}
        sig |= {t for t in self.lexicon.terms if t in text}
        return {s for s in sig if s not in CONTEXT_TERMS}

    def content_words(self, text: str) -> tuple[str, ...]:
        """The words of a text that say what it is about: not the legal language's function
        words, not the lexicon's generic words (企业, 补贴), not the words that ask (是否, 怎么)."""
        out = []
        for word, _, _ in self.seg.terms(text):
            if len(word) < 2 or word in self.lexicon.generic or word in CONTEXT_TERMS:
                continue
            if is_function_word(word, self.stats) or self.cues.has("question", word) or \
                    self.cues.has("yes_no", word) or self.cues.has("spoken", word):
                continue
            out.append(word)
        return tuple(dict.fromkeys(out))

    @staticmethod
    def amounts(text: str) -> list[Amount]:
        try:
            return find_amounts(text)
        except AmountError:
            return []

    # ---- asks ---------------------------------------------------------------------------------
    def split_asks(self, text: str) -> list[Ask]:
        """One ask per topic the message asks about. A sentence without a topic of its own (最多能给
        多少啊, 谢谢) belongs to the ask before it; one that shares a topic with it continues it. A
        statement that names a rule and an amount (上云花了80万) is itself an ask: a calculation."""
        asks: list[tuple[str, set, bool]] = []
        for piece in sentences(text, self.cues):
            for part in self._split_by_rules(piece):
                sig = self.signature(part)
                is_q = self.cues.has("question", part) or self._is_calculation(part, sig)
                if asks and (not sig or not asks[-1][1] or sig & asks[-1][1] or not asks[-1][2]):
                    prev_text, prev_sig, prev_q = asks[-1]
                    asks[-1] = (prev_text + part, prev_sig | sig, prev_q or is_q)
                else:
                    asks.append((part, set(sig), is_q))
        return [Ask(t.strip(), frozenset(s)) for t, s, _ in asks] or [Ask(text, frozenset(self.signature(text)))]

    def _is_calculation(self, piece: str, sig) -> bool:
        return any(s.startswith("rule:") for s in sig) and bool(self.amounts(piece))

    def _split_by_rules(self, piece: str) -> list[str]:
        """'数字化转型合同180万、上云合同40万，各能补多少' holds two calculations: split it between
        them, so each rule gets its own amount. The tail question goes with the last one."""
        rule_sigs = [s for s in self.signature(piece) if s.startswith("rule:")]
        if len(rule_sigs) < 2 or len(self.amounts(piece)) < 2:
            return [piece]
        cuts = {m.end() for m in _ITEM_CUT.finditer(piece)}
        for amount in self.amounts(piece):  # 180万和上云40万: a joining word right after an amount
            joined = self.cues.starts("conjunction", piece, amount.end)
            if joined:
                cuts.add(amount.end + joined.end())
        parts, start = [], 0
        for cut in sorted(cuts):
            head = piece[start:cut]
            if any(s.startswith("rule:") for s in self.signature(head)) and self.amounts(head):
                parts.append(head)
                start = cut
        tail = piece[start:]
        if parts and not (any(s.startswith("rule:") for s in self.signature(tail)) and self.amounts(tail)):
            parts[-1] += tail  # '各能补多少' → the question closes the last ask; each part is asked
            return [p if self.cues.has("question", p) else p + tail for p in parts]
        return parts + [tail] if tail else parts

    def spoken_pieces(self, text: str, qualification_said: str) -> tuple[str, ...]:
        """The comma pieces of an ask that only greet or introduce the caller (喂，您好，我是顺义
        一家做新能源汽车零部件的，去年刚评上小巨人，…). An introduction opens the ask (a greeting,
        who is calling, its level) and runs to the question; of it, a piece with no figure goes
        - when it greets or says who is calling and names no policy topic (its level aside), or
        - when the question has a topic of its own and the piece does not share it (做半导体设备，
          员工一百来人，首贷有补助吗: 首贷 is asked; 我们是做芯片设计的，首流片…: 芯片 goes).
        After the last question, pleasantries go (谢谢啊, 麻烦了). Statements that set the topic
        (…条例里，民营企业评高企、上市融资这些，能跟国企一个待遇不) are not an introduction; an
        ask is never emptied."""
        cues = self.cues
        pieces = [m.group(0) for m in _PIECE.finditer(text)]
        topics_of = [self.signature(p) for p in pieces]  # read once, used below up to three times
        said = qualification_said

        def introduces(piece: str) -> bool:
            return cues.has("spoken", piece) or cues.has("self", piece) or bool(said and said in piece)

        # Where the question is: its first asking piece, else (按合同额还是按发票金额。好的谢谢) the
        # last piece that is not a pleasantry.
        asked_at = next((i for i, p in enumerate(pieces) if cues.has("question", p)), None)
        if asked_at is None:
            asked_at = max((i for i, p in enumerate(pieces) if not cues.has("spoken", p) or topics_of[i]),
                           default=len(pieces) - 1)
        asked = self.signature("".join(pieces[asked_at:]))
        spoken = []
        announced = False  # after 我想咨询个事儿： comes the matter: only greetings still go
        for piece, topics in (zip(pieces[:asked_at], topics_of) if pieces and introduces(pieces[0]) else ()):
            if self.amounts(piece):
                continue
            if said and said in piece:
                # 去年刚评上小巨人: how it got its level (评上 reads as 认定) is not a topic either
                topics = {t for t in topics if t.startswith("rule:")}
            announces = cues.has("announce", piece)
            if announces and self.names_a_matter(piece):
                announced = True  # 我想问一下那个个税的专项附加扣除: the matter itself, kept
                continue
            greets = cues.has("spoken", piece) or bool(said and said in piece)
            if (greets and not topics) or (asked and not announced and not topics & asked):
                spoken.append(piece)
            announced = announced or announces
        # A closing tag after the question (您看是这样吗？) asks nothing of its own: it goes too.
        last_question = max((i for i, p in enumerate(pieces) if cues.has("question", p) and
                             (i <= asked_at or topics_of[i] or not cues.has("spoken", p))), default=asked_at)
        for piece, topics in zip(pieces[last_question + 1:], topics_of[last_question + 1:]):
            if cues.has("spoken", piece) and not self.amounts(piece) and not topics:
                spoken.append(piece)
        return tuple(spoken)

    def names_a_matter(self, piece: str) -> bool:
        """Whether a piece that announces the question (我想问一下…, 想咨询一下…) also names what it
        is about: topic words in the announcing verb's object, after the last announcing phrase,
        once the call's words are gone (我想咨询个事儿 and 今天打电话主要想问 name nothing)."""
        said = self.cues.find("announce", piece)
        matter = piece[said[-1].end():] if said else ""
        for phrase in self.cues.phrases("spoken"):
            matter = matter.replace(phrase, " ")
        return bool(query_terms(matter, self.seg, self.lexicon, self.bm25, self.stats, CONTEXT_TERMS).terms)

    def _complete(self, ask: Ask, context: EnterpriseContext, document: Mention | None,
                  earlier: tuple[str, ...]) -> Ask:
        """Everything later stages read, once: what is asked, about what, with which figures."""
        spoken = self.spoken_pieces(ask.text, context.qualification_said)
        asked = ask.text
        for piece in spoken:
            asked = asked.replace(piece, " ", 1)
        topic = asked
        for said in (context.qualification_said, *(p.name for p in context.places)):
            if said:
                topic = topic.replace(said, " ")
        intent = read_intent(asked, self.cues)
        followup = bool(earlier)
        cue = ""
        if followup and ask.signature:
            # 那数字化转型呢？ after 上云补贴怎么算: the new topic, asked the way the last one was.
            cue = "".join(dict.fromkeys(m.group(0) for m in self.cues.find("ask_cue", earlier[0])))
            topic = f"{topic} {cue}"
            intent = read_intent(f"{asked} {cue}", self.cues)
        elif followup:
            # 那如果合同额是10万元呢？ continues the earlier question, whose topic it keeps.
            topic = f"{earlier[0]} {topic}"
            intent = read_intent(f"{earlier[0]} {asked}", self.cues)
        if document is not None:
            # Within a named document its title's words say nothing about which article answers.
            topic = topic.replace(document.text, " ")
        amounts = tuple(self.amounts(asked))
        problem = ""
        try:
            find_amounts(asked)
        except AmountError as exc:
            problem = str(exc)
        article = named_article(ask.text, self.documents, self.clauses_by_key, self.cues, self.version_marker)
        part = asked_part(ask.text, self.parts) if document is not None else None
        terms = query_terms(topic, self.seg, self.lexicon, self.bm25, self.stats, CONTEXT_TERMS, intent,
                            topical=frozenset() if amounts else MEASURE_TERMS)
        words = self.content_words(topic)
        rule_text = self.lexicon.expand(f"{ask.text} {cue}".strip(), CONTEXT_TERMS)
        return replace(ask, spoken=spoken, asked=asked.strip(), topic=topic, followup=followup,
                       earlier=earlier, cue=cue, intent=intent, amounts=amounts, amount_problem=problem,
                       rule_text=rule_text, terms=terms, words=words, article=article, part=part)
