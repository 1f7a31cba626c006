"""Money amounts as people write them — the one reader behind chat, hotline, the calculator tab,
政策体检 and the API, so they can never disagree.

`read_amounts(text)` finds every amount: Arabic with 万/亿/千/百 and their mixtures (5百万, 1百5十万,
3亿5000万, 15万5), letter units where the words around are about money (450w, 80k), 22个亿, Chinese
numerals, financial capitals (壹佰万元整), full-width digits, comma and space groups, yuan marks
(人民币, RMB, ¥, 元). Each Amount carries its value in yuan, its span and words as written, and a
`problem` — a Chinese question back — when it cannot be read for sure: another currency, a
negative, a range (3到5万), a vague figure (几十万, 50多万), a bound (不到50万), two alternatives, a
form with two usual readings (3亿5000). A range, vague figure or bound also carries the lowest and
highest values its words allow, so a calculator can still answer when every value between gives
the same result. An approximate figure (大概50万, 50万左右) is usable: the caller's own estimate.

The words around numbers are data (corpus/amounts.toml); numerals are in numerals.py.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from assistant.settings import PROJECT_ROOT
from assistant.understand.numerals import (BIG_UNITS, NUMERAL_DIGITS, POINT, SMALL_UNITS, ZEROS, AmbiguousNumeral,
                                           NumeralError, SpanNumeral, numeral_value, tokens)

UNITS = {"亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(1000), "百": Decimal(100)}
MAX_YUAN = Decimal(10) ** 13  # 十万亿元: beyond any enterprise figure; larger input is a typo
WORDS_PATH = PROJECT_ROOT / "corpus" / "amounts.toml"

_NUMERAL_CHARS = "".join(NUMERAL_DIGITS) + ZEROS + "".join(SMALL_UNITS) + "".join(BIG_UNITS)
_UNIT_CHARS = "".join(SMALL_UNITS) + "".join(BIG_UNITS)
_SPACES = " \u00a0\u2009\u202f\u3000\t"
_YEAR_LIKE = re.compile(r"(19|20)\d\d")
_PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
_EXPONENT = re.compile(r"[eE][+-]?\d")

# Kinds of Amount. Only "exact" and "approximate" carry a usable value.
EXACT, APPROXIMATE, RANGE, VAGUE, BOUND, ALTERNATIVE = "exact", "approximate", "range", "vague", "bound", "alternative"
NEGATIVE, CURRENCY, UNREADABLE = "negative", "currency", "unreadable"


class AmountError(ValueError):
    """An amount that cannot be used: the message is Chinese and names the problem."""


@dataclass(frozen=True)
class Amount:
    """One amount in a text. `yuan` is None when the words give no single value (a range, a
    vague figure); `problem` is the question to ask back when the amount cannot be used."""

    yuan: Decimal | None
    start: int  # span in the text as given (before any normalisation)
    end: int
    text: str  # the words as written, marks included: "5百万", "80万元人民币", "大概50万"
    problem: str | None = None
    kind: str = EXACT
    low: Decimal | None = None  # the least value the words allow (ranges, vague figures, bounds)
    high: Decimal | None = None  # the most (exclusive for vague figures); None: no upper limit
    parts: tuple["Amount", ...] = ()  # a range's or alternative's two figures

    @property
    def usable(self) -> bool:
        return self.problem is None and self.yuan is not None


Mention = Amount  # the name callers used before the reader had problems and kinds


# ---- the words (corpus/amounts.toml) --------------------------------------------------------------
def _longest_first(phrases) -> tuple[str, ...]:
    return tuple(sorted(set(phrases), key=lambda p: (-len(p), p)))


@dataclass(frozen=True)
class AmountWords:
    data: dict
    letter_units: dict[str, str]
    core: re.Pattern
    _sorted: dict = field(default_factory=dict, compare=False, repr=False)  # (concept, where) → phrases

    @classmethod
    def load(cls, path: Path = WORDS_PATH) -> "AmountWords":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        letters = dict(data["letter_units"]["values"])
        counted = "".join(re.escape(c) for c in data["counted"]["any"])
        big = "".join(BIG_UNITS) + "".join(k for k, v in letters.items() if v.endswith("万"))
        numerals = re.escape(_NUMERAL_CHARS)
        arabic = (r"(?<![\d.])(?:\d{1,3}(?:,\d{3})+(?![\d])(?:\.\d+)?"
                  r"|\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?![\d.])|\d+(?:\.\d+)?)")
        core = re.compile(
            rf"(?:{arabic}(?:[ \u00a0](?=[{re.escape(_UNIT_CHARS)}]))?"
            rf"|[{numerals}]"
            rf"|(?<=[{numerals}]){POINT}(?=[{re.escape(''.join(NUMERAL_DIGITS))}])"
            rf"|[{counted}](?=\s?[{re.escape(big)}])"
            rf"|(?<=[\d{counted}])[{re.escape(''.join(letters))}](?![A-Za-z]))+")
        return cls(data, letters, core)

    def phrases(self, concept: str, where: str) -> tuple[str, ...]:
        key = (concept, where)
        if key not in self._sorted:
            value = self.data[concept].get(where, ())
            self._sorted[key] = _longest_first(value if isinstance(value, list) else list(value))
        return self._sorted[key]

    def ending_at(self, concept: str, text: str, i: int, where: str = "before") -> tuple[str, int] | None:
        """The longest phrase of the concept that ends at i (spaces before i skipped): (phrase, start)."""
        j = i
        while j > 0 and text[j - 1] in _SPACES:
            j -= 1
        for p in self.phrases(concept, where):
            if text.endswith(p, 0, j):
                return p, j - len(p)
        return None

    def starting_at(self, concept: str, text: str, i: int, where: str = "after") -> tuple[str, int] | None:
        """The longest phrase of the concept that starts at i (spaces skipped): (phrase, end)."""
        j = i
        while j < len(text) and text[j] in _SPACES:
            j += 1
        for p in self.phrases(concept, where):
            if text.startswith(p, j):
                return p, j + len(p)
        return None

    def anywhere(self, concept: str, text: str, where: str = "any") -> str | None:
        return next((p for p in self.phrases(concept, where) if p in text), None)


@cache
def amount_words() -> AmountWords:
    return AmountWords.load()


# ---- normalisation ---------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """Full-width digits, letters and signs as ASCII, one character for one, so spans stay the
    caller's. The Chinese comma stays a comma of the sentence (15万5，补多少), except between
    full-width digit groups (１，５００，０００)."""
    out = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch)
        if ch == "，":
            left, right = text[i - 1:i], text[i + 1:i + 2]
            out.append("," if left and right and "０" <= left <= "９" and "０" <= right <= "９" else ch)
        elif ch in "−－":
            out.append("-")
        elif len(n) == 1 and (n.isascii() and (n.isalnum() or n in ".%$-~")):
            out.append(n)
        elif ch in "\u00a0\u2009\u202f\u3000":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


# ---- reading one number and its words ------------------------------------------------------------
@dataclass
class _Piece:
    start: int  # the span with its words (sign, marks, approximations)
    end: int
    core_start: int
    core_end: int
    core: str
    money: bool = False
    value: Decimal | None = None
    kind: str = EXACT
    problem_detail: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    unit_suffix: str = ""  # the units closing the core (5万 → 万, 5千万 → 千万): a range's bare start borrows them
    marked: bool = False  # a yuan mark or a unit says it is money
    fraction: Decimal = Decimal(0)  # 角 and 分 after 元


def _unit_suffix(core: str, letters: dict[str, str]) -> str:
    i = len(core)
    while i > 0 and (core[i - 1] in _UNIT_CHARS or core[i - 1] in letters):
        i -= 1
    suffix = core[i:]
    return "".join(letters.get(c, c) for c in suffix)


def _has_digit(core: str) -> bool:
    return any(c.isdigit() or c in NUMERAL_DIGITS for c in core)


def _plain(d: Decimal) -> Decimal:
    """5000000, not 5E+6; 1.5, not 1.50."""
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


def _value(core: str, letters: dict[str, str]) -> Decimal:
    return _plain(numeral_value(tokens(core, letters)))


def _worth(core: str, letters: dict[str, str]) -> Decimal:
    try:
        return _value(core, letters)
    except (NumeralError, InvalidOperation):
        return Decimal(0)


def _increment(core: str, letters: dict[str, str]) -> Decimal:
    """How far '多' reaches past a figure: 50多万 → 10万, 5万多 → 1万, 十多万 → 10万."""
    suffix = _unit_suffix(core, letters)
    number = core[:len(core) - len(suffix)] if suffix else core
    unit = _value("1" + suffix, {}) if suffix else Decimal(1)
    if not number:
        return unit
    value = _value(number, letters)
    if value != value.to_integral_value():
        return unit
    digits = str(int(value))
    trailing = len(digits) - len(digits.rstrip("0"))
    if suffix and len(digits) == 1 and number[-1:].isdigit() and core.endswith(suffix) and not trailing:
        return unit  # 5万多: past 5万 by less than 1万
    return Decimal(10) ** trailing * unit


def _fractions(w: AmountWords, norm: str, pos: int) -> tuple[int, Decimal]:
    """角 and 分 after 元 (壹万零伍元伍角, as cheques and cn2an's rmb mode write them)."""
    extra = Decimal(0)
    for unit, size in w.data["yuan"]["fractions"].items():
        if norm[pos:pos + 1] in ZEROS and not extra and norm[pos + 2:pos + 3] in w.data["yuan"]["fractions"]:
            pos += 1  # 壹元零壹分: no 角
        if pos + 1 < len(norm) and norm[pos] in NUMERAL_DIGITS and norm[pos + 1] == unit:
            extra += NUMERAL_DIGITS[norm[pos]] * Decimal(size)
            pos += 2
        elif pos + 1 < len(norm) and norm[pos].isdigit() and norm[pos + 1] == unit:
            extra += int(norm[pos]) * Decimal(size)
            pos += 2
    if extra:
        found = w.starting_at("yuan", norm, pos, "closing")
        pos = found[1] if found else pos
    return pos, extra


def _letter_money(w: AmountWords, norm: str, start: int, end: int) -> bool:
    """A letter unit counts where the words just before it, in its clause, are about money,
    or a yuan mark follows."""
    window = norm[max(0, start - 10):start]
    for stop in "，。；！？,;!?\n":
        window = window.rsplit(stop, 1)[-1]
    return bool(w.anywhere("money_context", window) or w.starting_at("yuan", norm, end))


def _read_piece(w: AmountWords, norm: str, s: int, e: int, form: bool) -> _Piece | None:
    """One number and the words around it → a piece, or None when it is not money."""
    core = norm[s:e].rstrip(_SPACES)
    e = s + len(core)
    letters = w.letter_units
    if any(c in letters for c in core) and not form and not _letter_money(w, norm, s, e):
        return None  # 3M公司, 4K电视, 350W的电机
    if (core[0] in _UNIT_CHARS and core[0] not in "十拾") or core[0] in w.data["counted"]["any"]:
        if not (w.ending_at("vague", norm, s) or norm[e:e + 1] in w.data["vague"]["inside"]):
            return None  # 千亿畅融, 万一: a unit word, not a number
        core = "一" + core  # 上百万, 几个亿, 百来万: from one of that unit up
    if not _has_digit(core) and core[0] not in "十拾":
        return None
    piece = _Piece(s, e, s, e, core, unit_suffix=_unit_suffix(core, letters))
    has_big = any(c in BIG_UNITS or c in letters for c in core)  # a letter unit passed the money test
    pos, has_big = _vague_inside(w, norm, piece, e, has_big)
    pos, bare = _words_after(w, norm, piece, pos, e)
    piece.end = pos
    if not _words_before(w, norm, piece):
        return None  # 第3条
    if bare and piece.kind in (EXACT, NEGATIVE):
        return None  # 3万人, 2028年, 30%
    piece.money = piece.money or _is_money(piece, core, letters, form, has_big)
    _evaluate(w, norm, piece, core, letters)
    return piece


def _vague_inside(w: AmountWords, norm: str, piece: _Piece, pos: int, has_big: bool) -> tuple[int, bool]:
    """50多万, 十几万: the figure runs on through the units after the vague word."""
    inside = norm[pos:pos + 1]
    if not inside or inside not in w.data["vague"]["inside"]:
        return pos, has_big
    letters, core = w.letter_units, piece.core
    j = pos + 1
    while j < len(norm) and (norm[j] in _UNIT_CHARS or norm[j] in letters):
        j += 1
    units = norm[pos + 1:j]
    if not units and not w.starting_at("yuan", norm, pos + 1):
        return pos, has_big
    try:
        if inside in w.data["vague"]["digit"]:  # 十几万: the unknown digit is 1 to 9
            piece.low = _value(core + "一" + units, letters)
            piece.high = piece.low + 9 * (_value(core + "二" + units, letters) - piece.low)
        else:  # 50多万: past 50万, short of 60万
            piece.low = _value(core + units, letters)
            piece.high = piece.low + _increment(core, letters) * (_value("1" + units, {}) if units else 1)
    except NumeralError:
        pass
    piece.kind, piece.money, piece.marked = VAGUE, True, True
    piece.unit_suffix = units or piece.unit_suffix
    return j, has_big or any(c in BIG_UNITS for c in units)


def _words_after(w: AmountWords, norm: str, piece: _Piece, pos: int, e: int) -> tuple[int, bool]:
    """Another currency, a yuan mark (and 角分), an approximation, a bound, vagueness after the
    number. Returns the end and whether a word after says it is not money (3万人, 30%)."""
    foreign = w.starting_at("foreign", norm, pos)
    if foreign:
        piece.kind, pos, piece.money, piece.marked = CURRENCY, foreign[1], True, True
        piece.problem_detail = foreign[0]
    else:
        yuan = w.starting_at("yuan", norm, pos)
        if yuan and yuan[0] in w.data["yuan"]["weak"] and not any(c in BIG_UNITS for c in piece.core) \
                and yuan[1] < len(norm) and not unicodedata.category(norm[yuan[1]]).startswith(("P", "Z")):
            yuan = None  # 5块屏幕: a measure word
        if yuan:
            pos, piece.money, piece.marked = yuan[1], True, True
            pos, piece.fraction = _fractions(w, norm, pos)
    bare = (not piece.marked and pos == e
            and bool(w.starting_at("not_money_after", norm, pos)
                     or (pos < len(norm) and norm[pos].isascii() and norm[pos].isalpha()
                         and not _EXPONENT.match(norm, pos))))
    if piece.kind != EXACT or bare:
        return pos, bare
    for concept, kind in (("approximate", APPROXIMATE), ("bound_upper", BOUND), ("bound_lower", BOUND),
                          ("vague", VAGUE)):
        found = w.starting_at(concept, norm, pos)
        if found and not (concept == "vague" and w.starting_at("vague", norm, pos, "not_after")):
            piece.kind, piece.problem_detail = kind, concept
            return found[1], bare
    return pos, bare


def _words_before(w: AmountWords, norm: str, piece: _Piece) -> bool:
    """A yuan or currency mark, a sign, an approximation, a bound, vagueness before the number
    (up to three of them: 大概人民币50万). False when an ordinal says it is not money (第3条)."""
    start, letters = piece.core_start, w.letter_units
    for _ in range(3):
        moved = False
        for concept in ("foreign", "yuan", "negative", "approximate", "bound_upper", "bound_lower", "vague",
                        "not_money_before"):
            found = w.ending_at(concept, norm, start)
            if not found:
                continue
            phrase, at = found
            if concept == "negative" and phrase == "-" and at > 0 and (
                    norm[at - 1].isdigit() or norm[at - 1] in _NUMERAL_CHARS or norm[at - 1] in letters):
                continue  # 3-5万: a range, not a sign
            if concept == "not_money_before":
                return False
            if concept == "foreign":
                piece.kind, piece.money, piece.marked, piece.problem_detail = CURRENCY, True, True, phrase
            elif concept == "yuan":
                piece.money = piece.marked = True
            elif concept == "negative" and piece.kind != CURRENCY:
                piece.kind = NEGATIVE
            elif piece.kind == EXACT:
                piece.kind = {"approximate": APPROXIMATE, "vague": VAGUE}.get(concept, BOUND)
                piece.problem_detail = concept
            else:
                continue
            start, moved = at, True
            break
        if not moved:
            break
    piece.start = start
    return True


def _is_money(piece: _Piece, core: str, letters, form: bool, has_big: bool) -> bool:
    """Money when a unit (万, 亿, w) or a mark says so, or in a form field; a bare number only
    from four digits up, and not a year (2023) or a phone number."""
    if form or has_big or piece.marked or piece.kind == CURRENCY:
        return True
    digits = re.sub(r"[^\d.]", "", core).split(".")[0]
    if core.isascii():
        return len(digits) >= 4 and not (len(core) == 4 and _YEAR_LIKE.fullmatch(core)) \
            and not _PHONE.fullmatch(core)
    return core[0].isdigit() and _worth(core, letters) >= 1000  # 2千5, 1千5百


def _evaluate(w: AmountWords, norm: str, piece: _Piece, core: str, letters) -> None:
    """The piece's value, or why it has none (and a vague figure's or bound's ends)."""
    exponent = _EXPONENT.match(norm, piece.core_end) if core[0].isdigit() else None
    if exponent:  # 1e30: never read as 1
        piece.kind, piece.money, piece.problem_detail = UNREADABLE, True, "exponent"
        piece.end = exponent.end()
        while piece.end < len(norm) and norm[piece.end].isdigit():
            piece.end += 1
        return
    try:
        piece.value = _value(core, letters) + piece.fraction
    except SpanNumeral as span:
        piece.kind, piece.low, piece.high = VAGUE, span.low, span.high
    except AmbiguousNumeral:
        piece.kind, piece.problem_detail = UNREADABLE, "ambiguous"
    except NumeralError as exc:
        piece.kind, piece.problem_detail = UNREADABLE, exc.reason
    except InvalidOperation:
        piece.kind, piece.problem_detail = UNREADABLE, "invalid"
    if piece.kind == VAGUE and piece.low is None and piece.value is not None:
        piece.low, piece.high = _vague_span(w, norm, piece, letters)
    if piece.kind == BOUND and piece.value is not None:
        upper = piece.problem_detail == "bound_upper"
        piece.low, piece.high = (Decimal(0), piece.value) if upper else (piece.value, None)
    if piece.value is not None and piece.value > MAX_YUAN and piece.kind in (EXACT, APPROXIMATE):
        piece.kind, piece.problem_detail = UNREADABLE, "too_large"


def _vague_span(w: AmountWords, norm: str, piece: _Piece, letters) -> tuple[Decimal | None, Decimal | None]:
    """几十万 → 10万 up to 100万; 上百万 → 100万 and up; 50万出头 → 50万 up to 60万."""
    before = w.ending_at("vague", norm, piece.core_start)
    core = piece.core
    try:
        if before and before[0] in w.data["vague"]["digit_before"]:
            # 几十万: the digit before 十 is unknown, 1 to 9
            low = _value("一" + core if core[0] in "十拾" else core, letters)
            return low, low * 10
        if before:  # 上百万, 上万
            return piece.value, None
        return piece.value, piece.value + _increment(core, letters)
    except NumeralError:
        return None, None


# ---- the problem, asked back ---------------------------------------------------------------------
def _problem(kind: str, text: str, detail: str = "") -> str | None:
    quoted = f"“{text.strip()}”"
    if kind == CURRENCY:
        return f"{quoted}是外币金额，本政策的金额按人民币计算，不做换算：请问折合人民币是多少元？"
    if kind == NEGATIVE:
        return f"{quoted}是负数，金额不能为负数：请确认实际金额是多少？"
    if kind == RANGE:
        return f"{quoted}是一个范围，不是确切金额：请问确切金额是多少？"
    if kind == ALTERNATIVE:
        return f"{quoted}给了不止一个金额：请问是哪一个？"
    if kind == VAGUE:
        return f"{quoted}不是确切金额：请问具体是多少？"
    if kind == BOUND:
        return f"{quoted}只说了上限或下限，不是确切金额：请问具体是多少？"
    if kind == UNREADABLE:
        if detail == "too_large":
            return f"金额{quoted}过大（超过十万亿元），请检查单位是否有误"
        if detail == "ambiguous":
            return f"{quoted}有两种常见读法（“…亿…万元”或“…亿零…元”）：请问具体是多少？"
        return f"无法识别金额{quoted}：请用数字加“万元”或“亿元”写明，具体是多少？"
    return None


def _amount(text: str, p: _Piece, kind: str | None = None, parts: tuple[Amount, ...] = ()) -> Amount:
    kind = kind or p.kind
    written = text[p.start:p.end]
    usable = kind in (EXACT, APPROXIMATE)
    return Amount(p.value if usable else None, p.start, p.end, written,
                  None if usable else _problem(kind, written, p.problem_detail), kind, p.low, p.high, parts)


# ---- the reader -----------------------------------------------------------------------------------
def read_amounts(text: str, *, form: bool = False) -> list[Amount]:
    """Every money amount in a text, in order, each with its value in yuan or the question to ask
    back. form: the text is one form field, where a bare number (900) or numeral is an amount."""
    text = str(text or "")
    norm = normalize(text)
    w = amount_words()
    cores = [(m.start(), m.end()) for m in w.core.finditer(norm)]
    pieces: list[_Piece | None] = []
    consumed = 0
    for s, e in cores:
        if s < consumed:
            pieces.append(None)
            continue
        p = _read_piece(w, norm, s, e, form)
        pieces.append(p)
        if p is not None:
            consumed = p.end
    out: list[Amount] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        if p is None:
            i += 1
            continue
        nxt = next((q for q in pieces[i + 1:] if q is not None), None)
        joined = _joined(w, norm, p, nxt)
        if joined and (p.money or nxt.money):
            out.append(_pair(text, w, p, nxt, joined))
            i = pieces.index(nxt) + 1
            continue
        if p.money:
            out.append(_amount(text, p))
        i += 1
    return out


def _joined(w: AmountWords, norm: str, p: _Piece, q: _Piece | None) -> str | None:
    """RANGE or ALTERNATIVE when only a range word (到, -, ~) or 或/还是 stands between p and q."""
    # An approximation on either end (大概3到5万, 3到5万左右) is about the whole span: still a range.
    if q is None or p.kind not in (EXACT, NEGATIVE, APPROXIMATE) or \
            q.kind not in (EXACT, NEGATIVE, CURRENCY, APPROXIMATE):
        return None
    between = norm[p.end:q.start].strip(_SPACES)
    if q.kind == NEGATIVE and not between:
        between = "-"  # 3-5万: the '-' was read as q's sign
    if between in w.data["range"]["between"]:
        return RANGE
    if between in w.data["alternative"]["between"]:
        return ALTERNATIVE
    return None


def _pair(text: str, w: AmountWords, p: _Piece, q: _Piece, kind: str) -> Amount:
    letters = w.letter_units
    if q.kind == NEGATIVE:  # its '-' was the range's
        q.kind, q.start = EXACT, q.core_start
    low, high = p.value, q.value
    borrowed = _borrowed_units(p.core, q.core, letters) if kind == RANGE and low is not None else ""
    if borrowed:
        try:  # 3到5万, 三十到五十万, 3到5千万: the first figure borrows the second's unit
            low = _value(p.core + borrowed, letters)
            if high is not None and low >= high and borrowed[1:]:
                low = _value(p.core + borrowed[1:], letters)  # 一到一百万: 1万, not 100万
        except NumeralError:
            low = None
    a = Amount(low, p.start, p.end, text[p.start:p.end])
    b = Amount(high, q.start, q.end, text[q.start:q.end])
    whole = _Piece(p.start, q.end, p.core_start, q.core_end, "", True, None, kind,
                   low=low if kind == RANGE else None, high=high if kind == RANGE else None)
    if q.kind == CURRENCY:
        whole.kind = CURRENCY
    return _amount(text, whole, whole.kind, (a, b))


def _borrowed_units(first: str, second: str, letters: dict[str, str]) -> str:
    """The units a range's bare first figure takes from its second: the big units closing the
    second (3到5万 → 万, 三十到五十万 → 万, 3到5w → w), and 千/百 before them where the second is one
    digit of that unit (3到5千万 → 千万). Nothing when the first has a big unit of its own (3万到5万).
    十 is not borrowed: 三到三十万 is 3万 to 30万 (the lower reading, so no result is claimed on
    the higher one); nor 千/百 where the first would reach the second (一到一百万: 1万)."""
    def big(c: str) -> bool:
        return c in BIG_UNITS or letters.get(c, "").endswith("万")

    if any(big(c) for c in first):
        return ""
    i = len(second)
    while i > 0 and big(second[i - 1]):
        i -= 1
    tail = second[i:]
    if not tail:
        return ""
    head = second[:i]
    small = head[-1:] if head[-1:] in SMALL_UNITS and head[-1:] not in "十拾" else ""
    if small and len(head) == 2 and (head[0].isdigit() or head[0] in NUMERAL_DIGITS) \
            and first[-1:] not in SMALL_UNITS and len(first) == 1:
        return small + tail
    return tail


def find_amounts(text: str) -> list[Amount]:
    """Every money figure a text states, in order (for splitting asks and checking numbers).
    An amount that must be refused (another currency, a negative, an unreadable form) is an
    AmountError; a range or alternative gives both its figures, a bound its figure; a vague
    figure (几十万) has none."""
    out = []
    for a in read_amounts(text):
        if a.kind in (NEGATIVE, CURRENCY, UNREADABLE):
            raise AmountError(a.problem)
        if a.parts:
            out.extend(p for p in a.parts if p.yuan is not None)
        elif a.yuan is not None:
            out.append(a)
        elif a.kind == BOUND and (a.high or a.low):
            out.append(Amount(a.high if a.high is not None else a.low, a.start, a.end, a.text))
    return out


def parse_amount(text: str, field: str = "金额") -> Decimal:
    """One amount from a form field; a clear Chinese message when it is not a usable amount.
    The same reader as the chat, so the chat, the calculator tab and 政策体检 agree."""
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise AmountError(f"请填写{field}")
    plain = normalize(raw).replace(",", "").replace(" ", "")
    try:
        value = Decimal(plain)  # 500000, 1.5E+06 from a spreadsheet, NaN
    except InvalidOperation:
        value = None
    if value is not None:
        if value.is_finite() and value < 0:
            raise AmountError(f"{field}不能为负数")
        return check_amount(value, field)
    amounts = read_amounts(raw, form=True)
    norm = normalize(raw)
    rest = "".join(norm[i] for i in range(len(norm)) if not any(a.start <= i < a.end for a in amounts))
    if len(amounts) != 1 or _has_digit(rest) or any(c.isdigit() for c in rest) or not _only_marks(rest):
        raise AmountError(f"无法识别{field}“{raw[:20]}”，请填写如 120万元、1.5亿、300000 这样的金额")
    a = amounts[0]
    if a.problem:
        raise AmountError(a.problem)
    return check_amount(a.yuan, field)


def _only_marks(rest: str) -> bool:
    """A form field holds an amount and nothing else but yuan marks (80万元人民币, ¥50万): 一些钱
    is not an amount of one yuan."""
    words = amount_words().data["yuan"]
    marks = sorted({*words["before"], *words["after"], *words["closing"]}, key=len, reverse=True)
    rest = "".join(rest.split())
    while rest:
        mark = next((m for m in marks if rest.startswith(m)), None)
        if mark is None:
            return False
        rest = rest[len(mark):]
    return True


def check_amount(value: Decimal, field: str = "金额") -> Decimal:
    if not value.is_finite():
        raise AmountError(f"{field}不是有效数字")
    if value <= 0:
        raise AmountError(f"{field}必须大于0")
    if value > MAX_YUAN:
        raise AmountError(f"{field}过大（超过十万亿元），请检查单位是否有误")
    return value


# ---- writing amounts ------------------------------------------------------------------------------
def to_yuan(value: Decimal) -> int:
    """Whole yuan, rounding half up (amounts in the answer dict are whole numbers)."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grouped(value: Decimal | int) -> str:
    """A figure for reading in steps: 1200000 → '1,200,000', 45001.5 → '45,001.5'."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    whole, frac = f"{d.normalize():f}".split(".")
    return f"{int(whole):,}.{frac}"


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
