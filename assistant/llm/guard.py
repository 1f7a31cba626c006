"""The guard on a model's wording: nothing reaches the user that the sources do not say.

- every number, percentage, amount and date in the text is in a cited quote, the calculation or
  the question (including earlier questions of the conversation);
- every citation marker [n] points to a clause the model was given, and there is at least one;
- a verdict (可以/能/符合 or 不能/不符合) agrees with the deterministic answer's verdict.
A rewrite of a follow-up must keep exactly the question's amounts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from assistant.understand.amounts import AmountError, find_amounts

_DIGITS = re.compile(r"\d+(?:\.\d+)?(?!\d|\.\d|\s*[万亿])")  # 15万 counts as 150000, not as 15
_MARKER = re.compile(r"\[(\d+)\]")
_NEGATIVE = re.compile(r"^(不符合|不能|不可以|原文未规定金额|按原文，这一金额得不到)")
_POSITIVE = re.compile(r"^(可以|有。|符合|可获得)")
_SAYS_YES = re.compile(r"^(可以|能|符合|有资格)|(?<!不)(可以申请|可以获得|可以拿|能拿到|能获得|符合条件|符合该|可以。|符合。)")
_SAYS_NO = re.compile(r"不符合|不能申请|不能获得|不可以|无法获得|不适用")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def numbers(text: str) -> set[Decimal]:
    """Every figure a text states: raw digits (30, 2028, 1.5) and amounts in yuan (30万 → 300000)."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    out: set[Decimal] = set()
    for m in _DIGITS.finditer(text):
        try:
            out.add(Decimal(m.group(0)).normalize())
        except InvalidOperation:
            continue
    try:
        out |= {m.yuan.normalize() for m in find_amounts(text)}
    except AmountError:
        pass
    return out


def check_numbers(text: str, sources: list[str]) -> Verdict:
    known = set().union(*(numbers(s) for s in sources)) if sources else set()
    stated = numbers(re.sub(r"\[\d+\]", "", text))
    invented = sorted(str(n) for n in stated - known)
    return Verdict(not invented, f"数字不在原文、计算或问题中：{'、'.join(invented[:5])}" if invented else "")


def check_markers(text: str, clauses: int) -> Verdict:
    marks = [int(m) for m in _MARKER.findall(text)]
    if not marks:
        return Verdict(False, "没有引用标记")
    bad = [m for m in marks if not 1 <= m <= clauses]
    return Verdict(not bad, f"引用标记指向未检索到的条款：{bad}" if bad else "")


def check_verdict(text: str, offline_lead: str) -> Verdict:
    if _NEGATIVE.search(offline_lead) and _SAYS_YES.search(text):
        return Verdict(False, "结论与确定性判断不一致（原判断为否定）")
    if _POSITIVE.search(offline_lead) and _SAYS_NO.search(text) and not _SAYS_NO.search(offline_lead):
        return Verdict(False, "结论与确定性判断不一致（原判断为肯定）")
    return Verdict(True)


def check_answer(text: str, *, sources: list[str], clauses: int, offline_lead: str) -> Verdict:
    for verdict in (check_markers(text, clauses), check_numbers(text, sources),
                    check_verdict(text, offline_lead)):
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
