"""The web app, started for real: every endpoint through gradio_client, then a real browser
(Debian chromium via Playwright). Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("app")
    index = work / "index"  # the app builds it: an index directory holds only our files
    port = _free_port()
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
    proc.wait(timeout=20)
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


def test_chat_streams_escaped_text_with_citations(client):
    messages, cites, box = client.predict("<b>上云</b>上平台改造补贴多少？", [], False, api_name="/chat")
    user = json.dumps(messages[0]["content"], ensure_ascii=False)
    assert "&lt;b&gt;" in user and "<b>" not in user
    assert "30%" in json.dumps(messages[1]["content"], ensure_ascii=False)
    assert "数智转型" in cites and "<mark>" in cites and box == ""


def test_chat_follow_up_uses_the_conversation(client):
    messages, _, _ = client.predict("上云上平台改造补贴怎么算？", [], False, api_name="/chat")
    messages, cites, _ = client.predict("那如果合同额是10万元呢？", messages, False, api_name="/chat")
    assert len(messages) == 4
    assert "30000" in json.dumps(messages[-1]["content"], ensure_ascii=False) and "30000" in cites


def test_hotline(client):
    short, figure, quote = client.predict("上云上平台合同额50万元，补贴多少？", api_name="/hotline")
    assert "150000" in short and "150000" in figure and "上云上平台改造" in quote


@pytest.mark.parametrize("rule, amount, industry, expected", [
    ("上云上平台改造", "50万", "", "150000元"),
    ("制造业专精特新企业数字化转型升级", "120万元", "制造业", "240000元"),
    ("制造业专精特新企业数字化转型升级", "120万元", "软件", "不符合"),
    ("制造业专精特新企业数字化转型升级", "120万元", "非制造业", "不符合"),
    ("区域性股权市场年度累计直接融资奖励", "22亿", "", "2000000元"),
    ("申报北京市企业技术中心的放宽条件", "1亿", "制造业", "符合"),
    ("上云上平台改造", "-5", "", "不能为负数"),
    ("上云上平台改造", "一些钱", "", "无法识别"),
])
def test_calculate(client, rule, amount, industry, expected):
    assert expected in client.predict(rule, amount, industry, api_name="/calculate")


def test_check_and_csv(client):
    summary, table, csv_path = client.predict(
        "市级专精特新", "制造业", "1.2亿", "120万元", "50万", "培育层", "22亿", "无", "否", "", "是", "20万", "", "不清楚",
        api_name="/check")
    rows = {r[0]: r for r in table["data"]}
    assert rows["制造业专精特新企业数字化转型升级"][4] == 240000
    assert Path(csv_path).read_text(encoding="utf-8-sig").startswith("措施,结果")
    bad, _, _ = client.predict("市级专精特新", "制造业", "很多钱", "", "", None, "", None, None, "", None, "", "", None,
                               api_name="/check")
    assert "上年度主营业务收入" in bad


def test_source_browser(client):
    html = client.predict("关于实施十大强企行动激发专精特新企业活力的若干措施", "五、实施“数智转型”行动",
                          api_name="/source")
    assert "上云上平台改造" in html


def test_feedback_is_stored_and_exported(client, server):
    client.predict("首贷有补助吗？", [], False, api_name="/chat")  # session state keeps the answer
    status = client.predict("👎 有问题", "<img src=x onerror=alert(1)>希望写明补助比例", api_name="/feedback")
    assert "已记录" in status and "<img" not in status
    fid = int(re.search(r"第 (\d+) 条", status).group(1))
    out = subprocess.run([sys.executable, "-m", "assistant", "feedback-export", "--index", str(server["index"])],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    cases = [json.loads(x) for x in out.stdout.splitlines()]
    mine = [c for c in cases if c["id"] == f"fb-{fid}"]
    assert mine and mine[0]["question"] == "首贷有补助吗？" and mine[0]["needs_review"]
    assert "希望写明补助比例" in mine[0]["comment"]


# ---- a real browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(server):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed: ./scripts/test installs it")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.on("dialog", lambda d: (_ALERTS.append(d.message), d.dismiss()))
        pg.goto(server["url"])
        pg.wait_for_selector("#question textarea", timeout=60000)
        yield pg
        browser.close()


_ALERTS: list[str] = []


def _ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#send")


@pytest.mark.browser
def test_browser_question_answer_and_citation(page):
    _ask(page, "上云上平台合同额50万元，补贴多少？")
    page.wait_for_selector("#citations [data-testid=citation]", timeout=30000)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('150000')", timeout=30000)
    card = page.locator("#citations [data-testid=citation]").first
    card.locator("summary").click()
    mark = card.locator("mark")
    assert mark.is_visible() and "上云上平台改造" in mark.inner_text()
    assert "数智转型" in card.inner_text()
    page.screenshot(path=str(SHOTS / "chat-answer-citation.png"), full_page=True)


@pytest.mark.browser
def test_browser_xss_in_question_and_feedback_never_runs(page):
    page.evaluate("window.__xss = 0")
    payload = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>上云补贴多少'
    _ask(page, payload)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('onerror')", timeout=30000)
    page.fill("#comment textarea", '<img src=y onerror="window.__xss=3">评论')
    page.get_by_label("👎 有问题").check()
    page.click("#submit-feedback")
    page.wait_for_function("document.querySelector('#feedback-status').innerText.includes('已记录')", timeout=30000)
    assert page.evaluate("window.__xss") == 0 and not _ALERTS
    assert "<img" in page.locator("#chat").inner_text()  # shown as text
    page.screenshot(path=str(SHOTS / "xss-shown-as-text.png"), full_page=True)


@pytest.mark.browser
def test_browser_calculator(page):
    page.get_by_role("tab", name="补贴计算").click()
    page.fill("#calc-amount textarea, #calc-amount input", "120万元")
    page.fill("#calc-industry textarea, #calc-industry input", "制造业")
    page.locator("#calc-rule input").click()
    page.get_by_role("option", name="制造业专精特新企业数字化转型升级").click()
    page.click("#calc-send")
    page.wait_for_function("document.querySelector('#calc-result').innerText.includes('240000')", timeout=30000)
    page.screenshot(path=str(SHOTS / "calculator.png"), full_page=True)


@pytest.mark.browser
def test_browser_eligibility_form(page):
    page.get_by_role("tab", name="政策体检").click()
    page.locator("#p-qualification input").click()
    page.get_by_role("option", name="市级专精特新").click()
    page.fill("#p-industry textarea, #p-industry input", "制造业")
    page.fill("#p-revenue textarea, #p-revenue input", "1.2亿")
    page.fill("#p-digital textarea, #p-digital input", "120万元")
    page.click("#check-send")
    page.wait_for_function("document.querySelector('#check-table').innerText.includes('240000')", timeout=30000)
    assert "符合 3 项" in page.locator("#check-summary").inner_text()  # untouched fields stay unknown
    table = page.locator("#check-table").inner_text()
    assert "是否已进入北京“专精特新”专板规范层或培育层" in table and "是否计划在A股" in table
    page.screenshot(path=str(SHOTS / "eligibility.png"), full_page=True)


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
