"""The command line as outside tools use it (../shared/CONTRACT.md): real processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, stdin: str | None = None, env_extra=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-index")
    r = run("index", "--corpus", str(ROOT / "corpus"), "--index", str(d))
    assert r.returncode == 0, r.stderr
    assert "已索引 1 份文档、12 个条款" in r.stderr
    return d


def test_ask_json_prints_only_json(index_dir):
    r = run("ask", "上云上平台合同额150万元，补贴多少？", "--index", str(index_dir), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)  # the whole stdout is one JSON object
    assert d["calculation"]["amount_yuan"] == 300000 and d["citations"][0]["section"] == "5"


def test_ask_plain_text(index_dir):
    r = run("ask", "首贷有补助吗？", "--index", str(index_dir))
    assert r.returncode == 0 and "首贷" in r.stdout and "【四、实施“千亿畅融”行动】" in r.stdout


def test_batch_jsonl_one_out_per_line_in_order_with_ids(index_dir, tmp_path):
    lines = [
        json.dumps({"id": "q1", "question": "上云上平台改造补贴怎么算？"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "q3", "question": "那如果合同额是10万元呢？",
                    "history": [["上云上平台改造补贴怎么算？", ""]]}, ensure_ascii=False),
        json.dumps({"id": "q4"}),
        json.dumps({"id": "q5", "question": "北京市社保缴费基数上限是多少？"}, ensure_ascii=False),
    ]
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("ask", "--jsonl", str(f), "--index", str(index_dir))
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    # An error line keeps the id it could read, else names its line (issue #12: never null).
    assert [o["id"] for o in out] == ["q1", "line-2", "q3", "q4", "q5"]
    assert "第2行" in out[1]["error"] and "第4行" in out[3]["error"]
    assert out[2]["calculation"]["amount_yuan"] == 30000
    assert out[4]["refused"] is True


def test_batch_from_stdin(index_dir):
    r = run("ask", "--jsonl", "-", "--index", str(index_dir),
            stdin=json.dumps({"id": "s", "question": "科创债能发吗？"}, ensure_ascii=False) + "\n")
    assert json.loads(r.stdout)["id"] == "s"


def test_ask_builds_a_missing_index(tmp_path):
    env = {"ASSISTANT_CORPUS": str(ROOT / "corpus")}
    r = run("ask", "首贷有补助吗？", "--index", str(tmp_path / "new"), "--json", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["citations"][0]["section"] == "4"


def test_index_a_missing_folder_is_a_clear_error(tmp_path):
    r = run("index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"))
    assert r.returncode == 2 and "语料目录不存在" in r.stderr


def test_index_reports_unparseable_files_and_indexes_the_rest(mixed_corpus, tmp_path):
    (mixed_corpus / "broken.txt").write_text("只有一行", encoding="utf-8")
    r = run("index", "--corpus", str(mixed_corpus), "--index", str(tmp_path / "i"))
    assert r.returncode == 0
    assert "broken.txt" in r.stderr and "已索引 2 份文档" in r.stderr


def test_check_profile(index_dir, tmp_path):
    r = run("check", "--profile", str(ROOT / "examples/profile.json"), "--index", str(index_dir), "--json")
    assert r.returncode == 0, r.stderr
    rows = {x["rule_id"]: x for x in json.loads(r.stdout)["rows"]}
    assert rows["digital-transformation"]["max_amount_yuan"] == 240000
    bad = tmp_path / "bad.json"
    bad.write_text('{"qualification": "省级"}', encoding="utf-8")
    r = run("check", "--profile", str(bad), "--index", str(index_dir))
    assert r.returncode == 2 and "资质" in r.stderr and "Traceback" not in r.stderr
