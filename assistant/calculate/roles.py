"""What each amount of an ask is for, from the words around it (corpus/amounts.toml): the rule's
input (合同额300万), a claim to check (能拿50万吗, 是给50万对吧), a list price (原价900元), an amount
per period (每年135元), the total of items (一共30万), a part of an amount already said (其中30万),
or the same amount said again; and what it
measures (spending, financing, revenue) so that 营收2亿 is never summed with a contract.
Also how many periods an ask names (第2到第4年 → 3)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understand.amounts import Amount, AmountWords, amount_words, normalize, read_amounts
from assistant.understand.numerals import DIGITS, cn_to_int

INPUT, CLAIM, LIST_PRICE, PER_UNIT, TOTAL, RESTATED, PART, RULE_FIGURE = (
    "input", "claim", "list_price", "per_unit", "total", "restated", "part", "rule_figure")
KINDS = ("spending", "financing", "revenue", "other")
_CLAUSE_END = "，。；！？,;!?\n"


@dataclass(frozen=True)
class Role:
    amount: Amount
    role: str
    quantity: str = ""  # spending / financing / revenue; "" when the words do not say
    unit: str = ""  # a per-unit amount's period (年)


def _before(w: AmountWords, concept: str, norm: str, i: int, gaps: tuple[str, ...] = ()) -> str | None:
    """A phrase of the concept ending at i, or before one gap word (补贴是50万, 能拿到50万)."""
    found = w.ending_at(concept, norm, i)
    if found:
        return found[0]
    for gap in gaps:
        if norm.endswith(gap, 0, i):
            found = w.ending_at(concept, norm, i - len(gap))
            if found:
                return found[0]
    return None


def _per_unit(w: AmountWords, segment: str) -> str:
    """The period an amount is per, from the words before it in its clause (每年135元, 每年年费
    1200元, 年费一年1500元): the period word may stand before what is paid, not only right before
    the figure."""
    table = w.data["per_unit"]["before"]
    return next((table[p] for p in sorted(table, key=len, reverse=True) if p in segment), "")


def _quantity(w: AmountWords, segment: str) -> str:
    """The kind named last in the words before an amount: 营收2亿 → revenue."""
    best, at = "", -1
    for kind in KINDS:
        for phrase in w.data["quantity"][kind]:
            pos = segment.rfind(phrase)
            if pos > at:
                best, at = kind, pos
    return best


def clause_before(text: str, amount: Amount) -> str:
    """The words of an amount's clause before it (专利年费1200元 → 专利年费)."""
    norm = normalize(text)
    start = max((norm.rfind(c, 0, amount.start) for c in _CLAUSE_END), default=-1) + 1
    return norm[start:amount.start]


def amount_roles(text: str, amounts: list[Amount] | None = None) -> list[Role]:
    w = amount_words()
    norm = normalize(text)
    amounts = read_amounts(text) if amounts is None else amounts
    gaps = tuple(sorted(w.data["claim"]["before_gap"], key=len, reverse=True))
    roles: list[Role] = []
    for a in amounts:
        clause_start = max((norm.rfind(c, 0, a.start) for c in _CLAUSE_END), default=-1) + 1
        prev = roles[-1] if roles else None
        same_clause = prev is not None and prev.amount.end > clause_start
        seg = norm[max(clause_start, prev.amount.end if same_clause else 0):a.start]
        between = norm[prev.amount.end:a.start].strip() if prev else ""
        quantity = _quantity(w, seg) or _quantity(w, norm[clause_start:a.start])
        said_again = between.strip("，, ")
        if prev and a.yuan is not None and a.yuan == prev.amount.yuan and (
                said_again in w.data["restated"]["between"] or said_again[:1] in ("（", "(")):
            roles.append(Role(a, RESTATED, prev.quantity))
            continue
        if w.starting_at("claim", norm, a.end):  # 能拿最高30万吗
            roles.append(Role(a, CLAIM))
            continue
        figure = w.ending_at("rule_figure", norm, a.start)
        if figure is None:  # 不超过30万 was read as a bound, its words inside the amount
            inner = next((p for p in w.phrases("rule_figure", "before") if norm.startswith(p, a.start)), None)
            figure = (inner, a.start) if inner else None
        if figure and w.anywhere("rule_figure", norm[clause_start:figure[1]], "grants"):
            roles.append(Role(a, RULE_FIGURE))  # 补贴最高30万: the rule as the caller heard it
            continue
        if _before(w, "claim", norm, a.start, gaps):  # 是给50万, 补贴30万
            roles.append(Role(a, CLAIM))
            continue
        if prev and w.anywhere("part", seg, "before"):  # 合同额50万，其中软件30万: not another item
            roles.append(Role(a, PART, quantity))
            continue
        if w.anywhere("list_price", seg, "before"):  # 原价900元, 减缴前每年900元
            roles.append(Role(a, LIST_PRICE, quantity))
            continue
        unit = _per_unit(w, seg)
        if unit:
            roles.append(Role(a, PER_UNIT, quantity, unit))
            continue
        if _before(w, "total", norm, a.start, gaps):
            roles.append(Role(a, TOTAL, quantity))
            continue
        if same_clause and not _quantity(w, seg) and between in w.data["joins"]["between"] and prev.role in (INPUT, TOTAL):
            roles.append(Role(a, INPUT, prev.quantity))  # 10万和20万: the same kind as the first
            continue
        roles.append(Role(a, INPUT, quantity))
    return roles


