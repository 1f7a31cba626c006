"""The web app, started for real: every endpoint through gradio_client and plain HTTP, and a
re-index under load. Browser tests are in tests/test_app_browser.py."""
from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_reliability_serve import app_process

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("app")
    with app_process(work) as (url, _port, _pid):  # the app builds its index: it holds only our files
        yield {"url": url, "index": work / "index"}


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server["url"], verbose=False)


def fresh_client(server):
    """A new session: a conversation of its own."""
    from gradio_client import Client

    return Client(server["url"], verbose=False)


# ---- gradio_client: every endpoint ------------------------------------------------------------
def test_binds_to_localhost_only(server):
    port = int(server["url"].rsplit(":", 1)[1].strip("/"))
    addrs = [a for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
             if not a[4][0].startswith("127.")]
    for a in addrs:
        with pytest.raises(OSError):
            socket.create_connection((a[4][0], port), timeout=1)


@pytest.mark.parametrize("path", ["gradio_api/file=/etc/passwd", "file=/etc/passwd",
                                  "gradio_api/file=../../../../etc/passwd", "gradio_api/file=app.py",
                                  "gradio_api/file=var/index/CURRENT"])
def test_no_machine_files_are_reachable(server, path):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(server["url"] + path, timeout=10) as r:
            body = r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        assert exc.code in (403, 404)
        return
    assert "root:" not in body and "import gradio" not in body


