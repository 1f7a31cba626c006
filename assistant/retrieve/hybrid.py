"""Hybrid retrieval: BM25 (jieba) and dense (Chroma) chunk rankings fused by weighted RRF."""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass

import numpy as np

from assistant.store.embedders import Embedder, query_vector, readable_share
from assistant.store.index import Index
from assistant.store.lexical import top_scores
from assistant.models import Hit
from assistant.understand.tokenize import Segmenter

CANDIDATES = 50
ZSCORE_FLOOR = 1e-3  # the last candidate of a ranking still counts a little more than no candidate
# A search within documents holding at most this many chunks is scored exactly on the build's
# vectors (gathered once per filter; a few ms of dot products), because Chroma's id-filtered
# search costs 10-20 ms at full size. Beyond it Chroma searches among the documents' keys.
EXACT_WITHIN = 30000
READABLE = 0.5  # a question the dense model reads less of than this is ranked by its words alone
KEPT_FILTERS = 32  # distinct document filters cached per process (home region, policy, named ones)


@dataclass(frozen=True)
class FusionWeights:
    """How the lexical and dense rankings are fused. method "rrf": weighted reciprocal-rank fusion
    (weight / (rrf_k + rank)); "zscore": each ranking's clause scores standardised over its own
    candidates (so a question whose best BM25 match stands far above the rest counts for more than
    one whose matches are all alike, which ranks alone cannot tell), shifted to start at zero, then
    weighted and summed. Chosen with ranx (benchmarks/embedders.py --fusion): z-score, dense 1.6
    — STARD tuning hit@1 .454 vs .434 for RRF k 60 dense 0.5, hit@10 .767 vs .744, own sets .985
    vs .941 (both significant by ranx's paired t-test), colloquial-dev .887 vs .919 (2 of 62).
    A title field at 0.3 of its words' IDF: STARD tuning hit@1 .456 (.452 without), and a regulation
    named by its subject (个人所得税申报服务规定) is found among fifteen that mention the word.
    `flat` (a floor under a ranking's spread) measured no better at the answer level: off.
    A third ranking, BM25 over character bigrams (store/lexical.CharGrams) at 1.0: STARD tuning
    retrieval hit@1 .436 → .455 (0.5: .446, 1.5: .448), answers' first citation .428 → .442;
    own sets and colloquial-dev unchanged, unseen laws-dev2 34 → 36 of 40."""
    lexical: float = 1.0
    dense: float = 1.6
    rrf_k: int = 60
    method: str = "zscore"
    flat: float = 0.0  # z-score: spread below this share of the mean score counts as no spread
    title: float = 0.3  # lexical: a question's word in a document's title, as a share of its IDF
    chars: float = 1.0  # the character-bigram ranking (store/lexical.CharGrams), z-scored like the others


