"""Topic words vs context words, by statistics rather than hand lists.

A word's *topicality* compares how often regulations use it (counts mined from the 1,908
regulations in ../shared/corpus-scale, shipped as corpus/wordstats.tsv) with how often general
Chinese uses it (jieba's dictionary counts), scaled to the same corpus size:

    topicality(w) = log((n_reg(w) + 1) / (n_gen(w) · N_reg / N_gen + 1))

社会保险, 残疾人, 所得税 are far more frequent in regulations than in general text: when a
question names one and the loaded documents do not, that is a real uncovered topic. 谢谢, 海淀,
一家, 传感器, 就是 are general language: context around the ask, never a reason to decline.
A word neither source has seen scores 0: no evidence either way.

    python -m assistant mine-wordstats --corpus ../shared/corpus-scale --out corpus/wordstats.tsv
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MIN_COUNT = 2  # words seen once in 4.6M tokens are noise; the table stays small
# Topicality below CONTEXT is general language, above TOPIC regulation language.
CONTEXT, TOPIC = -1.0, 1.0


@dataclass(frozen=True)
class WordStats:
    regulation: dict[str, int]
    regulation_total: int
    general: Callable[[str], int]  # jieba's dictionary count of a word
    general_total: int

    @classmethod
    def load(cls, path: Path, general: Callable[[str], int], general_total: int) -> "WordStats":
        counts: dict[str, int] = {}
        total = 0
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    if line.startswith("# total\t"):
                        total = int(line.split("\t")[1])
                    continue
                word, _, n = line.rstrip("\n").partition("\t")
                if word and n:
                    counts[word] = int(n)
        return cls(counts, total or sum(counts.values()) or 1, general, general_total or 1)

    @classmethod
    def empty(cls) -> "WordStats":
        return cls({}, 1, lambda w: 0, 1)

    def topicality(self, word: str) -> float:
        """> 0: regulation language (a topic); < 0: general language (context); 0: unseen."""
        scale = self.regulation_total / self.general_total
        return math.log((self.regulation.get(word, 0) + 1) / (self.general(word) * scale + 1))

    def topic_share(self, word: str) -> float:
        """0 for context words, 1 for topic words, linear in between."""
        t = self.topicality(word)
        return min(1.0, max(0.0, (t - CONTEXT) / (TOPIC - CONTEXT)))


def mine(texts, cut) -> Counter:
    """Word counts over texts with the project's own segmenter (so the words match queries)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w for w in cut(text) if w.strip())
    return counts


def write(counts: Counter, out: Path, source: str) -> int:
    kept = sorted(((w, n) for w, n in counts.items() if n >= MIN_COUNT and "\t" not in w
                   and "\n" not in w), key=lambda p: (-p[1], p[0]))
    with out.open("w", encoding="utf-8") as f:
        f.write(f"# word counts in regulation text, mined from {source}\n")
        f.write(f"# total\t{sum(counts.values())}\n")
        for w, n in kept:
            f.write(f"{w}\t{n}\n")
    return len(kept)
