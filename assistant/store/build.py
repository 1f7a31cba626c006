"""Writing one build: chunks → words (jieba_fast_dat) and vectors (Chroma, filled by a
background thread), reusing what the previous build computed for text that did not change.

Why this shape: at full size (1,900 regulations, ~110k chunks) Chroma's add is ~30 CPU-seconds
and releases the GIL, so it runs beside the main thread's word cutting on the other core. Words
are stored as integer ids (flat arrays), never as lists of Python strings, which is what kept the
old build at 1.5 GB.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from assistant.documents.corpus import LoadedCorpus
from assistant.store.embedders import Embedder
from assistant.store.lexical import BM25, CharGrams, tally
from assistant.models import Clause, Document
from assistant.progress import Progress, no_progress
from assistant.documents.textnorm import sentences
from assistant.understand.tokenize import Segmenter
from assistant.store.vectorstore import ChromaStore, new_server_collection

log = logging.getLogger(__name__)
CHUNK_CHARS = 150
EMBED_BATCH = 2048
REUSE_STORE_SHARE = 0.5  # copy the previous embedded store when this share of documents is unchanged


class Chunk(NamedTuple):  # a tuple: 110k of them are made per build and per index open
    clause: int  # position in the clause list
    text: str


def chunk_clause(clause: Clause) -> list[str]:
    """Sentence groups of at most ~CHUNK_CHARS characters; a short clause is one chunk."""
    if len(clause.text) <= CHUNK_CHARS:
        return [clause.text]
    chunks, current = [], ""
    for sent in sentences(clause.text.replace("\n\n", "")):  # sentences() caps their length
        if current and len(current) + len(sent) > CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current += sent
    if current:
        chunks.append(current)
    return chunks


def chunk_key(text: str) -> str:
    """Content address of a chunk: its id in Chroma, so unchanged text keeps its vector."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def write_jsonl(path: Path, rows) -> None:
    """One JSON record a line, through orjson (dataclasses included): the full corpus's 80k
    clauses in well under a second, where json.dumps took several."""
    with path.open("wb") as f:
        for row in rows:
            f.write(orjson.dumps(row) + b"\n")


def read_jsonl(path: Path) -> list:
    return [orjson.loads(ln) for ln in path.read_bytes().splitlines() if ln.strip()]


def read_json(path: Path):
    return orjson.loads(path.read_bytes())


def clause_rows(clauses: list[Clause], documents: dict[str, Document]):
    """What clauses.jsonl holds for each clause. A clause's text is its document's text at its
    span, so it is left out, and so is its title when it is the document's: decoding 50 MB of
    Chinese a second time cost a one-document add ~1 s. Anything that differs is kept."""
    for c in clauses:
        doc = documents.get(c.doc_id)
        row = {"doc_id": c.doc_id, "section": c.section, "label": c.label,
               "heading_path": c.heading_path, "span": c.span}
        if doc is None or doc.text[c.span[0]:c.span[1]] != c.text:
            row["text"] = c.text
        if doc is None or doc.title != c.doc_title:
            row["doc_title"] = c.doc_title
        yield row


def clauses_from_rows(rows: list[dict], documents: dict[str, Document]) -> list[Clause]:
    out = []
    for d in rows:
        doc = documents[d["doc_id"]]
        s0, s1 = d["span"]
        text = d["text"] if "text" in d else doc.text[s0:s1]
        out.append(Clause(doc.doc_id, d.get("doc_title", doc.title), d["section"], d["label"],
                          tuple(d["heading_path"]), text, (s0, s1)))
    return out


