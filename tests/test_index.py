"""The index: atomic swaps, a failed re-index leaves the old one serving, embedder checks."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.api import Toolkit
from assistant.documents.corpus import LoadedCorpus
from assistant.store.index import IndexUnusable, build_index, chunk_clause, current_build, open_index

ROOT = Path(__file__).resolve().parent.parent


class ExplodingEmbedder:
    name = "static:zh-retrieval"  # the default embedder's name: the failure is in embedding, not config
    dim = 256

    def embed(self, texts):
        raise RuntimeError("模型加载中断（模拟）")


def test_failed_reindex_leaves_the_old_index_serving(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit = Toolkit.load(s)
    toolkit.build(ROOT / "corpus", s.index_dir)
    before = current_build(s.index_dir)
    bot = Assistant.load(settings=s)
    broken = replace(toolkit, embedder=ExplodingEmbedder())
    with pytest.raises(RuntimeError):
        broken.build(ROOT / "corpus", s.index_dir)
    assert current_build(s.index_dir) == before
    assert len(list((s.index_dir / "builds").iterdir())) == 1  # the half-built one is gone
    assert bot.ask("首贷有补助吗？").citations[0].section == "4"
    assert Assistant.load(settings=s).ask("首贷有补助吗？").citations[0].section == "4"


def test_empty_corpus_does_not_replace_the_index(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit = Toolkit.load(s)
    toolkit.build(ROOT / "corpus", s.index_dir)
    before = current_build(s.index_dir)
    with pytest.raises(IndexUnusable, match="旧索引保持不变"):
        build_index(s.index_dir, LoadedCorpus(), toolkit.embedder, toolkit.segmenter)
    assert current_build(s.index_dir) == before


def test_reindex_swaps_and_an_open_assistant_keeps_working(settings, tmp_path, mixed_corpus):
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit = Toolkit.load(s)
    toolkit.build(ROOT / "corpus", s.index_dir)
    old = Assistant.load(settings=s)
    toolkit.build(mixed_corpus, s.index_dir)
    new = Assistant.load(settings=s)
    assert len(new.documents()) == 2 and len(old.documents()) == 1
    assert old.ask("首贷有补助吗？").citations[0].section == "4"


def test_index_built_with_another_embedder_is_refused(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit = Toolkit.load(s)
    toolkit.build(ROOT / "corpus", s.index_dir)

    class Other(ExplodingEmbedder):
        name = "st:some-other-model"

    with pytest.raises(IndexUnusable, match="请重建索引"):
        open_index(s.index_dir, Other())


def test_long_clauses_are_chunked_at_sentence_boundaries(bot):
    clause = next(c for c in bot.index.clauses if c.section == "6")
    chunks = chunk_clause(clause)
    assert len(chunks) > 1 and "".join(chunks) == clause.text
    assert all(ch.endswith(("。", "；")) for ch in chunks)


def test_stale_index_is_rebuilt_from_the_corpus_it_was_built_from(settings, tmp_path, mixed_corpus):
    import json

    s = replace(settings, index_dir=tmp_path / "idx")
    Toolkit.load(s).build(mixed_corpus, s.index_dir)
    manifest_path = s.index_dir / "builds" / current_build(s.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps({**manifest, "format": 0}), encoding="utf-8")
    bot = Assistant.load(settings=s)  # rebuilt, not crashed, and from the mixed corpus
    assert bot.index.manifest["format"] != 0 and len(bot.documents()) == 2


def test_a_corrupt_index_is_a_clear_error(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit = Toolkit.load(s)
    toolkit.build(ROOT / "corpus", s.index_dir)
    (s.index_dir / "builds" / current_build(s.index_dir) / "clauses.jsonl").write_text("{oops", encoding="utf-8")
    with pytest.raises(IndexUnusable, match="索引已损坏"):
        open_index(s.index_dir, toolkit.embedder)
