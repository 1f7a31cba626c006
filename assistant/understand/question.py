"""What the user typed → a clean question, or a clear Chinese reason why there is none."""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from assistant.documents.textnorm import has_cjk, sentences, strip_control
from assistant.understand.cues import Cues

EXAMPLE = "例如：“上云上平台改造补贴多少？”"


@dataclass(frozen=True)
class Question:
    text: str  # cleaned, NFKC-normalised, at most max_chars
    notice: str = ""  # said before the answer (truncation, ignored instructions)


@dataclass(frozen=True)
class Rejection:
    message: str


def simplified(text: str) -> str:
    """Traditional characters read as simplified (OpenCC's maintained tables); simplified text
    passes unchanged."""
    return _t2s().convert(text)


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(raw: str, max_chars: int, cues: Cues) -> Question | Rejection:
    if raw is not None and not isinstance(raw, str):
        return Rejection(f"问题应为文字，收到的是 {type(raw).__name__}。{EXAMPLE}")
    # A lone surrogate (\ud800) cannot be written out as UTF-8: drop it, keep the rest.
    text = simplified(unicodedata.normalize("NFKC", strip_control(_SURROGATE.sub("", raw or ""))).strip())
    text = re.sub(r"\s+", " ", text)
    if not text:
        return Rejection(f"请输入您想咨询的问题，{EXAMPLE}")
    if not re.search(r"[\w]", text):
        return Rejection(f"没有识别到问题内容（只有标点或符号）。请用一句话描述您的问题，{EXAMPLE}")
    if not has_cjk(text):
        return Rejection("目前仅支持中文提问，请用中文描述您的问题（Please ask in Chinese），" + EXAMPLE)
    notices = []
    if len(text) > max_chars:
        text, notice = _shortened(text, max_chars, cues)
        notices.append(notice)
    if cues.has("injection", text):
        text = _without_injection(text, cues)
        notices.append("问题中的指令性内容已忽略，以下仅依据政策原文回答。")
    return Question(text, "".join(notices))


def _shortened(text: str, max_chars: int, cues: Cues) -> tuple[str, str]:
    """A pasted text with the question at its end (…上面说的上云补贴是多少): its last whole
    sentences within the limit, when they ask something; else its beginning."""
    kept = ""
    for sentence in reversed(sentences(text)):
        if len(kept) + len(sentence) > max_chars:
            break
        kept = sentence + kept
    if kept and cues.has("question", kept):
        return kept, "问题过长，仅按结尾的提问部分处理。"
    return text[:max_chars], "问题过长，仅按开头部分处理。"


def _without_injection(text: str, cues: Cues) -> str:
    for m in reversed(cues.find("injection", text)):
        text = text[:m.start()] + text[m.end():]
    return text
