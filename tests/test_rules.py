"""Rules are data: every quote verbatim in its document, every number a rule uses in its quote."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from assistant.understand.amounts import fmt_wan
from assistant.documents.corpus import read_document
from assistant.understand.lexicon import Lexicon
from assistant.calculate.rules import load_rules
from assistant.documents.structure import StructureRules, parse
from evals.metrics import fold

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "corpus/rules")
STRUCTURE = StructureRules.load(ROOT / "corpus/structure.toml")
DOCS = {p.stem: read_document(p, STRUCTURE) for p in (ROOT / "corpus/documents").glob("*.txt")}
REQUIRED = {"digital-transformation", "cloud-migration", "board-reward", "equity-financing", "listing",
            "brand-promotion", "expo", "patent-fees", "first-use", "tech-center", "scope"}


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def test_every_required_rule_exists():
    assert REQUIRED <= {r.id for r in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_quote_is_verbatim_in_its_document(rule):
    doc = DOCS[rule.doc_id]
    assert fold(rule.quote) in fold(doc.text)
    if rule.get("context"):
        assert fold(rule.get("context")) in fold(doc.text)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_quote_sits_in_the_rules_section(rule):
    clauses = {c.section: c for c in parse(DOCS[rule.doc_id], STRUCTURE)}
    assert fold(rule.quote) in fold(clauses[rule.section].text)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_number_of_a_rule_is_in_its_quote(rule):
    quote = rule.quote
    if rule.rate is not None:
        assert _pct(rule.rate) in quote
    if rule.cap_yuan is not None:
        assert fmt_wan(rule.cap_yuan) in quote
    for band in rule.bands:
        assert _pct(band.rate) in quote
        assert fmt_wan(band.from_yuan) in quote
        if band.to_yuan is not None:
            assert fmt_wan(band.to_yuan) in quote
        assert band.text in quote
    if rule.get("min_yuan"):
        assert fmt_wan(Decimal(rule.get("min_yuan"))) in quote
    if rule.get("valid_until_year"):
        assert str(rule.get("valid_until_year")) in quote


def test_lexicon_canonical_terms_are_document_words():
    """A synonym must lead to words the documents actually use, or it expands into nothing: the
    policy's words, or (for regulations an operator loads) words the mined regulation statistics
    (corpus/wordstats.tsv) have seen."""
    lexicon = Lexicon.load(ROOT / "corpus/lexicon.toml")
    text = fold("".join(d.text for d in DOCS.values()))
    mined = {ln.split("\t", 1)[0] for ln in (ROOT / "corpus/wordstats.tsv").read_text(encoding="utf-8").splitlines()
             if not ln.startswith("#")}
    missing = [c for c in lexicon.synonyms if fold(c) not in text and c not in mined]
    assert not missing, missing


@pytest.mark.parametrize("rule", [r for r in RULES if r.get("not_eligible_if")], ids=lambda r: r.id)
def test_conditions_are_quoted_text(rule):
    """The condition a rule names when it rules an enterprise out is the text's own words."""
    assert rule.get("condition") in rule.quote


@pytest.mark.parametrize("rule", [r for r in RULES if r.get("items")], ids=lambda r: r.id)
def test_how_items_combine_is_the_texts_own_words(rule):
    """A rule sums several items only where its text says so (年度累计…): those words are quoted."""
    assert rule.get("items") in ("total", "per_item")
    assert rule.get("items_words") and rule.get("items_words") in rule.quote


@pytest.mark.parametrize("rule", [r for r in RULES if r.get("per_unit")], ids=lambda r: r.id)
def test_per_period_limits_are_in_the_quote(rule):
    spec = rule.get("per_unit")
    assert spec["within_text"] in rule.quote  # 前十年
