"""Deterministic subsidy arithmetic: exact decimals, steps a person can check, a cited rule."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistant.understand.amounts import check_amount, to_yuan
from assistant.models import Calculation
from assistant.calculate.rules import Rule


class CalculationError(ValueError):
    """The rule cannot compute with these inputs (the message is Chinese)."""


def num(v: Decimal | int) -> str:
    """A figure in steps: 240000, 0.5, never 2.4E+5."""
    d = Decimal(v)
    return str(int(d)) if d == d.to_integral_value() else f"{d.normalize():f}"


def pct(rate: Decimal) -> str:
    return f"{num(rate * 100)}%"


def _capped(raw: Decimal, cap: Decimal, steps: list[str]) -> Decimal:
    if raw <= cap:
        steps.append(f"{num(raw)} ≤ 上限 {num(cap)}")
        return raw
    steps.append(f"{num(raw)} > 上限 {num(cap)}，按上限 {num(cap)} 计")
    return cap


def percent_cap(rule: Rule, value: Decimal) -> Calculation:
    steps = [f"{rule.input_label} {num(value)} × {pct(rule.rate)} = {num(value * rule.rate)}"]
    amount = _capped(value * rule.rate, rule.cap_yuan, steps)
    return Calculation(rule.id, {rule.input: to_yuan(value)}, to_yuan(amount), steps)


def percent(rule: Rule, value: Decimal) -> Calculation:
    amount = value * rule.rate
    steps = [f"{rule.input_label} {num(value)} × 最高 {pct(rule.rate)} = {num(amount)}",
             rule.get("no_cap_note", "原文未规定金额上限。")]
    return Calculation(rule.id, {rule.input: to_yuan(value)}, to_yuan(amount), steps)


def banded(rule: Rule, value: Decimal) -> Calculation:
    steps = [f"采用的读法：{rule.get('reading')}"]
    total = Decimal(0)
    for band in rule.bands:
        top = value if band.to_yuan is None else min(value, band.to_yuan)
        part = max(Decimal(0), top - band.from_yuan)
        reward = part * band.rate
        upper = "" if band.to_yuan is None else f"min({num(value)}, {num(band.to_yuan)})"
        span = f"{upper or num(value)} − {num(band.from_yuan)}" if part > 0 else "0（未达到该区间）"
        steps.append(f"{band.text}：区间部分 {span} = {num(part)}；{num(part)} × {pct(band.rate)} = {num(reward)}")
        total += reward
    steps.append(f"两段合计 {num(total)}")
    amount = _capped(total, rule.cap_yuan, steps)
    return Calculation(rule.id, {rule.input: to_yuan(value)}, to_yuan(amount), steps)


def reimburse(rule: Rule, value: Decimal) -> Calculation:
    steps = [f"资助金额 = {rule.input_label} = {num(value)}"]
    return Calculation(rule.id, {rule.input: to_yuan(value)}, to_yuan(value), steps)


def cap_check(rule: Rule, claimed: Decimal) -> Calculation:
    """'能拿50万吗？' against a rule that only states a maximum."""
    label = rule.get("cap_label", "上限")
    if claimed <= rule.cap_yuan:
        steps = [f"询问金额 {num(claimed)} ≤ {label} {num(rule.cap_yuan)}，在上限以内",
                 f"本条最高可获 {num(rule.cap_yuan)}，具体金额以审核认定为准"]
    else:
        steps = [f"询问金额 {num(claimed)} > {label} {num(rule.cap_yuan)}，超出上限",
                 f"本条最高可获 {num(rule.cap_yuan)}"]
    return Calculation(rule.id, {"claimed_yuan": to_yuan(claimed)}, to_yuan(rule.cap_yuan), steps)


FORMULAS = {"percent_cap": percent_cap, "percent": percent, "banded": banded, "reimburse": reimburse}


def calculate(rule: Rule, value: Decimal) -> Calculation:
    """Run a rule's formula on one input amount (yuan)."""
    formula = FORMULAS.get(rule.kind)
    if formula is None:
        raise CalculationError(f"“{rule.title}”没有计算公式（原文只规定了上限或条件）")
    return formula(rule, check_amount(value, rule.input_label or "金额"))


def industry_fits(rule: Rule, industry: str) -> bool:
    """Whether a stated industry meets the rule's required one: 制造业 yes, 非制造业 no,
    非金属矿物制品制造业 yes (a leading 非 alone is not a negation)."""
    wanted = rule.get("industry")
    return not wanted or (wanted in industry and f"非{wanted}" not in industry)


def not_eligible(rule: Rule, value: Decimal | None, reason: str) -> Calculation:
    inputs = {rule.input: to_yuan(value)} if value is not None and rule.input else {}
    return Calculation(rule.id, inputs, 0, [f"条件不满足：{reason}", "可获金额 0"])


@dataclass(frozen=True)
class ThresholdResult:
    met: bool | None
    reason: str


def threshold(rule: Rule, value: Decimal | None, industry: str | None) -> ThresholdResult:
    """市级企业技术中心: 非建筑业 and 上年度主营业务收入 ≥ 1亿元 may apply under the relaxed rule."""
    minimum = Decimal(rule.get("min_yuan"))
    excluded = rule.get("excluded_industry")
    if industry and excluded and excluded in industry and "非" + excluded not in industry:
        return ThresholdResult(False, f"放宽条件只适用于非{excluded}企业")
    if value is None:
        return ThresholdResult(None, f"需要{rule.input_label}（放宽条件为不少于{num(minimum)}元）")
    if value >= minimum:
        return ThresholdResult(True, f"{rule.input_label} {num(value)} ≥ {num(minimum)}，达到放宽后的条件")
    return ThresholdResult(False, f"{rule.input_label} {num(value)} < {num(minimum)}，未达到放宽后的条件")
