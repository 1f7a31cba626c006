"""The recipe a team would try first: RecursiveCharacterTextSplitter + Chroma + the same
embedder, top-3 chunks, answer = the retrieved text. Run on the same set for comparison."""
from __future__ import annotations

import bisect
import tempfile
import time
from pathlib import Path

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.store.vectorstore import ChromaStore

from . import metrics as m
from .sets import Case

TOP_K = 3


class Baseline:
    def __init__(self, bot, chunk_size: int = 200, overlap: int = 20):
        self.bot = bot
        self._tmp = tempfile.TemporaryDirectory(prefix="baseline-chroma-")
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=overlap, add_start_index=True,
            separators=["\n\n", "\n", "。", "；", "，", ""])
        self.chunks: list[tuple[str, str]] = []  # (text, "doc_id#section")
        clauses_by_doc: dict[str, list] = {}
        for c in bot.index.clauses:
            clauses_by_doc.setdefault(c.doc_id, []).append(c)
        for doc in bot.documents():
            starts = [c.span[0] for c in clauses_by_doc.get(doc.doc_id, [])]
            for piece in splitter.create_documents([doc.text]):
                i = max(0, bisect.bisect_right(starts, piece.metadata["start_index"]) - 1)
                self.chunks.append((piece.page_content, clauses_by_doc[doc.doc_id][i].key))
        embedder = bot.toolkit.embedder
        self.store = ChromaStore(Path(self._tmp.name), embedder)
        texts = [t for t, _ in self.chunks]
        self.store.add([str(i) for i in range(len(texts))], embedder.embed(texts))
        self.embedder = embedder

    def ask(self, question: str) -> tuple[list[str], str, float]:
        t0 = time.perf_counter()
        found = self.store.search(self.embedder.embed([question or " "])[0], TOP_K)
        elapsed = (time.perf_counter() - t0) * 1000
        found = [(int(i), sim) for i, sim in found]
        cited = [self.chunks[i][1] for i, _ in found]
        return cited, "\n".join(self.chunks[i][0] for i, _ in found), elapsed

    def evaluate(self, cases: list[Case]) -> dict:
        rows = []
        for case in cases:
            cited, text, ms = self.ask(case.question)
            rows.append((case, cited, text, ms))
        scored = [r for r in rows if r[0].sections]
        return {
            "cases": len(rows),
            "hit@1": _mean(m.hit_at(c, r.sections, 1) for r, c, _, _ in scored),
            "hit@3": _mean(m.hit_at(c, r.sections, 3) for r, c, _, _ in scored),
            "mrr": _mean(m.reciprocal_rank(c, r.sections) for r, c, _, _ in scored),
            "fact_recall": _mean(m.fact_recall(t, r.facts) for r, _, t, _ in rows if not r.refused),
            "refusal_recall": 0.0,  # it always answers with whatever it retrieved
            "latency_p50_ms": m.percentile([ms for *_, ms in rows], 50),
            "latency_p95_ms": m.percentile([ms for *_, ms in rows], 95),
        }

    def close(self) -> None:
        self._tmp.cleanup()


def _mean(values) -> float | None:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else None