@dataclass
class PreviousBuild:
    """What the live build already computed: words and vectors by chunk key."""

    directory: Path
    manifest: dict
    keys: list[str]
    vocab: list[str]  # word id → word
    token_ids: np.ndarray  # each chunk's distinct words
    counts: np.ndarray  # how often each occurs in it
    offsets: np.ndarray
    vectors: np.ndarray  # memory-mapped, one row per chunk
    position: dict[str, int]  # chunk key → its first row
    chunks: list  # [clause number, text] per row
    spans: dict  # doc_id → [first row, end row, first clause, end clause]

    @classmethod
    def open(cls, build: Path) -> "PreviousBuild | None":
        try:
            manifest = read_json(build / "manifest.json")
            keys = read_json(build / "chunk_keys.json")
            vocab_map = read_json(build / "bm25_vocab.json")
            with np.load(build / "tokens.npz") as z:
                token_ids, counts, offsets = z["ids"], z["counts"], z["offsets"]
            vectors = np.load(build / "vectors.npy", mmap_mode="r")
            chunks = read_json(build / "chunks.json")
            spans = read_json(build / "chunk_spans.json")
        except (OSError, ValueError, KeyError) as exc:
            log.info("nothing reusable in %s: %s", build, exc)
            return None
        if not len(keys) == len(offsets) - 1 == vectors.shape[0] == len(chunks):
            return None
        vocab = _by_id(vocab_map)
        position: dict[str, int] = {}
        for i, k in enumerate(keys):
            position.setdefault(k, i)
        return cls(build, manifest, keys, vocab, token_ids, counts, offsets, vectors, position, chunks, spans)


def _by_id(ids: dict[str, int]) -> list[str]:
    """word → id as a list of words by id."""
    out = [""] * len(ids)
    for word, i in ids.items():
        out[i] = word
    return out


class _Vocabulary:
    def __init__(self):
        self.ids: dict[str, int] = {}

    def encode(self, words) -> np.ndarray:
        ids = self.ids
        return np.fromiter((ids.setdefault(w, len(ids)) for w in words), dtype=np.int32)

    def words(self) -> list[str]:
        return _by_id(self.ids)


class _Rows:
    """vectors[rows] sliced lazily, batch by batch."""

    def __init__(self, vectors: np.ndarray, rows: list[int]):
        self.vectors, self.rows = vectors, rows

    def __getitem__(self, s: slice) -> np.ndarray:
        return self.vectors[self.rows[s]]


@dataclass
class ServerWrites:
    """What a build put on a Chroma server: the collection and the keys it added, so a failed
    build can take back what no other build uses."""

    collection: str | None = None
    added: list[str] = field(default_factory=list)


