"""Dense retrieval in Chroma (embedded, or a `chroma run` server). The only Chroma module.

The chromadb client directly, not langchain_chroma: our vectors are computed in batches before
they are stored, the searches pass ids, and importing langchain_chroma costs ~4 s per process
(a `corpus add` takes seconds in all). LangChain meets retrieval in assistant/llm/chain.py.

A reader's store (`outages=True`) never fails a question: while its Chroma cannot be reached (a
server down or hung, a full disk under an embedded store) a search returns no hits, the outage is
logged once, and the store tries again after RETRY_SECONDS. The lexical index answers meanwhile.
"""
from __future__ import annotations

import errno
import logging
import threading
import time
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
RETRY_SECONDS = 15.0  # a reader's store unreachable: ask again after this pause
# A reader's requests to a server: chromadb's HTTP client waits forever by default, so a hung
# server would hang every question.
READ_TIMEOUT = 10.0
CONNECT_TIMEOUT = 2.0


class VectorStoreUnavailable(RuntimeError):
    """Chroma cannot be reached now (a server down, a full disk): a condition that passes."""


def is_outage(exc: BaseException) -> bool:
    """A failure that says nothing about the index: the server is unreachable or the disk full.
    Anything else (a missing collection, damaged files) is the index's own fault."""
    if isinstance(exc, VectorStoreUnavailable):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):  # refused, reset, timed out
            return True
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        pass
    text = str(exc)
    return any(s in text for s in ("Could not connect to a Chroma server", "disk is full",
                                   "No space left on device"))


def disk_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or \
        any(s in str(exc) for s in ("disk is full", "No space left on device"))


def _client(path: Path, server_url: str | None, timeout: bool = False):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if server_url:
        url = urlparse(server_url)
        client = chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                     ssl=url.scheme == "https", settings=settings)
        if timeout:
            _bound_requests(client)
        return client
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _bound_requests(client) -> None:
    """Give the client's HTTP session a timeout (chromadb's is None: wait forever)."""
    import httpx

    try:
        client._server._session.timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    except AttributeError as exc:  # another chromadb layout: requests stay unbounded
        log.info("cannot bound Chroma's HTTP requests: %s", exc)


def new_server_collection() -> str:
    """A name for an index's collection on a shared server. Builds of one index share it: a
    vector is stored once under its content key, so a re-index sends only new text."""
    return f"zjtx-{uuid.uuid4().hex[:16]}"


def legacy_server_collection(build_id: str) -> str:
    """Builds before the shared collection had one collection each."""
    return f"zjtx-{build_id}"


