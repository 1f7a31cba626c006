"""The public Python API (../shared/CONTRACT.md): Assistant.load(), .ask()."""
from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.answer.pipeline import Pipeline
from assistant.documents.corpus import load_corpus
from assistant.store.embedders import Embedder, make_embedder
from assistant.understand.terms import lexical_weight
from assistant.understand.cues import Cues
from assistant.answer.calibration import GateModel
from assistant.store.index import FORMAT as INDEX_FORMAT
from assistant.store.index import (Index, IndexUnusable, StaleIndex, build_index, current_build, live_signatures,
                    open_index, previous_documents)
from assistant.progress import Progress, no_progress
from assistant.understand.lexicon import Lexicon
from assistant.models import Answer
from assistant.understand.query import CONTEXT_TERMS
from assistant.answer.parts import DocumentPart, load_parts
from assistant.understand.places import Gazetteer
from assistant.retrieve.hybrid import HybridRetriever
from assistant.calculate.rules import Rule, load_rules
from assistant.settings import Settings
from assistant.documents.structure import StructureRules
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats

log = logging.getLogger(__name__)
RETIRE_SECONDS = 30.0  # after a build switch, the old build's store stays open this long for answers under way
ANSWER_CACHE = 4096  # recent answers kept per process (hotlines hear the same questions often)


@dataclass
class Toolkit:
    """The loaded data files and models an index is built and queried with."""

    settings: Settings
    embedder: Embedder
    lexicon: Lexicon
    segmenter: Segmenter
    structure: StructureRules
    rules: list[Rule]
    stats: WordStats
    gazetteer: Gazetteer
    parts: tuple[DocumentPart, ...] = ()
    cues: Cues | None = None
    gate_model: GateModel | None = None

    @classmethod
    def load(cls, settings: Settings) -> "Toolkit":
        data = settings.data_dir
        lexicon = Lexicon.load(data / "lexicon.toml")
        seg = Segmenter(lexicon)
        stats = WordStats.load(data / "wordstats.tsv", seg.general_frequency, seg.general_total)
        return cls(settings, make_embedder(settings.embedder, settings.project_root), lexicon,
                   seg, StructureRules.load(data / "structure.toml"), load_rules(data / "rules"),
                   stats, Gazetteer.load(data / "places.toml"), load_parts(data / "parts.toml"),
                   Cues.load(data / "cues.toml", settings.home_region), GateModel.load(data / "gate.toml"))

    def signatures(self) -> dict:
        """What parsed documents and cut words depend on besides the text: reuse across builds
        only while these are unchanged."""
        data = self.settings.data_dir

        def digest(*files: Path) -> str:
            h = hashlib.sha1(str(INDEX_FORMAT).encode())
            for f in files:
                h.update(f.read_bytes() if f.exists() else b"")
            return h.hexdigest()

        return {"structure": digest(data / "structure.toml"),
                "lexicon": digest(data / "lexicon.toml") + ":" + self.segmenter.name}

    def build(self, corpus_dir: Path | list[Path], index_dir: Path, *, incremental: bool = False,
              exclude: set[str] = frozenset(), progress: Progress = no_progress) -> dict:
        """exclude: document ids left out (removed with `corpus remove` from an operator folder).
        incremental: documents, words and vectors that did not change come from the live build."""
        signatures = self.signatures()
        known = previous_documents(index_dir) if incremental and \
            live_signatures(index_dir).get("structure") == signatures["structure"] else None
        corpus = load_corpus(corpus_dir, self.structure, known, progress)
        if exclude:
            corpus.documents = [d for d in corpus.documents if d.doc_id not in exclude]
            corpus.clauses = [c for c in corpus.clauses if c.doc_id not in exclude]
        return build_index(index_dir, corpus, self.embedder, self.segmenter, self.settings.chroma_url,
                           incremental=incremental, signatures=signatures, progress=progress)


