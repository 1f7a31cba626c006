"""Deterministic subsidy arithmetic: exact decimals, steps a person can check, a cited rule.

Steps are readable Chinese with grouped figures (1,200,000 × 20% = 240,000元). The first step says
which amount was read (按合同额500万元计算), so a misreading is visible before any arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistant.understand.amounts import check_amount, fmt_wan, grouped, to_yuan
from assistant.models import Calculation
from assistant.calculate.rules import Rule


class CalculationError(ValueError):
    """The rule cannot compute with these inputs (the message is Chinese)."""


def num(v: Decimal | int) -> str:
    """A figure as digits: 240000, 0.5, never 2.4E+5."""
    d = Decimal(v)
    return str(int(d)) if d == d.to_integral_value() else f"{d.normalize():f}"


def pct(rate: Decimal) -> str:
    return f"{num(rate * 100)}%"


def yuan(v: Decimal | int) -> str:
    """A figure in a step: 1,200,000元."""
    return f"{grouped(Decimal(v))}元"


def _read_step(label: str, value: Decimal, written: str = "", approximate: bool = False) -> str:
    """按合同额500万元计算 — with the caller's own words when they differ (您写的是“5百万”)."""
    said = fmt_wan(value)
    step = f"按{label}{'约' if approximate else ''}{said}计算"
    shown = written.strip()
    if shown and shown not in (said, said.removesuffix("元")):
        step += f"（您写的是“{shown}”）"
    return step


def _capped(raw: Decimal, cap: Decimal, steps: list[str]) -> Decimal:
    if raw <= cap:
        steps.append(f"{yuan(raw)}未超过上限{yuan(cap)}")
        return raw
    steps.append(f"{yuan(raw)}超过上限{yuan(cap)}，按上限{yuan(cap)}计")
    return cap


def percent_cap(rule: Rule, value: Decimal) -> tuple[Decimal, list[str]]:
    raw = value * rule.rate
    steps = [f"{rule.input_label} {grouped(value)} × {pct(rule.rate)} = {yuan(raw)}"]
    return _capped(raw, rule.cap_yuan, steps), steps


def percent(rule: Rule, value: Decimal) -> tuple[Decimal, list[str]]:
    amount = value * rule.rate
    steps = [f"{rule.input_label} {grouped(value)} × 最高 {pct(rule.rate)} = {yuan(amount)}",
             rule.get("no_cap_note", "原文未规定金额上限").rstrip("。")]
    return amount, steps


def banded(rule: Rule, value: Decimal) -> tuple[Decimal, list[str]]:
    first = rule.bands[0]
    steps = [f"采用的读法：{rule.get('reading').rstrip('。')}"]
    if value <= first.from_yuan:
        steps.append(f"{fmt_wan(value)}{'未达到' if value < first.from_yuan else '未超过'}{fmt_wan(first.from_yuan)}，"
                     f"原文对{fmt_wan(first.from_yuan)}及以下的部分未给奖励，该项奖励不适用")
        return Decimal(0), steps
    total = Decimal(0)
    for band in rule.bands:
        if value <= band.from_yuan:
            steps.append(f"{band.text}：融资额未超过{fmt_wan(band.from_yuan)}，此段为0")
            continue
        top = value if band.to_yuan is None or value <= band.to_yuan else band.to_yuan
        part = top - band.from_yuan
        reward = part * band.rate
        over = "" if top == value else f"（超过{fmt_wan(band.to_yuan)}的部分归下一段）"
        steps.append(f"{band.text}：{grouped(top)} − {grouped(band.from_yuan)} = {grouped(part)}{over}，"
                     f"× {pct(band.rate)} = {yuan(reward)}")
        total += reward
    steps.append(f"各段合计{yuan(total)}")
    return _capped(total, rule.cap_yuan, steps), steps


def reimburse(rule: Rule, value: Decimal) -> tuple[Decimal, list[str]]:
    return value, [f"资助金额 = {rule.input_label} = {yuan(value)}"]


