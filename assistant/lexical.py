"""BM25 over jieba tokens, beside Chroma (chromadb local mode has no sparse index)."""
from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse


class BM25:
    """Okapi BM25 with the per-term weights precomputed into a sparse term × chunk matrix."""

    def __init__(self, vocab: dict[str, int], weights: sparse.csr_matrix, idf: np.ndarray):
        self.vocab, self.weights, self.idf = vocab, weights, idf

    @classmethod
    def build(cls, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> "BM25":
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        avgdl = lengths.mean() if len(docs) else 1.0
        for j, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(j)
                tfs.append(tf)
        tf = np.asarray(tfs, dtype=np.float64)
        rows_a, cols_a = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        df = np.bincount(rows_a, minlength=len(vocab))
        n = len(docs)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths[cols_a] / avgdl)
        w = idf[rows_a] * tf * (k1 + 1) / (tf + norm)
        weights = sparse.csr_matrix((w, (rows_a, cols_a)), shape=(len(vocab), n), dtype=np.float32)
        return cls(vocab, weights, idf.astype(np.float32))

    def term_idf(self, term: str) -> float:
        i = self.vocab.get(term)
        return float(self.idf[i]) if i is not None else 0.0

    def max_idf(self) -> float:
        return float(self.idf.max()) if len(self.idf) else 1.0

    def scores(self, query: dict[str, float]) -> np.ndarray:
        ids = [self.vocab[t] for t in query if t in self.vocab]
        if not ids:
            return np.zeros(self.weights.shape[1], dtype=np.float32)
        qw = np.asarray([query[t] for t in query if t in self.vocab], dtype=np.float32)
        return np.asarray(self.weights[ids].T @ qw).ravel()

    def top(self, query: dict[str, float], k: int) -> list[tuple[int, float]]:
        s = self.scores(query)
        if not s.any():
            return []
        k = min(k, int((s > 0).sum()))
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(int(i), float(s[i])) for i in idx]

    def save(self, directory: Path) -> None:
        sparse.save_npz(directory / "bm25.npz", self.weights)
        np.save(directory / "bm25_idf.npy", self.idf)
        (directory / "bm25_vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False),
                                                   encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "BM25":
        vocab = json.loads((directory / "bm25_vocab.json").read_text(encoding="utf-8"))
        return cls(vocab, sparse.load_npz(directory / "bm25.npz").tocsr(),
                   np.load(directory / "bm25_idf.npy"))


def idf_floor(bm25: BM25) -> float:
    """IDF given to a word the index has never seen: as rare as the rarest seen word."""
    return bm25.max_idf() if bm25.vocab else math.log(2.0)
