"""Build and open the clause index: clauses + chunks on disk, BM25 beside Chroma.

Layout: INDEX/CURRENT names the live build; INDEX/builds/<id>/ holds one complete build. A
re-index writes a new build and only then swaps CURRENT (os.replace is atomic), so a failed
re-index leaves the old index serving, and a running process keeps reading its own build.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from .corpus import LoadedCorpus
from .embedders import Embedder
from .lexical import BM25
from .models import Clause, Document
from .textnorm import sentences
from .tokenize import Segmenter
from .vectorstore import ChromaStore

log = logging.getLogger(__name__)
FORMAT = 2
CHUNK_CHARS = 150


class IndexUnusable(RuntimeError):
    """The index is missing, unreadable or built with another embedder."""


class StaleIndex(IndexUnusable):
    """A sound index built by an older format or another embedder: rebuild it."""

    def __init__(self, message: str, corpus: str | None):
        super().__init__(message)
        self.corpus = corpus


@dataclass(frozen=True)
class Chunk:
    clause: int  # position in the clause list
    text: str


def chunk_clause(clause: Clause) -> list[str]:
    """Sentence groups of at most ~CHUNK_CHARS characters; a short clause is one chunk."""
    if len(clause.text) <= CHUNK_CHARS:
        return [clause.text]
    chunks, current = [], ""
    for sent in sentences(clause.text.replace("\n\n", "")):
        if current and len(current) + len(sent) > CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current += sent
    if current:
        chunks.append(current)
    return chunks


def _clause_to_json(c: Clause) -> dict:
    d = asdict(c)
    d["heading_path"], d["span"] = list(c.heading_path), list(c.span)
    return d


def _clause_from_json(d: dict) -> Clause:
    return Clause(d["doc_id"], d["doc_title"], d["section"], d["label"], tuple(d["heading_path"]),
                  d["text"], tuple(d["span"]))


@dataclass
class Index:
    directory: Path
    manifest: dict
    documents: list[Document]
    clauses: list[Clause]
    chunks: list[Chunk]
    bm25: BM25
    dense: ChromaStore

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]

    def primary_doc_ids(self) -> list[str]:
        """Documents asked first: policy measures (一、…) unless their metadata says otherwise.
        Regulations answer what the policies do not cover."""
        return [d.doc_id for d in self.documents if d.meta.get("primary", d.style == "policy")]


def _write_build(build: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter) -> dict:
    chunks = [Chunk(i, t) for i, c in enumerate(corpus.clauses) for t in chunk_clause(c)]
    # Label and heading path go into what is matched: 第十五条 and 数智转型 are words people use.
    matched = [f"{' '.join(corpus.clauses[ch.clause].heading_path)} {ch.text}" for ch in chunks]
    t0 = time.perf_counter()
    BM25.build([seg.words(t) for t in matched]).save(build)
    t1 = time.perf_counter()
    vectors = embedder.embed(matched)
    store = ChromaStore(build / "chroma", embedder)
    store.add([str(i) for i in range(len(chunks))], [ch.text for ch in chunks], vectors,
              [corpus.clauses[ch.clause].doc_id for ch in chunks])
    t2 = time.perf_counter()
    with (build / "clauses.jsonl").open("w", encoding="utf-8") as f:
        for c in corpus.clauses:
            f.write(json.dumps(_clause_to_json(c), ensure_ascii=False) + "\n")
    (build / "chunks.json").write_text(json.dumps([asdict(ch) for ch in chunks], ensure_ascii=False),
                                       encoding="utf-8")
    with (build / "documents.jsonl").open("w", encoding="utf-8") as f:
        for d in corpus.documents:
            f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
    manifest = {
        "format": FORMAT, "embedder": embedder.name, "corpus": corpus.root, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": len(corpus.documents), "clauses": len(corpus.clauses), "chunks": len(chunks),
        "errors": [f"{e.path}: {e.reason}" for e in corpus.errors],
        "seconds": {"lexical": round(t1 - t0, 2), "dense": round(t2 - t1, 2)},
    }
    (build / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                         encoding="utf-8")
    return manifest


def build_index(index_dir: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter) -> dict:
    if not corpus.clauses:
        raise IndexUnusable("语料中没有可索引的条款，旧索引保持不变")
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    build = builds / build_id
    build.mkdir()
    try:
        manifest = _write_build(build, corpus, embedder, seg)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    tmp = index_dir / f"CURRENT.{build_id}"
    tmp.write_text(build_id, encoding="utf-8")
    previous = current_build(index_dir)
    os.replace(tmp, index_dir / "CURRENT")
    _prune(builds, keep={build_id, previous})
    log.info("index built at %s: %s", build, manifest)
    return manifest


def _prune(builds: Path, keep: set) -> None:
    """Keep the new build and the one before it (a running process may still read it)."""
    for old in builds.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def current_build(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def exists(index_dir: Path) -> bool:
    build = current_build(index_dir)
    return bool(build) and (index_dir / "builds" / build / "manifest.json").exists()


def open_index(index_dir: Path, embedder: Embedder) -> Index:
    build_id = current_build(index_dir)
    if not build_id:
        raise IndexUnusable(f"索引不存在：{index_dir}")
    build = index_dir / "builds" / build_id
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"索引已损坏：{build}（{exc}）") from exc
    if manifest.get("format") != FORMAT:
        raise StaleIndex(f"索引格式版本不符：{build}，请重建索引", manifest.get("corpus"))
    if manifest["embedder"] != embedder.name:
        raise StaleIndex(f"索引由向量模型 {manifest['embedder']} 构建，当前配置为 {embedder.name}，请重建索引",
                         manifest.get("corpus"))
    try:
        clauses = [_clause_from_json(json.loads(ln)) for ln in
                   (build / "clauses.jsonl").read_text(encoding="utf-8").splitlines() if ln]
        chunks = [Chunk(**d) for d in json.loads((build / "chunks.json").read_text(encoding="utf-8"))]
        documents = [Document(**json.loads(ln)) for ln in
                     (build / "documents.jsonl").read_text(encoding="utf-8").splitlines() if ln]
        bm25 = BM25.load(build)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnusable(f"索引已损坏：{build}（{exc}）") from exc
    return Index(build, manifest, documents, clauses, chunks, bm25, ChromaStore(build / "chroma", embedder))
