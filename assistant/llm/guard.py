"""The guard on a model's wording, checked against the structured answer field by field:

- every [n] marker points to a clause the model was given, and there is at least one;
- every money figure has the role the answer gives it: what the caller gets equals a
  calculation's result (合同额50万元可获得30万元 fails when the calculation says 15万, though 30万
  is the cap in the quote); a limit (最高/不超过 …) is a figure of the quotes; an input is an amount
  of the question; every other number is in a quote, a calculation or the question;
- the verdict agrees with the structured one: a negative (没有/不予/不能/暂无/不符合 …) where the
  answer's verdict is not negative, a positive where it is negative, or a verdict where the text
  entails none, is a contradiction.
A rewrite of a follow-up must keep exactly the question's amounts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.models import Answer
from assistant.understand.amounts import AmountError, find_amounts
from assistant.understand.cues import Cues

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_MARKER = re.compile(r"\[(\d+)\]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
POSITIVE = frozenset({"可以", "有", "符合", "能"})
NEGATIVE = frozenset({"不可以", "没有", "不符合", "不能"})
CAP_REACH = 4  # characters before a figure where a limit word makes it a limit


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def _amounts(text: str):
    try:
        return find_amounts(text)
    except AmountError:
        return []


def numbers(text: str) -> set[Decimal]:
    """Every figure a text states: raw digits (30, 2028, 1.5) and amounts in yuan (30万 → 300000)."""
    text = _THOUSANDS.sub("", text)
    out: set[Decimal] = set()
    for m in _DIGITS.finditer(text):
        try:
            out.add(Decimal(m.group(0)).normalize())
        except InvalidOperation:
            continue
    return out | {m.yuan.normalize() for m in _amounts(text)}


def check_markers(text: str, clauses: int) -> Verdict:
    marks = [int(m) for m in _MARKER.findall(text)]
    if not marks:
        return Verdict(False, "没有引用标记")
    bad = [m for m in marks if not 1 <= m <= clauses]
    return Verdict(not bad, f"引用标记指向未检索到的条款：{bad}" if bad else "")


def check_figures(text: str, answer: Answer, question: str, earlier: list[str], cues: Cues,
                  quotes: list[str] | None = None) -> Verdict:
    text = _MARKER.sub("", _THOUSANDS.sub("", text))
    quotes = quotes if quotes is not None else [c.quote for c in answer.citations]
    quoted = set().union(*(numbers(q) for q in quotes)) if quotes else set()
    asked = set().union(*(numbers(q) for q in [question, *earlier]))
    calcs = answer.calculations()
    results = {Decimal(c.amount_yuan).normalize() for c in calcs}
    # The deterministic answer's own figures (both readings of a rule, 140万 beside 100万) are results.
    results |= set().union(*(numbers(p.lead + p.result + "".join(p.notes)) for p in answer.parts)) \
        if answer.parts else set()
    inputs = {Decimal(v).normalize() for c in calcs for v in c.inputs.values() if isinstance(v, (int, float))}
    stepped = set().union(*(numbers(s) for c in calcs for s in c.steps)) if calcs else set()
    spans = []
    for m in _amounts(text):
        spans.append((m.start, m.end))
        value = m.yuan.normalize()
        before = text[max(0, m.start - CAP_REACH):m.start]
        if value in results:
            continue  # what the calculation gives, however it is introduced
        if cues.has("cap_word", before):
            if value not in quoted:
                return Verdict(False, f"上限金额不在原文中：{m.text}")
        elif cues.has("result_word", before):
            if calcs or value not in quoted:
                return Verdict(False, f"金额与计算结果不符：{m.text}" if calcs else f"金额不在原文中：{m.text}")
        elif value not in asked | inputs | quoted:
            return Verdict(False, f"金额不在原文、计算或问题中：{m.text}")
    known = quoted | asked | results | inputs | stepped
    for m in _DIGITS.finditer(text):
        if any(s <= m.start() < e for s, e in spans):
            continue
        if Decimal(m.group(0)).normalize() not in known:
            return Verdict(False, f"数字不在原文、计算或问题中：{m.group(0)}")
    return Verdict(True)


def check_verdict(text: str, answer: Answer, cues: Cues) -> Verdict:
    verdicts = {p.verdict for p in answer.parts if p.verdict}
    # The answer's own words (符合条件的首贷业务, 原文未写明) are quoted, not concluded.
    offline = "".join(p.lead + "".join(p.notes) + "".join(c.quote for c in p.citations) for p in answer.parts)
    says_no = any(m.group(0) not in offline for m in cues.find("says_no", text))
    says_yes = not says_no and any(m.group(0) not in offline for m in cues.find("says_yes", text))
    if says_no and not verdicts & NEGATIVE:
        return Verdict(False, "结论与确定性判断不一致（原判断不是否定）")
    if says_yes and verdicts & NEGATIVE:
        return Verdict(False, "结论与确定性判断不一致（原判断为否定）")
    if says_yes and not verdicts and not answer.calculations():
        return Verdict(False, "回答给出了原文未蕴含的结论")
    return Verdict(True)


def check_answer(text: str, *, answer: Answer, question: str, earlier: list[str], clauses: int,
                 cues: Cues, quotes: list[str] | None = None) -> Verdict:
    """quotes: the numbered clauses' quotes the model was given (the answer's, and any others)."""
    for verdict in (check_markers(text, clauses), check_figures(text, answer, question, earlier, cues, quotes),
                    check_verdict(text, answer, cues)):
        if not verdict.ok:
            return verdict
    return Verdict(True)


def check_rewrite(original: str, rewrite: str, history_questions: list[str]) -> Verdict:
    """A standalone rewrite keeps the question's amounts: none dropped, none invented."""
    try:
        before = {m.yuan for m in find_amounts(original)}
        after = {m.yuan for m in find_amounts(rewrite)}
        earlier = {m.yuan for q in history_questions for m in find_amounts(q)}
    except AmountError as exc:
        return Verdict(False, str(exc))
    if not before <= after:
        return Verdict(False, "改写丢掉了问题中的金额")
    if not after <= before | earlier:
        return Verdict(False, "改写加入了问题中没有的金额")
    return Verdict(bool(rewrite.strip()), "" if rewrite.strip() else "改写为空")
