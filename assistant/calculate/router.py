"""Which rule a question is about, what each of its amounts is for, and what to compute.

Amounts come from the one reader (read_amounts); their roles from roles.py. Nothing is computed on
an amount that cannot be read for sure: a currency, a negative, a range or a vague figure gets a
question back (asks_input) — unless every value the words allow gives the same result (融资10到15亿:
below 20亿 either way), which is then said."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from assistant.understand.amounts import (APPROXIMATE, CURRENCY, NEGATIVE, UNREADABLE, Amount, AmountError,
                                          amount_words, fmt_wan, read_amounts)
from assistant.calculate.calculators import (CalculationError, Item, amount_for, both_readings, calculate,
                                             calculate_items, cap_check, industry_fits, not_eligible, num, pct,
                                             per_period, result_line, threshold)
from assistant.calculate.roles import (CLAIM, INPUT, LIST_PRICE, PART, PER_UNIT, RESTATED, RULE_FIGURE, TOTAL,
                                       Period, Role, amount_roles, clause_before, count_periods)
from assistant.models import Calculation
from assistant.calculate.rules import Rule

FORMULA_KINDS = ("percent_cap", "percent", "banded", "reimburse")


@dataclass(frozen=True)
class Routed:
    rule: Rule
    calculation: Calculation | None = None
    lead: str = ""  # the direct answer, first line of the text
    asks_input: bool = False  # no figure computed: the lead asks for what is missing or unclear
    verdict: str | None = None  # 可以 / 不能 / 不符合 where the rule decides it, else None
    notes: tuple[str, ...] = ()  # readings applied, what was set aside (原价不计, 营收不是合同额)
    amounts: tuple[Amount, ...] = field(default=(), compare=False)  # every amount read in the ask


class _AskBack(Exception):
    """Stop: the lead asks the caller (no calculation on a guess)."""


def _split(question: str) -> tuple[list[Amount], list[Amount]]:
    """(inputs, claims) of a question, as before roles had names: used where only a claim matters."""
    amounts = read_amounts(question)
    for a in amounts:
        if a.kind in (NEGATIVE, CURRENCY, UNREADABLE):
            raise AmountError(a.problem)
    roles = amount_roles(question, amounts)
    inputs = [r.amount for r in roles if r.role in (INPUT, TOTAL) and r.amount.usable]
    claims = [r.amount for r in roles if r.role == CLAIM and r.amount.usable]
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
    amounts = tuple(read_amounts(question))
    owners = _owners(question, amounts, rules) if context == question else [None] * len(amounts)
    measures = list(dict.fromkeys(o for o in owners if o is not None))
    if len(measures) < 2:
        return _routed(rule, question, context, industry, amounts, {})
    # 展会花了30万，品牌推广花了40万: each amount is its own measure's; none is summed across them.
    routed = _routed(measures[0], question, context, industry, amounts, _foreign(amounts, owners, measures[0]))
    if not amount_words().anywhere("each_ask", question):
        return routed
    lead, notes = routed.lead, list(routed.notes)
    if routed.verdict is None:  # a verdict opens the lead (the renderer says it); else the measure does
        lead = f"{measures[0].title}：{lead}"
    for other in measures[1:]:
        more = _routed(other, question, context, industry, amounts, _foreign(amounts, owners, other))
        lead += f"另，{other.title}：{more.lead}"
        if more.calculation is not None:
            steps = [step for step in more.calculation.steps if step not in more.notes]
            notes.append(f"{other.title}的计算：" + "；".join(steps))
    return Routed(routed.rule, routed.calculation, lead, routed.asks_input, routed.verdict, tuple(notes),
                  routed.amounts)


def _routed(rule: Rule, question: str, context: str, industry: str | None, amounts: tuple[Amount, ...],
            foreign: dict[int, Rule]) -> Routed | None:
    try:
        routed = _route_rule(rule, question, context, industry, amounts, foreign)
    except _AskBack as ask:
        routed = Routed(rule, None, str(ask), asks_input=True)
    except (AmountError, CalculationError) as exc:
        message = str(exc)
        routed = Routed(rule, None, message if message.endswith(("。", "？")) else message + "。", asks_input=True)
    if routed is not None and not routed.amounts:
        routed = Routed(routed.rule, routed.calculation, routed.lead, routed.asks_input, routed.verdict,
                        routed.notes, amounts)
    return routed


def _foreign(amounts, owners: list[Rule | None], rule: Rule) -> dict[int, Rule]:
    """The amounts (by index) that belong to another measure than `rule`."""
    return {i: o for i, o in enumerate(owners) if o is not None and o is not rule}


_CLAUSE_STOPS = "，。；！？,;!?\n "


def _owners(question: str, amounts: tuple[Amount, ...], rules: list[Rule]) -> list[Rule | None]:
    """The measure each amount is for: the rule whose words stand nearest before it in its clause
    (展会花了30万，…宣传推广又花了40万), else nearest after it in its clause (30万的展会费), else
    nearest before it anywhere; None when no rule's words are around it."""
    found: list[tuple[int, int, Rule]] = []
    for r in rules:
        if r.kind == "scope" or not r.trigger_in(question):
            continue
        for t in r.triggers:
            at = question.find(t)
            while at >= 0:
                found.append((at, at + len(t), r))
                at = question.find(t, at + 1)
    owners: list[Rule | None] = []
    for a in amounts:
        start = max((question.rfind(c, 0, a.start) for c in _CLAUSE_STOPS), default=-1) + 1
        ends = [question.find(c, a.end) for c in _CLAUSE_STOPS]
        end = min((e for e in ends if e >= 0), default=len(question))
        before = [f for f in found if start <= f[0] and f[1] <= a.start]
        after = [f for f in found if a.end <= f[0] and f[1] <= end]
        anywhere = [f for f in found if f[1] <= a.start]
        if before or not after:
            pick = max(before or anywhere, key=lambda f: (f[1], f[1] - f[0]), default=None)
        else:
            pick = min(after, key=lambda f: (f[0], f[0] - f[1]))
        owners.append(pick[2] if pick else None)
    return owners


