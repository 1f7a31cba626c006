"""Money amounts as people write them: 300万元, 1.5亿, 两千万, 3,000,000元, ６０万, 21.3亿."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from assistant.understand.numerals import DIGITS

UNITS = {"亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(1000), "百": Decimal(100)}
MAX_YUAN = Decimal(10) ** 13  # 十万亿元: beyond any enterprise figure; larger input is a typo
_CN = "零〇一二两三四五六七八九十百千万亿"
_ARABIC = r"\d[\d,]*(?:\.\d+)?"
_UNIT = r"万亿|亿万|亿|万|千|百"
# A number as people write it: 300万元, 1.5亿, 1万5000元, 3亿5000万, 9万亿, 两千万, 一亿五千万,
# with an optional sign in front (to refuse it) and 元/块 after.
_AMOUNT = re.compile(
    rf"(?P<sign>(?<!\d)[-−－](?=\d)|负\s*)?"
    rf"(?P<num>(?:{_ARABIC}\s*(?:{_UNIT})?)+|[{_CN}]+)\s*(?P<unit>元|块钱|块)?")
_PIECE = re.compile(rf"(?P<n>{_ARABIC})\s*(?P<u>{_UNIT})?")
_EXPONENT = re.compile(r"[eE][+-]?\d")
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
    """两千万 → 20000000, 一亿五千万 → 150000000, 三十 → 30, 九万亿 → 9000000000000."""
    total, section, digit = Decimal(0), Decimal(0), Decimal(0)
    if len(s) >= 3 and s[-1] in DIGITS and s[-2] in "万亿" and s[-1] not in "零〇":
        # 一亿二 = 1.2亿, 三万五 = 3.5万: a last digit right after 万/亿 is said for the next unit down.
        return _cn_number(s[:-1]) + Decimal(DIGITS[s[-1]]) * UNITS[s[-2]] / 10
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


def _unit_value(unit: str | None) -> Decimal:
    value = Decimal(1)
    for ch in unit or "":
        value *= UNITS[ch]
    return value


def _arabic(body: str) -> Decimal:
    """'1万5000' → 15000, '3亿5000万' → 350000000, '9万亿' → 9e12, '1万5' → 15000 (spoken)."""
    pieces = list(_PIECE.finditer(body))
    total, last_unit = Decimal(0), None
    for i, p in enumerate(pieces):
        try:
            number = Decimal(p.group("n").replace(",", ""))
        except InvalidOperation as exc:
            raise AmountError(f"无法识别金额“{body}”") from exc
        unit = _unit_value(p.group("u"))
        if p.group("u") is None and last_unit is not None and i == len(pieces) - 1 \
                and len(p.group("n")) == 1:
            unit = last_unit / 10  # 1万5 = 1.5万, 3亿5 = 3.5亿: the next digit down, as said
        elif last_unit is not None and unit >= last_unit:
            raise AmountError(f"无法识别金额“{body}”：单位顺序不对")
        total += number * unit
        last_unit = unit if p.group("u") else last_unit
    return total


def _value(num: str, unit: str | None = None) -> Decimal:
    return _arabic(num) if num[0].isdigit() else _cn_number(num)


def find_amounts(text: str) -> list[Mention]:
    """Every money amount in a question, in order. Percentages, years and counts are skipped.
    A negative amount or one in exponent notation is an AmountError, never a silent misreading."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for m in _AMOUNT.finditer(text):
        num, unit = m.group("num").strip(), m.group("unit")
        has_magnitude = bool(re.search(_UNIT, num))
        if num[0].isdigit() and _EXPONENT.match(text, m.end("num")):
            raise AmountError(f"无法识别金额“{text[m.start('num'):m.end('num') + 6]}”，请写成如 120万元 这样的金额")
        if not num[0].isdigit() and not unit and not any(c in num for c in "万亿"):
            continue  # a bare Chinese numeral (一个, 十大) is not money
        if not num[0].isdigit() and len(num) == 1 and unit in (None, "元", "块", "块钱"):
            continue
        if _NOT_MONEY.match(text, m.end("num")) and not unit and not has_magnitude:
            continue
        if num[0].isdigit() and not unit and not has_magnitude \
                and len(num.replace(",", "").split(".")[0]) < 4:
            continue  # "第3条", "前30名": a bare small number is not an amount
        if m.group("sign"):
            raise AmountError(f"金额不能为负数（“{m.group(0).strip()}”）")
        out.append(Mention(_value(num), m.start(), m.end(), m.group(0)))
    return out


def parse_amount(text: str, field: str = "金额") -> Decimal:
    """One amount from a form field; a clear Chinese message when it is not a usable amount.
    The same reading as find_amounts, so the chat, the calculator tab and 政策体检 agree."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace("，", ",")
    if not raw:
        raise AmountError(f"请填写{field}")
    if raw.startswith(("-", "−", "负")):
        raise AmountError(f"{field}不能为负数")
    m = _AMOUNT.fullmatch(raw)
    if m and not _EXPONENT.search(raw):
        value = _value(m.group("num").strip())
    else:
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:
            raise AmountError(f"无法识别{field}“{raw[:20]}”，请填写如 120万元、1.5亿、300000 这样的金额") from exc
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