def test_api_endpoints_are_listed(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/chat", "/hotline", "/calculate", "/check", "/source", "/feedback"} <= names


def test_ask(client):
    d = client.predict("上云上平台合同额50万元，补贴多少？", [], api_name="/ask")
    assert d["calculation"]["amount_yuan"] == 150000 and d["citations"][0]["section"] == "5"
    d = client.predict("那如果合同额是10万元呢？", [["上云上平台改造补贴怎么算？", ""]], api_name="/ask")
    assert d["calculation"]["amount_yuan"] == 30000


@pytest.mark.parametrize("question, expected", [("", "请输入"), ("   ", "请输入"), ("😀😀😀", "没有识别到"),
                                                ("上云上平台改造补贴多少？" + "啊" * 10000, "问题过长")])
def test_bad_input_gets_a_message_and_the_app_keeps_working(client, question, expected):
    assert expected in client.predict(question, [], api_name="/ask")["text"]
    assert client.predict("首贷有补助吗？", [], api_name="/ask")["citations"][0]["section"] == "4"


def _content(message: dict) -> str:
    """A chat message's text (Gradio may hand it back as [{"type": "text", "text": …}])."""
    c = message["content"]
    return "".join(p.get("text", "") for p in c) if isinstance(c, list) else str(c)


def _chat(client, message, hotline=False):
    """One message of this session's conversation (kept on the server, and in the browser's copy)."""
    messages, box, _suggested, saved = client.predict(message, [], hotline, api_name="/chat")
    return messages, (saved or {}).get("turns"), box


def test_chat_escapes_text_and_puts_citations_under_the_answer(server):
    messages, turns, box = _chat(fresh_client(server), "<b>上云</b>上平台改造补贴多少？")
    user = _content(messages[0])
    assert "<b>" not in user and "b&#62;" in user  # shown as the characters typed
    bot_bubble = _content(messages[1])
    assert "30%" in bot_bubble and 'class="cite"' in bot_bubble and "<mark>" in bot_bubble
    assert box == "" and turns["1"]["answer"]["citations"][0]["section"] == "5"


def test_chat_follow_up_uses_the_conversation(server):
    client = fresh_client(server)
    _chat(client, "上云上平台改造补贴怎么算？")
    messages, turns, _ = _chat(client, "那如果合同额是10万元呢？")
    assert len(messages) == 4 and turns["3"]["answer"]["calculation"]["amount_yuan"] == 30000
    assert "30,000" in _content(messages[-1])


def test_empty_message_changes_nothing(server):
    client = fresh_client(server)
    messages, _, _ = _chat(client, "首贷有补助吗？")
    again = client.predict("   ", [], False, api_name="/chat")
    assert again == ({"__type__": "update"},) * 4  # every output skipped: nothing on the page changes
    after, turns, _ = _chat(client, "上云上平台改造补贴多少？")
    assert [_content(m) for m in after[:2]] == [_content(m) for m in messages] and list(turns) == ["1", "3"]


def _figure(value) -> str:
    return (value or {}).get("value") or "" if isinstance(value, dict) else value or ""


def test_hotline_is_speakable(client):
    short, figure, quote = client.predict("上云上平台合同额50万元，补贴多少？", api_name="/hotline")
    assert "15万元" in short and "【" not in short and "150000" not in short
    assert short.count("15万元") == 1  # said once
    assert "15万元" in _figure(figure) and "上云上平台改造" in quote
    short, figure, _ = client.predict("上云上平台改造补贴多少？", api_name="/hotline")
    assert "请提供" not in short and "金额可写成" not in short and short.count("。") <= 2
    assert _figure(figure) == ""  # no figure: the box is hidden


@pytest.mark.parametrize("rule, amount, industry, expected", [
    ("上云上平台改造", "50万", "", "15万元（150,000元）"),
    ("制造业专精特新企业数字化转型升级", "120万元", "制造业", "24万元"),
    ("制造业专精特新企业数字化转型升级", "120万元", "软件", "不符合"),
    ("制造业专精特新企业数字化转型升级", "120万元", "非制造业", "不符合"),
    ("区域性股权市场年度累计直接融资奖励", "22亿", "", "200万元"),
    ("申报北京市企业技术中心的放宽条件", "1亿", "制造业", "符合"),
    ("上云上平台改造", "-5", "", "不能为负数"),
    ("上云上平台改造", "一些钱", "", "无法识别"),
])
def test_calculate(client, rule, amount, industry, expected):
    assert expected in client.predict(rule, amount, industry, api_name="/calculate")


def test_check_and_downloads(client):
    summary, table, files = client.predict(
        "市级专精特新", "制造业", "1.2亿", "120万元", "50万", "培育层", "22亿", "无", "否", "", "是", "20万", "", "不清楚",
        api_name="/check")
    assert "24万元" in table and table.index("结果") < table.index("措施")
    paths = [Path(f if isinstance(f, str) else f.get("path") or f.get("name")) for f in files]
    csv_path = next(p for p in paths if p.suffix == ".csv")
    csv_text = csv_path.read_text(encoding="utf-8-sig")
    assert csv_text.startswith("结果,措施,说明,需确认,最高金额（元）,条款,原文")  # as the XLSX
    assert "企业情况" in csv_text and "数字化转型合同额,120万元" in csv_text  # what was checked
    from openpyxl import load_workbook

    book = load_workbook(next(p for p in paths if p.suffix == ".xlsx"))
    sheet = book["政策体检"]
    assert [c.value for c in sheet[1]] == csv_text.splitlines()[0].split(",")
    assert sheet.column_dimensions["C"].width >= 40  # not Excel's default 8.43
    facts = {r[0].value: r[1].value for r in book["企业情况"].iter_rows(min_row=2)}
    assert facts["资质"] == "市级专精特新中小企业" and facts["行业"] == "制造业"
    bad, _, _ = client.predict("市级专精特新", "制造业", "很多钱", "", "", None, "", None, None, "", None, "", "", None,
                               api_name="/check")
    assert "上年度主营业务收入" in bad


def test_check_shows_the_clause_cap_when_the_amount_is_still_open(client):
    _, table, _ = client.predict("市级专精特新", "", "", "", "", "不清楚", "", "不清楚", "不清楚", "", "不清楚", "", "",
                                 "不清楚", api_name="/check")
    cloud = next(r for r in table.split("<tr>") if "上云上平台改造" in r)
    assert "待确认" in cloud or "符合" in cloud
    assert "30万元" in cloud  # the clause's 最高30万元, not an empty cell


def test_check_offers_district_level_and_says_it_is_outside_the_policy(client):
    summary, table, _ = client.predict("区级专精特新", "制造业", "", "120万元", "", "不清楚", "", "不清楚", "不清楚", "",
                                       "不清楚", "", "", "不清楚", api_name="/check")
    assert "区级专精特新" in summary and "不在本政策适用范围" in summary and "符合 0 项" in summary


def test_source_browser(client):
    html_text = client.predict("关于实施十大强企行动激发专精特新企业活力的若干措施", "五、实施“数智转型”行动",
                               api_name="/source")
    assert "上云上平台改造" in html_text


def test_comment_without_a_rating_stores_nothing(client, server):
    status, _ = client.predict("没有评价的意见", api_name="/feedback")
    assert "请先" in status
    db = server["index"] / "feedback.sqlite"
    if db.exists():
        with sqlite3.connect(db) as con:
            assert not con.execute("SELECT count(*) FROM feedback WHERE comment = '没有评价的意见'").fetchone()[0]


# ---- plain HTTP on the same port ---------------------------------------------------------------
def _post(url: str, body: dict) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_rest_ask_and_info(server):
    status, body = _post(server["url"] + "api/ask", {"question": "那如果合同额是10万元呢？",
                                                     "history": [["上云上平台改造补贴怎么算？", ""]]})
    d = json.loads(body)
    assert status == 200 and d["calculation"]["amount_yuan"] == 30000 and d["citations"][0]["section"] == "5"
    import urllib.request

    with urllib.request.urlopen(server["url"] + "api/info", timeout=30) as r:
        info = json.loads(r.read())
    assert info["answerer"] == "offline" and info["documents"][0]["doc_id"] == "bj-zjtx-2023"
    status, body = _post(server["url"] + "api/ask", {"question": 5})
    assert status == 400 and "question" in body.decode("utf-8")
    status, _ = _post(server["url"] + "api/ask", {"question": "啊" * 2_000_000})
    assert status == 413


def test_openai_compatible_chat_completions(server):
    body = {"model": "any", "messages": [{"role": "user", "content": "上云上平台改造补贴怎么算？"},
                                         {"role": "assistant", "content": "……"},
                                         {"role": "user", "content": "那如果合同额是10万元呢？"}]}
    status, raw = _post(server["url"] + "v1/chat/completions", body)
    d = json.loads(raw)
    assert status == 200 and d["object"] == "chat.completion"
    assert "3万元" in d["choices"][0]["message"]["content"] and "[1]" in d["choices"][0]["message"]["content"]
    assert d["citations"][0]["section"] == "5"
    status, raw = _post(server["url"] + "v1/chat/completions", {**body, "stream": True})
    events = [ln[6:] for ln in raw.decode("utf-8").splitlines() if ln.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "3万元" in text and chunks[-1]["citations"][0]["section"] == "5"


# ---- issue #12: the running app across re-indexes (keep last: it changes the app's index) ---------
def test_reindex_under_load_keeps_serving_and_switches_without_restart(server, tmp_path):
    import shutil
    import threading

    from gradio_client import Client

    errors, answered, stop = [], [], threading.Event()

    def ask_loop():
        c = Client(server["url"], verbose=False)
        while not stop.is_set():
            try:
                d = c.predict("上云上平台合同额50万元，补贴多少？", [], api_name="/ask")
                answered.append(d["calculation"]["amount_yuan"])
            except Exception as exc:  # any failure during a re-index is the defect
                errors.append(repr(exc))

    workers = [threading.Thread(target=ask_loop) for _ in range(6)]
    for w in workers:
        w.start()
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests/fixtures/corpus-mixed", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.txt", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.meta.json", corpus)
    try:
        for extra in ([], [], ["--corpus", str(corpus)]):
            r = subprocess.run([sys.executable, "-m", "assistant", "index", "--index", str(server["index"]), *extra],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stderr
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert not errors, errors[:3]
    assert answered and set(answered) == {150000}
    d = Client(server["url"], verbose=False).predict("北京市专利保护和促进条例第一条是什么？", [], api_name="/ask")
    assert d["citations"] and d["citations"][0]["title"].startswith("北京市专利保护和促进条例")
    # The documents tab follows the new build too (issue 20 item 8): no restart needed.
    title = d["citations"][0]["title"]
    text = Client(server["url"], verbose=False).predict(title, d["citations"][0]["label"], api_name="/source")
    assert "专利" in text
