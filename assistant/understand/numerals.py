"""Numerals: Chinese numerals in section headings (十五, 一百零三), and the value of a number as
people write amounts — Arabic, Chinese, financial capitals and their mixtures (5百万, 1百5十万,
3亿5000万, 15万5, 一亿二, 壹佰万, 22个亿) — read by one evaluator.

Only character classes and numerals live here; the words around amounts (currency marks, ranges,
approximations, letter units such as w/k) are data in corpus/amounts.toml.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
CHINESE_DIGITS = "零一二三四五六七八九"

# Every way a digit is written in amounts: everyday, spoken (幺), traditional (兩), and the
# financial capitals (大写) of cheques and contracts (壹贰叁…, traditional 貳參陸).
NUMERAL_DIGITS = {**DIGITS, "幺": 1, "兩": 2, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4,
                  "伍": 5, "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9}
ZEROS = "零〇"
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10 ** 4, "萬": 10 ** 4, "亿": 10 ** 8, "億": 10 ** 8}
# The Chinese decimal point between numerals: 一点五亿.
POINT = "点"
_TEN_THOUSAND, _HUNDRED_MILLION = Decimal(10 ** 4), Decimal(10 ** 8)


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral below 10,000 (十 = 10, 二十一 = 21, 一百零三 = 103)."""
    if not text:
        raise ValueError("empty numeral")
    total, digit = 0, None
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + (digit or 0)


def int_to_cn(n: int) -> str:
    """1..99 as written in headings: 十, 十五, 二十, 二十一."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return head + (CHINESE_DIGITS[ones] if ones else "")


def article_numeral(n: int) -> str:
    """1..9999 as article numbers are written: 七, 十五, 一百零三, 一百一十, 一千二百六十."""
    if not 0 < n < 10000:
        raise ValueError(n)
    if n < 100:
        return int_to_cn(n)
    out, zero = "", False
    for size, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, size)
        if digit:
            out += ("零" if zero else "") + CHINESE_DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


# ---- amounts: tokens and their value ------------------------------------------------------------
class NumeralError(ValueError):
    """A numeral that has no single value: `reason` says why (in Chinese)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AmbiguousNumeral(NumeralError):
    """Two readings are both usual (3亿5000: 3亿5000万 said short, or 300,005,000)."""


class SpanNumeral(NumeralError):
    """Two digits side by side say a span (三五万 = 3万 to 5万, 一两百万): low and high."""

    def __init__(self, low: Decimal, high: Decimal):
        super().__init__("两个数字连说，是一个大概的范围")
        self.low, self.high = low, high


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "zero", "small" (十百千), "big" (万亿)
    value: Decimal
    text: str = ""
    single: bool = False  # one digit, no decimals: 15万5's 5 is said for the next unit down
    chinese: bool = False


def tokens(core: str, letter_units: dict[str, str] | None = None) -> list[Token]:
    """A number as written → tokens. `core` holds ASCII digits, Chinese numerals, 点, group
    separators (, and spaces between digit groups) and letter units (450w), nothing else.
    letter_units: letter → the Chinese units it stands for (w → 万, M → 百万)."""
    letter_units = letter_units or {}
    out: list[Token] = []
    i, n = 0, len(core)
    while i < n:
        ch = core[i]
        if ch.isdigit():
            j = i
            while j < n and (core[j].isdigit() or core[j] in ", " and j + 1 < n and core[j + 1].isdigit()):
                j += 1
            whole = core[i:j].replace(",", "").replace(" ", "")
            if j + 1 < n and core[j] == "." and core[j + 1].isdigit():
                k = j + 1
                while k < n and core[k].isdigit():
                    k += 1
                out.append(Token("num", Decimal(whole + core[j:k]), core[i:k]))
                i = k
                continue
            if whole.startswith("0") and len(whole) > 1 and out:
                out.append(Token("zero", Decimal(0), "0"))  # 1万0500: the 0 says the place is empty
            out.append(Token("num", Decimal(whole), core[i:j], single=len(whole) == 1))
            i = j
        elif ch in ZEROS:
            out.append(Token("zero", Decimal(0), ch, chinese=True))
            i += 1
        elif ch in NUMERAL_DIGITS:
            if i + 2 < n and core[i + 1] == POINT and core[i + 2] in NUMERAL_DIGITS:
                k = i + 2
                while k < n and core[k] in NUMERAL_DIGITS:
                    k += 1
                frac = "".join(str(NUMERAL_DIGITS[c]) for c in core[i + 2:k])
                out.append(Token("num", Decimal(f"{NUMERAL_DIGITS[ch]}.{frac}"), core[i:k], chinese=True))
                i = k
                continue
            out.append(Token("num", Decimal(NUMERAL_DIGITS[ch]), ch, single=True, chinese=True))
            i += 1
        elif ch in SMALL_UNITS:
            out.append(Token("small", Decimal(SMALL_UNITS[ch]), ch, chinese=True))
            i += 1
        elif ch in BIG_UNITS:
            out.append(Token("big", Decimal(BIG_UNITS[ch]), ch, chinese=True))
            i += 1
        elif ch in letter_units:
            out.extend(tokens(letter_units[ch]))
            i += 1
        else:
            i += 1  # 个 of 22个亿, spaces: they carry no value
    return out


