"""Clause splitting along the documents' own structure, against golden files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.documents.corpus import read_document
from assistant.understand.numerals import cn_to_int, int_to_cn
from assistant.documents.structure import StructureRules, parse
from assistant.documents.textnorm import repair_page_breaks, split_paragraphs

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
RULES = StructureRules.load(ROOT / "corpus/structure.toml")


def _clauses(path: Path) -> dict:
    d = read_document(path, RULES)
    return {"doc_id": d.doc_id, "title": d.title, "style": d.style,
            "clauses": [{"section": c.section, "label": c.label, "heading_path": list(c.heading_path),
                         "span": list(c.span), "text": c.text} for c in parse(d, RULES)]}


@pytest.mark.parametrize("source, golden", [
    (FIX / "seed_raw.txt", "seed.json"),
    (FIX / "structure/sample-articles.md", "sample-articles.json"),
    (FIX / "structure/sample-policy.txt", "sample-policy.json"),
])
def test_golden(source, golden):
    assert _clauses(source) == json.loads((GOLDEN / golden).read_text(encoding="utf-8"))


def test_seed_sections_follow_the_contract():
    sections = [c["section"] for c in _clauses(FIX / "seed_raw.txt")["clauses"]]
    assert sections == ["preamble"] + [str(i) for i in range(1, 11)] + ["scope"]


@pytest.mark.parametrize("broken, joined", [
    ("对专精", "对专精特新企业参与创新技术突破类场景攻关"),
    ("采取配租公", "采取配租公共租赁住房"),
    ("从", "（具体措施明确执行期限的，从其规定)"),
])
def test_seed_page_breaks_are_repaired(broken, joined):
    text = read_document(FIX / "seed_raw.txt", RULES).text
    assert joined in text
    assert broken + "\n" not in text


def test_spans_point_into_the_document_text():
    doc = read_document(FIX / "seed_raw.txt", RULES)
    for c in parse(doc, RULES):
        assert doc.text[c.span[0]:c.span[1]] == c.text


def test_repaired_seed_in_corpus_equals_repaired_raw_seed():
    raw = read_document(FIX / "seed_raw.txt", RULES)
    kept = read_document(ROOT / "corpus/documents/bj-zjtx-2023.txt", RULES)
    assert raw.text == kept.text
    assert kept.doc_id == "bj-zjtx-2023" and kept.meta["valid_until"] == "2028-12-31"


@pytest.mark.parametrize("paras, expected", [
    (["一、甲。", "乙"], ["一、甲。", "乙"]),  # complete sentence: kept apart
    (["对专精", "特新企业。"], ["对专精特新企业。"]),  # cut by a page break
    (["最高不超过", "第二条 乙。"], ["最高不超过", "第二条 乙。"]),  # a new article never glues
    (["甲：", "（一）乙；"], ["甲：", "（一）乙；"]),
])
def test_repair_page_breaks(paras, expected):
    assert repair_page_breaks(paras, RULES.starts_structure) == expected


def test_split_paragraphs_drops_blank_and_space_only_lines():
    assert split_paragraphs("\n\n甲\n \n\t\n乙\n丙\n") == ["甲", "乙丙"]


@pytest.mark.parametrize("cn, n", [("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("二十一", 21),
                                   ("一百", 100), ("一百零三", 103), ("两百", 200)])
def test_chinese_numerals(cn, n):
    assert cn_to_int(cn) == n


@pytest.mark.parametrize("n", range(1, 100))
def test_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


# ---- versions: the title marker is data (corpus/structure.toml [versions]) --------------------------------
_VERSIONS = __import__("tomllib").loads((ROOT / "corpus/structure.toml").read_text(encoding="utf-8"))["versions"]


@pytest.mark.parametrize("title", _VERSIONS["examples"])
def test_version_markers_are_read(title):
    from assistant.documents.versions import work_title

    assert RULES.version_marker.search(title)
    assert work_title(title, RULES.version_marker) != title.replace(" ", "") and work_title(title, RULES.version_marker)


@pytest.mark.parametrize("title", _VERSIONS["non_examples"])
def test_other_brackets_are_not_version_markers(title):
    assert not RULES.version_marker.search(title)
