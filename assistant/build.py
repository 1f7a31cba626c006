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
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from .corpus import LoadedCorpus
from .embedders import Embedder
from .lexical import BM25, tally
from .models import Clause
from .progress import Progress, no_progress
from .textnorm import sentences
from .tokenize import Segmenter
from .vectorstore import ChromaStore

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


def clause_from_json(d: dict) -> Clause:
    return Clause(d["doc_id"], d["doc_title"], d["section"], d["label"], tuple(d["heading_path"]),
                  d["text"], tuple(d["span"]))


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


class _VectorWriter(threading.Thread):
    """Makes the build's vector store and fills it beside the main thread: the store is copied
    and opened while the chunks are made, the vectors added while the words are cut (file
    copies and Chroma's Rust code release the GIL)."""

    def __init__(self, build: Path, embedder: Embedder, chroma_url: str | None,
                 prev: PreviousBuild | None, copy_previous: bool, progress: Progress):
        super().__init__(name="chroma-writer", daemon=True)
        self.build, self.embedder, self.chroma_url, self.prev = build, embedder, chroma_url, prev
        self.copy_previous = copy_previous and prev is not None and chroma_url is None \
            and prev.manifest.get("chroma") == "embedded"
        self.progress, self.error = progress, None
        self.keys: list[str] | None = None
        self.vectors: np.ndarray | None = None
        self._submitted = threading.Event()

    def submit(self, keys: list[str], vectors: np.ndarray) -> None:
        self.keys, self.vectors = keys, vectors
        self._submitted.set()

    def abort(self) -> None:
        self._submitted.set()
        self.join()

    def run(self) -> None:
        store = None
        try:
            if self.copy_previous:  # a mostly unchanged corpus: copy, then add what is new
                shutil.copytree(self.prev.directory / "chroma", self.build / "chroma")
                store = ChromaStore(self.build / "chroma", self.embedder)
            else:
                store = ChromaStore(self.build / "chroma", self.embedder, self.chroma_url)
            self._submitted.wait()
            if self.keys is None:
                return
            first: dict[str, int] = {}
            for i, k in enumerate(self.keys):
                first.setdefault(k, i)
            had = set(self.prev.position) if self.copy_previous else set()
            gone = sorted(had - first.keys())
            if gone:
                store.delete(gone)
            ids = [k for k in first if k not in had]
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


def _vectors(build: Path, texts_of, rows: np.ndarray, prev: PreviousBuild | None,
             embedder: Embedder, progress: Progress) -> tuple[np.ndarray, int]:
    """One vector per chunk, saved as vectors.npy: reused by key, the rest embedded in batches."""
    kept = rows >= 0
    if kept.any():  # one gather from the previous vectors; new rows are overwritten below
        vectors = np.asarray(prev.vectors[np.where(kept, rows, 0)], dtype=np.float32)
    else:
        vectors = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    fresh = np.flatnonzero(~kept)
    if len(fresh):
        vectors[fresh] = _embed(texts_of(fresh), embedder, progress)
    np.save(build / "vectors.npy", vectors)
    _give_back_memory()
    return vectors, len(fresh)


def _gather(offsets: np.ndarray, rows: np.ndarray, *arrays: np.ndarray) -> tuple:
    """Some rows of flat per-chunk arrays, in one vectorised step: (lengths, *gathered)."""
    starts, lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
    at = np.repeat(starts, lengths) + _ramp(lengths)
    return (lengths, *(a[at] for a in arrays))


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
    fresh, kept = np.flatnonzero(rows < 0), np.flatnonzero(rows >= 0)
    cut = _cut_words(texts_of(fresh), seg, vocab, progress)
    cut_offsets = np.zeros(len(cut) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in cut], out=cut_offsets[1:])
    fresh_ids, fresh_counts, fresh_offsets = tally(
        np.concatenate(cut) if cut else np.zeros(0, dtype=np.int32), cut_offsets)
    del cut
    lengths = np.zeros(len(keys), dtype=np.int64)
    lengths[fresh] = np.diff(fresh_offsets)
    old = (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32))
    if len(kept):
        old = _gather(prev.offsets, rows[kept], prev.token_ids, prev.counts)
        lengths[kept] = old[0]
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.zeros(int(offsets[-1]), dtype=np.int32)
    counts = np.zeros(int(offsets[-1]), dtype=np.int32)
    for picked, (n, got_ids, got_counts) in ((kept, old), (fresh, (lengths[fresh], fresh_ids, fresh_counts))):
        at = np.repeat(offsets[picked], n) + _ramp(n)
        ids[at], counts[at] = got_ids, got_counts
    _give_back_memory()
    bm25, ids = BM25.from_counts(ids, counts, offsets, vocab.words())
    bm25.save(build)
    np.savez(build / "tokens.npz", ids=ids, counts=counts, offsets=offsets)
    (build / "chunk_keys.json").write_bytes(orjson.dumps(keys))


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """0, 1, …, n-1 for each length n, concatenated."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def write_build(build: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter,
                chroma_url: str | None = None, prev: PreviousBuild | None = None,
                signatures: dict | None = None, progress: Progress = no_progress) -> dict:
    """Everything of one build but its manifest, into the folder `build`. Chroma is filled by a
    background thread while the words are cut (its Rust add releases the GIL)."""
    t0 = time.perf_counter()
    # An embedded store is copied from the previous build when most documents are unchanged
    # (a file copy is far cheaper than re-adding 100k vectors); a server gets a new collection.
    writer = _VectorWriter(build, embedder, chroma_url, prev,
                           len(corpus.reused) >= REUSE_STORE_SHARE * max(1, len(corpus.documents)), progress)
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
        t2 = time.perf_counter()
        _write_texts(build, corpus, chunks, spans)
    except BaseException:
        writer.abort()  # let Chroma finish with the folder before it is removed
        raise
    writer.finish()
    t3 = time.perf_counter()
    return {
        "corpus": corpus.root, "chroma": chroma_url or "embedded",
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
    write_jsonl(build / "clauses.jsonl", corpus.clauses)
    (build / "chunk_spans.json").write_bytes(orjson.dumps(spans))
    (build / "chunks.json").write_bytes(orjson.dumps([[ch.clause, ch.text] for ch in chunks]))
    write_jsonl(build / "documents.jsonl", corpus.documents)
