"""Build and open the clause index: clauses + chunks on disk, BM25 beside Chroma.

Layout: INDEX/CURRENT names the live build; INDEX/builds/<id>/ holds one complete build. A
re-index writes a new build and only then swaps CURRENT (os.replace is atomic), so a failed
re-index leaves the old index serving, and a running process keeps reading its own build.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.store.build import Chunk, PreviousBuild, ServerWrites, chunk_clause, clauses_from_rows, read_json, read_jsonl, write_build
from assistant.documents.corpus import LoadedCorpus
from assistant.documents.managed import kept_versions
from assistant.documents.versions import resolve as resolve_versions
from assistant.store.embedders import Embedder
from assistant.store.lexical import BM25, CharGrams
from assistant.models import Clause, Document
from assistant.progress import Progress, no_progress
from assistant.understand.tokenize import Segmenter
from assistant.store.vectorstore import ChromaStore, is_outage, legacy_server_collection

__all__ = ["Chunk", "chunk_clause", "Index", "IndexUnusable", "NotAnIndex", "StaleIndex", "build_index",
           "open_index", "current_build", "exists", "is_ours", "is_empty", "claim_directory", "build_lock",
           "needs_first_build"]

log = logging.getLogger(__name__)
FORMAT = 4  # 3: chunk keys as Chroma ids, words as ids in tokens.npz, vectors.npy; 4: grams.npz
# Our mark on an index directory: nothing in a directory without it is ever written or removed.
MARKER = ".zjtx-index"
KEEP_BUILDS = 3  # the live build and the two before it: running processes may still read them
_BUILD_NAME = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")
LOCK_WAIT_SECONDS = 600
LOCK_FILE = ".build.lock"


class IndexUnusable(RuntimeError):
    """The index is missing, unreadable or built with another embedder."""


class NotAnIndex(IndexUnusable):
    """A directory with other content and without our marker: refused, never touched."""


class StaleIndex(IndexUnusable):
    """A sound index built by an older format or another embedder: rebuild it."""

    def __init__(self, message: str, corpus: str | None):
        super().__init__(message)
        self.corpus = corpus


@dataclass
class Index:
    directory: Path
    manifest: dict
    documents: list[Document]
    clauses: list[Clause]
    chunks: list[Chunk]
    bm25: BM25
    dense: ChromaStore
    keys: list[str]  # chunk → its key in Chroma (identical text shares one key)
    vectors: np.ndarray  # chunk → its vector (memory-mapped): exact scoring within a few documents
    grams: CharGrams  # the chunks' character bigrams (lexical.CharGrams)

    def __post_init__(self):
        self.rows_of_key: dict[str, list[int]] = {}
        for i, k in enumerate(self.keys):
            self.rows_of_key.setdefault(k, []).append(i)

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]

    @property
    def superseded(self) -> list[dict]:
        """Older versions of live documents, left out of this build (documents/versions.py)."""
        return list(self.manifest.get("superseded", []))

    def close(self) -> None:
        """Let go of the vector store's handles (Chroma's sqlite files and loaded graph); searches
        under way finish first, later ones find no dense hits."""
        self.dense.close()

    def primary_doc_ids(self) -> list[str]:
        """Documents asked first: policy measures (一、…) unless their metadata says otherwise.
        Regulations answer what the policies do not cover; so do a people's congress's
        decisions, which are numbered like measures but carry an adoption record (通过…)."""
        return [d.doc_id for d in self.documents
                if d.meta.get("primary", d.style == "policy" and not d.meta.get("history"))]


def previous_documents(index_dir: Path) -> dict[str, tuple[Document, list[Clause]]]:
    """The live build's documents and their clauses by resolved source path, for reuse by a build
    that only adds or removes a few documents."""
    build_id = current_build(index_dir)
    if not build_id:
        return {}
    build = index_dir / "builds" / build_id
    try:
        docs = [Document(**d) for d in read_jsonl(build / "documents.jsonl")]
        clauses: dict[str, list[Clause]] = {}
        for c in clauses_from_rows(read_jsonl(build / "clauses.jsonl"), {d.doc_id: d for d in docs}):
            clauses.setdefault(c.doc_id, []).append(c)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("no reusable documents in %s: %s", build, exc)
        return {}
    return {str(Path(d.source_path).resolve()): (d, clauses.get(d.doc_id, [])) for d in docs
            if d.source_path and d.meta.get("fingerprint")}


def live_signatures(index_dir: Path) -> dict:
    build_id = current_build(index_dir)
    try:
        manifest = json.loads((index_dir / "builds" / str(build_id) / "manifest.json").read_text(encoding="utf-8"))
        return manifest.get("signatures", {}) if manifest.get("format") == FORMAT else {}
    except (OSError, ValueError):
        return {}


def _built_by_us(index_dir: Path) -> bool:
    """An index from before the marker existed: CURRENT, and builds/ holding only our builds."""
    builds = index_dir / "builds"
    if not (index_dir / "CURRENT").is_file() or not builds.is_dir():
        return False
    entries = list(builds.iterdir())
    return bool(entries) and all(_BUILD_NAME.match(d.name) and (d / "manifest.json").exists()
                                 for d in entries)


def claim_directory(index_dir: Path) -> None:
    """Make index_dir ours, or refuse: a missing or empty directory gets our marker; one with
    other content and no marker is somebody else's and stays untouched."""
    if (index_dir / MARKER).exists():
        return
    if _built_by_us(index_dir):
        (index_dir / MARKER).write_text("zjtx-assistant index directory\n", encoding="utf-8")
        return
    if index_dir.exists() and (not index_dir.is_dir() or any(index_dir.iterdir())):
        raise NotAnIndex(f"{index_dir} 不是本助手的索引目录（里面已有其他文件，且没有 {MARKER} 标记），"
                         "为避免误删，不会在其中建立或删除任何内容。请指定一个新的或空的目录。")
    index_dir.mkdir(parents=True, exist_ok=True)
    (index_dir / MARKER).write_text("zjtx-assistant index directory\n", encoding="utf-8")