class _VectorWriter(threading.Thread):
    """Makes the build's vector store and fills it beside the main thread: the store is copied
    and opened while the chunks are made, the vectors added while the words are cut (file
    copies and Chroma's Rust code release the GIL).

    Embedded: the build's own folder, copied from the previous build when most documents are
    unchanged. Server: one collection shared by the index's builds, vectors under their content
    keys, so only text the previous build lacked is sent (a one-document add sends that document)."""

    def __init__(self, build: Path, embedder: Embedder, chroma_url: str | None,
                 prev: PreviousBuild | None, copy_previous: bool, progress: Progress,
                 written: ServerWrites):
        super().__init__(name="chroma-writer", daemon=True)
        self.build, self.embedder, self.chroma_url, self.prev = build, embedder, chroma_url, prev
        self.copy_previous = copy_previous and prev is not None and chroma_url is None \
            and prev.manifest.get("chroma") == "embedded"
        self.collection = shared_collection(prev, chroma_url)
        self.progress, self.error = progress, None
        self.keys: list[str] | None = None
        self.vectors: np.ndarray | None = None
        self.written = written
        self._submitted = threading.Event()

    def submit(self, keys: list[str], vectors: np.ndarray) -> None:
        self.keys, self.vectors = keys, vectors
        self._submitted.set()

    def abort(self) -> None:
        self._submitted.set()
        self.join()

    def _open(self) -> tuple[ChromaStore, set[str]]:
        """The store and the keys it already holds for this build."""
        if self.copy_previous:  # a mostly unchanged corpus: copy, then add what is new
            shutil.copytree(self.prev.directory / "chroma", self.build / "chroma")
            return ChromaStore(self.build / "chroma", self.embedder), set(self.prev.position)
        if self.chroma_url is None:
            return ChromaStore(self.build / "chroma", self.embedder), set()
        if self.collection is not None:
            store = ChromaStore(self.build / "chroma", self.embedder, self.chroma_url, self.collection)
            if _holds(store, self.prev):
                return store, set(self.prev.position)
            log.warning("collection %s on %s lacks the live build's vectors: starting a new one",
                        self.collection, self.chroma_url)
            store.close()
        self.collection = new_server_collection()
        return ChromaStore(self.build / "chroma", self.embedder, self.chroma_url, self.collection), set()

    def run(self) -> None:
        store = None
        try:
            store, had = self._open()
            self.written.collection = self.collection
            self._submitted.wait()
            if self.keys is None:
                return
            first: dict[str, int] = {}
            for i, k in enumerate(self.keys):
                first.setdefault(k, i)
            if self.copy_previous:  # the build's own copy: what the corpus lost goes
                gone = sorted(had - first.keys())
                if gone:
                    store.delete(gone)
            ids = [k for k in first if k not in had]
            if self.chroma_url:
                self.written.added = ids
            store.add(ids, _Rows(self.vectors, [first[k] for k in ids]),
                      lambda done: self.progress("向量入库", done, len(ids)))
        except BaseException as exc:  # re-raised in the building thread
            self.error = exc
        finally:
            if store is not None:
                store.close()  # the build process lets go of Chroma's in-memory index (~150 MB)
            self.vectors = self.prev = None  # and of the vector matrix (~115 MB), in vectors.npy

    def finish(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


def shared_collection(prev: PreviousBuild | None, chroma_url: str | None) -> str | None:
    """The server collection the previous build used, when this build goes to the same server."""
    if chroma_url is None or prev is None or prev.manifest.get("chroma") != chroma_url:
        return None
    return prev.manifest.get("collection")


def _holds(store: ChromaStore, prev: PreviousBuild) -> bool:
    """The shared collection still has the previous build's vectors."""
    try:
        return store.holds(prev.keys, prev.manifest.get("vectors", 0))
    except Exception as exc:  # an unreadable collection: start over
        log.info("checking %s: %s", store.name, exc)
        return False


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc keeps them otherwise): the tokenizer's and
    Chroma's temporaries would count towards the build's peak while the lexical index is made."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _cut_words(texts: list[str], seg: Segmenter, vocab: _Vocabulary, progress: Progress) -> list[np.ndarray]:
    out = []
    for i, text in enumerate(texts):
        out.append(vocab.encode(seg.words(text)))
        if i % 2000 == 0:
            progress("分词", i, len(texts))
    progress("分词", len(texts), len(texts))
    return out


def _embed(texts: list[str], embedder: Embedder, progress: Progress) -> np.ndarray:
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i in range(0, len(texts), EMBED_BATCH):
        out[i:i + EMBED_BATCH] = embedder.embed(texts[i:i + EMBED_BATCH])
        progress("向量计算", min(i + EMBED_BATCH, len(texts)), len(texts))
    return out


def _chunk_corpus(corpus: LoadedCorpus, prev: PreviousBuild | None) -> tuple[list[Chunk], list[str], dict]:
    """Chunks and their keys, document by document; a document the corpus reused unchanged
    takes its chunks and keys from the previous build instead of being cut and hashed again.
    Also returns each document's [first row, end row, first clause, end clause]."""
    ranges: dict[str, list[int]] = {}
    for i, c in enumerate(corpus.clauses):
        ranges.setdefault(c.doc_id, [i, i])[1] = i + 1
    chunks: list[Chunk] = []
    keys: list[str] = []
    spans: dict[str, list[int]] = {}
    for doc in corpus.documents:
        c0, c1 = ranges.get(doc.doc_id, (0, 0))
        r0 = len(chunks)
        old = prev.spans.get(doc.doc_id) if prev is not None and doc.doc_id in corpus.reused else None
        if old is not None and old[3] - old[2] == c1 - c0:
            chunks += [Chunk(c0 + clause - old[2], text) for clause, text in prev.chunks[old[0]:old[1]]]
            keys += prev.keys[old[0]:old[1]]
        else:
            for i in range(c0, c1):
                for text in chunk_clause(corpus.clauses[i]):
                    chunks.append(Chunk(i, text))
                    keys.append(chunk_key(matched_text(corpus, chunks[-1])))
        spans[doc.doc_id] = [r0, len(chunks), c0, c1]
    return chunks, keys, spans


