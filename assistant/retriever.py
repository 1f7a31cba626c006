"""Hybrid retrieval: BM25 (jieba) and dense (Chroma) chunk rankings fused by weighted RRF."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .embedders import Embedder
from .index import Index
from .models import Hit
from .tokenize import Segmenter

CANDIDATES = 50


@dataclass(frozen=True)
class FusionWeights:
    lexical: float = 1.0
    dense: float = 0.5
    rrf_k: int = 10  # small k: the top ranks of each retriever matter most


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, seg: Segmenter,
                 weights: FusionWeights = FusionWeights()):
        self.index, self.embedder, self.seg, self.weights = index, embedder, seg, weights

    def lexical(self, text: str, k: int = CANDIDATES) -> list[tuple[int, float]]:
        return self.index.bm25.top(dict(Counter(self.seg.words(text))), k)

    def dense(self, text: str, k: int = CANDIDATES) -> list[tuple[int, float]]:
        k = min(k, len(self.index.chunks))
        return self.index.dense.search(self.embedder.embed([text])[0], k)

    def search(self, text: str, k: int = 5, *, use_dense: bool = True) -> list[Hit]:
        w = self.weights
        scores: dict[int, float] = {}
        lex_rank: dict[int, int] = {}
        dense_rank: dict[int, int] = {}
        rankings = [(self.lexical(text), w.lexical, lex_rank)]
        if use_dense and w.dense > 0:
            rankings.append((self.dense(text), w.dense, dense_rank))
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
