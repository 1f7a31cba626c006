"""The student's vocabulary: whole jieba words, not BPE pieces (the teacher reads whole words).

Words come from two places: the regulations' own words (what passages say: 配偶, 借款合同,
解除劳动合同) and the most common words of general Chinese in jieba's dictionary (what callers
say: 老公, 欠钱, 辞退). Every character of them is in too, so a word outside the vocabulary is
still read, character by character.

The tokenizer is a `tokenizers` Unigram model whose log-probabilities are jieba's word
frequencies: its Viterbi path is jieba's own maximum-probability route through its DAG (without
the HMM for unknown words), so the student cuts text as jieba does, in Rust, in ~15 µs a
question, and the directory still loads with sentence-transformers' StaticEmbedding.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

UNK = "[UNK]"
_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]")
_NUMBERISH = re.compile(r"^[\d.,%〇零一二三四五六七八九十百千万亿两]+$")


def count_words(texts: Iterable[str], cut) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        counts.update(w for w in cut(text) if _CJK_OR_WORD.search(w))
    return counts


def choose_words(corpus_counts: Counter, general: dict[str, int], *, corpus_words: int = 40000,
                 general_words: int = 40000, min_count: int = 3, extra: Iterable[str] = ()) -> list[str]:
    """The corpus's commonest words, then general Chinese's commonest (jieba's dictionary counts
    are steep: 老公 1064, 怎么办 117, 欠钱 3), then `extra` (the policy vocabulary), then every
    character of them. Numerals are left to their characters (第三十二条 is not a topic)."""
    def usable(w: str) -> bool:
        return bool(_CJK_OR_WORD.search(w)) and not _NUMBERISH.match(w) and len(w) <= 12

    chosen: dict[str, None] = {}
    for w, n in corpus_counts.most_common():
        if len(chosen) >= corpus_words or n < min_count:
            break
        if usable(w) and len(w) > 1:
            chosen[w.lower()] = None
    added = 0
    for w in sorted(general, key=lambda w: (-general[w], w)):
        if added >= general_words:
            break
        if usable(w) and len(w) > 1 and w.lower() not in chosen:
            chosen[w.lower()] = None
            added += 1
    for w in extra:
        if usable(w) and len(w) > 1:
            chosen.setdefault(w.lower(), None)
    chars = sorted({c.lower() for w in [*chosen, *corpus_counts] for c in w if _CJK_OR_WORD.match(c)})
    return [*chosen, *(c for c in chars if c not in chosen)]


def unigram_tokenizer(words: list[str], general: dict[str, int], corpus_counts: Counter):
    """A Unigram tokenizer over `words` scored like jieba: log of the dictionary frequency; a
    word only the corpus knows gets its corpus count scaled to the dictionary's total."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    total = sum(general.values()) or 1
    corpus_total = sum(corpus_counts.values()) or 1
    floor = math.log(1.0 / total)

    def logp(w: str) -> float:
        n = general.get(w) or corpus_counts.get(w, 0) * total / corpus_total
        return math.log(n / total) if n > 0 else floor

    vocab = [(UNK, 0.0)] + [(w, logp(w)) for w in words]
    tok = Tokenizer(models.Unigram(vocab, unk_id=0, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
        pre_tokenizers.Digits(individual_digits=False)])
    return tok
