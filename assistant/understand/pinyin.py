"""Whether two characters sound alike, as a pinyin input method confuses them: the same syllable
in any of their readings, tones ignored, with the fuzzy syllables IMEs offer (模糊音: z/zh, c/ch,
s/sh, n/l, an/ang, en/eng, in/ing). pypinyin's tables are loaded on first use (≈ 0.2 s), which is
only when a possible slip is found."""
from __future__ import annotations

from functools import lru_cache

# IME fuzzy-syllable settings: each pair is read as one sound.
FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=4096)
def readings(ch: str) -> frozenset[str]:
    from pypinyin import Style, pinyin

    return frozenset(_fuzzy(s) for r in pinyin(ch, style=Style.NORMAL, heteronym=True) for s in r)


def _fuzzy(syllable: str) -> str:
    for long, short in FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


def sound_alike(a: str, b: str) -> bool:
    return bool(readings(a) & readings(b))