def _ruled_out(rule: Rule, context: str, industry: str | None) -> str | None:
    """The words that rule the enterprise out of this rule, if any (quoted back to the user)."""
    if rule.get("industry") and industry and not industry_fits(rule, industry):
        return industry
    return next((w for w in rule.get("not_eligible_if", []) if w in context), None)


def _industry_in(rule: Rule, context: str) -> str | None:
    """The rule's excluded industry as the context states it (非建筑业 stays 非建筑业)."""
    word = rule.get("excluded_industry")
    if not word or word not in context:
        return None
    at = context.index(word)
    return ("非" + word) if context[at - 1:at] == "非" else word


def _route_rule(rule: Rule, question: str, context: str, industry: str | None,
                amounts: tuple[Amount, ...], foreign: dict[int, Rule] | None = None) -> Routed | None:
    """foreign: amounts (by index) that are another measure's: never this rule's input or claim."""
    roles = amount_roles(question, list(amounts))
    foreign = foreign or {}
    elsewhere = tuple(f"{r.amount.text}是“{foreign[i].title}”的金额，未计入本项"
                      for i, r in enumerate(roles) if i in foreign)
    roles = [r for i, r in enumerate(roles) if i not in foreign]
    kind = rule.get("input_kind")
    counted = [r for r in roles if r.role not in (CLAIM, RULE_FIGURE)]
    mine = [r for r in counted if not kind or not r.quantity or r.quantity == kind]
    others = [r for r in counted if r not in mine and r.role != RESTATED]
    claims = [r for r in roles if r.role == CLAIM]
    notes = elsewhere + tuple(f"{r.amount.text}不是{rule.input_label}，未计入" for r in others)
    notes += tuple(f"{r.amount.text}是前面金额的一部分，不另计" for r in mine if r.role == PART)
    mine = [r for r in mine if r.role != PART]
    if rule.kind == "threshold":
        return _threshold(rule, context, industry, mine)
    ruled_out = _ruled_out(rule, context, industry)
    if ruled_out:
        reason = f"该项支持限于{rule.get('condition')}"
        value = next((r.amount.yuan for r in mine if r.amount.usable), None)
        return Routed(rule, not_eligible(rule, value, reason) if value is not None else None,
                      f"不符合：{reason}，您提到“{ruled_out}”，不适用本项。", verdict="不符合")
    claimed = _claim(claims)
    full = bool(amount_words().anywhere("full_claim", question))
    if rule.kind == "cap":
        return None if claimed is None else _cap_claim(rule, claimed)
    if rule.kind not in FORMULA_KINDS:
        return None
    items, item_notes, unsure = _items(rule, question, mine)
    notes += item_notes
    if unsure is not None:
        return _unsure(rule, unsure, claimed, notes)
    if not items:
        if claimed is not None and rule.kind == "percent_cap":
            return _cap_claim(rule, claimed)
        if full and rule.kind == "percent":
            return Routed(rule, None, f"不能全额报销：按原文，按照{rule.input_label}给予最高{pct(rule.rate)}的资金支持。",
                          verdict="不能")
        asks = amount_words().anywhere("asks_figure", question)
        if rule.kind == "reimburse" or not (asks or claimed is not None):
            return None
        return Routed(rule, None, f"请提供{rule.input_label}（金额可写成“万元”或“亿元”），即可为您计算具体金额。",
                      asks_input=True)
    calc, lead_more, notes_more, own_lead = _compute(rule, items)
    for r in roles:  # 补贴最高50万: the caller heard the rule wrong; the text says otherwise
        said = r.amount.yuan if r.amount.yuan is not None else r.amount.high
        if r.role == RULE_FIGURE and rule.cap_yuan is not None and said is not None and said != rule.cap_yuan:
            lead_more += f"原文规定的上限是{fmt_wan(rule.cap_yuan)}，不是您说的{r.amount.text}。"
    if notes:  # what was set aside (原价不计, 营收不是合同额) is part of the reading: shown after it
        calc = Calculation(calc.rule_id, calc.inputs, calc.amount_yuan, [calc.steps[0], *notes, *calc.steps[1:]])
    notes += notes_more
    if full and claimed is None:
        claimed = sum((i.value for i in items), Decimal(0))
    lead = own_lead or _lead(rule, calc, claimed, full)
    return Routed(rule, calc, lead + lead_more, verdict=_verdict(calc, claimed), notes=notes)


