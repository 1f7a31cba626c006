"""Money amounts as people write them: 300万元, 1.5亿, 两千万, 3,000,000元, ６０万, 21.3亿."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .numerals import DIGITS

UNITS = {"亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(1000), "百": Decimal(100)}
MAX_YUAN = Decimal(10) ** 13  # 十万亿元: beyond any enterprise figure; larger input is a typo
_CN = "零〇一二两三四五六七八九十百千万亿"
# A number (arabic or Chinese), an optional magnitude, then an optional 元/块.
_AMOUNT = re.compile(
    rf"(?P<num>\d[\d,]*(?:\.\d+)?|[{_CN}]+)\s*(?P<unit>亿元|万元|千元|亿|万|千|元|块钱|块)?")
# Figures that are not money.
_NOT_MONEY = re.compile(r"\s*(%|％|年|月|日|号|条|项|名|家|个|层|次|倍|岁|人|天|小时|分钟|亩|平方|米|吨|件|届|期|批|类|级|款)")


class AmountError(ValueError):
    """An amount that cannot be used: the message is Chinese and names the problem."""


@dataclass(frozen=True)
class Mention:
    yuan: Decimal
    start: int
    end: int
    text: str


def _cn_number(s: str) -> Decimal:
    """两千万 → 20000000, 一亿五千万 → 150000000, 三十 → 30."""
    total, section, digit = Decimal(0), Decimal(0), Decimal(0)
    for ch in s:
        if ch in DIGITS:
            digit = Decimal(DIGITS[ch])
        elif ch in "十百千":
            section += (digit or Decimal(1)) * {"十": 10, "百": 100, "千": 1000}[ch]
            digit = Decimal(0)
        elif ch in "万亿":
            section += digit
            total = (total + section) * UNITS[ch] if ch == "亿" else total + section * UNITS[ch]
            section, digit = Decimal(0), Decimal(0)
    return total + section + digit


def _value(num: str, unit: str | None) -> Decimal:
    if num[0].isdigit():
        try:
            value = Decimal(num.replace(",", ""))
        except InvalidOperation as exc:
            raise AmountError(f"无法识别金额“{num}”") from exc
    else:
        value = _cn_number(num)
    if unit and unit[0] in UNITS:
        value *= UNITS[unit[0]]
    return value


def find_amounts(text: str) -> list[Mention]:
    """Every money amount in a question, in order. Percentages, years and counts are skipped."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for m in _AMOUNT.finditer(text):
        num, unit = m.group("num"), m.group("unit")
        if not num[0].isdigit() and not unit and not any(c in num for c in "万亿"):
            continue  # a bare Chinese numeral (一个, 十大) is not money
        if not num[0].isdigit() and len(num) == 1 and unit in (None, "元", "块", "块钱"):
            continue
        if _NOT_MONEY.match(text, m.end("num")) and not unit:
            continue
        if num[0].isdigit() and not unit and len(num.replace(",", "").split(".")[0]) < 4:
            continue  # "第3条", "前30名": a bare small number is not an amount
        out.append(Mention(_value(num, unit), m.start(), m.end(), m.group(0)))
    return out


def parse_amount(text: str, field: str = "金额") -> Decimal:
    """One amount from a form field; a clear Chinese message when it is not a usable amount."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace("，", ",")
    if not raw:
        raise AmountError(f"请填写{field}")
    if raw.startswith("-") or raw.startswith("负"):
        raise AmountError(f"{field}不能为负数")
    m = _AMOUNT.fullmatch(raw)
    if not m:
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise AmountError(f"无法识别{field}“{raw[:20]}”，请填写如 120万元、1.5亿、300000 这样的金额") from exc
    else:
        value = _value(m.group("num"), m.group("unit"))
    return check_amount(value, field)


def check_amount(value: Decimal, field: str = "金额") -> Decimal:
    if not value.is_finite():
        raise AmountError(f"{field}不是有效数字")
    if value <= 0:
        raise AmountError(f"{field}必须大于0")
    if value > MAX_YUAN:
        raise AmountError(f"{field}过大（超过十万亿元），请检查单位是否有误")
    return value


def to_yuan(value: Decimal) -> int:
    """Whole yuan, rounding half up (amounts in the answer dict are whole numbers)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_yuan(value: Decimal | int) -> str:
    """150000 → '150000元（15万元）'; 2000000000 → '2000000000元（20亿元）'."""
    v = Decimal(value)
    plain = f"{to_yuan(v)}元"
    for unit, size in (("亿元", UNITS["亿"]), ("万元", UNITS["万"])):
        if abs(v) >= size:
            q = (v / size).normalize()
            return f"{plain}（{q:f}{unit}）"
    return plain


def fmt_wan(value: Decimal | int) -> str:
    """A compact form for leads: 150000 → '15万元', 800 → '800元'."""
    v = Decimal(value)
    for unit, size in (("亿元", UNITS["亿"]), ("万元", UNITS["万"])):
        if abs(v) >= size:
            return f"{(v / size).normalize():f}{unit}"
    return f"{to_yuan(v)}元"
