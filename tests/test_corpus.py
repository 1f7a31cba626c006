"""Loading documents: every .txt/.md under a folder; bad files named, the rest still load."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


# ---- versions of one document (assistant/documents/versions.py) -------------------------------------------
def _doc(doc_id, title, text="第一条 正文。", history=(), written=0, **meta):
    from assistant.models import Document

    return Document(doc_id, title, text, f"/x/{doc_id}.md", "articles",
                    {"history": list(history), "file_stat": [1, written, -1, -1], **meta})


@pytest.mark.parametrize("docs, live", [
    # a dated file name beats an undated one whose record ends earlier (corpus-scale's 北京市安全生产条例)
    ([_doc("某条例", "某条例", history=["2004年7月29日通过", "2016年11月25日修正"]),
      _doc("某条例(2022-05-25)", "某条例", history=["2022年5月25日修订"])], "某条例(2022-05-25)"),
    # a revision year in the title
    ([_doc("某条例", "某条例", issued="2023-05-01"), _doc("某条例（2026修订）", "某条例（2026修订）")], "某条例（2026修订）"),
    # an older version added later does not win: the dates decide
    ([_doc("某条例(2015-03-01)", "某条例", written=9), _doc("某条例", "某条例", issued="2020-01-01", written=1)], "某条例"),
    # no dates at all: the file written last
    ([_doc("甲", "某办法", written=5), _doc("乙", "某办法", written=7)], "乙"),
    # the adoption record a PDF opens with
    ([_doc("旧", "某条例", text="（2001年1月1日通过）\n\n第一条 正文。"),
      _doc("新", "某条例", text="（2001年1月1日通过　2019年6月1日修订）\n\n第一条 正文。")], "新"),
])
def test_the_newest_version_is_live(docs, live):
    from assistant.documents.versions import resolve

    got = resolve(docs, [], RULES.version_marker)
    assert [d.doc_id for d in got.documents] == [live]
    assert {s["by"] for s in got.superseded} == {live} and len(got.superseded) == len(docs) - 1


def test_different_titles_and_kept_works_stay_live():
    from assistant.documents.versions import resolve

    docs = [_doc("甲", "某条例"), _doc("乙", "某条例（2026修订）"), _doc("丙", "另一条例")]
    assert len(resolve(docs, [], RULES.version_marker, {"某条例"}).documents) == 3
    assert len(resolve(docs, [], RULES.version_marker, True).documents) == 3
    assert [d.doc_id for d in resolve(docs, [], RULES.version_marker).documents] == ["乙", "丙"]