def _adjacent_digits(toks: list[Token]) -> None:
    """三五万, 一两百万, 七八十万: two Chinese digits side by side are a span, said loosely."""
    for i in range(len(toks) - 1):
        a, b = toks[i], toks[i + 1]
        if a.kind == b.kind == "num":
            if a.chinese and b.chinese and a.single and b.single and 0 < b.value - a.value <= 2:
                raise SpanNumeral(numeral_value(toks[:i + 1] + toks[i + 2:]), numeral_value(toks[:i] + toks[i + 1:]))
            raise NumeralError("数字连写，无法确定是多少")


def numeral_value(toks: list[Token]) -> Decimal:
    """The value of a written number. Chinese numeral grammar, with Arabic numbers allowed
    wherever a digit is: sections of 千百十 closed by 万 or 亿 (3千5百万, 1.5百万, 3亿5000万),
    万亿 as one unit, and a lone last digit said for the next unit down (一百五 = 150, 15万5 =
    155000, 一亿二 = 1.2亿) unless a 零 says the place is empty (一万零五 = 10005)."""
    if not any(t.kind == "num" for t in toks) and not (toks and toks[0].kind == "small" and toks[0].value == 10):
        raise NumeralError("没有数字")
    _adjacent_digits(toks)
    total = section = Decimal(0)
    pending: Token | None = None
    zero = False  # a 零 since the last unit: the next digit is literal
    zero_since_big = False  # a 零 since the last 万/亿: 1亿零500 is literal
    last_small: Decimal | None = None
    last_big: Decimal | None = None
    previous = ""
    for t in toks:
        if t.kind == "zero":
            zero = zero_since_big = True
        elif t.kind == "num":
            pending = t
        elif t.kind == "small":
            if pending is None and t.value != 10:
                raise NumeralError(f"“{t.text}”前缺少数字")
            if last_small is not None and t.value >= last_small:
                raise NumeralError("单位顺序不对")
            section += (pending.value if pending else Decimal(1)) * t.value
            last_small, pending, zero = t.value, None, False
        else:  # 万 or 亿
            if pending is not None:
                section += pending.value
            if previous == "big" and last_big == _TEN_THOUSAND and t.value == _HUNDRED_MILLION and section == 0:
                total *= t.value  # 万亿: one unit, 9万亿 = 9 × 10^12
                last_big = t.value * _TEN_THOUSAND
            elif last_big is not None and t.value >= last_big:
                raise NumeralError("单位顺序不对")
            elif section == 0:
                raise NumeralError(f"“{t.text}”前缺少数字")
            elif last_big is not None and section * t.value >= last_big:
                raise NumeralError("单位顺序不对")  # 3亿15000万
            else:
                total += section * t.value
                last_big = t.value
            section, pending, zero, last_small, zero_since_big = Decimal(0), None, False, None, False
        previous = t.kind
    if pending is not None:
        section = _tail(section, pending, zero, last_small, last_big)
    if last_big is not None and section >= last_big:
        raise NumeralError("单位顺序不对")
    if last_big is not None and last_big >= _HUNDRED_MILLION and 0 < section < _TEN_THOUSAND and not zero_since_big:
        # 3亿5千, 3亿5000: 3亿5千万 said short, or three hundred million and five thousand?
        raise AmbiguousNumeral("亿后面的数没有写万，可以有两种读法")
    return total + section


def _tail(section: Decimal, last: Token, zero: bool, last_small: Decimal | None,
          last_big: Decimal | None) -> Decimal:
    """The number after the last unit."""
    literal = zero or last.text.startswith("0")
    if last_small is not None:  # inside a section: 一百五, 1千5, 十五, 一百零五
        if last.single and not literal and last_small >= 100:
            return section + last.value * last_small / 10
        if last.value >= last_small:
            raise NumeralError("单位顺序不对")
        return section + last.value
    if last_big is None:
        return section + last.value  # a plain number
    if last.value != last.value.to_integral_value():
        raise NumeralError("单位后的数不能带小数")
    if literal:
        return section + last.value
    if last.single:
        return section + last.value * last_big / 10  # 15万5 = 15.5万, 一亿二 = 1.2亿
    return section + last.value  # 1万5000, 1万500 (3亿5000 is caught as ambiguous by the caller)