def matched_text(corpus: LoadedCorpus, chunk: Chunk) -> str:
    """What a chunk is matched and embedded as: its clause's label and heading path go in
    (第十五条 and 数智转型 are words people use)."""
    return f"{' '.join(corpus.clauses[chunk.clause].heading_path)} {chunk.text}"


def _previous_rows(keys: list[str], prev: PreviousBuild | None) -> np.ndarray:
    """For each chunk, its row in the previous build (-1: new text)."""
    old = prev.position if prev is not None else {}
    return np.fromiter((old.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))


def _runs(rows: np.ndarray) -> list[tuple[int, int, bool]]:
    """The chunks as runs [a, b): reused chunks that stood one after another in the previous
    build (kept=True), or new ones. An add or a removal leaves a handful of runs, so the previous
    build's arrays are copied slice by slice, not element by element."""
    n = len(rows)
    if n == 0:
        return []
    kept = rows >= 0
    breaks = np.ones(n, dtype=bool)
    breaks[1:] = (kept[1:] != kept[:-1]) | (kept[1:] & (rows[1:] != rows[:-1] + 1))
    starts = np.flatnonzero(breaks).tolist()
    return [(a, b, bool(kept[a])) for a, b in zip(starts, starts[1:] + [n])]


def _vectors(build: Path, texts_of, rows: np.ndarray, prev: PreviousBuild | None,
             embedder: Embedder, progress: Progress) -> tuple[np.ndarray, int]:
    """One vector per chunk, saved as vectors.npy: reused by key, the rest embedded in batches."""
    vectors = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    for a, b, kept in _runs(rows):
        if kept:
            vectors[a:b] = prev.vectors[rows[a]:rows[b - 1] + 1]
    fresh = np.flatnonzero(rows < 0)
    if len(fresh):
        vectors[fresh] = _embed(texts_of(fresh), embedder, progress)
    np.save(build / "vectors.npy", vectors)
    _give_back_memory()
    return vectors, len(fresh)


def _assemble(rows: np.ndarray, old: tuple[np.ndarray, ...], new: tuple[np.ndarray, ...]) -> tuple:
    """Flat per-chunk arrays (offsets first, then the arrays) in the build's chunk order, from
    the previous build's (rows ≥ 0) and the newly computed ones (rows < 0, in order)."""
    kept = rows >= 0
    fresh_at = np.cumsum(~kept) - 1  # a new chunk's place among the new ones
    lengths = np.zeros(len(rows), dtype=np.int64)
    lengths[~kept] = np.diff(new[0])
    if kept.any():
        lengths[kept] = np.diff(old[0])[rows[kept]]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    pieces: list[list[np.ndarray]] = [[] for _ in new[1:]]
    for a, b, from_old in _runs(rows):
        src, first, last = (old, rows[a], rows[b - 1]) if from_old else (new, fresh_at[a], fresh_at[b - 1])
        lo, hi = src[0][first], src[0][last + 1]
        for piece, array in zip(pieces, src[1:]):
            piece.append(array[lo:hi])
    return (offsets, *(np.concatenate(p) if p else a[:0] for p, a in zip(pieces, new[1:])))


