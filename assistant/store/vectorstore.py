"""Dense retrieval in Chroma (embedded, or a `chroma run` server). The only Chroma module.

The chromadb client directly, not langchain_chroma: our vectors are computed in batches before
they are stored, the searches pass ids, and importing langchain_chroma costs ~4 s per process
(a `corpus add` takes seconds in all). LangChain meets retrieval in assistant/llm/chain.py.
"""
from __future__ import annotations

import logging
import uuid
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from assistant.store.embedders import Embedder

log = logging.getLogger(__name__)
COLLECTION = "clauses"
# A lighter graph than Chroma's default (ef_construction 100): measured on the 112k vectors of the
# full corpus, recall@20 0.995 vs 0.998 for 40% less build CPU.
HNSW = {"space": "cosine", "ef_construction": 40, "max_neighbors": 16}
BATCH = 5000  # at most; the client's max batch size wins (5461 embedded here)


def _client(path: Path, server_url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server_url:
        url = urlparse(server_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def new_server_collection() -> str:
    """A name for an index's collection on a shared server. Builds of one index share it: a
    vector is stored once under its content key, so a re-index sends only new text."""
    return f"zjtx-{uuid.uuid4().hex[:16]}"


def legacy_server_collection(build_id: str) -> str:
    """Builds before the shared collection had one collection each."""
    return f"zjtx-{build_id}"


class ChromaStore:
    """Embedded (a folder of the build) or, with server_url, a collection on a `chroma run` server.
    create: make the collection if it is missing (a build); a reader only opens one."""

    def __init__(self, path: Path, embedder: Embedder, server_url: str | None = None,
                 collection: str | None = None, create: bool = True):
        self.embedder, self.server_url = embedder, server_url
        self.name = collection or COLLECTION
        self.client = _client(path, server_url)
        # No embedding function: Chroma never embeds, it stores and searches our vectors.
        if create:
            self.collection = self.client.get_or_create_collection(self.name, configuration={"hnsw": HNSW},
                                                                   embedding_function=None)
        else:
            self.collection = self.client.get_collection(self.name, embedding_function=None)
        try:
            self.batch = min(BATCH, int(self.client.get_max_batch_size()))
        except Exception:  # an older server without the call
            self.batch = 1000

    @staticmethod
    def drop_server_collection(server_url: str, name: str) -> None:
        try:
            _client(Path("."), server_url).delete_collection(name)
        except Exception as exc:  # a missing collection or an unreachable server: nothing to free
            log.info("could not drop %s on %s: %s", name, server_url, exc)

    def holds(self, keys: list[str], at_least: int) -> bool:
        """A shared collection still holds a build's vectors: at least as many as it has, and a
        sample of its keys (64, spread over them). A server can be wiped under an index."""
        if self.count() < at_least:
            return False
        sample = keys[::max(1, len(keys) // 64)]
        held: set[str] = set()
        for i in range(0, len(sample), self.batch):
            held.update(self.collection.get(ids=sample[i:i + self.batch], include=[])["ids"])
        return all(k in held for k in sample)

    def add(self, ids: list[str], vectors: np.ndarray, done=None) -> None:
        """Vectors under their chunk keys, in batches. Only vectors: the chunk text and its clause
        live in the build folder beside the lexical index, and Chroma's document store and
        metadata indexes would double the time of a full build (measured: 0.6 vs 0.3 ms a vector)."""
        collection = self.collection
        for i in range(0, len(ids), self.batch):
            collection.add(ids=ids[i:i + self.batch], embeddings=vectors[i:i + self.batch])
            if done is not None:
                done(min(i + self.batch, len(ids)))

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), self.batch):
            self.collection.delete(ids=ids[i:i + self.batch])

    def close(self) -> None:
        """Release this client's share of Chroma's in-process system (its loaded index)."""
        try:
            self.client.close()
        except Exception as exc:  # closing twice or a server gone: nothing left to free
            log.info("closing chroma client: %s", exc)

    def count(self) -> int:
        return self.collection.count()

    def search(self, vector: np.ndarray, k: int, ids: list[str] | None = None) -> list[tuple[str, float]]:
        """Chunk keys with cosine similarity, best first; optionally only among some keys."""
        got = self.collection.query(query_embeddings=[vector], n_results=k, ids=ids, include=["distances"])
        return [(key, 1.0 - float(dist)) for key, dist in zip(got["ids"][0], got["distances"][0])]
