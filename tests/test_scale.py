"""The seed policy among the 186 Beijing regulations of ../shared/corpus-scale (slow, real data)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.api import Toolkit
from evals.runner import run_cases, summarise
from evals.sets import read_set

ROOT = Path(__file__).resolve().parent.parent
BEIJING = ROOT.parent / "shared" / "corpus-scale" / "北京"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not BEIJING.exists(), reason="../shared/corpus-scale not present")]


@pytest.fixture(scope="module")
def big(settings, tmp_path_factory):
    s = replace(settings, index_dir=tmp_path_factory.mktemp("beijing-index"))
    manifest = Toolkit.load(s).build([ROOT / "corpus", BEIJING], s.index_dir)
    # Nine regulations are there in two versions: the newer is built, the older listed as superseded.
    assert manifest["documents"] == 178 and len(manifest["superseded"]) == 9 and not manifest["errors"]
    return Assistant.load(settings=s)


def test_every_article_is_citable_by_its_number(big):
    docs = [d for d in big.documents() if d.style == "articles"]
    by_doc: dict[str, list] = {}
    for c in big.index.clauses:
        by_doc.setdefault(c.doc_id, []).append(c)
    titles = [d.title for d in docs]
    checked = 0
    for doc in [d for d in docs if titles.count(d.title) == 1][:40]:  # one version per title
        for clause in by_doc[doc.doc_id][::7]:
            if not clause.section.isdigit():
                continue
            ans = big.ask(f"《{doc.title}》{clause.label}是怎么规定的？")
            assert (ans.citations[0].doc_id, ans.citations[0].section) == (doc.doc_id, clause.section)
            checked += 1
    assert checked > 100


def test_two_versions_of_a_regulation_cite_the_latest(big):
    name = "北京市人民代表大会常务委员会任免国家机关工作人员条例"
    assert [d.doc_id for d in big.documents() if d.title.startswith(name)] == [f"{name}(2023-07-28)"]
    assert {(s["doc_id"], s["by"]) for s in big.index.superseded if s["title"] == name} == {(name, f"{name}(2023-07-28)")}
    ans = big.ask("《北京市人民代表大会常务委员会任免国家机关工作人员条例》第一条是怎么规定的？")
    assert ans.citations[0].doc_id.endswith("(2023-07-28)")


def test_regulation_set(big):
    cases, problems = read_set(ROOT / "evals/regulations/beijing.jsonl")
    assert not problems
    overall = summarise(run_cases(big, cases))["overall"]
    assert overall["pass_rate"] >= 0.9 and overall["quote_validity"] == 1.0


def test_seed_answers_stay_right_among_thousands_of_clauses(big):
    cases = []
    for name in ("lookup", "calc", "multiturn"):
        cases += [c for c in read_set(ROOT / f"evals/sets/{name}.jsonl")[0] if not c.refused]
    overall = summarise(run_cases(big, cases))["overall"]
    assert overall["pass_rate"] >= 0.97 and overall["amount_exact"] == 1.0 and overall["grounding"] == 1.0
