"""Which rule a question is about, which of its amounts is the input, and what to compute."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from assistant.understand.amounts import AmountError, Mention, find_amounts, fmt_wan
from assistant.calculate.calculators import (CalculationError, calculate, cap_check, industry_fits, not_eligible,
                          num, pct, threshold)
from assistant.models import Calculation
from assistant.calculate.rules import Rule

_CLAIM_AFTER = re.compile(r"^\s*(吗|么|嘛|不|没|行吗|可以吗|够吗|有吗)")
_CLAIM_BEFORE = re.compile(r"(拿|领|获得|得到|补贴|补助|奖励|资助|补|奖|给|申请到|拿到|支持)(是|为|有|到)?\s*$")
_ASKS_HOW_MUCH = re.compile(r"多少|怎么算|如何计算|怎么计算|几|额度|金额|标准|比例|怎么补|如何补")
_INDUSTRY = re.compile(r"(非建筑业|建筑业|制造业|软件|服务业)")


@dataclass(frozen=True)
class Routed:
    rule: Rule
    calculation: Calculation | None = None
    lead: str = ""  # the direct answer, first line of the text
    asks_input: bool = False


def _split(question: str) -> tuple[list[Mention], list[Mention]]:
    inputs, claims = [], []
    for m in find_amounts(question):
        before, after = question[max(0, m.start - 4):m.start], question[m.end:m.end + 4]
        is_claim = bool(_CLAIM_AFTER.search(after)) or (bool(_CLAIM_BEFORE.search(before))
                                                        and "合同" not in before)
        (claims if is_claim else inputs).append(m)
    return inputs, claims


def find_rule(text: str, rules: list[Rule]) -> Rule | None:
    best = [(r.trigger_in(text), r) for r in rules]
    best = [(t, r) for t, r in best if t]
    return max(best, key=lambda p: len(p[0]))[1] if best else None


def route(question: str, history_questions: list[str], rules: list[Rule],
          followup: bool, industry: str | None = None) -> Routed | None:
    """industry: the enterprise's industry as the message states it, negation resolved
    (不是制造业 → 非制造业); None when not stated."""
    rule = find_rule(question, rules)
    context = question
    if rule is None and followup:
        for earlier in history_questions:  # latest first: "那如果合同额是10万元呢？"
            rule = find_rule(earlier, rules)
            if rule:
                context = earlier + "。" + question
                break
    if rule is None or rule.kind == "scope":
        return None
    try:
        return _route_rule(rule, question, context, industry)
    except (AmountError, CalculationError) as exc:
        return Routed(rule, None, f"{exc}。", asks_input=True)


def _ruled_out(rule: Rule, context: str, industry: str | None) -> str | None:
    """The words that rule the enterprise out of this rule, if any (quoted back to the user)."""
    if rule.get("industry") and industry and not industry_fits(rule, industry):
        return industry
    return next((w for w in rule.get("not_eligible_if", []) if w in context), None)


def _route_rule(rule: Rule, question: str, context: str, industry: str | None) -> Routed | None:
    inputs, claims = _split(question)
    value = inputs[0].yuan if inputs else None
    claimed = claims[0].yuan if claims else None
    if rule.kind == "threshold":
        industry = industry or (_INDUSTRY.search(context) or [None])[0]
        result = threshold(rule, value, industry)
        if result.met is None:
            return None  # nothing to judge yet: a plain lookup, the clause answers
        verdict = "符合" if result.met else "不符合"
        return Routed(rule, None, f"{verdict}该放宽条件：{result.reason}。")
    ruled_out = _ruled_out(rule, context, industry)
    if ruled_out:
        reason = f"该项支持限于{rule.get('condition')}"
        return Routed(rule, not_eligible(rule, value, reason) if value is not None else None,
                      f"不符合：{reason}，您提到“{ruled_out}”，不适用本项。")
    if rule.kind == "cap":
        if claimed is None:
            return None
        calc = cap_check(rule, claimed)
        ok = claimed <= rule.cap_yuan
        lead = (f"{'可以在上限以内申请' if ok else '不能'}：本项最高{fmt_wan(rule.cap_yuan)}，"
                f"您问的{fmt_wan(claimed)}{'未超过' if ok else '超过了'}上限。")
        return Routed(rule, calc, lead)
    if value is None and claimed is not None and rule.kind == "percent_cap":
        calc = cap_check(rule, claimed)
        ok = claimed <= rule.cap_yuan
        lead = (f"{'在上限以内' if ok else '不能'}：本项按{rule.input_label}的{pct(rule.rate)}计算、"
                f"最高{fmt_wan(rule.cap_yuan)}，您问的{fmt_wan(claimed)}{'未超过' if ok else '超过了'}上限"
                f"{'，实际金额取决于' + rule.input_label if ok else ''}。")
        return Routed(rule, calc, lead)
    if value is None:
        if rule.kind == "reimburse" or not _ASKS_HOW_MUCH.search(question):
            return None
        return Routed(rule, None, f"请提供{rule.input_label}（金额可写成“万元”或“亿元”），即可为您计算具体金额。",
                      asks_input=True)
    calc = calculate(rule, value)
    return Routed(rule, calc, _lead(rule, calc, claimed))


def _lead(rule: Rule, calc: Calculation, claimed: Decimal | None) -> str:
    amount = Decimal(calc.amount_yuan)
    lead = f"可获得的资金支持{'最高' if rule.kind == 'percent' else ''}为{fmt_wan(amount)}（{num(amount)}元）。"
    if amount == 0:
        lead = "按原文，这一金额得不到该项奖励：可获 0 元。"
    if claimed is not None:
        lead = (f"{'可以' if claimed <= amount else '不能'}。" + lead)
    return lead
