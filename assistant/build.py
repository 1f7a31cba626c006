"""Writing one build: chunks → words (jieba, in worker processes) and vectors (Chroma, filled
by a background thread), reusing what the previous build computed for text that did not change.

Why this shape: at full size (1,900 regulations, ~110k chunks) jieba is ~50 CPU-seconds and
Chroma's add ~35; Chroma's Rust add releases the GIL, so the two run side by side on the two
cores. Words are stored as integer ids (a flat array), never as lists of Python strings, which is
what kept the old build at 1.5 GB.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .corpus import LoadedCorpus
from .embedders import Embedder
from .lexical import BM25
from .models import Clause
from .progress import Progress, no_progress
from .textnorm import sentences
from .tokenize import Segmenter
from .vectorstore import ChromaStore

log = logging.getLogger(__name__)
CHUNK_CHARS = 150
EMBED_BATCH = 2048
REUSE_STORE_SHARE = 0.5  # copy the previous embedded store when at least this share is kept

@dataclass(frozen=True)
class Chunk:
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


def chunk_key(matched_text: str) -> str:
    """Content address of a chunk: its id in Chroma, so unchanged text keeps its vector."""
    return hashlib.sha1(matched_text.encode("utf-8")).hexdigest()


def clause_to_json(c: Clause) -> dict:
    d = asdict(c)
    d["heading_path"], d["span"] = list(c.heading_path), list(c.span)
    return d


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
    token_ids: np.ndarray
    offsets: np.ndarray
    vectors: np.ndarray  # memory-mapped, one row per chunk
    position: dict[str, int]  # chunk key → its first row

    @classmethod
    def open(cls, build: Path) -> "PreviousBuild | None":
        try:
            manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
            keys = json.loads((build / "chunk_keys.json").read_text(encoding="utf-8"))
            vocab_map = json.loads((build / "bm25_vocab.json").read_text(encoding="utf-8"))
            with np.load(build / "tokens.npz") as z:
                token_ids, offsets = z["ids"], z["offsets"]
            vectors = np.load(build / "vectors.npy", mmap_mode="r")
        except (OSError, ValueError, KeyError) as exc:
            log.info("nothing reusable in %s: %s", build, exc)
            return None
        if len(keys) != len(offsets) - 1 or vectors.shape[0] != len(keys):
            return None
        vocab = [""] * len(vocab_map)
        for word, i in vocab_map.items():
            vocab[i] = word
        position: dict[str, int] = {}
        for i, k in enumerate(keys):
            position.setdefault(k, i)
        return cls(build, manifest, keys, vocab, token_ids, offsets, vectors, position)

    def words_of(self, row: int) -> np.ndarray:
        return self.token_ids[self.offsets[row]:self.offsets[row + 1]]


class _Vocabulary:
    def __init__(self):
        self.ids: dict[str, int] = {}

    def encode(self, words) -> np.ndarray:
        ids = self.ids
        return np.fromiter((ids.setdefault(w, len(ids)) for w in words), dtype=np.int32)

    def words(self) -> list[str]:
        out = [""] * len(self.ids)
        for w, i in self.ids.items():
            out[i] = w
        return out


class _Rows:
    """vectors[rows] sliced lazily, batch by batch."""

    def __init__(self, vectors: np.ndarray, rows: list[int]):
        self.vectors, self.rows = vectors, rows

    def __getitem__(self, s: slice) -> np.ndarray:
        return self.vectors[self.rows[s]]


class _VectorWriter(threading.Thread):
    """Fills Chroma while the main thread cuts words (the Rust add releases the GIL)."""

    def __init__(self, store: ChromaStore, delete: list[str], ids: list[str], vectors: np.ndarray,
                 rows: list[int], progress: Progress):
        """ids[i]'s vector is vectors[rows[i]] (rows picked per batch: no copy of the matrix)."""
        super().__init__(name="chroma-writer", daemon=True)
        self.store, self.delete, self.ids, self.vectors, self.rows = store, delete, ids, vectors, rows
        self.progress, self.error = progress, None

    def run(self) -> None:
        try:
            if self.delete:
                self.store.delete(self.delete)
            self.store.add(self.ids, _Rows(self.vectors, self.rows),
                           lambda done: self.progress("向量入库", done, len(self.ids)))
        except BaseException as exc:  # re-raised in the building thread
            self.error = exc
        finally:
            self.store.close()  # the build process lets go of Chroma's in-memory index (~150 MB)
            self.vectors = None  # and of the vector matrix (~115 MB), saved in vectors.npy

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


def _store_for(build: Path, embedder: Embedder, chroma_url: str | None, keys: list[str],
               prev: PreviousBuild | None) -> tuple[ChromaStore, list[str], set[str]]:
    """The new build's vector store, and what must be deleted from / is already in it. An
    embedded store of a mostly unchanged corpus is copied from the previous build (a file copy
    is far cheaper than re-adding 100k vectors); a server gets a new collection per build."""
    wanted = set(keys)
    if prev is not None and chroma_url is None and prev.manifest.get("chroma") == "embedded":
        had = set(prev.position)
        if len(had & wanted) >= REUSE_STORE_SHARE * max(1, len(wanted)):
            shutil.copytree(prev.directory / "chroma", build / "chroma")
            return ChromaStore(build / "chroma", embedder), sorted(had - wanted), had & wanted
    return ChromaStore(build / "chroma", embedder, chroma_url), [], set()


