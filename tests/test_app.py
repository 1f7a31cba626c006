"""The web app, started for real: every endpoint through gradio_client, then a real browser
(Debian chromium via Playwright). Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("app")
    index = work / "index"  # the app builds it: an index directory holds only our files
    port = free_port()
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(work / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((work / "app.log").read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    time.sleep(1)
    yield {"url": url, "index": index, "proc": proc}
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def client(server):
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


def _chat(client, message, messages=None, turns=None, hotline=False):
    """The conversation's turns are session state on the server; the browser copy comes back too."""
    messages, box, _suggested, saved = client.predict(message, messages or [], hotline, api_name="/chat")
    return messages, (saved or {}).get("turns", turns), box


def test_chat_escapes_text_and_puts_citations_under_the_answer(client):
    messages, turns, box = _chat(client, "<b>上云</b>上平台改造补贴多少？")
    user = _content(messages[0])
    assert "<b>" not in user and "b&#62;" in user  # shown as the characters typed
    bot_bubble = _content(messages[1])
    assert "30%" in bot_bubble and 'data-testid="citation"' in bot_bubble and "<mark>" in bot_bubble
    assert box == "" and turns["1"]["answer"]["citations"][0]["section"] == "5"


def test_chat_follow_up_uses_the_conversation(client):
    messages, turns, _ = _chat(client, "上云上平台改造补贴怎么算？")
    messages, turns, _ = _chat(client, "那如果合同额是10万元呢？", messages, turns)
    assert len(messages) == 4 and turns["3"]["answer"]["calculation"]["amount_yuan"] == 30000
    assert "30,000" in _content(messages[-1])


def test_empty_message_changes_nothing(client):
    messages, turns, _ = _chat(client, "首贷有补助吗？")
    again, _, _, _ = client.predict("   ", messages, False, api_name="/chat")
    assert again in (None, messages, {"__type__": "update"})  # gr.skip(): the chat is left as it was


def test_hotline_is_speakable(client):
    short, figure, quote = client.predict("上云上平台合同额50万元，补贴多少？", api_name="/hotline")
    assert short.startswith("可获得的资金支持为15万元") and "【" not in short and "150000" not in short
    assert short.count("15万元") == 1  # said once
    assert "15万元" in figure and "上云上平台改造" in quote
    short, figure, _ = client.predict("上云上平台改造补贴多少？", api_name="/hotline")
    assert "请提供" not in short and "金额可写成" not in short and short.count("。") <= 2
    assert figure == ""  # no figure: the box is hidden


