"""Every pattern in corpus/structure.toml finds its examples and none of its non-examples, as the
rules the code reads (StructureRules.load, with {name} pieces filled in)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from assistant.documents.structure import StructureRules

ROOT = Path(__file__).resolve().parent.parent
DATA = tomllib.loads((ROOT / "corpus/structure.toml").read_text(encoding="utf-8"))
RULES = StructureRules.load(ROOT / "corpus/structure.toml")


def _tables(data: dict, at: str = ""):
    """(dotted name, table) for every table holding a pattern."""
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{at}.{key}" if at else key
            if "pattern" in value:
                yield name, value
            yield from _tables(value, name)


TABLES = dict(_tables(DATA))
# Where the code holds each table's compiled pattern.
LOADED = {"policy.section": RULES.section, "policy.subsection": RULES.subsection, "policy.scope": RULES.scope,
          "articles.chapter": RULES.chapter, "articles.part": RULES.part, "articles.article": RULES.article,
          "annex": RULES.annex, "versions": RULES.version_marker, "title_end": RULES.ingest.title_end,
          **{f"{group}.{name}": getattr(RULES.ingest, name)
             for group in ("pages", "facts", "official") for name in DATA[group]}}


def test_every_pattern_is_loaded_and_every_loaded_pattern_has_a_table():
    assert set(TABLES) == set(LOADED)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_pattern_has_examples_both_ways_and_no_unfilled_piece(name):
    table = TABLES[name]
    assert table.get("examples") and table.get("non_examples"), name
    assert not re.search(r"\{[a-z_]+\}", LOADED[name].pattern), "a {piece} with no entry in [pieces]"


EXAMPLES = [(name, text) for name, t in sorted(TABLES.items()) for text in t["examples"]]
NON_EXAMPLES = [(name, text) for name, t in sorted(TABLES.items()) for text in t["non_examples"]]


@pytest.mark.parametrize("name, text", EXAMPLES)
def test_pattern_finds_its_examples(name, text):
    assert LOADED[name].search(text), f"{name} misses {text!r}"


@pytest.mark.parametrize("name, text", NON_EXAMPLES)
def test_pattern_passes_over_its_non_examples(name, text):
    assert not LOADED[name].search(text), f"{name} finds {text!r}"


@pytest.mark.parametrize("line, opens", [
    ("第一章 总则", True), ("第二节 一般规定", True), ("第一百条 本条例自公布之日起施行。", True),
    ("一、实施“创新领航”行动。", True), ("（三）其他", True), ("附件1", True), ("附则", True),
    ("本措施自印发之日起施行。", False),  # the policy's scope paragraph: a clause, yet a PDF line may wrap into it
    ("依照本条例第三条的规定", False), ("北京市经济和信息化局", False), ("## 说明", False),
])
def test_a_unit_opens_a_line_as_the_structure_rules_say(line, opens):
    assert RULES.starts_unit(line) == opens
