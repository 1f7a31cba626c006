"""Render: the structured answer as chat text and as hotline speech.

Both read the parts' fields (verdict, lead, notes, calculation, citations); nothing here edits
rendered text. Chat: each part's verdict and lead, its notes, its calculation steps and its
verbatim quotes. Speech: the verdict first, one or two sentences per ask, the ask's subject named
when several are answered, amounts as people say them, no labels or typing instructions.
"""
from __future__ import annotations

from assistant.answer.sentences import split_after
from assistant.answer.verdict import say
from assistant.models import Answer, AnswerPart, Calculation, Citation

_ORDINALS = "一二三四五六七八九十"  # no digits: every digit in an answer is sourced
SPOKEN_SENTENCES = 2


def cite_label(c: Citation, articles: bool) -> str:
    return f"【《{c.title}》{c.label}】" if articles else f"【{c.label}】"


def part_text(part: AnswerPart, articles_of, alone: bool = True) -> str:
    """alone: the only part of the answer; a declined ask among answered ones says only why."""
    lines = [say(part.verdict, part.lead) + part.ask_back]
    if part.refused:
        return "".join([lines[0], *part.notes]) if alone else lines[0]
    if part.calculation is not None:
        lines.append("计算过程：\n" + "\n".join(f"· {s}" for s in part.calculation.steps))
    lines += part.notes
    for c in part.citations:
        lines.append(f"原文：“{c.quote}”{cite_label(c, articles_of(c.doc_id))}")
    return "\n".join(lines)


def chat_text(parts: list[AnswerPart], articles_of, notice: str = "", verdict_first: bool = False) -> str:
    """verdict_first: the first part is a verdict on the enterprise (不符合：本政策适用于…); the
    parts after it state the measures asked about, without a verdict of their own."""
    if len(parts) == 1:
        body = part_text(parts[0], articles_of)
    else:
        texts = []
        for i, p in enumerate(parts):
            if verdict_first and i > 0:
                texts.append("相关条款：" + part_text(_without_verdict(p), articles_of, False))
            elif verdict_first:
                texts.append(part_text(p, articles_of, False))
            else:
                texts.append(f"{_ORDINALS[min(i, 9)]}、{part_text(p, articles_of, False)}")
        body = "\n\n".join(texts)
    return f"{notice}\n{body}" if notice else body


def _without_verdict(part: AnswerPart) -> AnswerPart:
    from dataclasses import replace
    return replace(part, verdict=None)


def spoken_lead(part: AnswerPart) -> str:
    """One or two sentences to read aloud for one part, from its fields: the verdict, then what a
    calculation gives (the figure once, as people say it) or the lead, then what is needed."""
    if part.refused:
        return "".join(sentences(part.lead)[:1])
    if part.result:
        said = say(part.verdict, part.result + "。")
    else:
        said = "".join(sentences(say(part.verdict, part.lead))[:SPOKEN_SENTENCES])
    if part.needs:
        said += f"需要您的{part.needs}才能计算具体金额。"
    elif part.ask_back:
        said += "".join(sentences(part.ask_back)[:1])
    return said


def sentences(text: str) -> list[str]:
    """Sentences to say: up to 。！？, each kept whole."""
    return [s.strip() for s in split_after(text, "。！？")]


def speech(parts: list[AnswerPart], verdict_first: bool = False) -> str:
    """The hotline's short answer: each ask answered in turn, its subject named when there are
    several, so a caller hears which figure belongs to which measure. After a verdict on the
    enterprise (不符合：…) only that verdict is said."""
    shown = parts[:1] if verdict_first else parts
    if len(shown) == 1:
        return spoken_lead(shown[0])
    said = []
    for p in shown:
        lead = spoken_lead(p)
        said.append(f"{p.subject}：{lead}" if p.subject and not p.refused else lead)
    return "".join(said)


def calculations_of(parts: list[AnswerPart]) -> list[Calculation]:
    return [p.calculation for p in parts if p.calculation is not None and not p.refused]


def assemble(parts: list[AnswerPart], articles_of, notice: str = "", verdict_first: bool = False,
             trace: list | None = None) -> Answer:
    """The answer: the parts and their renderings. Refused when every part is (then the first
    part's reason is the answer)."""
    refused = all(p.refused for p in parts)
    shown = parts[:1] if refused else parts
    citations = list(dict.fromkeys(c for p in shown for c in p.citations))
    calcs = calculations_of(shown)
    return Answer(text=chat_text(shown, articles_of, notice, verdict_first), refused=refused,
                  citations=citations, calculation=calcs[0] if calcs else None,
                  short=speech(shown, verdict_first), more_calculations=calcs[1:], parts=shown,
                  notice=notice, trace=list(trace or []))