@pytest.mark.parametrize("rule, amount, industry, expected", [
    ("上云上平台改造", "50万", "", "150,000元"),
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
    assert csv_path.read_text(encoding="utf-8-sig").startswith("措施,结果")
    from openpyxl import load_workbook

    sheet = load_workbook(next(p for p in paths if p.suffix == ".xlsx")).active
    assert sheet.cell(1, 1).value == "结果"
    bad, _, _ = client.predict("市级专精特新", "制造业", "很多钱", "", "", None, "", None, None, "", None, "", "", None,
                               api_name="/check")
    assert "上年度主营业务收入" in bad


def test_source_browser(client):
    html_text = client.predict("关于实施十大强企行动激发专精特新企业活力的若干措施", "五、实施“数智转型”行动",
                               api_name="/source")
    assert "上云上平台改造" in html_text


def test_comment_without_a_rating_stores_nothing(client, server):
    status, _ = client.predict({}, None, "没有评价的意见", api_name="/feedback")
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


# ---- a real browser, at desktop and phone size -------------------------------------------------
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser(server):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed: ./scripts/test installs it")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, server):
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    pg = context.new_page()
    pg.size_name = request.param
    pg.on("dialog", lambda d: (_ALERTS.append(d.message), d.dismiss()))
    pg.goto(server["url"])
    pg.wait_for_selector("#question textarea", timeout=60000)
    yield pg
    context.close()


_ALERTS: list[str] = []


def _ask(page, question: str, expect: str) -> None:
    before = page.locator("#chat [data-testid=bot]").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat [data-testid=bot]').length > {before}", timeout=30000)
    page.wait_for_function(f"document.querySelector('#chat').innerText.includes({json.dumps(expect)})", timeout=30000)
    page.wait_for_function("!document.querySelector('#send').disabled", timeout=30000)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{page.size_name}.png"), full_page=True)


def _wait_status(page, text: str) -> None:
    try:
        page.wait_for_function(f"document.querySelector('#feedback-status').innerText.includes({json.dumps(text)})",
                               timeout=30000)
    except Exception:
        raise AssertionError(f"feedback status is {page.locator('#feedback-status').inner_text()!r}, "
                             f"expected {text!r}") from None


def _feedback_rows(server) -> list[tuple]:
    db = server["index"] / "feedback.sqlite"
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, question, rating, comment FROM feedback ORDER BY id").fetchall()


@pytest.mark.browser
def test_browser_citations_sit_under_their_answer(page):
    _ask(page, "上云上平台合同额50万元，补贴多少？", "15万元")
    _ask(page, "首贷有补助吗？", "首贷")
    bots = page.locator("#chat [data-testid=bot]")
    first, second = bots.nth(0), bots.nth(1)
    assert "数智转型" in first.locator("details.cite").first.inner_text()
    assert "千亿畅融" in second.locator("details.cite").first.inner_text()  # not overwritten
    card = first.locator("details.cite").first
    card.locator("summary").click()
    assert card.locator("mark").is_visible() and "上云上平台改造" in card.locator("mark").inner_text()
    text_box, card_box = first.bounding_box(), card.bounding_box()
    assert card_box["y"] < text_box["y"] + text_box["height"]  # inside the answer's own bubble
    assert "150,000" in first.inner_text()  # figures grouped for reading
    _shot(page, "chat-citations-under-answers")


@pytest.mark.browser
def test_browser_feedback_is_bound_to_the_rated_message_with_undo(page, server):
    marker = f"上云上平台改造补贴多少？{page.size_name}"
    _ask(page, marker, "30%")
    _ask(page, "首贷有补助吗？", "首贷")
    before = _feedback_rows(server) if (server["index"] / "feedback.sqlite").exists() else []
    first = page.locator("#chat [data-testid=bot]").nth(0)
    first.hover()
    page.locator("#chat button[aria-label=Dislike]").nth(0).click()
    _wait_status(page, "已记录")
    rows = _feedback_rows(server)
    new = [r for r in rows if r not in before]
    assert len(new) == 1 and new[0][1] == marker and new[0][2] == -1  # the first bubble, not the latest
    _shot(page, "feedback-recorded")
    page.locator("#chat button[aria-label=Disliked]").nth(0).click()  # the same thumb again: undo
    _wait_status(page, "撤销")
    assert [r for r in _feedback_rows(server) if r not in before] == []
    page.locator("#chat button[aria-label=Like]").nth(0).click()
    _wait_status(page, "已记录")
    page.get_by_text("对回答的意见").click()
    page.fill("#comment textarea", '<img src=y onerror="window.__xss=3">希望写明比例')
    page.click("#submit-feedback")
    _wait_status(page, "已记录意见")
    mine = [r for r in _feedback_rows(server) if r not in before]
    assert len(mine) == 1 and mine[0][1] == marker and mine[0][2] == 1 and "希望写明比例" in mine[0][3]
    _shot(page, "feedback-comment")


@pytest.mark.browser
def test_browser_empty_and_double_send(page):
    page.click("#send")
    page.wait_for_timeout(800)
    assert page.locator("#chat [data-testid=user]").count() == 0
    page.fill("#question textarea", "首贷有补助吗？")
    page.dblclick("#send")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('首贷')", timeout=30000)
    page.wait_for_timeout(1500)
    assert page.locator("#chat [data-testid=user]").count() == 1
    assert page.locator("#chat [data-testid=bot]").count() == 1
    _shot(page, "empty-and-double-send")


@pytest.mark.browser
def test_browser_user_text_is_shown_as_typed(page):
    page.evaluate("window.__xss = 0")
    typed = '**粗体** [链接](javascript:alert(1)) $$x^2$$ <img src=x onerror="window.__xss=1">'
    page.fill("#question textarea", typed)
    page.click("#send")
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=bot]').length > 0", timeout=30000)
    user = page.locator("#chat [data-testid=user]").first
    assert "**粗体**" in user.inner_text() and "$$x^2$$" in user.inner_text()
    assert user.locator("strong, a, .katex, img").count() == 0
    assert page.evaluate("window.__xss") == 0 and not _ALERTS
    _shot(page, "user-text-literal")


@pytest.mark.browser
def test_browser_reload_keeps_the_chat_and_new_chat_clears_it(page):
    _ask(page, "专板规范层奖励多少？", "30万")
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('30万')", timeout=30000)
    _shot(page, "reload-keeps-chat")
    _ask(page, "那培育层呢？", "培育层")  # the restored conversation still feeds follow-ups
    page.click("#new-chat")
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=user]').length === 0", timeout=30000)
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_timeout(1500)
    assert page.locator("#chat [data-testid=user]").count() == 0


