"""Text clean-up shared by loading, parsing and answering."""
from __future__ import annotations

import re
import unicodedata

SENTENCE_END = "。！？；!?;"
# A paragraph that ends with one of these is complete; anything else was cut by a page break.
PARAGRAPH_END = SENTENCE_END + "：:”’」』)）"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SENTENCE = re.compile(rf"[^{SENTENCE_END}]+[{SENTENCE_END}]?[”’」』]?")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def fold(text: str) -> str:
    """Comparison form: NFKC, no whitespace, no thousands separators (as the eval README says)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return re.sub(r"\s+", "", text)


def repair_page_breaks(paragraphs: list[str], starts_structure) -> list[str]:
    """Join paragraphs that a page break cut mid-sentence.

    `starts_structure(p)` says whether p opens a new structural unit (一、 / 第X条 …); such a
    paragraph is never glued to the one before it.
    """
    out: list[str] = []
    for para in paragraphs:
        if out and not out[-1].endswith(tuple(PARAGRAPH_END)) and not starts_structure(para):
            out[-1] += para
        else:
            out.append(para)
    return out


def split_paragraphs(text: str) -> list[str]:
    lines = [ln.strip() for ln in strip_control(text).replace("\r\n", "\n").split("\n")]
    paras, current = [], []
    for ln in lines:
        if ln:
            current.append(ln)
        elif current:
            paras.append("".join(current))
            current = []
    if current:
        paras.append("".join(current))
    return paras


MAX_SENTENCE = 300  # text without sentence punctuation is cut into pieces this long


def sentences(text: str) -> list[str]:
    """Sentences, each at most MAX_SENTENCE characters (a longer run is cut into verbatim pieces,
    so no quote, chunk or answer can grow with a document that never ends a sentence)."""
    out = []
    for s in (m.group(0).strip() for m in _SENTENCE.finditer(text)):
        out += [s[i:i + MAX_SENTENCE] for i in range(0, len(s), MAX_SENTENCE)] if s else []
    return out


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