def _claim(claims: list[Role]) -> Decimal | None:
    for r in claims:
        if not r.amount.usable:
            raise _AskBack(r.amount.problem)
    return claims[0].amount.yuan if claims else None


def _threshold(rule: Rule, context: str, industry: str | None, mine: list[Role]) -> Routed | None:
    for r in mine:
        if not r.amount.usable and r.amount.low is None:
            raise _AskBack(r.amount.problem)
    industry = industry or _industry_in(rule, context)
    values = [r.amount for r in mine if r.role != RESTATED]
    if len(values) > 1:
        raise _AskBack(f"您提到了{len(values)}个金额（{'、'.join(a.text for a in values)}）：请问{rule.input_label}是哪一个？")
    amount = values[0] if values else None
    if amount is not None and not amount.usable:
        low = threshold(rule, amount.low, industry)
        high = threshold(rule, amount.high, industry) if amount.high is not None else None
        if (high is None and low.met is not True) or (high is not None and low.met != high.met):
            raise _AskBack(amount.problem)
        result = low
        reason = f"{amount.text}：{'均' if low.met else '均未'}达到放宽后的条件（不少于{fmt_wan(Decimal(rule.get('min_yuan')))}）"
    else:
        result = threshold(rule, amount.yuan if amount else None, industry)
        reason = result.reason
    if result.met is None:
        return None  # nothing to judge yet: a plain lookup, the clause answers
    verdict = "符合" if result.met else "不符合"
    return Routed(rule, None, f"{verdict}该放宽条件：{reason}。", verdict=verdict)


def _cap_claim(rule: Rule, claimed: Decimal) -> Routed:
    calc = cap_check(rule, claimed)
    ok = claimed <= rule.cap_yuan
    if rule.kind == "cap":
        lead = (f"{'可以在上限以内申请' if ok else '不能'}：本项最高{fmt_wan(rule.cap_yuan)}，"
                f"您问的{fmt_wan(claimed)}{'未超过' if ok else '超过了'}上限。")
    else:
        lead = (f"{'在上限以内' if ok else '不能'}：本项按{rule.input_label}的{pct(rule.rate)}计算、"
                f"最高{fmt_wan(rule.cap_yuan)}，您问的{fmt_wan(claimed)}{'未超过' if ok else '超过了'}上限"
                f"{'，实际金额取决于' + rule.input_label if ok else ''}。")
    return Routed(rule, calc, lead, verdict=None if ok else "不能")


