"""Who is asking: the enterprise's qualification level, industry and place, read from the cues
(corpus/cues.toml). Context feeds eligibility and calculators; it is never the topic of an ask."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understand.cues import Cues
from assistant.understand.places import Gazetteer, Place

# Levels in the order they win when a message names several (区级 is stated on purpose).
LEVELS = (("区级", "level_district"), ("省级", "level_provincial"), ("国家级", "level_national"),
          ("国家级", "level_national_plain"), ("市级", "level_city"))
_LEVEL_WORDS = {"国家级": "国家级", "市级": "市级", "专精特新": "专精特新", "小巨人": "小巨人"}
_BRACKET = re.compile(r"[（(]([^）)]*)[）)]")
_CLAUSE_END = re.compile(r"[，,。！？!?；;：:\n]")


@dataclass(frozen=True)
class EnterpriseContext:
    qualification: str | None = None  # 国家级 / 市级 / 区级 / 省级 / 无, None when not said
    qualification_said: str = ""  # the words that said it, quoted back in a 不符合
    industry: str | None = None  # 制造业, 非制造业, 软件 … as stated, negation resolved
    places: tuple[Place, ...] = ()  # where the enterprise is (its self-introduction)


def _ends_with(text: str, words) -> str:
    return next((w for w in sorted(words, key=len, reverse=True) if text.endswith(w)), "")


def qualification(text: str, cues: Cues) -> tuple[str | None, str]:
    """(level, the words that said it). A negated generic 专精特新 means none at all."""
    negated = [(m, _ends_with(m.group(0), _LEVEL_WORDS)) for m in cues.find("level_negation", text)]
    denied = cues.find("level_national_denied", text)
    positives = []
    for level, concept in LEVELS:
        for m in cues.find(concept, text):
            if any(n.start() <= m.start() < n.end() + 2 for n, _ in negated):
                continue
            if any(d.start() <= m.start() < d.end() for d in denied):
                continue
            positives.append((level, m))
    if any(what == "专精特新" for _, what in negated) and not positives:
        return "无", negated[0][0].group(0)
    if positives:
        order = [lvl for lvl, _ in LEVELS]
        level, m = min(positives, key=lambda p: order.index(p[0]))
        return level, m.group(0)
    if negated:
        first, what = negated[0]
        return ("无", first.group(0)) if what != "市级" else (None, "")
    m = cues.first("plain_sme", text)
    return ("无", m.group(0)) if m else (None, "")


def industry(text: str, cues: Cues) -> str | None:
    """The enterprise's industry as stated, negation resolved (不是制造业 → 非制造业); what it
    was (服务业（原制造业）) is not what it is."""
    text = _BRACKET.sub(lambda m: "" if cues.starts("former", m.group(1), 0) else m.group(0), text)
    m = cues.first("industry_negation", text)
    if m:
        return "非" + _ends_with(m.group(0), cues.phrases("industry"))
    m = cues.first("industry", text) or cues.first("industry_other", text)
    return m.group(0) if m else None


def places(text: str, gazetteer: Gazetteer, cues: Cues) -> tuple[tuple[Place, ...], tuple[Place, ...]]:
    """(where the caller's enterprise is, regions the message asks about). A place inside a
    self-introduction (我们是海淀一家…) is context; elsewhere (天津那边…, 上海的专精特新…) it is asked."""
    own, asked = [], []
    clause_starts = [0] + [m.end() for m in _CLAUSE_END.finditer(text)]
    for p in gazetteer.find(text):
        start = max(s for s in clause_starts if s <= p.start)
        introduces = cues.has("self", text[start:p.start]) or bool(cues.starts("located", text, p.end))
        (own if introduces else asked).append(p)
    return tuple(own), tuple(asked)
