"""A whole message → a Query: the asks in it, and the enterprise context around them.

Parsed once, then retrieval, assessment and composition read the Query, never the raw string.
Context (who is calling, district, industry, qualification level, greetings and thanks) feeds
eligibility and calculators; it is never the topic of an ask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.understand.lexicon import Lexicon
from assistant.understand.places import Gazetteer, Place
from assistant.understand.references import Mention, document_mention

# ---- qualification level ----------------------------------------------------------------------
# A negation right before a level word: 还没评上专精特新, 不是国家级小巨人, 尚未认定.
_NEGATED = re.compile(r"(不是|还不是|并非|没有?评上|还没评上|还没有评上|未评上|尚未|还没|还未|没被|未被|未获|没拿到|不属于)"
                      r"[^，,。！？?；;]{0,6}?(?P<what>国家级|市级|专精特新|小巨人)")
_LEVELS = (
    ("区级", re.compile(r"区级(的)?(专精特新|小巨人)|区级认定")),
    ("省级", re.compile(r"省级(的)?(专精特新|小巨人)|(外省|其他省)[^，,。]{0,4}专精特新")),
    ("国家级", re.compile(r"国家级(的)?(专精特新)?[“\"]?小巨人|国家级专精特新|(?<!非)小巨人")),
    ("市级", re.compile(r"(市级|北京市)(的)?专精特新")),
)
_PLAIN_SME = re.compile(r"普通(的)?(中小)?企业|一般(的)?中小企业|非专精特新|个体户|个体工商户")

# ---- industry ------------------------------------------------------------------------------------
_FORMER = re.compile(r"[（(](原|以前|之前|曾经|过去)[^）)]*[）)]")  # 服务业（原制造业）: what it was
_INDUSTRY_NEG = re.compile(r"(不是|不属于|并非|不算|非)(?P<what>制造业|建筑业)")
_INDUSTRY = re.compile(r"制造业|建筑业")
_OTHER_INDUSTRY = re.compile(r"软件(企业|公司|行业)|服务业|互联网(企业|公司)|贸易(企业|公司)|批发|零售|咨询公司|科技服务")

# ---- the shape of a message ---------------------------------------------------------------------
_SENTENCE = re.compile(r"[^。！？!?；;\n]*[。！？!?；;\n]*")
_ENUMERATOR = re.compile(r"(?=(一是|二是|三是|第一个?问题|第二个?问题|另外|还有一个|再问一下|再就是|其次))")
_QUESTION = re.compile(r"[?？]|吗|么|呢|多少|几|怎么|怎样|如何|能否|是否|有没有|能不能|可不可以|可以不|哪|什么|啥|咋|没[？?]?$|不[？?]?$")
_SELF = re.compile(r"我们|我司|本公司|我公司|咱们|咱|我这边|本人|来电人|我是|我单位|公司是|企业是|我们家")
# Words of the call rather than of the question: a comma piece holding one of these or saying
# who the caller is (我们是…一家…), with no question and no policy topic of its own, is not the
# topic. 我们在河南搞发明创造资金困难 says what the matter is: it stays.
# Saying that the question comes now (想问一下，我想咨询个事儿：) ends an introduction.
_ANNOUNCES = re.compile(r"问一下|问问|想问|咨询|请教|想了解|了解一下|领导让我")
_SPOKEN = re.compile(r"您好|你好|喂|hello|hi|老师|是这样的|打扰|麻烦|谢谢|感谢|打电话|" + _ANNOUNCES.pattern + "|"
                     r"(我|我们|咱们|咱|我司|本公司|我公司|我单位|我这边)(这边|这里)?(是|为|属于|算)|我姓|我叫|一家|那家|来电", re.I)
_PIECE = re.compile(r"[^，,。！？!?；;：:]+[，,。！？!?；;：:]*")
_LOCATED = re.compile(r"(区|市|县)?(这边)?(一家|那家)")  # 海淀一家做芯片的: where the caller is


@dataclass(frozen=True)
class EnterpriseContext:
    qualification: str | None = None  # 国家级 / 市级 / 区级 / 省级 / 无, None when not said
    qualification_said: str = ""  # the words that said it, quoted back in a 不符合
    industry: str | None = None  # 制造业, 非制造业, 软件 … as stated, negation resolved
    places: tuple[Place, ...] = ()  # where the enterprise is (its self-introduction)


@dataclass(frozen=True)
class Ask:
    text: str  # the ask's own words: routing and calculators read these
    signature: frozenset[str] = frozenset()  # the policy topics it names (rule ids, canonical terms)
    spoken: tuple[str, ...] = ()  # its greeting and self-introduction pieces (您好, 我是顺义一家…)

    def topic_text(self, context: "EnterpriseContext") -> str:
        """The ask without what the caller said about the enterprise (市级专精特新, 海淀) and
        without greetings and self-introductions: the words retrieval and coverage read."""
        text = self.text
        for piece in self.spoken:
            text = text.replace(piece, " ", 1)
        for said in (context.qualification_said, *(p.name for p in context.places)):
            if said:
                text = text.replace(said, " ")
        return text


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


def qualification(text: str) -> tuple[str | None, str]:
    """(level, the words that said it). A negated generic 专精特新 means none at all."""
    negated = list(_NEGATED.finditer(text))
    positives = [(lvl, m) for lvl, rx in _LEVELS for m in rx.finditer(text)
                 if not any(n.start() <= m.start() < n.end() + 2 for n in negated)]
    if any(n.group("what") == "专精特新" for n in negated) and not positives:
        return "无", negated[0].group(0)
    if positives:
        lvl, m = min(positives, key=lambda p: [x[0] for x in _LEVELS].index(p[0]))
        return lvl, m.group(0)
    if negated:
        return ("无", negated[0].group(0)) if negated[0].group("what") != "市级" else (None, "")
    m = _PLAIN_SME.search(text)
    return ("无", m.group(0)) if m else (None, "")


def industry(text: str) -> str | None:
    text = _FORMER.sub("", text)
    m = _INDUSTRY_NEG.search(text)
    if m:
        return "非" + m.group("what")
    m = _INDUSTRY.search(text) or _OTHER_INDUSTRY.search(text)
    return m.group(0) if m else None


def sentences(text: str) -> list[str]:
    pieces = []
    for s in (m.group(0) for m in _SENTENCE.finditer(text) if m.group(0)):
        pieces += [p for p in _ENUMERATOR.split(s) if p and not _ENUMERATOR.fullmatch(p)
                   and p not in ("一是", "二是", "三是", "另外", "其次", "再就是", "还有一个",
                                 "再问一下", "第一个问题", "第二个问题", "第一问题", "第二问题")]
    return [p for p in pieces if p.strip()]


def split_asks(text: str, signature, amounts) -> list[Ask]:
    """One ask per topic the message asks about. A sentence without a topic of its own (最多能给
    多少啊, 谢谢) belongs to the ask before it; one that shares a topic with it continues it."""
    asks: list[tuple[str, set, bool]] = []
    for piece in sentences(text):
        for part in _split_by_rules(piece, signature, amounts):
            sig, is_q = signature(part), bool(_QUESTION.search(part))
            if asks and (not sig or not asks[-1][1] or sig & asks[-1][1] or not asks[-1][2]):
                prev_text, prev_sig, prev_q = asks[-1]
                asks[-1] = (prev_text + part, prev_sig | sig, prev_q or is_q)
            else:
                asks.append((part, set(sig), is_q))
    return [Ask(t.strip(), frozenset(s)) for t, s, _ in asks] or [Ask(text, frozenset(signature(text)))]


def _split_by_rules(piece: str, signature, amounts) -> list[str]:
    """'数字化转型合同180万、上云合同40万，各能补多少' holds two calculations: split it between
    them, so each rule gets its own amount. The tail question goes with the last one."""
    rule_sigs = [s for s in signature(piece) if s.startswith("rule:")]
    if len(rule_sigs) < 2 or len(amounts(piece)) < 2:
        return [piece]
    cuts = [m.end() for m in re.finditer(r"[，,、；;]|(?<=[万元亿])(和|及|以及|还有|另外)", piece)]
    parts, start = [], 0
    for cut in cuts:
        head = piece[start:cut]
        if any(s.startswith("rule:") for s in signature(head)) and amounts(head):
            parts.append(head)
            start = cut
    tail = piece[start:]
    if parts and not (any(s.startswith("rule:") for s in signature(tail)) and amounts(tail)):
        parts[-1] += tail  # '各能补多少' → the question closes the last ask; each part is asked
        parts = [p if _QUESTION.search(p) else p + tail for p in parts]
        return parts
    return parts + [tail] if tail else parts


def places(text: str, gazetteer: Gazetteer) -> tuple[tuple[Place, ...], tuple[Place, ...]]:
    """(where the caller's enterprise is, regions the message asks about). A place inside a
    self-introduction (我们是海淀一家…) is context; elsewhere (天津那边…, 上海的专精特新…) it is asked."""
    own, asked = [], []
    clause_starts = [0] + [m.end() for m in re.finditer(r"[，,。！？!?；;：:\n]", text)]
    for p in gazetteer.find(text):
        start = max(s for s in clause_starts if s <= p.start)
        introduces = bool(_SELF.search(text[start:p.start])) or bool(_LOCATED.match(text, p.end))
        (own if introduces else asked).append(p)
    return tuple(own), tuple(asked)


# ---- from a message to a Query ---------------------------------------------------------------------
# Nouns that describe the enterprise (parsed into EnterpriseContext), not what it asks about.
CONTEXT_TERMS = frozenset({"制造业", "建筑业", "非建筑业", "专精特新", "小巨人", "国家级专精特新“小巨人”企业",
                           "市级专精特新中小企业", "合同额", "主营业务收入", "实际发生费用"})
_FOLLOWUP = re.compile(r"^(那|那么|如果|要是|假如|假设|还有|另外|换成|改成|再问|同样|那要是)|呢[?？。!！\s]*$")


def is_followup(question: str) -> bool:
    return bool(_FOLLOWUP.search(question)) or len(question) <= 6


@dataclass(frozen=True)
class Reader:
    """What reading a message needs: the lexicon, the rules' triggers, geography."""

    lexicon: Lexicon
    rules: list
    gazetteer: Gazetteer
    documents: list

    def signature(self, text: str) -> set[str]:
        """The policy topics a piece of text names: rules it triggers, the documents' words for
        its aliases, policy terms. Context nouns (制造业, 小巨人) are not topics."""
        sig = {f"rule:{r.id}" for r in self.rules if r.kind != "scope" and r.trigger_in(text)}
        sig |= {c for _, c, _, _ in self.lexicon.expansions(text)}
        sig |= {t for t in self.lexicon.terms if t in text}
        return {s for s in sig if s not in CONTEXT_TERMS}

    def spoken_pieces(self, text: str, qualification_said: str, amounts=lambda t: []) -> tuple[str, ...]:
        """The comma pieces of an ask that only greet or introduce the caller (喂，您好，我是顺义
        一家做新能源汽车零部件的，去年刚评上小巨人，…). An introduction opens the ask (a greeting,
        who is calling, its level) and runs to the question; of it, a piece with no figure goes
        - when it greets or says who is calling and names no policy topic (its level aside), or
        - when the question has a topic of its own and the piece does not share it (做半导体设备，
          员工一百来人，首贷有补助吗: 首贷 is asked; 我们是做芯片设计的，首流片…: 芯片 goes).
        After the last question, pleasantries go (谢谢啊, 麻烦了). Statements that set the topic
        (…条例里，民营企业评高企、上市融资这些，能跟国企一个待遇不) are not an introduction; an
        ask is never emptied."""
        pieces = [m.group(0) for m in _PIECE.finditer(text)]
        topics_of = [self.signature(p) for p in pieces]  # read once, used below up to three times
        said = qualification_said

        def introduces(piece: str) -> bool:
            return bool(_SPOKEN.search(piece) or _SELF.search(piece) or (said and said in piece))

        # Where the question is: its first asking piece, else (按合同额还是按发票金额。好的谢谢) the
        # last piece that is not a pleasantry.
        asked_at = next((i for i, p in enumerate(pieces) if _QUESTION.search(p)), None)
        if asked_at is None:
            asked_at = max((i for i, p in enumerate(pieces) if not _SPOKEN.search(p) or topics_of[i]),
                           default=len(pieces) - 1)
        asked = self.signature("".join(pieces[asked_at:]))
        spoken = []
        announced = False  # after 我想咨询个事儿： comes the matter: only greetings still go
        for piece, topics in (zip(pieces[:asked_at], topics_of) if pieces and introduces(pieces[0]) else ()):
            if amounts(piece):
                continue
            if said and said in piece:
                # 去年刚评上小巨人: how it got its level (评上 reads as 认定) is not a topic either
                topics = {t for t in topics if t.startswith("rule:")}
            greets = bool(_SPOKEN.search(piece)) or bool(said and said in piece)
            if (greets and not topics) or (asked and not announced and not topics & asked):
                spoken.append(piece)
            announced = announced or bool(_ANNOUNCES.search(piece))
        last_question = max((i for i, p in enumerate(pieces) if _QUESTION.search(p)), default=asked_at)
        for piece, topics in zip(pieces[last_question + 1:], topics_of[last_question + 1:]):
            if _SPOKEN.search(piece) and not amounts(piece) and not topics:
                spoken.append(piece)
        return tuple(spoken)

    def read(self, text: str, history, notice: str = "") -> Query:
        from assistant.understand.amounts import find_amounts

        def amounts(t: str):
            try:
                return find_amounts(t)
            except ValueError:
                return []

        turns = history if isinstance(history, (list, tuple)) else []
        earlier = tuple(str(h[0]) for h in reversed(turns)
                        if isinstance(h, (list, tuple)) and h and str(h[0]).strip())
        own, asked = places(text, self.gazetteer)
        level, said = qualification(text)
        context = EnterpriseContext(level, said, industry(text), own)
        asks = [replace(a, spoken=self.spoken_pieces(a.text, said, amounts))
                for a in split_asks(text, self.signature, amounts)]
        return Query(text, tuple(asks), context, asked, document_mention(text, self.documents),
                     notice, earlier, bool(earlier) and is_followup(text))