def _vectors(build: Path, matched: list[str], keys: list[str], prev: PreviousBuild | None,
             embedder: Embedder, progress: Progress) -> tuple[np.ndarray, int]:
    """One vector per chunk, saved as vectors.npy: reused by key, the rest embedded in batches."""
    old = prev.position if prev is not None else {}
    vectors = np.zeros((len(keys), embedder.dim), dtype=np.float32)
    fresh = [i for i, k in enumerate(keys) if k not in old]
    for i, k in enumerate(keys):
        if k in old:
            vectors[i] = prev.vectors[old[k]]
    if fresh:
        vectors[fresh] = _embed([matched[i] for i in fresh], embedder, progress)
    np.save(build / "vectors.npy", vectors)
    _give_back_memory()
    return vectors, len(fresh)


def _start_vector_writer(build: Path, embedder: Embedder, chroma_url: str | None, keys: list[str],
                         vectors: np.ndarray, prev: PreviousBuild | None, progress: Progress) -> _VectorWriter:
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    store, delete, present = _store_for(build, embedder, chroma_url, keys, prev)
    to_add = [k for k in first if k not in present]
    writer = _VectorWriter(store, delete, to_add, vectors, [first[k] for k in to_add], progress)
    writer.start()
    return writer


def _write_words(build: Path, matched: list[str], keys: list[str], prev: PreviousBuild | None,
                 seg: Segmenter, progress: Progress) -> None:
    """The lexical index: words of each chunk as ids (tokens.npz), BM25 over them. prev: a
    build whose words were cut the same way; its chunks' words are reused by key."""
    old = prev.position if prev is not None else {}
    vocab = _Vocabulary()
    remap = np.asarray([vocab.ids.setdefault(w, len(vocab.ids)) for w in prev.vocab],
                       dtype=np.int32) if prev is not None else None
    cut_rows = [i for i, k in enumerate(keys) if k not in old]
    cut = dict(zip(cut_rows, _cut_words([matched[i] for i in cut_rows], seg, vocab, progress)))
    per_chunk = [cut[i] if i in cut else remap[prev.words_of(old[k])] for i, k in enumerate(keys)]
    del cut
    offsets = np.zeros(len(per_chunk) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in per_chunk], out=offsets[1:])
    flat = np.concatenate(per_chunk) if per_chunk else np.zeros(0, dtype=np.int32)
    del per_chunk
    _give_back_memory()
    bm25, flat = BM25.from_ids(flat, offsets, vocab.words())
    bm25.save(build)
    np.savez(build / "tokens.npz", ids=flat, offsets=offsets)
    (build / "chunk_keys.json").write_text(json.dumps(keys), encoding="utf-8")


def write_build(build: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter,
                chroma_url: str | None = None, prev: PreviousBuild | None = None,
                signatures: dict | None = None, progress: Progress = no_progress) -> dict:
    """Everything of one build but its manifest, into the folder `build`. Chroma is filled by a
    background thread while the words are cut (its Rust add releases the GIL)."""
    t0 = time.perf_counter()
    chunks = [Chunk(i, t) for i, c in enumerate(corpus.clauses) for t in chunk_clause(c)]
    # Label and heading path go into what is matched: 第十五条 and 数智转型 are words people use.
    matched = [f"{' '.join(corpus.clauses[ch.clause].heading_path)} {ch.text}" for ch in chunks]
    keys = [chunk_key(t) for t in matched]
    vectors, embedded = _vectors(build, matched, keys, prev, embedder, progress)
    t1 = time.perf_counter()
    writer = _start_vector_writer(build, embedder, chroma_url, keys, vectors, prev, progress)
    del vectors  # the writer holds the only reference and drops it when Chroma has them
    same_words = prev is not None and prev.manifest.get("signatures", {}).get("lexicon") == \
        (signatures or {}).get("lexicon")
    try:
        _write_words(build, matched, keys, prev if same_words else None, seg, progress)
        del matched
        t2 = time.perf_counter()
        _write_texts(build, corpus, chunks)
    except BaseException:
        writer.join()  # let Chroma finish with the folder before it is removed
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


def _write_texts(build: Path, corpus: LoadedCorpus, chunks: list[Chunk]) -> None:
    with (build / "clauses.jsonl").open("w", encoding="utf-8") as f:
        for c in corpus.clauses:
            f.write(json.dumps(clause_to_json(c), ensure_ascii=False) + "\n")
    with (build / "chunks.json").open("w", encoding="utf-8") as f:  # streamed: ~40 MB at full size
        f.write("[")
        for i, ch in enumerate(chunks):
            f.write(("," if i else "") + json.dumps([ch.clause, ch.text], ensure_ascii=False))
        f.write("]")
    with (build / "documents.jsonl").open("w", encoding="utf-8") as f:
        for d in corpus.documents:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