class _Held:
    """This process's hold on one index directory's lock: re-entered by the thread that has it
    (a command holds it from reading the live state to the switch; the build inside takes it again)."""

    def __init__(self):
        self.owner = threading.RLock()
        self.depth = 0
        self.file = None


_held: dict[str, _Held] = {}
_held_guard = threading.Lock()


def _hold(index_dir: Path) -> _Held:
    with _held_guard:
        return _held.setdefault(str(index_dir.resolve()), _Held())


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = LOCK_WAIT_SECONDS):
    """One change at a time per index directory, across processes and threads: a build, or a
    whole `corpus add/remove` from reading the live state to the switch. A second one waits (up
    to wait_seconds, saying so once), then refuses with a message. An flock: the kernel lets go of
    it when its process dies, so a killed build never leaves the index locked."""
    held = _hold(index_dir)
    busy = IndexUnusable(f"另一个进程正在构建或修改索引（{index_dir}），请稍后再试")
    if not held.owner.acquire(timeout=wait_seconds):
        raise busy
    try:
        if held.depth == 0:
            f = open(index_dir / LOCK_FILE, "a+")
            try:
                _flock(f, index_dir, time.monotonic() + wait_seconds, busy)
            except BaseException:
                f.close()
                raise
            held.file = f
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                fcntl.flock(held.file, fcntl.LOCK_UN)
                held.file.close()
                held.file = None
    finally:
        held.owner.release()


def _flock(f, index_dir: Path, deadline: float, busy: Exception) -> None:
    announced = False
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise busy from None
            if not announced:
                log.warning("另一个进程正在构建或修改索引 %s，等待其完成…", index_dir)
                announced = True
            time.sleep(0.2)


def index_busy(index_dir: Path) -> bool:
    """Another process (or thread) is building or changing this index right now."""
    held = _hold(index_dir)
    if held.depth and held.owner.acquire(blocking=False):  # this very thread holds it
        held.owner.release()
        return False
    lock = index_dir / LOCK_FILE
    if not lock.exists():
        return False
    with open(lock, "rb") as f:  # read only: a reader may not be allowed to write here
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return held.depth > 0


