"""Hybrid retrieval: BM25 (jieba) and dense (Chroma) chunk rankings fused by weighted RRF."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from .embedders import Embedder
from .index import Index
from .models import Hit
from .tokenize import Segmenter

CANDIDATES = 50


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 1.0
    dense: float = 0.2
    rrf_k: int = 10  # small k: the top ranks of each retriever matter most


def uniform(word: str) -> float:
    return 1.0


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, seg: Segmenter,
                 weights: FusionWeights = FusionWeights(), word_weight=uniform):
        """word_weight: how much a query word counts in the lexical ranking (context words like
        请问, 有, 补贴 less than the topic: 首贷)."""
        self.index, self.embedder, self.seg, self.weights = index, embedder, seg, weights
        self.word_weight = word_weight
        self._doc_of_chunk = [index.clauses[ch.clause].doc_id for ch in index.chunks]
        self._masks: dict[tuple[str, ...], np.ndarray] = {}

    def _mask(self, doc_ids: list[str]) -> np.ndarray:
        key = tuple(sorted(doc_ids))
        if key not in self._masks:  # a handful of distinct filters per process: cache them
            wanted = set(key)
            self._masks[key] = np.fromiter((d in wanted for d in self._doc_of_chunk), dtype=bool,
                                           count=len(self._doc_of_chunk))
        return self._masks[key]

    def lexical(self, text: str, k: int = CANDIDATES, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        query = {w: n * self.word_weight(w) for w, n in Counter(self.seg.words(text)).items()}
        if not doc_ids:
            return self.index.bm25.top(query, k)
        scores = self.index.bm25.scores(query)
        scores = np.where(self._mask(doc_ids), scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def dense(self, text: str, k: int = CANDIDATES, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        k = min(k, len(self.index.chunks))
        return self.index.dense.search(self.embedder.embed([text])[0], k, doc_ids)

    def search(self, text: str, k: int = 5, *, use_dense: bool = True,
               doc_ids: list[str] | None = None) -> list[Hit]:
        """Top clauses for a query, optionally only within some documents."""
        w = self.weights
        scores: dict[int, float] = {}
        lex_rank: dict[int, int] = {}
        dense_rank: dict[int, int] = {}
        rankings = [(self.lexical(text, doc_ids=doc_ids), w.lexical, lex_rank)]
        if use_dense and w.dense > 0:
            rankings.append((self.dense(text, doc_ids=doc_ids), w.dense, dense_rank))
        for ranking, weight, ranks in rankings:
            seen_clauses: set[int] = set()
            for chunk_no, _ in ranking:
                clause_no = self.index.chunks[chunk_no].clause
                if clause_no in seen_clauses:  # rank clauses, not chunks: one vote per clause
                    continue
                seen_clauses.add(clause_no)
                ranks[clause_no] = len(seen_clauses)
                scores[clause_no] = scores.get(clause_no, 0.0) + weight / (w.rrf_k + len(seen_clauses))
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [Hit(self.index.clauses[c], s, lex_rank.get(c), dense_rank.get(c)) for c, s in best]