def _items(rule: Rule, question: str, mine: list[Role]) -> tuple[list[Item], tuple[str, ...], Amount | None]:
    """The input items of the ask (their values and words), notes on what was set aside, and an
    amount that is not sure (to ask back, or to answer when the result cannot differ)."""
    notes: list[str] = []
    for r in mine:
        if r.role != RESTATED and not r.amount.usable:
            if r.amount.low is not None and len([x for x in mine if x.role != RESTATED]) == 1:
                return [], (), r.amount  # a range or vague figure alone: maybe the result is the same
            raise _AskBack(r.amount.problem)
    named = [r for r in mine if r.role in (INPUT, TOTAL) and r.quantity]
    unnamed = [r for r in mine if r.role in (INPUT, TOTAL) and not r.quantity]
    if named and unnamed:
        # 注册资本1000万? 发票80万? An amount that does not say what it is, beside one that
        # does, is never summed in on a guess.
        raise _AskBack(f"您提到了{'、'.join(r.amount.text for r in named)}，另外的"
                       f"{'、'.join('“' + r.amount.text + '”' for r in unnamed)}是什么金额？请问是否也计入{rule.input_label}？")
    inputs = [r for r in mine if r.role == INPUT]
    totals = [r for r in mine if r.role == TOTAL]
    per_unit = [r for r in mine if r.role == PER_UNIT]
    list_prices = [r for r in mine if r.role == LIST_PRICE]
    items = [Item(r.amount.yuan, r.amount.text, approximate=r.amount.kind == APPROXIMATE) for r in inputs]
    spec = rule.get("per_unit")
    if spec:
        _per_period_unsure(rule, question, inputs + totals)
        per_unit = _one_fee_per_period(rule, question, per_unit, inputs + totals, notes)
    for r in per_unit:
        if not spec or spec.get("unit") != r.unit:
            items.append(Item(r.amount.yuan, r.amount.text))  # the rule has no periods: as said
            continue
        period = count_periods(question, r.unit)
        if period is None:
            raise _AskBack(spec.get("ask", f"请问共有几{r.unit}？"))
        items.append(Item(r.amount.yuan, r.amount.text, label=f"per:{period.count}:{period.first}:{period.last}:{period.text}"))
    if list_prices:
        if items or totals:
            notes.append(rule.get("list_price_note", "原价不计：按实际支付的金额计算"))
        elif rule.get("actual_only"):
            raise _AskBack(rule.get("list_price_ask"))
        else:
            items = [Item(r.amount.yuan, r.amount.text) for r in list_prices]
    if totals:
        total = totals[0].amount
        plain = [i for i in items if not i.label]
        if plain and sum((i.value for i in plain), Decimal(0)) != total.yuan:
            raise _AskBack(f"您说的各项（{'、'.join(i.written for i in plain)}）与合计{total.text}对不上：请问{rule.input_label}是多少？")
        items = [Item(total.yuan, total.text)] + [i for i in items if i.label]
        if plain:
            notes.append(f"{'、'.join(i.written for i in plain)}合计{total.text}")
    return items, tuple(notes), None


def _one_fee_per_period(rule: Rule, question: str, per_unit: list[Role], plain: list[Role],
                        notes: list[str]) -> list[Role]:
    """Several per-period figures of the rule's fee share the periods the message says: summed over
    them they would count each period twice (官方每年900元…减缴后每年实交135元, 第1到第3年). The one
    said as paid after the reduction is the fee, the others its list price; otherwise — or beside
    other amounts (第10年实交600元) — which figure belongs to which periods is asked back."""
    spec = rule.get("per_unit")
    unit = spec.get("unit", "年")
    periodic = [r for r in per_unit if r.unit == unit]
    if len(periodic) < 2:
        return per_unit
    paid = [r for r in periodic if amount_words().anywhere("paid", clause_before(question, r.amount), "before")]
    if len(paid) == 1 and not plain:
        notes.append(rule.get("list_price_note", "原价不计：按实际支付的金额计算"))
        return [r for r in per_unit if r not in periodic or r is paid[0]]
    said = "、".join(r.amount.text for r in periodic + plain)
    raise _AskBack(f"您提到了几个{unit}费金额（{said}），无法确定各对应哪几{unit}、是否为减缴后的实际应缴金额："
                   f"{spec.get('within_text', '')}内每{unit}减缴后实际应缴多少、是哪几{unit}？请逐{unit}说明。")


