"""Pure metric functions over one answer or a list of case results (no I/O, no assistant)."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

_UNIT = {"亿": Decimal(10) ** 8, "万": Decimal(10) ** 4}
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万)?")


def fold(text: str) -> str:
    """NFKC, no whitespace, no thousands separators (../shared/evals/README.md)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"\s+", "", text)


def section_matches(cited: str, expected: str) -> bool:
    """'5' matches any document's section 5; 'doc#15' only that document's."""
    if "#" in expected:
        return cited == expected
    return cited.split("#", 1)[-1] == expected


def first_relevant_rank(cited: list[str], expected: list[str]) -> int | None:
    for i, c in enumerate(cited, 1):
        if any(section_matches(c, e) for e in expected):
            return i
    return None


def hit_at(cited: list[str], expected: list[str], k: int) -> bool:
    rank = first_relevant_rank(cited, expected)
    return rank is not None and rank <= k


def reciprocal_rank(cited: list[str], expected: list[str]) -> float:
    rank = first_relevant_rank(cited, expected)
    return 1.0 / rank if rank else 0.0


def all_cited(cited: list[str], expected: list[str]) -> bool:
    return all(any(section_matches(c, e) for c in cited) for e in expected)


def citation_precision(cited: list[str], expected: list[str]) -> float | None:
    """Share of distinct cited sections that were expected; None when nothing was cited."""
    distinct = list(dict.fromkeys(cited))
    if not distinct:
        return None
    return sum(any(section_matches(c, e) for e in expected) for c in distinct) / len(distinct)


def fact_recall(text: str, facts: list[list[str]]) -> float:
    if not facts:
        return 1.0
    t = fold(text)
    return sum(any(fold(s) in t for s in group) for group in facts) / len(facts)


def forbidden_found(text: str, forbid: list[str]) -> list[str]:
    t = fold(text)
    return [s for s in forbid if fold(s) in t]


def _numbers_text(text: str) -> str:
    """NFKC without thousands separators, whitespace kept: '1. 240000' must stay two numbers."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", unicodedata.normalize("NFKC", text or ""))


def _values(text: str) -> set[Decimal]:
    out = set()
    for m in _NUMBER.finditer(_numbers_text(text)):
        try:
            v = Decimal(m.group(1))
        except InvalidOperation:
            continue
        out.add(v)
        if m.group(2):
            out.add(v * _UNIT[m.group(2)])
        if "." not in m.group(1) and len(m.group(1)) >= 3:
            out.add(v)  # plain yuan
    try:  # amounts written in words (营收一亿二) ground the figures an answer states from them
        from assistant.understand.amounts import AmountError, find_amounts

        out |= {m.yuan for m in find_amounts(text) if m.yuan is not None}
    except AmountError:
        pass
    return out


def ungrounded_numbers(text: str, sources: list[str]) -> list[str]:
    """Numbers in the answer that are in no source (quote, calculation, question), by value:
    '15万元' is grounded by a calculation of 150000, '30%' by a quote saying 30%."""
    source_values: set[Decimal] = set()
    for s in sources:
        source_values |= _values(s)
    bad = []
    for m in _NUMBER.finditer(_numbers_text(text)):
        v = Decimal(m.group(1))
        scaled = v * _UNIT[m.group(2)] if m.group(2) else v
        if v not in source_values and scaled not in source_values:
            bad.append(m.group(0))
    return bad


def quote_is_verbatim(quote: str, document_text: str) -> bool:
    return bool(quote) and fold(quote) in fold(document_text)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def lcs_length(a: str, b: str) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for ch in a:
        cur = [0]
        for j, bj in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if ch == bj else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l_chars(candidate: str, reference: str) -> float:
    """Character-level ROUGE-L F1. A weak signal: wording overlap, not correctness."""
    c, r = fold(candidate), fold(reference)
    lcs = lcs_length(c, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return 2 * p * rec / (p + rec)


def refusal_scores(pairs: list[tuple[bool, bool]]) -> dict:
    """pairs of (expected refused, actually refused) → precision and recall of declining."""
    tp = sum(1 for e, a in pairs if e and a)
    fp = sum(1 for e, a in pairs if not e and a)
    fn = sum(1 for e, a in pairs if e and not a)
    return {"precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0}