def uniform(word: str) -> float:
    return 1.0


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, seg: Segmenter,
                 weights: FusionWeights = FusionWeights(), word_weight=uniform):
        """word_weight: how much a query word counts in the lexical ranking (context words like
        请问, 有, 补贴 less than the topic: 首贷)."""
        self.index, self.embedder, self.seg, self.weights = index, embedder, seg, weights
        self.word_weight = word_weight
        doc_number = {d.doc_id: i for i, d in enumerate(index.documents)}
        self._doc_of_chunk = np.fromiter((doc_number.get(index.clauses[ch.clause].doc_id, -1)
                                          for ch in index.chunks), dtype=np.int32, count=len(index.chunks))
        self._doc_number = doc_number
        self._title_words = self._index_titles(index.documents, seg) if weights.title else {}
        self._subsets: OrderedDict[tuple[str, ...], tuple[np.ndarray, np.ndarray, np.ndarray | None]] = OrderedDict()

    def _subset(self, doc_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Within some documents: a chunk mask, its rows and (if few enough) their vectors,
        gathered once per filter; the filters a process sees most are kept."""
        key = tuple(sorted(doc_ids))
        if key in self._subsets:
            self._subsets.move_to_end(key)
            return self._subsets[key]
        wanted = np.asarray([self._doc_number[d] for d in key if d in self._doc_number], dtype=np.int32)
        mask = np.isin(self._doc_of_chunk, wanted)
        rows = np.flatnonzero(mask)
        vectors = np.asarray(self.index.vectors[rows]) if len(rows) <= EXACT_WITHIN else None
        self._subsets[key] = (mask, rows, vectors)
        if len(self._subsets) > KEPT_FILTERS:
            self._subsets.popitem(last=False)
        return self._subsets[key]

    @staticmethod
    def _index_titles(documents, seg: Segmenter) -> dict[str, tuple[np.ndarray, float]]:
        """word → (the documents whose title has it, its IDF over titles): a title is a field of
        every clause of its document (个人所得税 in 北京市个人所得税申报服务规定, 民法典), as search
        engines weigh a title field; a word in many titles (条例, 北京市) counts for little."""
        holders: dict[str, list[int]] = {}
        for i, d in enumerate(documents):
            for w in set(seg.words(d.title)):
                if w.strip():
                    holders.setdefault(w.lower(), []).append(i)
        n = len(documents)
        return {w: (np.asarray(docs, dtype=np.int32), float(np.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))))
                for w, docs in holders.items()}

    def _title_scores(self, query: dict[str, float]) -> np.ndarray | None:
        by_doc = None
        for w, weight in query.items():
            found = self._title_words.get(w.lower())
            if found is not None and weight > 0:
                by_doc = np.zeros(len(self._doc_number) + 1) if by_doc is None else by_doc
                by_doc[found[0]] += self.weights.title * weight * found[1]
        return None if by_doc is None else by_doc[self._doc_of_chunk]  # -1 (no document): the spare 0

    def lexical(self, text: str, k: int = CANDIDATES, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        query = {w: n * self.word_weight(w) for w, n in Counter(self.seg.words(text)).items()}
        titled = self._title_scores(query) if self._title_words else None
        if not doc_ids and titled is None:
            return self.index.bm25.top(query, k)
        scores = self.index.bm25.scores(query)
        if titled is not None:
            scores = np.where(scores > 0, scores + titled, 0.0)
        if doc_ids:
            scores = np.where(self._subset(doc_ids)[0], scores, 0.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def characters(self, text: str, k: int = CANDIDATES, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        """Chunk numbers by BM25 over the text's character bigrams."""
        scores = self.index.grams.scores(text)
        if doc_ids:
            scores = np.where(self._subset(doc_ids)[0], scores, 0.0)
        return top_scores(scores, k)

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector as the embedder reads questions (e5: "query: " prefix)."""
        return query_vector(self.embedder, text)

    def dense(self, text: str, k: int = CANDIDATES, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        """Chunk numbers by cosine similarity; chunks of identical text share a vector in Chroma
        and come back together."""
        k = min(k, len(self.index.chunks))
        vector = self.query_vector(text)
        if doc_ids:
            _, rows, vectors = self._subset(doc_ids)
            if len(rows) == 0:
                return []
            if vectors is not None:
                sims = vectors @ vector
                best = np.argsort(-sims, kind="stable")[:k]
                return [(int(rows[i]), float(sims[i])) for i in best]
            allowed = set(rows.tolist())
            keys = list(dict.fromkeys(self.index.keys[r] for r in rows))
            found = self.index.dense.search(vector, min(k, len(keys)), keys)
        else:
            allowed = None
            # A server collection is shared by the index's recent builds: keys of other builds
            # come back too, so ask for more and keep this build's.
            shared = self.index.dense.server_url is not None
            found = [f for f in self.index.dense.search(vector, 2 * k if shared else k)
                     if f[0] in self.index.rows_of_key][:k]
        return [(row, sim) for key, sim in found for row in self.index.rows_of_key.get(key, ())
                if allowed is None or row in allowed]

    def search(self, text: str, k: int = 5, *, use_dense: bool = True,
               doc_ids: list[str] | None = None) -> list[Hit]:
        """Top clauses for a query, optionally only within some documents."""
        w = self.weights
        scores: dict[int, float] = {}
        lex_rank: dict[int, int] = {}
        dense_rank: dict[int, int] = {}
        rankings = [(self.lexical(text, doc_ids=doc_ids), w.lexical, lex_rank)]
        if w.chars > 0:
            rankings.append((self.characters(text, doc_ids=doc_ids), w.chars, {}))
        if use_dense and w.dense > 0 and readable_share(self.embedder, text) >= READABLE:
            rankings.append((self.dense(text, doc_ids=doc_ids), w.dense, dense_rank))
        for ranking, weight, ranks in rankings:
            clause_score: dict[int, float] = {}
            for chunk_no, score in ranking:
                clause_no = self.index.chunks[chunk_no].clause
                if clause_no in clause_score:  # rank clauses, not chunks: one vote per clause
                    continue
                clause_score[clause_no] = score
                ranks[clause_no] = len(clause_score)
            for clause_no, part in fuse(clause_score, weight, w).items():
                scores[clause_no] = scores.get(clause_no, 0.0) + part
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [Hit(self.index.clauses[c], s, lex_rank.get(c), dense_rank.get(c)) for c, s in best]


def fuse(clause_score: dict[int, float], weight: float, w: FusionWeights) -> dict[int, float]:
    """One ranking's share of the fused score (clause_score in rank order, best first)."""
    if w.method == "rrf":
        return {c: weight / (w.rrf_k + rank) for rank, c in enumerate(clause_score, 1)}
    values = np.fromiter(clause_score.values(), dtype=np.float64, count=len(clause_score))
    if not len(values):
        return {}
    # A ranking whose scores barely differ (fifteen clauses each naming 个人所得税 once) says little:
    # its spread is taken as at least `flat` of the mean, so noise is not blown up to whole units.
    z = (values - values.mean()) / (max(values.std(), w.flat * abs(values.mean())) or 1.0)
    z += ZSCORE_FLOOR - z.min()
    return {c: weight * float(v) for c, v in zip(clause_score, z)}
