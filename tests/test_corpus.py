"""Loading documents: every .txt/.md under a folder; bad files named, the rest still load."""
from __future__ import annotations

import shutil
from pathlib import Path

from assistant.documents.corpus import load_corpus
from assistant.documents.structure import StructureRules

ROOT = Path(__file__).resolve().parent.parent
RULES = StructureRules.load(ROOT / "corpus/structure.toml")


def test_project_corpus_is_the_seed_policy():
    corpus = load_corpus(ROOT / "corpus", RULES)
    assert [d.doc_id for d in corpus.documents] == ["bj-zjtx-2023"]
    assert not corpus.errors  # lexicon.toml, rules/*.toml and *.meta.json are data, not documents
    assert len(corpus.clauses) == 12


def test_bad_files_are_reported_by_name_and_others_still_load(tmp_path, mixed_corpus):
    (mixed_corpus / "empty.txt").write_text("", encoding="utf-8")
    (mixed_corpus / "binary.md").write_bytes(b"\xff\xfe\x00\x81garbage")
    (mixed_corpus / "nostructure.txt").write_text("标题\n\n一段没有任何条款结构的文字。", encoding="utf-8")
    (mixed_corpus / "README.md").write_text("# 说明\n这不是政策文件", encoding="utf-8")
    corpus = load_corpus(mixed_corpus, RULES)
    assert {d.doc_id for d in corpus.documents} == {"bj-zjtx-2023", "北京市专利保护和促进条例"}
    named = {Path(e.path).name: e.reason for e in corpus.errors}
    assert set(named) == {"empty.txt", "binary.md", "nostructure.txt"}
    assert "UTF-8" in named["binary.md"] and "结构" in named["nostructure.txt"]


def test_nested_folders_are_read_recursively(tmp_path, mixed_corpus):
    nested = tmp_path / "deep" / "a" / "b"
    nested.mkdir(parents=True)
    shutil.move(str(mixed_corpus / "北京市专利保护和促进条例.md"), nested)
    corpus = load_corpus(tmp_path, RULES)
    assert "北京市专利保护和促进条例" in {d.doc_id for d in corpus.documents}


def test_regulation_articles_are_clauses_with_article_numbers(mixed_corpus):
    corpus = load_corpus(mixed_corpus, RULES)
    reg = [c for c in corpus.clauses if c.doc_id == "北京市专利保护和促进条例"]
    assert [c.section for c in reg] == [str(i) for i in range(1, len(reg) + 1)]
    assert reg[14].label == "第十五条" and reg[14].text.startswith("第十五条")
    assert reg[0].heading_path == ("第一章 总则", "第一条")