# ---- periods ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    count: int
    first: int | None = None  # ordinals when said (第2到第4年 → 2, 4)
    last: int | None = None
    text: str = ""


def _alt(phrases) -> str:
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))


_NUM = rf"\d+|[{''.join(DIGITS)}十]+"


def _int(s: str) -> int:
    return int(s) if s.isdigit() else cn_to_int(s.replace("两", "二").replace("〇", "零"))


def _without_per_unit(w: AmountWords, norm: str, unit: str) -> str:
    """The text with its per-period words blanked (年费一年1500元: 一年 says 'per year', it does not
    count years), unless an ordinal or 'first' makes them a count (前一年, 第一年)."""
    spec = w.data["period"]
    leads = tuple(spec["ordinal"]) + tuple(spec.get("first", []))
    for phrase, of in w.data["per_unit"]["before"].items():
        if of != unit:
            continue
        at = norm.find(phrase)
        while at >= 0:
            if not norm.endswith(leads, 0, at):
                norm = norm[:at] + " " * len(phrase) + norm[at + len(phrase):]
            at = norm.find(phrase, at + len(phrase))
    return norm


def count_periods(text: str, unit: str = "年") -> Period | None:
    """How many periods of `unit` an ask names: 第2到第4年 → 3 (2…4), 第二至第四年, 第2-4年,
    第2、3、4年, 前三年 → 3 (1…3), 交了3年 → 3, 第5年 → 1."""
    w = amount_words()
    spec = w.data["period"]
    units = _alt([k for k, v in spec["units"].items() if v == unit])
    ordinal = _alt(spec["ordinal"])
    first_n = _alt(spec.get("first", []))
    between = _alt(w.data["range"]["between"])
    sep = _alt(["、", "，", ",", "和"])
    norm = _without_per_unit(w, normalize(text), unit)
    patterns = [
        ("span", rf"(?:{ordinal})?\s*({_NUM})\s*(?:{units})?\s*(?:{between})\s*(?:{ordinal})?\s*({_NUM})\s*(?:{units})"),
        ("list", rf"(?:{ordinal})\s*((?:{_NUM})(?:\s*(?:{sep})\s*(?:{ordinal})?\s*(?:{_NUM}))+)\s*(?:{units})"),
        ("first", rf"(?:{first_n})\s*({_NUM})\s*(?:{units})") if first_n else None,
        ("single", rf"(?:{ordinal})\s*({_NUM})\s*(?:{units})"),
        ("count", rf"(?<![\d{''.join(DIGITS)}十])({_NUM})\s*(?:{units})"),
    ]
    for kind, pattern in patterns:
        if pattern is None:
            continue
        for m in re.finditer(pattern, norm):
            try:
                if kind == "span":
                    a, b = _int(m.group(1)), _int(m.group(2))
                    if 0 < a <= b <= 100:
                        return Period(b - a + 1, a, b, text[m.start():m.end()])
                elif kind == "list":
                    nums = [_int(n) for n in re.findall(_NUM, m.group(1))]
                    if all(0 < n <= 100 for n in nums):
                        return Period(len(set(nums)), min(nums), max(nums), text[m.start():m.end()])
                elif kind == "first":
                    n = _int(m.group(1))
                    if 0 < n <= 100:
                        return Period(n, 1, n, text[m.start():m.end()])
                elif kind == "single":
                    n = _int(m.group(1))
                    if 0 < n <= 100:
                        return Period(1, n, n, text[m.start():m.end()])
                else:
                    n = _int(m.group(1))
                    if 0 < n <= 100:
                        return Period(n, None, None, text[m.start():m.end()])
            except ValueError:
                continue
    return None