@pytest.mark.browser
def test_browser_welcome_and_suggestions(page):
    assert "专精特新政策助手" in page.locator("#chat").inner_text()
    _ask(page, "上云上平台改造补贴多少？", "30%")
    suggestions = page.locator("#suggestions").inner_text()
    assert "数字化转型" in suggestions or "数智转型" in suggestions
    page.locator("#suggestions button").first.click()
    page.wait_for_function("document.querySelector('#question textarea').value.length > 0", timeout=30000)
    _shot(page, "suggestions")


@pytest.mark.browser
def test_browser_every_tab_is_reachable(page):
    tabs = page.get_by_role("tab")
    assert [t.inner_text() for t in tabs.all()] == ["问答", "热线", "计算", "体检", "原文"]
    assert all(t.is_visible() for t in tabs.all())
    assert not page.locator(".overflow-menu:not(.hide)").count()
    assert "离线模式：答案均引用原文，金额由计算器得出" in page.locator("#header").inner_text()
    _shot(page, "tabs")


@pytest.mark.browser
def test_browser_hotline_reads_aloud(page):
    page.get_by_role("tab", name="热线").click()
    page.fill("#hotline-question textarea", "上云上平台改造补贴多少？")
    page.click("#hotline-send")
    page.wait_for_function("document.querySelector('#hotline-short textarea').value.includes('30万')", timeout=30000)
    short = page.input_value("#hotline-short textarea")
    assert "【" not in short and "请提供" not in short
    assert not page.locator("#hotline-figure").is_visible()
    page.fill("#hotline-question textarea", "上云上平台合同额50万元，补贴多少？")
    page.click("#hotline-send")
    page.wait_for_function("document.querySelector('#hotline-short textarea').value.includes('15万元')", timeout=30000)
    page.locator("#hotline-figure").wait_for(state="visible", timeout=30000)
    _shot(page, "hotline")


@pytest.mark.browser
def test_browser_calculator(page):
    page.get_by_role("tab", name="计算").click()
    page.fill("#calc-amount textarea, #calc-amount input", "120万元")
    page.fill("#calc-industry textarea, #calc-industry input", "制造业")
    page.locator("#calc-rule input").click()
    page.get_by_role("option", name="制造业专精特新企业数字化转型升级").click()
    page.click("#calc-send")
    page.wait_for_function("document.querySelector('#calc-result').innerText.includes('24万元')", timeout=30000)
    assert "1,200,000 × 20% = 240,000" in page.locator("#calc-result").inner_text()
    _shot(page, "calculator")


@pytest.mark.browser
def test_browser_eligibility_form(page):
    page.get_by_role("tab", name="体检").click()
    page.locator("#p-qualification input").click()
    page.get_by_role("option", name="市级专精特新").click()
    page.fill("#p-industry textarea, #p-industry input", "制造业")
    page.fill("#p-revenue textarea, #p-revenue input", "1.2亿")
    page.fill("#p-digital textarea, #p-digital input", "120万元")
    page.click("#check-send")
    page.wait_for_function("document.querySelector('#check-table').innerText.includes('24万元')", timeout=30000)
    assert "符合 3 项" in page.locator("#check-summary").inner_text()  # untouched fields stay unknown
    table = page.locator("#check-table")
    assert "是否已进入北京“专精特新”专板规范层或培育层" in table.inner_text()
    width = page.viewport_size["width"]
    assert table.bounding_box()["width"] <= width  # every column readable without sideways scrolling
    first_cell = table.locator("tbody tr").first.locator("td").first
    assert first_cell.inner_text().strip().endswith(("符合", "待确认", "不符合"))  # 结果 first
    assert page.locator("#check-files").inner_text().count("政策体检") >= 2  # CSV and XLSX
    _shot(page, "eligibility")


@pytest.mark.browser
def test_browser_source_tab(page):
    page.get_by_role("tab", name="原文").click()
    assert "实施“创新领航”" in page.locator("#section-text").inner_text() or \
        "为进一步激发" in page.locator("#section-text").inner_text()  # the first section is shown
    page.fill("#doc-search textarea, #doc-search input", "首贷")
    page.click("#doc-search-send")
    page.wait_for_function("document.querySelector('#doc-search-result').innerText.includes('找到')", timeout=30000)
    _shot(page, "source")


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