FORMULAS = {"percent_cap": percent_cap, "percent": percent, "banded": banded, "reimburse": reimburse}


def _formula(rule: Rule):
    formula = FORMULAS.get(rule.kind)
    if formula is None:
        raise CalculationError(f"“{rule.title}”没有计算公式（原文只规定了上限或条件）")
    return formula


def amount_for(rule: Rule, value: Decimal | None) -> Decimal:
    """The rule's result for one input, no steps; None means 'as large as the words allow'
    (超过500万): the cap where the rule has one."""
    if value is None:
        if rule.cap_yuan is None:
            raise CalculationError("没有上限，无法确定")
        return rule.cap_yuan
    return _formula(rule)(rule, value)[0]


def calculate(rule: Rule, value: Decimal, written: str = "", approximate: bool = False) -> Calculation:
    """Run a rule's formula on one input amount (yuan). written: the amount as the caller wrote
    it (shown in the first step when it differs from how the answer writes it)."""
    formula = _formula(rule)
    value = check_amount(value, rule.input_label or "金额")
    amount, steps = formula(rule, value)
    return Calculation(rule.id, {rule.input: to_yuan(value)}, to_yuan(amount),
                       [_read_step(rule.input_label, value, written, approximate), *steps])


@dataclass(frozen=True)
class Item:
    """One input item as read: its value and the words that said it."""
    value: Decimal
    written: str = ""
    label: str = ""  # what it is (第2至第4年年费), when known
    approximate: bool = False  # 大概50万: the caller's estimate


def calculate_items(rule: Rule, items: list[Item], reading: str, why: str = "") -> Calculation:
    """Several items under one rule. reading: "total" — the rule applies to their sum (its text
    says so: 年度累计); "per_item" — to each, the results added. why: the reading as the steps
    say it (the rule's items_reading by default)."""
    values = [check_amount(i.value, rule.input_label or "金额") for i in items]
    total = sum(values, Decimal(0))
    listed = "、".join(f"{i.label}{'计' if i.label else ''}{fmt_wan(i.value)}" for i in items)
    steps = [f"按{rule.input_label}{listed}共{len(items)}项计算，合计{fmt_wan(total)}"]
    formula = _formula(rule)
    why = why or rule.get("items_reading", "")
    if reading == "total":
        amount, more = formula(rule, total)
        steps += [f"采用的口径：{(why or '按各项合计计算').rstrip('。')}", *more]
    else:
        amount = Decimal(0)
        steps.append(f"采用的口径：{(why or '逐项计算后相加').rstrip('。')}")
        for item in items:
            part, more = formula(rule, item.value)
            steps.append(f"{item.label}{'计' if item.label else ''}{fmt_wan(item.value)}：" + "；".join(more) + f"，得{yuan(part)}")
            amount += part
        steps.append(f"各项相加{yuan(amount)}")
    return Calculation(rule.id, {rule.input: to_yuan(total)}, to_yuan(amount), steps)


def both_readings(rule: Rule, items: list[Item]) -> tuple[Calculation, Calculation]:
    """(sum first, then the rule; each item by the rule, then added), for a rule whose text does
    not say which applies."""
    return (calculate_items(rule, items, "total", "按各项合计计算"),
            calculate_items(rule, items, "per_item", "逐项计算后相加"))


def per_period(rule: Rule, each: Decimal, periods: int, written: str = "", span: str = "",
               outside: str = "") -> Calculation:
    """An amount per period (减缴后每年135元) times the periods the rule covers (第2至第4年 → 3)."""
    each = check_amount(each, rule.input_label or "金额")
    spec = rule.get("per_unit", {})
    unit = spec.get("unit", "年")
    total = each * periods
    steps = [_read_step(f"每{unit}{rule.input_label}", each, written),
             f"{span or f'共{periods}{unit}'}：{grouped(each)} × {periods} = {yuan(total)}"]
    if outside:
        steps.append(outside)
    amount, more = _formula(rule)(rule, total) if total > 0 else (Decimal(0), [])
    steps += more
    return Calculation(rule.id, {rule.input: to_yuan(total), spec.get("input", "per_period_yuan"): to_yuan(each),
                                 "periods": periods}, to_yuan(amount), steps)


