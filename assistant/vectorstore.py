"""Dense retrieval in Chroma, through LangChain's Chroma vector store. The only Chroma module."""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

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


def _client(path: Path, server_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server_url:
        url = urlparse(server_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def server_collection(build_id: str) -> str:
    """One collection per build on a shared server, so a re-index never touches the live one."""
    return f"zjtx-{build_id}"


class ChromaStore:
    """Embedded (a folder of the build) or, with server_url, a collection on a `chroma run` server."""

    def __init__(self, path: Path, embedder: Embedder, server_url: str | None = None):
        from langchain_chroma import Chroma

        self.embedder, self.server_url = embedder, server_url
        name = server_collection(path.parent.name) if server_url else COLLECTION
        self.client = _client(path, server_url)
        self.store = Chroma(collection_name=name, client=self.client,
                            embedding_function=_LangChainEmbeddings(embedder),
                            collection_metadata={"hnsw:space": "cosine"})

    @staticmethod
    def drop_server_collection(server_url: str, build_id: str) -> None:
        try:
            _client(Path("."), server_url).delete_collection(server_collection(build_id))
        except Exception as exc:  # a missing collection or an unreachable server: nothing to free
            log.info("could not drop %s on %s: %s", build_id, server_url, exc)

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
