"""Metric functions with hand-computed values; bad sets reported with file and line; the gate."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals import metrics as m
from evals.__main__ import gate_failures, main
from evals.runner import run_cases, summarise
from evals.sets import check_sections, read_set

ROOT = Path(__file__).resolve().parent.parent


def test_hits_and_rr():
    cited = ["d#3", "d#5", "d#5"]
    assert m.hit_at(cited, ["5"], 1) is False and m.hit_at(cited, ["5"], 3) is True
    assert m.reciprocal_rank(cited, ["5"]) == 0.5
    assert m.reciprocal_rank(cited, ["9"]) == 0.0
    assert m.hit_at(["a#15"], ["b#15"], 1) is False and m.hit_at(["a#15"], ["15"], 1) is True


def test_citation_precision_counts_distinct_sections():
    assert m.citation_precision(["d#5", "d#5", "d#6"], ["5"]) == 0.5
    assert m.citation_precision([], ["5"]) is None


def test_fact_recall_folds_width_space_and_separators():
    assert m.fact_recall("补贴３０ %，共1,000,000元", [["30%"], ["1000000"], ["缺"]]) == pytest.approx(2 / 3)
    assert m.forbidden_found("最高 30万", ["30万", "50万"]) == ["30万"]


def test_grounding_by_value():
    sources = ["按照合同额的30%给予最高30万元", "150000"]
    assert m.ungrounded_numbers("可获15万元，比例30%，上限30万元", sources) == []
    assert m.ungrounded_numbers("可获500万元", sources) == ["500万"]
    assert m.ungrounded_numbers("1. 240000\n2. 240000", ["240000"]) == ["1", "2"]


def test_rouge_l_chars():
    assert m.rouge_l_chars("abc", "abc") == 1.0
    assert m.rouge_l_chars("abcd", "abxd") == pytest.approx(0.75)  # LCS 3, P = R = 3/4
    assert m.rouge_l_chars("", "abc") == 0.0


def test_refusal_scores_and_percentile():
    s = m.refusal_scores([(True, True), (True, False), (False, True), (False, False)])
    assert s == {"precision": 0.5, "recall": 0.5}
    assert m.percentile([1, 2, 3, 4], 50) == 2.5 and m.percentile([5], 95) == 5


def test_quote_validity():
    assert m.quote_is_verbatim("对专精特新 企业", "……对专精\n\n特新企业参与……")
    assert not m.quote_is_verbatim("最高50万元", "最高30万元")


def test_bad_sets_are_reported_with_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "ok", "question": "首贷有补助吗？", "sections": ["4"]}, ensure_ascii=False),
        "{broken",
        json.dumps({"question": "没有 id"}, ensure_ascii=False),
        json.dumps({"id": "k", "question": "x", "kind": "nonsense"}),
        json.dumps({"id": "s", "question": "x", "sections": ["99"]}),
    ]), encoding="utf-8")
    cases, problems = read_set(f)
    assert [c.id for c in cases] == ["ok", "s"]
    assert [p.source for p in problems] == [f"{f}:2", f"{f}:3", f"{f}:4"]
    unknown = check_sections(cases, {"bj-zjtx-2023#4"})
    assert [p.source for p in unknown] == [f"{f}:5"] and "99" in unknown[0].message
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert "为空" in read_set(empty)[1][0].message
    assert "不存在" in read_set(tmp_path / "nope.jsonl")[1][0].message


def test_csv_and_xlsx_sets(tmp_path, bot):
    from openpyxl import Workbook

    csv_file = tmp_path / "hotline.csv"
    csv_file.write_text("问题,标准答案,期望条款,期望金额\n上云上平台合同额50万元补贴多少？,按合同额30%，可获15万元,5,15万\n"
                        ",空问题,,\n", encoding="utf-8")
    cases, problems = read_set(csv_file)
    assert len(cases) == 1 and cases[0].amount_yuan == 150000 and cases[0].sections == ["5"]
    assert problems[0].source == f"{csv_file}:3"
    wb = Workbook()
    wb.active.append(["问题", "标准答案"])
    wb.active.append(["首贷有补助吗？", "对符合条件的首贷业务给予资金补助"])
    xlsx = tmp_path / "hotline.xlsx"
    wb.save(xlsx)
    xcases, _ = read_set(xlsx)
    result = run_cases(bot, cases + xcases)
    assert result[0].passed and 0 < result[0].checks["rouge_l"] < 1
    assert result[1].case.reference and result[1].checks["rouge_l"] > 0
    assert summarise(result)["overall"]["rouge_l_chars(weak)"] is not None


def test_gate_failures():
    summary = {"overall": {"pass_rate": 0.9, "hit@1": 1.0}}
    assert gate_failures(summary, {"pass_rate": 0.95, "hit@1": 0.9}) == ["pass_rate = 0.9 < 0.95"]
    assert gate_failures(summary, {"missing": 0.5}) == ["missing = None < 0.5"]


def test_project_sets_pass_the_gate(settings, tmp_path, capsys):
    """The eval gate CI relies on: all project sets through the public API, thresholds from one file."""
    sets = sorted(str(p) for p in (ROOT / "evals/sets").glob("*.jsonl"))
    code = main(["run", *sets, "--index", str(settings.index_dir), "--out", str(tmp_path), "--gate"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("<svg") >= 3
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))


def test_set_sizes_meet_the_issues():
    kinds: dict[str, int] = {}
    for p in (ROOT / "evals/sets").glob("*.jsonl"):
        for c in read_set(p)[0]:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    assert sum(kinds.values()) >= 200
    assert kinds["calc"] + kinds["eligibility"] >= 40
    assert kinds["lookup"] + kinds["refuse"] + kinds["multiturn"] >= 80


def test_lookup_refuse_multiturn_through_the_batch_cli(settings, capsys):
    """Issue 2's figure: the project's lookup/refuse/multi-turn cases through the batch CLI."""
    sets = [str(ROOT / f"evals/sets/{n}.jsonl") for n in ("lookup", "refuse", "multiturn")]
    assert main(["run", *sets, "--index", str(settings.index_dir), "--via", "cli"]) == 0
    out = capsys.readouterr().out
    row = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.splitlines()
           if line.startswith("| ") and line.count("|") > 3}
    assert float(row["pass_rate"]) >= 0.95 and float(row["hit@1"]) >= 0.95


def test_compare_lists_regressions_and_improvements(tmp_path, bot):
    from evals.report import compare_runs

    cases, _ = read_set(ROOT / "evals/sets/calc.jsonl")
    results = run_cases(bot, cases[:3])
    previous = [r.to_dict() for r in results]
    previous[0]["passed"], previous[1]["passed"] = False, True
    results[1].passed = False
    path = tmp_path / "prev.json"
    path.write_text(json.dumps(previous, ensure_ascii=False), encoding="utf-8")
    assert compare_runs(results, path) == {"regressed": [cases[1].id], "improved": [cases[0].id]}


TEXTS = {"d": "一条条文"}


def _answer(citations, refused=False, trace=()):
    return {"text": "x", "refused": refused, "citations": [
        {"doc_id": "d", "title": t, "section": s, "label": "", "quote": "条文"} for t, s in citations],
        "calculation": None, "trace": list(trace)}


def test_gold_as_any_of_several_articles():
    """STARD's gold: any listed (law, article) is right; hit@1 reads the first citation only, hit@any
    any of them; a miss says which stage lost it."""
    from evals.runner import score
    from evals.sets import Case

    case = Case("s1", "问题", articles=[("民法典", "56"), ("民法典", "57")])
    first = score(case, _answer([("民法典", "57"), ("刑法", "1")]), 1.0, TEXTS)
    assert first.checks["hit1"] and first.checks["hit_any"] and first.passed
    later = score(case, _answer([("刑法", "1"), ("民法典", "56")]), 1.0, TEXTS)
    assert not later.checks["hit1"] and later.checks["hit_any"] and later.passed
    wrong = score(case, _answer([("刑法", "1")], trace=[{"stage": "retrieve", "hits": ["刑法#1", "民法典#56"]}]),
                  1.0, TEXTS)
    assert not wrong.passed and wrong.checks["lost_at"] == "gate/compose"
    missed = score(case, _answer([("刑法", "1")], trace=[{"stage": "retrieve", "hits": ["刑法#1"]}]), 1.0, TEXTS)
    assert missed.checks["lost_at"] == "retrieve"
    declined = score(case, _answer([], refused=True, trace=[{"stage": "gate", "decision": "decline"}]), 1.0, TEXTS)
    assert not declined.passed and declined.checks["lost_at"] == "gate"


def test_stard_split_is_fixed_and_disjoint():
    from evals import stard

    if not stard.DEV.exists():
        pytest.skip("../shared/evals/stard is not here")
    tuning, heldout = {c["id"] for c in stard.tuning()}, {c["id"] for c in stard.heldout()}
    assert tuning and heldout and not tuning & heldout
    assert len(heldout) == sum(stard.is_heldout(i) for i in tuning | heldout)