def result_line(rule: Rule, calc: Calculation, said: str = "", spoken: bool = False) -> str:
    """The one sentence a result says: 可获得的资金支持为24万元（240000元）, or why there is none
    (未达到20亿元，该项奖励按原文不适用) — never "可获得0元". said: the input in the caller's
    words, when no single figure stands for it (“10到15亿”). spoken: the figure once, as people
    say it (24万元), for the hotline."""
    amount = Decimal(calc.amount_yuan)
    if amount == 0 and rule.kind == "banded" and rule.bands:
        value = Decimal(next(iter(calc.inputs.values()), 0))
        floor = rule.bands[0].from_yuan
        verb = "未达到" if value < floor or said else "未超过"
        what = f"“{said}”" if said else fmt_wan(value)
        return (f"{verb}{fmt_wan(floor)}，该项奖励按原文不适用：{rule.input_label}{what}，"
                f"原文只对超过{fmt_wan(floor)}的部分给予奖励")
    if amount == 0 and calc.inputs.get("periods") == 0 and rule.get("per_unit"):
        return f"所说的年份不在{rule.get('per_unit').get('within_text')}内，按原文不予资助"
    if amount == 0:
        return "按原文，这一金额得不到该项支持"
    most = "最高" if rule.kind == "percent" else ""
    said = fmt_wan(amount)
    if spoken:
        return f"可获得的资金支持{most}为{said}"
    return f"可获得的资金支持{most}为{said}" + ("" if said == f"{num(amount)}元" else f"（{num(amount)}元）")


def cap_check(rule: Rule, claimed: Decimal) -> Calculation:
    """'能拿50万吗？' against a rule that only states a maximum."""
    label = rule.get("cap_label", "上限")
    if claimed <= rule.cap_yuan:
        steps = [f"询问金额{fmt_wan(claimed)}，未超过{label}{fmt_wan(rule.cap_yuan)}，在上限以内",
                 f"本条最高可获{yuan(rule.cap_yuan)}，具体金额以审核认定为准"]
    else:
        steps = [f"询问金额{fmt_wan(claimed)}，超过{label}{fmt_wan(rule.cap_yuan)}，超出上限",
                 f"本条最高可获{yuan(rule.cap_yuan)}"]
    return Calculation(rule.id, {"claimed_yuan": to_yuan(claimed)}, to_yuan(rule.cap_yuan), steps)


def industry_fits(rule: Rule, industry: str) -> bool:
    """Whether a stated industry meets the rule's required one: 制造业 yes, 非制造业 no,
    非金属矿物制品制造业 yes (a leading 非 alone is not a negation)."""
    wanted = rule.get("industry")
    return not wanted or (wanted in industry and f"非{wanted}" not in industry)


def not_eligible(rule: Rule, value: Decimal | None, reason: str) -> Calculation:
    inputs = {rule.input: to_yuan(value)} if value is not None and rule.input else {}
    return Calculation(rule.id, inputs, 0, [f"条件不满足：{reason}", "可获金额为0"])


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
        return ThresholdResult(None, f"需要{rule.input_label}（放宽条件为不少于{fmt_wan(minimum)}）")
    if value >= minimum:
        return ThresholdResult(True, f"{rule.input_label}{fmt_wan(value)}，不少于{fmt_wan(minimum)}，达到放宽后的条件")
    return ThresholdResult(False, f"{rule.input_label}{fmt_wan(value)}，少于{fmt_wan(minimum)}，未达到放宽后的条件")
