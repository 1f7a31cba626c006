"""Answers as a hotline worker reads them aloud: the verdict first, one or two sentences, amounts
as people say them (30万元, not 300000元), no bracketed labels, no typing instructions."""
from __future__ import annotations

import re
from decimal import Decimal

from assistant.understand.amounts import fmt_wan

_LABEL = re.compile(r"【[^】]*】")
_INSTRUCTION = re.compile(r"（金额可写成[^）]*）|（[^）]*例如[^）]*）")
# 300000元（30万元） → 30万元: the spoken form the answer already carries.
_BOTH = re.compile(r"(\d[\d,]*)元（([\d.]+[万亿]元)）")
# 15万元（150000元） → 15万元: the figure in 元 is for reading, not for saying twice.
_SPOKEN_FIRST = re.compile(r"([\d.]+[万亿]元)（[\d,]+元）")
_YUAN = re.compile(r"(?<![\d.])(\d{5,})元")
_SENTENCE = re.compile(r"[^。！？]+[。！？]?")
MAX_SENTENCES = 2
_ASKS_FOR_INPUT = re.compile(r"请(提供|告诉我|填写|输入)")  # typing instructions are not read out


def _say_yuan(m: re.Match) -> str:
    return fmt_wan(Decimal(m.group(1)))


def speakable(text: str) -> str:
    """One or two sentences to read aloud."""
    text = text.split("\n", 1)[0]
    text = _LABEL.sub("", text)
    text = _INSTRUCTION.sub("", text)
    text = _BOTH.sub(lambda m: m.group(2), text)
    text = _SPOKEN_FIRST.sub(lambda m: m.group(1), text)
    text = _YUAN.sub(_say_yuan, text)
    sentences = [s for s in (m.group(0).strip() for m in _SENTENCE.finditer(text))
                 if s and not _ASKS_FOR_INPUT.match(s)]
    return "".join(sentences[:MAX_SENTENCES]).strip()


def readable_number(text: str) -> str:
    """Digits grouped for reading in calculation steps: 1200000 × 30% = 360000 →
    1,200,000 × 30% = 360,000 (years and short numbers stay as they are)."""
    return re.sub(r"(?<![\d.,])(\d{5,})(?![\d,])", lambda m: f"{int(m.group(1)):,}", text)
