"""Candidates for the synonym lexicon, mined — not guessed per failing case (issue #8).

For every canonical term of corpus/lexicon.toml, the words nearest to it under the trained
embedder, drawn from the regulations' vocabulary (corpus/wordstats.tsv) and from everyday Chinese
(jieba's dictionary, frequent words only), excluding words already in the lexicon. The output is a
review sheet: a person marks what is a true synonym and only those join lexicon.toml.

    python -m assistant mine-lexicon --out corpus/lexicon-candidates.tsv
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,6}$")


def candidates(lexicon, stats, general_words: dict[str, int], embedder, per_term: int = 8,
               min_general: int = 2000, min_regulation: int = 20) -> list[tuple[str, str, float, str]]:
    known = set(lexicon.vocabulary())
    pool: dict[str, str] = {}
    for w, n in stats.regulation.items():
        if n >= min_regulation and _CJK_WORD.match(w) and w not in known:
            pool[w] = "regulations"
    for w, n in general_words.items():
        if n >= min_general and _CJK_WORD.match(w) and w not in known:
            pool.setdefault(w, "everyday")
    words = sorted(pool)
    vectors = embedder.embed(words)
    canon = list(lexicon.synonyms)
    targets = embedder.embed(canon)
    sims = targets @ vectors.T
    out = []
    for i, term in enumerate(canon):
        for j in np.argsort(-sims[i])[:per_term]:
            out.append((term, words[j], float(sims[i, j]), pool[words[j]]))
    return out


def write_sheet(rows, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("# canonical\tcandidate\tcosine\tsource\treviewed (yes = added to lexicon.toml)\n")
        for term, word, score, source in rows:
            f.write(f"{term}\t{word}\t{score:.3f}\t{source}\t\n")