class ChromaStore:
    """Embedded (a folder of the build) or, with server_url, a collection on a `chroma run` server.
    create: make the collection if it is missing (a build); a reader only opens one.
    outages: a reader's store. An unreachable Chroma at opening or at a search is not an error:
    the store is marked unavailable and searches return nothing until it answers again.
    close() waits for the searches under way: a reader mid-answer never finds it closed under it."""

    def __init__(self, path: Path, embedder: Embedder, server_url: str | None = None,
                 collection: str | None = None, create: bool = True, outages: bool = False):
        self.embedder, self.server_url, self.path = embedder, server_url, path
        self.name = collection or COLLECTION
        self.create, self.outages = create, outages
        self.client = self.collection = None
        self.batch = 1000
        self._lock = threading.Lock()
        self._busy = 0  # searches under way
        self._closed = False
        self._down_since: float | None = None
        self._retry_at = 0.0
        try:
            self._connect()
        except Exception as exc:
            if not (outages and is_outage(exc)):
                raise
            self._went_down(exc)

    def _connect(self) -> None:
        client = _client(self.path, self.server_url, timeout=self.outages)
        try:
            # No embedding function: Chroma never embeds, it stores and searches our vectors.
            if self.create:
                collection = client.get_or_create_collection(self.name, configuration={"hnsw": HNSW},
                                                              embedding_function=None)
            else:
                collection = client.get_collection(self.name, embedding_function=None)
            try:
                batch = min(BATCH, int(client.get_max_batch_size()))
            except Exception:  # an older server without the call
                batch = 1000
        except BaseException:
            _close_client(client)
            raise
        self.client, self.collection, self.batch = client, collection, batch

    @property
    def available(self) -> bool:
        """False while Chroma cannot be reached (searches return nothing)."""
        return self.collection is not None and self._down_since is None and not self._closed

    def _went_down(self, exc: BaseException) -> None:
        first = self._down_since is None
        if first:
            self._down_since = time.monotonic()
        self._retry_at = time.monotonic() + RETRY_SECONDS
        where = f"向量库服务器 {self.server_url}" if self.server_url else f"向量库 {self.path}"
        why = "磁盘空间不足" if disk_full(exc) else f"{type(exc).__name__}: {exc}"
        if first:  # once per outage: a down server must not write a traceback per question
            log.warning("%s 暂时无法使用（%s）：只用词法检索作答，%d 秒后重试", where, why, RETRY_SECONDS)
        else:
            log.debug("%s still unavailable: %s", where, why)

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.warning("向量库已恢复（中断 %.0f 秒）", time.monotonic() - self._down_since)
            self._down_since = None

    def _enter(self):
        """The collection for one search, or None (closed, or down and not yet time to retry)."""
        with self._lock:
            if self._closed:
                return None
            if self._down_since is not None or self.collection is None:
                if time.monotonic() < self._retry_at:
                    return None
                self._retry_at = time.monotonic() + RETRY_SECONDS  # one search retries, the rest go on
                retry = True
            else:
                retry = False
            self._busy += 1
        if retry and self.collection is None:
            try:
                self._connect()
            except Exception as exc:
                self._leave()
                if not is_outage(exc):
                    log.error("向量库无法重新打开：%s: %s", type(exc).__name__, exc)
                self._went_down(exc)
                return None
        return self.collection

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            last = self._closed and self._busy == 0
        if last:
            self._release()

    @staticmethod
    def drop_server_collection(server_url: str, name: str) -> None:
        client = None
        try:
            client = _client(Path("."), server_url)
            client.delete_collection(name)
        except Exception as exc:  # a missing collection or an unreachable server: nothing to free
            log.info("could not drop %s on %s: %s", name, server_url, exc)
        finally:
            if client is not None:
                _close_client(client)

    def holds(self, keys: list[str], at_least: int) -> bool:
        """A shared collection still holds a build's vectors: at least as many as it has, and a
        sample of its keys (64, spread over them). A server can be wiped under an index."""
        if self.count() < at_least:
            return False
        sample = keys[::max(1, len(keys) // 64)]
        held: set[str] = set()
        for i in range(0, len(sample), self.batch):
            held.update(self._required().get(ids=sample[i:i + self.batch], include=[])["ids"])
        return all(k in held for k in sample)

    def _required(self):
        if self.collection is None:
            raise VectorStoreUnavailable(f"向量库 {self.server_url or self.path} 暂时无法使用")
        return self.collection

    def add(self, ids: list[str], vectors: np.ndarray, done=None) -> None:
        """Vectors under their chunk keys, in batches. Only vectors: the chunk text and its clause
        live in the build folder beside the lexical index, and Chroma's document store and
        metadata indexes would double the time of a full build (measured: 0.6 vs 0.3 ms a vector)."""
        collection = self._required()
        for i in range(0, len(ids), self.batch):
            collection.add(ids=ids[i:i + self.batch], embeddings=vectors[i:i + self.batch])
            if done is not None:
                done(min(i + self.batch, len(ids)))

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), self.batch):
            self._required().delete(ids=ids[i:i + self.batch])

    def close(self) -> None:
        """Release this client's share of Chroma's in-process system (its loaded index, its
        sqlite handles). Searches under way finish first; later ones find nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = self._busy == 0
        if idle:
            self._release()

    def _release(self) -> None:
        client, self.client, self.collection = self.client, None, None
        if client is not None:
            _close_client(client)

    def count(self) -> int:
        return self._required().count()

    def probe(self, k: int = 1) -> None:
        """A search that raises (the index's check on opening); search() never does for a reader."""
        self._required().query(query_embeddings=[np.ones(self.embedder.dim, dtype=np.float32)],
                               n_results=k, include=["distances"])

    def search(self, vector: np.ndarray, k: int, ids: list[str] | None = None) -> list[tuple[str, float]]:
        """Chunk keys with cosine similarity, best first; optionally only among some keys. A
        reader's store answers [] while Chroma is unavailable."""
        if not self.outages:
            return self._query(self._required(), vector, k, ids)
        collection = self._enter()
        if collection is None:
            return []
        try:
            found = self._query(collection, vector, k, ids)
        except Exception as exc:  # whatever Chroma raises, a question still gets its lexical answer
            self._went_down(exc)
            return []
        finally:
            self._leave()
        self._came_back()
        return found

    @staticmethod
    def _query(collection, vector, k, ids):
        got = collection.query(query_embeddings=[vector], n_results=k, ids=ids, include=["distances"])
        return [(key, 1.0 - float(dist)) for key, dist in zip(got["ids"][0], got["distances"][0])]


def _close_client(client) -> None:
    try:
        client.close()
    except Exception as exc:  # closing twice or a server gone: nothing left to free
        log.info("closing chroma client: %s", exc)
