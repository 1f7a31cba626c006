"""python -m assistant corpus add / list / remove (issue #10): incremental, atomic, and nothing
outside the index directory is ever deleted."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests/fixtures/documents"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_add_list_remove(tmp_path):
    index = tmp_path / "index"
    operator = tmp_path / "operator"
    shutil.copytree(ROOT / "corpus/documents", operator)
    assert cli("index", "--corpus", str(operator), "--index", str(index)).returncode == 0
    r = cli("corpus", "add", *map(str, sorted(FILES.iterdir())), "--index", str(index))
    assert r.returncode == 0, r.stderr
    assert "沿用 24 个" in r.stderr  # the policy's chunks were not embedded again
    listed = json.loads(cli("corpus", "list", "--index", str(index), "--json").stdout)
    regions = {d["title"]: (d["region"], d["format"]) for d in listed}
    assert regions == {"关于实施十大强企行动激发专精特新企业活力的若干措施": ("北京", "text"),
                       "上海市优化营商环境条例": ("上海", "pdf"), "河南省专利保护条例": ("河南", "docx"),
                       "广东省优化营商环境条例": ("广东", "html")}
    again = cli("corpus", "add", str(FILES / "河南省专利保护条例.docx"), "--index", str(index))
    assert "重新计算 0 个片段" in again.stderr  # unchanged content: nothing re-embedded
    assert cli("corpus", "remove", "河南省专利保护条例", "--index", str(index)).returncode == 0
    assert not (index / "documents" / "河南省专利保护条例.docx").exists()  # our own copy
    assert cli("corpus", "remove", "bj-zjtx-2023", "--index", str(index)).returncode == 0
    assert (operator / "bj-zjtx-2023.txt").exists()  # an operator's file is never deleted
    titles = {d["title"] for d in json.loads(cli("corpus", "list", "--index", str(index), "--json").stdout)}
    assert titles == {"上海市优化营商环境条例", "广东省优化营商环境条例"}
    ans = json.loads(cli("ask", "广东的银行能不能收小微企业的贷款承诺费？", "--index", str(index), "--json").stdout)
    assert ans["citations"][0]["title"] == "广东省优化营商环境条例"


def test_add_refuses_unknown_files(tmp_path):
    (tmp_path / "x.exe").write_bytes(b"MZ")
    r = cli("corpus", "add", str(tmp_path / "x.exe"), "--index", str(tmp_path / "index"))
    assert r.returncode == 2 and "不支持" in r.stderr and not (tmp_path / "index").exists()
