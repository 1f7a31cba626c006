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