def needs_first_build(index_dir: Path) -> bool:
    """No index yet: an empty directory, or ours with no live build and no finished one (a first
    build under way or killed). A finished build without CURRENT is damage, not a first start."""
    if is_empty(index_dir):
        return True
    if not is_ours(index_dir) or current_build(index_dir):
        return False
    builds = index_dir / "builds"
    return not builds.is_dir() or not any((d / "manifest.json").exists() for d in _our_builds(builds))


def build_index(index_dir: Path, corpus: LoadedCorpus, embedder: Embedder, seg: Segmenter,
                chroma_url: str | None = None, incremental: bool = False,
                signatures: dict | None = None, progress: Progress = no_progress) -> dict:
    """chroma_url: the vectors go to a `chroma run` server (one collection shared by the index's
    builds, vectors under content keys: an incremental build sends only new text) instead of
    the build folder; the lexical index and clauses stay in the build folder either way.
    incremental: words and vectors of unchanged chunks come from the live build.
    Of several versions of one document only the newest is built, unless the index keeps them
    all (documents/versions.py, documents/managed.py); the others are listed in the manifest."""
    if not corpus.clauses:
        raise IndexUnusable("语料中没有可索引的条款，旧索引保持不变")
    claim_directory(index_dir)
    with build_lock(index_dir):
        marker = corpus.structure.version_marker if corpus.structure is not None else None
        versions = resolve_versions(corpus.documents, corpus.clauses, marker, kept_versions(index_dir))
        corpus = replace(corpus, documents=versions.documents, clauses=versions.clauses)
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        _sweep_unfinished(builds)
        build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        build = builds / build_id
        build.mkdir()
        written = ServerWrites()
        tmp = index_dir / f"CURRENT.{build_id}"
        try:
            prev = _previous_build(index_dir, embedder) if incremental else None
            manifest = write_build(build, corpus, embedder, seg, chroma_url, prev, signatures, progress, written)
            manifest = {"format": FORMAT, "embedder": embedder.name, **manifest,
                        "superseded": versions.superseded, "kept_versions": versions.kept}
            _write_whole(build / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
            _write_whole(tmp, build_id)
            os.replace(tmp, index_dir / "CURRENT")
        except BaseException:
            tmp.unlink(missing_ok=True)
            shutil.rmtree(build, ignore_errors=True)
            if chroma_url and written.collection:
                _release_server_keys(builds, chroma_url, written.collection, written.added)
            raise
        _prune(builds, build_id)
    log.info("index built at %s: %s", build, manifest)
    return manifest


def _write_whole(path: Path, text: str) -> None:
    """Written and flushed to disk before it counts: a full disk fails here, not in a reader."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _sweep_unfinished(builds: Path) -> None:
    """Build folders a killed build left without a manifest (called under the lock, so none is
    being written): never live, never read."""
    for d in _our_builds(builds):
        if not (d / "manifest.json").exists():
            shutil.rmtree(d, ignore_errors=True)


def _previous_build(index_dir: Path, embedder: Embedder) -> PreviousBuild | None:
    build_id = current_build(index_dir)
    prev = PreviousBuild.open(index_dir / "builds" / build_id) if build_id else None
    if prev is None or prev.manifest.get("format") != FORMAT or prev.manifest.get("embedder") != embedder.name:
        return None
    return prev


def _our_builds(builds: Path) -> list[Path]:
    """Directories named like our builds, newest first."""
    return sorted((d for d in builds.iterdir() if d.is_dir() and _BUILD_NAME.match(d.name)),
                  key=lambda d: d.name, reverse=True)


def _prune(builds: Path, current: str) -> None:
    """Keep the newest KEEP_BUILDS builds (a running process may still read an older one until
    it switches); remove only directories named like our builds, and the server vectors no kept
    build uses."""
    ours = _our_builds(builds)
    keep = {current} | {d.name for d in ours[:KEEP_BUILDS]}
    for old in ours:
        if old.name not in keep:
            manifest = _manifest(old)
            server = manifest.get("chroma", "embedded")
            keys = _keys(old) if manifest.get("collection") else []
            shutil.rmtree(old, ignore_errors=True)
            if server == "embedded":
                continue
            if manifest.get("collection"):
                _release_server_keys(builds, server, manifest["collection"], keys)
            else:  # a build from before the shared collection had its own
                ChromaStore.drop_server_collection(server, legacy_server_collection(old.name))


def _manifest(build: Path) -> dict:
    try:
        return json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _keys(build: Path) -> list[str]:
    try:
        return read_json(build / "chunk_keys.json")
    except (OSError, ValueError):
        return []


def _release_server_keys(builds: Path, server: str, collection: str, candidates: list[str]) -> None:
    """Delete from a shared server collection the keys that no remaining build of this index
    uses; the whole collection when no build uses it any more."""
    users = [b for b in _our_builds(builds)
             if (m := _manifest(b)).get("chroma") == server and m.get("collection") == collection]
    if not users:
        ChromaStore.drop_server_collection(server, collection)
        return
    live: set[str] = set()
    for b in users:
        live.update(_keys(b))
    gone = [k for k in dict.fromkeys(candidates) if k not in live]
    if not gone:
        return
    store = None
    try:
        store = ChromaStore(builds / "unused", None, server, collection, create=False)
        store.delete(gone)
    except Exception as exc:  # an unreachable server: the keys stay, unused and harmless
        log.warning("could not remove %d unused vectors from %s on %s: %s", len(gone), collection, server, exc)
    finally:
        if store is not None:
            store.close()


def current_build(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def exists(index_dir: Path) -> bool:
    build = current_build(index_dir)
    return bool(build) and (index_dir / "builds" / build / "manifest.json").exists()


def is_ours(index_dir: Path) -> bool:
    return (index_dir / MARKER).exists()


def is_empty(index_dir: Path) -> bool:
    """Nothing there yet: safe to build into (a fresh index)."""
    return not index_dir.exists() or (index_dir.is_dir() and not any(
        p for p in index_dir.iterdir() if p.name not in (MARKER, LOCK_FILE)))


REBUILD_HINT = "请运行 python -m assistant index --corpus <文档目录> --index {dir} 重建索引"


def open_index(index_dir: Path, embedder: Embedder, chroma_url: str | None = None) -> Index:
    """chroma_url overrides the server the build recorded (the same server at another address)."""
    hint = REBUILD_HINT.format(dir=index_dir)
    if index_dir.exists() and not is_ours(index_dir) and any(index_dir.iterdir()):
        claim_directory(index_dir)  # adopts an older index of ours, refuses anything else
    build_id = current_build(index_dir)
    if not build_id and is_ours(index_dir) and index_busy(index_dir):
        # A first build under way in another process (the app started beside `index`): wait for
        # it rather than call its half-made folder damaged.
        log.warning("索引 %s 正在由另一个进程构建，等待其完成…", index_dir)
        with build_lock(index_dir):
            build_id = current_build(index_dir)
    if not build_id:
        if is_ours(index_dir) and (index_dir / "builds").exists():
            raise IndexUnusable(f"索引已损坏：{index_dir} 缺少 CURRENT（不知道哪个构建在用）。{hint}")
        raise IndexUnusable(f"索引不存在：{index_dir}")
    build = index_dir / "builds" / build_id
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"索引已损坏：{build} 的 manifest.json 无法读取（{exc}）。{hint}") from exc
    if manifest.get("format") != FORMAT:
        raise StaleIndex(f"索引格式版本不符：{build}，请重建索引", manifest.get("corpus"))
    if manifest["embedder"] != embedder.name:
        raise StaleIndex(f"索引由向量模型 {manifest['embedder']} 构建，当前配置为 {embedder.name}，请重建索引",
                         manifest.get("corpus"))
    try:
        documents = [Document(**d) for d in read_jsonl(build / "documents.jsonl")]
        clauses = clauses_from_rows(read_jsonl(build / "clauses.jsonl"), {d.doc_id: d for d in documents})
        chunks = [Chunk(c, t) for c, t in read_json(build / "chunks.json")]
        keys = read_json(build / "chunk_keys.json")
        vectors = np.load(build / "vectors.npy", mmap_mode="r")
        bm25 = BM25.load(build)
        grams = CharGrams.load(build)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise IndexUnusable(f"索引已损坏：{build}（{type(exc).__name__}: {exc}）。{hint}") from exc
    server = chroma_url or (manifest.get("chroma") if manifest.get("chroma", "embedded") != "embedded" else None)
    if server is None and not (build / "chroma").is_dir():
        raise IndexUnusable(f"索引已损坏：{build} 缺少向量库目录 chroma/。{hint}")
    collection = manifest.get("collection") or (legacy_server_collection(build_id) if server else None)
    try:  # an unreachable server or a full disk opens it unavailable: lexical answers meanwhile
        dense = ChromaStore(build / "chroma", embedder, server, collection, create=False, outages=True)
    except Exception as exc:  # collection missing, files damaged
        where = f"向量库服务器 {server}" if server else f"向量库 {build / 'chroma'}"
        raise IndexUnusable(f"{where} 无法使用（{type(exc).__name__}: {exc}）" + ("" if server else f"。{hint}")) from exc
    _verify(build, manifest, clauses, chunks, documents, bm25, grams, dense, keys, vectors, hint)
    return Index(build, manifest, documents, clauses, chunks, bm25, dense, keys, vectors, grams)


class _Skip(Exception):
    """The vector store is unavailable: its checks wait."""


def _verify(build, manifest, clauses, chunks, documents, bm25, grams, dense, keys, vectors, hint) -> None:
    """Counts agree between the manifest, clauses, chunks, both lexical fields and Chroma, and the vector index
    answers a query: a damaged index is a clear error, never a silently worse one."""
    problems = []
    if len(clauses) != manifest.get("clauses"):
        problems.append(f"条款 {len(clauses)} 条，清单记录 {manifest.get('clauses')} 条")
    if len(documents) != manifest.get("documents"):
        problems.append(f"文档 {len(documents)} 份，清单记录 {manifest.get('documents')} 份")
    if len(chunks) != manifest.get("chunks") or bm25.weights.shape[1] != len(chunks):
        problems.append(f"片段 {len(chunks)} 个，词法索引 {bm25.weights.shape[1]} 个，清单记录 {manifest.get('chunks')} 个")
    if grams.weights.shape[1] != len(chunks):
        problems.append(f"片段 {len(chunks)} 个，字词索引 {grams.weights.shape[1]} 个")
    if any(ch.clause >= len(clauses) for ch in chunks):
        problems.append("片段指向不存在的条款")
    if len(keys) != len(chunks) or vectors.shape != (len(chunks), dense.embedder.dim):
        problems.append(f"片段编号 {len(keys)} 个、向量 {vectors.shape[0]} 个，应为 {len(chunks)} 个")
    try:
        if not dense.available:  # unreachable now: its vectors go unchecked, its searches return nothing
            raise _Skip
        stored, expected = dense.count(), manifest.get("vectors")
        if manifest.get("collection"):  # shared by the index's builds: holds at least ours
            if not dense.holds(keys, expected):
                problems.append(f"向量库集合 {manifest['collection']} 缺少本构建的向量（{stored} 个，应至少 {expected} 个）")
        elif stored != expected:
            problems.append(f"向量库 {stored} 个向量，应为 {expected} 个")
        if chunks and not problems:
            dense.probe()
    except _Skip:
        pass
    except Exception as exc:  # chromadb raises many kinds on damaged HNSW or sqlite files
        if is_outage(exc):  # went away between opening and checking: not the index's fault
            log.warning("向量库暂不可用，未核对向量数量：%s（%s）", build, exc)
        else:
            problems.append(f"向量库无法读取（{type(exc).__name__}: {exc}）")
    if problems:
        raise IndexUnusable(f"索引已损坏：{build}：" + "；".join(problems) + f"。{hint}")