def _per_period_unsure(rule: Rule, question: str, plain: list[Role]) -> None:
    """A fee per period (年费1200元) beside several periods (前5年) that the words do not call per
    period (每年) or a total (一共) has two readings: both are said and asked back, never one
    claimed. A total over periods that run past the rule's limit (第8到第12年一共4500元) cannot
    be split: asked back."""
    spec = rule.get("per_unit")
    unit, within = spec.get("unit", "年"), spec.get("within")
    period = count_periods(question, unit)
    if period is None or period.count < 2:
        return
    for r in plain:
        if not any(word in clause_before(question, r.amount) for word in spec.get("fee_words", ())):
            continue
        paid = _paid(period, within)
        if r.role == TOTAL:
            if paid < period.count:
                raise _AskBack(f"您说的{r.amount.text}是{period.text}的合计，其中只有{spec.get('within_text')}内的"
                               f"{paid}{unit}可以资助，合计金额无法拆分：请问每{unit}实际应缴多少？")
            continue
        limit = spec.get("within_text")
        inside = "" if paid == period.count else f"（{limit}内{paid}{unit}）"
        as_total = fmt_wan(r.amount.yuan) if paid == period.count else f"其中{limit}内的部分"
        raise _AskBack(f"您说的“{r.amount.text}”没有说明是每{unit}的金额还是{period.text}的合计："
                       f"若是每{unit}{fmt_wan(r.amount.yuan)}，{_span_words(period, unit)}{inside}"
                       f"可资助{num(r.amount.yuan)} × {paid} = {fmt_wan(r.amount.yuan * paid)}；"
                       f"若是合计，可资助{as_total}。请问是哪一种？")


def _paid(period: Period, within: int | None) -> int:
    """How many of the periods said fall within the rule's limit (前十年)."""
    if not within:
        return period.count
    if period.first is None:
        return min(period.count, within)
    return max(0, min(period.last, within) - period.first + 1)


def _span_words(period: Period, unit: str) -> str:
    if period.first is None:
        return f"共{period.count}{unit}"
    if period.first == period.last:
        return f"第{period.first}{unit}"
    return f"第{period.first}至第{period.last}{unit}共{period.count}{unit}"


def _within(rule: Rule, item: Item) -> tuple[int, str, str, str]:
    """(periods the rule pays, the span as said, how it sits in the rule's limit, what falls
    outside) for a per-period item."""
    spec = rule.get("per_unit")
    _, count, first, last, _said = item.label.split(":", 4)
    count = int(count)
    first = None if first == "None" else int(first)
    last = None if last == "None" else int(last)
    unit, within = spec.get("unit", "年"), spec.get("within")
    if first is None:
        span = f"共{count}{unit}"
        if within and count > within:  # 交了12年: the first twelve, of which ten are paid
            return within, span, f"其中{spec.get('within_text')}内{within}{unit}", \
                f"第{within + 1}{unit}起不在{spec.get('within_text')}内，不予资助"
    else:
        span = f"第{first}至第{last}{unit}共{count}{unit}" if first != last else f"第{first}{unit}"
    if within and last is not None and last > within:
        paid = max(0, within - first + 1)
        outside = f"第{max(first, within + 1)}{unit}起不在{spec.get('within_text')}内，不予资助"
        return paid, span, f"其中{spec.get('within_text')}内{paid}{unit}", outside
    return count, span, f"均在{spec.get('within_text')}内" if within and last is not None else "", ""