class Assistant:
    def __init__(self, index: Index, toolkit: Toolkit):
        self.toolkit = toolkit
        self._reload_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._answers: OrderedDict = OrderedDict()
        try:
            self._current_mtime = (index.directory.parent.parent / "CURRENT").stat().st_mtime_ns
        except OSError:
            self._current_mtime = None
        self._wire(index)

    def _wire(self, index: Index) -> None:
        toolkit = self.toolkit
        doc_ids = {d.doc_id for d in index.documents}
        rules = [r for r in toolkit.rules if r.doc_id in doc_ids]
        weigh = functools.partial(lexical_weight, seg=toolkit.segmenter, lexicon=toolkit.lexicon,
                                  stats=toolkit.stats, context_terms=CONTEXT_TERMS)
        retriever = HybridRetriever(index, toolkit.embedder, toolkit.segmenter,
                                    word_weight=functools.lru_cache(maxsize=100_000)(weigh))
        answerer = Pipeline(index, retriever, toolkit.segmenter, toolkit.lexicon, rules,
                            toolkit.settings, toolkit.stats, toolkit.gazetteer, toolkit.parts, toolkit.cues,
                            toolkit.gate_model, toolkit.structure.subsection, toolkit.structure.version_marker)
        self.offline = answerer
        if toolkit.settings.llm == "openai":
            answerer = self._guarded(answerer, retriever, rules)
        # One assignment each: a concurrent ask sees the old trio or the new one.
        self.index, self.rules, self.answerer = index, rules, answerer

    def _guarded(self, offline, retriever, rules):
        """The model answerer around the offline one (assistant/llm/chain.py), one client per process
        so the circuit breaker remembers failures across re-indexes."""
        from assistant.llm.chain import GuardedChain, PolicyRetriever
        from assistant.llm.client import ModelClient, chat_model

        settings = self.toolkit.settings
        if getattr(self, "_model_client", None) is None:
            self._model_client = ModelClient(chat_model(settings), settings.llm_model,
                                             secrets=(settings.llm_api_key,))
        return GuardedChain(offline, self._model_client, PolicyRetriever(hybrid=retriever), rules,
                            offline.clauses_by_key)

    @property
    def answerer_name(self) -> str:
        settings = self.toolkit.settings
        return f"llm:{settings.llm_model}" if settings.llm == "openai" else "offline"

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None,
             corpus_dir: str | Path | None = None) -> "Assistant":
        """Open the index (building it from the corpus first if there is none)."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = replace(settings, index_dir=Path(index_dir))
        if corpus_dir is not None:
            settings = replace(settings, corpus_dir=Path(corpus_dir))
        toolkit = Toolkit.load(settings)
        from assistant.store.index import build_lock, claim_directory, needs_first_build

        if needs_first_build(settings.index_dir):
            claim_directory(settings.index_dir)
            with build_lock(settings.index_dir):  # a second process starting now waits for this build
                if needs_first_build(settings.index_dir):
                    log.info("no index at %s: building it from %s", settings.index_dir, settings.corpus_dir)
                    toolkit.build(settings.corpus_dir, settings.index_dir)
        try:
            index = open_index(settings.index_dir, toolkit.embedder, settings.chroma_url)
            words = index.manifest.get("signatures") or {}
            if words and words != toolkit.signatures():
                # Cut with another lexicon or structure: its words no longer match the questions'.
                index.close()
                raise StaleIndex("索引的分词词表或结构规则已更新", index.manifest.get("corpus"))
        except StaleIndex as exc:
            index = cls._rebuild(toolkit, settings, exc)
        log.info("index %s: %d documents, %d clauses, embedder %s", index.directory,
                 len(index.documents), len(index.clauses), index.embedder_name)
        return cls(index, toolkit)

    @staticmethod
    def _rebuild(toolkit: "Toolkit", settings: Settings, exc: StaleIndex) -> Index:
        """Rebuild a stale index from the corpus it recorded, leaving out what was removed from it."""
        from assistant.documents.managed import excluded
        from assistant.store.index import build_lock

        recorded = [Path(p) for p in (exc.corpus or "").split(os.pathsep) if p]
        missing = [str(p) for p in recorded if not p.exists()]
        if not recorded or missing:
            # Rebuilding from anything else would silently drop the documents it held.
            raise IndexUnusable(f"{exc}；原语料目录不存在（{'、'.join(missing) or '未记录'}），"
                                "无法自动重建，请用 python -m assistant index --corpus … 重建") from exc
        log.warning("%s：按原语料 %s 重建索引", exc, "、".join(map(str, recorded)))
        with build_lock(settings.index_dir):
            toolkit.build(recorded, settings.index_dir, incremental=True, exclude=excluded(settings.index_dir))
        return open_index(settings.index_dir, toolkit.embedder, settings.chroma_url)

    def refresh(self) -> bool:
        """Switch to a newer build if a re-index has swapped CURRENT (no restart needed). The old
        build stays on disk for a while (index.KEEP_BUILDS), so a reader mid-answer is safe."""
        index_dir = self.index.directory.parent.parent
        try:
            mtime = (index_dir / "CURRENT").stat().st_mtime_ns
        except OSError:
            return False
        if mtime == self._current_mtime:
            return False
        with self._reload_lock:
            if mtime == self._current_mtime:
                return False
            self._current_mtime = mtime
            if current_build(index_dir) == self.index.directory.name:
                return False
            try:
                index = open_index(index_dir, self.toolkit.embedder, self.toolkit.settings.chroma_url)
            except IndexUnusable as exc:
                log.error("新索引不可用，继续使用当前索引：%s", exc)
                return False
            old = self.index
            self._wire(index)
            # The old build's Chroma handles are let go once answers begun on it are done (its
            # store also waits for searches under way): each switch used to keep ~11 descriptors.
            closer = threading.Timer(RETIRE_SECONDS, old.close)
            closer.daemon = True
            closer.start()
            log.info("switched to index build %s", index.directory.name)
            return True

    def close(self) -> None:
        """Let go of the index's Chroma handles (a process that is done with this assistant)."""
        self.index.close()

    @property
    def embedder_name(self) -> str:
        return self.toolkit.embedder.name

    def ask(self, question: str, history: list | tuple | None = None) -> Answer:
        self.refresh()
        answerer = self.answerer
        try:  # answers are deterministic for a build: the same question is answered once
            key = (self.index.directory.name, question, repr(history or []))
            hash(key)
        except TypeError:
            return answerer.answer(question, history or [])
        with self._cache_lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
        if cached is None:
            cached = answerer.answer(question, history or [])
            with self._cache_lock:
                self._answers[key] = cached
                while len(self._answers) > ANSWER_CACHE:
                    self._answers.popitem(last=False)
        return copy.deepcopy(cached)  # callers may change what they get

    def search(self, text: str, k: int = 10) -> list:
        """The ranked clauses for a text, without the answer layer (`python -m assistant search`,
        the app's 原文 search): hybrid retrieval over every loaded document, best first."""
        self.refresh()
        index = self.index
        searcher = getattr(self, "_searcher", None)
        if searcher is None or searcher.index is not index:
            searcher = self._searcher = HybridRetriever(index, self.toolkit.embedder, self.toolkit.segmenter)
        return searcher.search(text, k=k)

    def check(self, profile: dict):
        """政策体检 for an enterprise profile (raises eligibility.ProfileError on bad fields)."""
        from assistant.calculate.eligibility import check_profile

        return check_profile(profile, self.rules, {c.key: c.label for c in self.index.clauses})

    def info(self) -> dict:
        """What is loaded (CONTRACT: `python -m assistant info --json`), after switching to a newer
        build if a re-index swapped one in (the app's /api/info never shows the old build)."""
        from importlib import metadata

        self.refresh()
        def version(pkg: str) -> str | None:
            try:
                return metadata.version(pkg)
            except metadata.PackageNotFoundError:
                return None

        counts: dict[str, int] = {}
        for c in self.index.clauses:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        region_of = self.offline.region_of
        return {
            "embedder": self.toolkit.embedder.name,
            "embedder_path": getattr(self.toolkit.embedder, "path", None),
            "index": str(self.index.directory.parent.parent),
            "build": self.index.directory.name,
            "documents": [{"doc_id": d.doc_id, "title": d.title, "region": region_of.get(d.doc_id),
                           "clauses": counts.get(d.doc_id, 0)} for d in self.index.documents],
            "clauses": len(self.index.clauses),
            "answerer": self.answerer_name,
            "vectors_available": bool(self.index.dense.available),  # Chroma reachable (health checks)
            "versions": {p: version(p) for p in ("zjtx-assistant", "chromadb", "langchain-core",
                                                 "sentence-transformers", "gradio", "jieba", "opencc")},
        }

    def documents(self):
        """The loaded documents (for source browsing and quote checks)."""
        return list(self.index.documents)
