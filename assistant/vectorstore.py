"""Dense retrieval in Chroma, through LangChain's Chroma vector store. The only Chroma module."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .embedders import Embedder

log = logging.getLogger(__name__)
COLLECTION = "clauses"
BATCH = 4000  # below chromadb's max batch size


class _LangChainEmbeddings:
    """Adapts our Embedder to LangChain's Embeddings interface (duck-typed)."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path),
                                     settings=ChromaSettings(anonymized_telemetry=False))


class ChromaStore:
    def __init__(self, path: Path, embedder: Embedder):
        from langchain_chroma import Chroma

        self.embedder = embedder
        self.store = Chroma(collection_name=COLLECTION, client=_client(path),
                            embedding_function=_LangChainEmbeddings(embedder),
                            collection_metadata={"hnsw:space": "cosine"})

    def add(self, ids: list[str], texts: list[str], vectors: np.ndarray,
            doc_ids: list[str] | None = None) -> None:
        """Add chunks with precomputed vectors (so the embedder runs once, in batches)."""
        collection = self.store._collection  # the vectors are ours; LangChain would re-embed
        docs = doc_ids or [""] * len(ids)
        for i in range(0, len(ids), BATCH):
            collection.add(ids=ids[i:i + BATCH], documents=texts[i:i + BATCH],
                           embeddings=vectors[i:i + BATCH].tolist(),
                           metadatas=[{"chunk": int(x), "doc": d}
                                      for x, d in zip(ids[i:i + BATCH], docs[i:i + BATCH])])

    def count(self) -> int:
        return self.store._collection.count()

    def search(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[int, float]]:
        """Chunk numbers with cosine similarity, best first; optionally within some documents."""
        where = {"doc": {"$in": doc_ids}} if doc_ids else None
        docs = self.store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=k,
                                                                            filter=where)
        return [(int(doc.metadata["chunk"]), 1.0 - float(dist)) for doc, dist in docs]