def _compute(rule: Rule, items: list[Item]) -> tuple[Calculation, str, tuple[str, ...], str]:
    """The calculation for the items, a sentence added to the lead, notes, and a lead of its own
    when no single result can be said (two readings of the rule that differ)."""
    per = [i for i in items if i.label.startswith("per:")]
    plain = [i for i in items if not i.label.startswith("per:")]
    if per and not plain and len(per) == 1:
        periods, span, limit, outside = _within(rule, per[0])
        calc = per_period(rule, per[0].value, periods, per[0].written, "，".join(filter(None, (span, limit))), outside)
        return calc, "", (), ""
    if per:  # 授权费3000元，年费每年135元第2至第4年: each per-period item is its product
        expanded = []
        for i in per:
            periods, span, limit, _ = _within(rule, i)
            expanded.append(Item(i.value * periods, i.written,
                                 f"{span}（每{rule.get('per_unit').get('unit', '年')}{fmt_wan(i.value)}，{limit or '全部计入'}）"))
        plain = plain + expanded
    if len(plain) == 1:
        i = plain[0]
        more = f"这是按您估计的{rule.input_label}计算的，实际以审核认定的金额为准。" if i.approximate else ""
        return calculate(rule, i.value, i.written, i.approximate), more, (), ""
    reading = rule.get("items")
    if reading in ("total", "per_item"):
        return calculate_items(rule, plain, reading), "", (rule.get("items_reading", ""),), ""
    total, each = both_readings(rule, plain)
    if total.amount_yuan == each.amount_yuan:
        steps = [total.steps[0], "原文未写明按每项还是按合计计算；两种口径结果相同，按合计计算：", *total.steps[2:]]
        return (Calculation(total.rule_id, total.inputs, total.amount_yuan, steps), "",
                ("合计计算与逐项计算结果相同",), "")
    # The text does not say whether the cap is per item or for the enterprise: both are said, and
    # the calculation carries the total reading (what holds under either).
    steps = [*total.steps, "另一种口径（逐项计算后相加）：", *each.steps[2:]]
    lead = (f"原文未写明上限按每项还是按企业合计计算：按合计计算，可获得{fmt_wan(total.amount_yuan)}"
            f"（{num(total.amount_yuan)}元）；逐项计算后相加为{fmt_wan(each.amount_yuan)}"
            f"（{num(each.amount_yuan)}元）。以主管部门认定为准。")
    return (Calculation(total.rule_id, total.inputs, total.amount_yuan, steps), "",
            ("原文未写明按每项还是按合计计算，两种口径均已列出",), lead)


def _unsure(rule: Rule, amount: Amount, claimed: Decimal | None, notes) -> Routed:
    """A range, vague figure or bound: answered only when every value it allows gives the same
    result (超过500万 → the cap either way; 融资10到15亿 → below 20亿 either way)."""
    low = amount.low if amount.low and amount.low > 0 else None
    try:
        at_low = amount_for(rule, low) if low is not None else Decimal(0)
        at_high = amount_for(rule, amount.high)
    except (CalculationError, AmountError):
        raise _AskBack(amount.problem)
    if low is None and at_high != 0:
        raise _AskBack(amount.problem)
    if at_low != at_high:
        raise _AskBack(amount.problem)
    probe = low if low is not None else amount.high
    calc = calculate(rule, probe)
    steps = [f"您说的“{amount.text}”不是确切金额，但其中任何金额按原文结果都相同，下面按{fmt_wan(probe)}演示",
             *calc.steps]
    calc = Calculation(calc.rule_id, calc.inputs, calc.amount_yuan, steps)
    lead = f"{result_line(rule, calc, amount.text)}。“{amount.text}”范围内的任何金额，结果都一样。"
    return Routed(rule, calc, _claim_prefix(calc, claimed) + lead, verdict=_verdict(calc, claimed), notes=notes)


def _verdict(calc: Calculation, claimed: Decimal | None) -> str | None:
    if claimed is None:
        return None
    return "可以" if claimed <= calc.amount_yuan else "不能"


def _claim_prefix(calc: Calculation, claimed: Decimal | None) -> str:
    return "" if claimed is None else ("可以。" if claimed <= calc.amount_yuan else "不能。")


def _lead(rule: Rule, calc: Calculation, claimed: Decimal | None, full: bool = False) -> str:
    lead = result_line(rule, calc) + "。"
    if claimed is not None:
        lead = _claim_prefix(calc, claimed) + lead
        if claimed > calc.amount_yuan:
            lead = lead[:-1] + f"，少于您问的{fmt_wan(claimed)}{'，不能全额报销' if full else ''}。"
    return lead