def _write_words(build: Path, texts_of, keys: list[str], rows: np.ndarray,
                 prev: PreviousBuild | None, seg: Segmenter, progress: Progress) -> None:
    """The lexical index: each chunk's distinct words as ids with their counts (tokens.npz),
    BM25 over them. prev: a build whose words were cut the same way; rows (≥ 0) say which of
    its chunks to reuse."""
    vocab = _Vocabulary()
    if prev is None:
        rows = np.full(len(keys), -1, dtype=np.int64)
    else:
        for w in prev.vocab:  # the previous ids stay valid: the new vocabulary extends them
            vocab.ids.setdefault(w, len(vocab.ids))
    cut = _cut_words(texts_of(np.flatnonzero(rows < 0)), seg, vocab, progress)
    cut_offsets = np.zeros(len(cut) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in cut], out=cut_offsets[1:])
    fresh_ids, fresh_counts, fresh_offsets = tally(
        np.concatenate(cut) if cut else np.zeros(0, dtype=np.int32), cut_offsets)
    del cut
    old = (prev.offsets, prev.token_ids, prev.counts) if prev is not None else None
    offsets, ids, counts = _assemble(rows, old, (fresh_offsets, fresh_ids, fresh_counts))
    _give_back_memory()
    bm25, ids = BM25.from_counts(ids, counts, offsets, vocab.words())
    bm25.save(build)
    np.savez(build / "tokens.npz", ids=ids, counts=counts, offsets=offsets)
    (build / "chunk_keys.json").write_bytes(orjson.dumps(keys))


def write_build(build: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter,
                chroma_url: str | None = None, prev: PreviousBuild | None = None,
                signatures: dict | None = None, progress: Progress = no_progress,
                written: ServerWrites | None = None) -> dict:
    """Everything of one build but its manifest, into the folder `build`. Chroma is filled by a
    background thread while the words are cut (its Rust add releases the GIL). written: filled
    with what went to a server, for the caller to take back if the build fails."""
    t0 = time.perf_counter()
    # An embedded store is copied from the previous build when most documents are unchanged
    # (a file copy is far cheaper than re-adding 100k vectors).
    writer = _VectorWriter(build, embedder, chroma_url, prev,
                           len(corpus.reused) >= REUSE_STORE_SHARE * max(1, len(corpus.documents)), progress,
                           written if written is not None else ServerWrites())
    writer.start()
    try:
        chunks, keys, spans = _chunk_corpus(corpus, prev)

        def texts_of(picked) -> list[str]:
            return [matched_text(corpus, chunks[i]) for i in picked]

        rows = _previous_rows(keys, prev)
        vectors, embedded = _vectors(build, texts_of, rows, prev, embedder, progress)
        t1 = time.perf_counter()
        writer.submit(keys, vectors)
        del vectors  # the writer holds the only reference and drops it when Chroma has them
        same_words = prev is not None and prev.manifest.get("signatures", {}).get("lexicon") == \
            (signatures or {}).get("lexicon")
        _write_words(build, texts_of, keys, rows, prev if same_words else None, seg, progress)
        CharGrams.build([corpus.clauses[ch.clause].doc_title + " " + t
                         for ch, t in zip(chunks, texts_of(range(len(chunks))))]).save(build)
        t2 = time.perf_counter()
        _write_texts(build, corpus, chunks, spans)
    except BaseException:
        writer.abort()  # let Chroma finish with the folder before it is removed
        raise
    writer.finish()
    t3 = time.perf_counter()
    return {
        "corpus": corpus.root, "chroma": chroma_url or "embedded", "collection": writer.collection,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": len(corpus.documents), "clauses": len(corpus.clauses), "chunks": len(chunks),
        "vectors": len(set(keys)), "errors": [f"{e.path}: {e.reason}" for e in corpus.errors],
        "seconds": {"embed": round(t1 - t0, 2), "lexical": round(t2 - t1, 2),
                    "vector_store_wait": round(t3 - t2, 2)},
        "embedded_chunks": embedded, "reused_chunks": len(chunks) - embedded,
        "reparsed_documents": corpus.parsed, "reused_documents": len(corpus.documents) - corpus.parsed,
        "signatures": signatures or {},
    }


def _write_texts(build: Path, corpus: LoadedCorpus, chunks: list[Chunk], spans: dict) -> None:
    write_jsonl(build / "clauses.jsonl", clause_rows(corpus.clauses, {d.doc_id: d for d in corpus.documents}))
    (build / "chunk_spans.json").write_bytes(orjson.dumps(spans))
    (build / "chunks.json").write_bytes(orjson.dumps([[ch.clause, ch.text] for ch in chunks]))
    write_jsonl(build / "documents.jsonl", corpus.documents)
