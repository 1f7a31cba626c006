"""`python -m assistant search` as outside tools call it (../shared/CONTRACT.md), and
`Assistant.search`: real processes on a real index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HIT_FIELDS = {"doc_id", "title", "section", "label", "score"}


def run(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """The policy beside one regulation built of articles."""
    d = tmp_path_factory.mktemp("search-index")
    r = run("index", "--corpus", str(ROOT / "corpus"), "--corpus", str(FIXTURES / "corpus-mixed"), "--index", str(d))
    assert r.returncode == 0, r.stderr
    return d


def test_json_is_one_line_of_ranked_clauses(index_dir):
    r = run("search", "首贷有补助吗？", "--index", str(index_dir), "--k", "3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # the whole stdout is one JSON object
    hits = out["hits"]
    assert 1 <= len(hits) <= 3 and all(set(h) == HIT_FIELDS for h in hits)
    assert (hits[0]["doc_id"], hits[0]["section"]) == ("bj-zjtx-2023", "4")
    assert hits[0]["label"] == "四、实施“千亿畅融”行动"
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_batch_one_line_out_per_line_in_with_ids(index_dir, tmp_path):
    lines = [json.dumps({"id": "q1", "question": "上云上平台改造补贴怎么算？"}, ensure_ascii=False),
             "{not json",
             json.dumps({"id": "q3", "question": "首贷有补助吗？", "history": [["别的问题", "别的回答"]]},
                        ensure_ascii=False),
             json.dumps({"id": "q4"}),
             json.dumps({"question": "   "}),
             json.dumps({"question": "专精特新企业认定"}, ensure_ascii=False)]
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    r = run("search", "--jsonl", str(f), "--index", str(index_dir), "--k", "2")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["q1", "line-2", "q3", "q4", "line-5", "line-6"]
    assert out[0]["hits"][0]["section"] == "5" and out[2]["hits"][0]["section"] == "4"  # history ignored
    assert all(len(o["hits"]) <= 2 for o in out)
    for bad in (1, 3, 4):
        assert out[bad]["hits"] == [] and f"第{bad + 1}行" in out[bad]["error"]
    assert "error" not in out[5] and out[5]["hits"]


def test_batch_from_stdin(index_dir):
    r = run("search", "--jsonl", "-", "--index", str(index_dir), "--k", "1",
            stdin=json.dumps({"id": "a", "question": "首贷有补助吗？"}, ensure_ascii=False) + "\n")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == ["a"]


@pytest.mark.parametrize("args, message", [
    (["--k", "0", "首贷"], "--k 应在 1 到 100 之间"),
    (["--k", "101", "首贷"], "--k 应在 1 到 100 之间"),
    ([], "请提供问题"),
    (["  "], "问题为空"),
    (["--jsonl", "no-such-file.jsonl"], "批量问题文件不存在"),
])
def test_bad_input_is_a_clear_chinese_error_and_prints_nothing(index_dir, args, message):
    r = run("search", *args, "--index", str(index_dir))
    assert r.returncode == 2 and message in r.stderr and r.stdout == ""


def test_plain_text_lists_ranked_clauses(index_dir):
    r = run("search", "首贷有补助吗？", "--index", str(index_dir), "--k", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(" 1. ") and "四、实施“千亿畅融”行动" in r.stdout.splitlines()[0]


def test_python_search_returns_hits_best_first(bot):
    hits = bot.search("上云上平台改造补贴怎么算？", k=4)
    assert len(hits) == 4 and hits[0].clause.section == "5"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(bot.search("上云上平台", k=1)) == 1


# ---- fusion of the lexical and dense rankings (assistant/retrieve/hybrid.py) ----------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402
from scipy import stats  # noqa: E402

from assistant.retrieve.hybrid import ZSCORE_FLOOR, FusionWeights, fuse  # noqa: E402

scores_st = st.lists(st.integers(-500, 5000).map(lambda n: n / 100), min_size=1, max_size=40)  # BM25s, cosines


@hsettings(max_examples=200, deadline=None)
@given(scores_st, st.floats(min_value=0.1, max_value=3))
def test_zscore_fusion_is_the_standard_score_shifted_to_the_floor(values, weight):
    """Against scipy's z-score: the ranking's own candidates standardised, the last of them at the
    floor, times the ranking's weight."""
    ranked = dict(enumerate(sorted(values, reverse=True)))
    got = fuse(ranked, weight, FusionWeights(method="zscore"))
    z = stats.zscore(list(ranked.values())) if len(set(values)) > 1 else [0.0] * len(values)
    want = [weight * (v - min(z) + ZSCORE_FLOOR) for v in z]
    assert list(got) == list(ranked)
    assert [got[c] for c in ranked] == pytest.approx(want, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("k, weight", [(60, 1.0), (10, 0.5)])
def test_rrf_fusion_is_weight_over_k_plus_rank(k, weight):
    got = fuse({7: 9.0, 3: 4.0, 5: 1.0}, weight, FusionWeights(rrf_k=k, method="rrf"))
    assert got == pytest.approx({7: weight / (k + 1), 3: weight / (k + 2), 5: weight / (k + 3)})


def test_zscore_fusion_lets_a_standout_match_outweigh_a_flat_ranking():
    """Lexical: one clause far ahead of the rest; dense: all candidates alike, another clause
    first. Ranks alone (RRF, equal weights) call it a tie broken by clause number; scores do not."""
    lexical = {1: 30.0, 2: 5.0, 3: 4.0, 4: 4.0}
    dense = {2: 0.61, 1: 0.60, 3: 0.60, 4: 0.59}

    def fused(w: FusionWeights) -> list[int]:
        total: dict[int, float] = {}
        for ranking in (lexical, dense):
            for c, v in fuse(ranking, 1.0, w).items():
                total[c] = total.get(c, 0.0) + v
        return sorted(total, key=lambda c: (-total[c], c))

    assert fused(FusionWeights(method="zscore"))[0] == 1
    rrf = fuse(lexical, 1.0, FusionWeights(method="rrf"))
    assert rrf[1] + fuse(dense, 1.0, FusionWeights(method="rrf"))[1] == pytest.approx(
        rrf[2] + fuse(dense, 1.0, FusionWeights(method="rrf"))[2])


def test_an_empty_ranking_adds_nothing():
    assert fuse({}, 1.0, FusionWeights(method="zscore")) == {}
