"""The web app in a real browser (Debian chromium via Playwright) at desktop and phone size, doing
what the users of issue 20 did: copy an answer and paste it, rate – reload – rate, paste a long
text, ask two things on the hotline, ask as a 区级 enterprise, read a new answer on a phone, type
the next question right after Enter. Screenshots go to test-artifacts/screenshots/ (look at them)."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.test_reliability_serve import app_process

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
TABS = ["问答", "热线", "计算", "体检", "原文"]
pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    with app_process(work) as (url, _port, _pid):
        yield {"url": url, "index": work / "index"}


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


_ALERTS: list[str] = []
# Behaviour that does not depend on the screen's size is checked once, at desktop size.
DESKTOP_ONLY = pytest.mark.parametrize("page", ["desktop"], indirect=True)


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, server):
    # An English browser, as in the issue: Gradio's own words must still be Chinese.
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="en-US",
                                  permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.size_name = request.param
    pg.on("dialog", lambda d: (_ALERTS.append(d.message), d.dismiss()))
    pg.goto(server["url"])
    pg.wait_for_selector("#question textarea", timeout=60000)
    yield pg
    context.close()


def bots(page):
    return page.locator("#chat [data-testid=bot]")


def ask(page, question: str, expect: str = "", submit: str = "click") -> None:
    before = bots(page).count()
    page.fill("#question textarea", question)
    if submit == "enter":
        page.press("#question textarea", "Enter")
    else:
        page.click("#send")
    wait_answer(page, before, expect)


def wait_answer(page, before: int, expect: str = "") -> None:
    page.wait_for_function(
        f"document.querySelectorAll('#chat [data-testid=bot]').length > {before} && "
        "!document.querySelector('#chat').innerText.includes('正在查找原文')", timeout=30000)
    if expect:
        page.wait_for_function(f"document.querySelector('#chat').innerText.includes({json.dumps(expect)})",
                               timeout=30000)
    page.wait_for_timeout(300)  # the reveal runs two frames after the answer


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-{page.size_name}.png"), full_page=True)


def wait_status(page, text: str) -> None:
    try:
        page.wait_for_function(f"document.querySelector('#feedback-status').innerText.includes({json.dumps(text)})",
                               timeout=30000)
    except Exception:
        raise AssertionError(f"feedback status is {page.locator('#feedback-status').inner_text()!r}, "
                             f"expected {text!r}") from None


def feedback_rows(server) -> list[tuple]:
    db = server["index"] / "feedback.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, question, rating, comment FROM feedback ORDER BY id").fetchall()


# ---- 1. copy: clean text on the clipboard --------------------------------------------------------------
@DESKTOP_ONLY
def test_copy_puts_clean_text_on_the_clipboard(page):
    ask(page, "上云上平台合同额50万元，补贴多少？", "15万元")
    page.evaluate("navigator.clipboard.writeText('')")
    bots(page).last.get_by_role("button", name="复制").click()
    page.wait_for_function("document.querySelector('#chat').innerText.includes('已复制')", timeout=5000)
    pasted = page.evaluate("navigator.clipboard.readText()")
    assert "15万元" in pasted and "鼓励专精特新企业实施上云上平台改造" in pasted  # the answer and its source
    assert not re.search(r"<[a-z/][^>]*>", pasted) and "&#" not in pasted and "&lt;" not in pasted
    assert "来源" in pasted and "复制" not in pasted and "有帮助" not in pasted  # no buttons, no markup
    shot(page, "copy")


# ---- 2. hotline ----------------------------------------------------------------------------------------------
def hotline(page, question: str) -> str:
    """Asks on the hotline tab (one question per page: the answer box starts empty)."""
    page.get_by_role("tab", name="热线").click()
    page.fill("#hotline-question textarea", question)
    page.click("#hotline-send")
    page.wait_for_function("document.querySelector('#hotline-short textarea').value.length > 0", timeout=30000)
    page.wait_for_timeout(500)  # the figure box shows or hides with the same reply
    return page.input_value("#hotline-short textarea")


@DESKTOP_ONLY
def test_hotline_names_each_of_two_asks(page):
    short = hotline(page, "我们是制造业企业，数字化转型合同额120万元能补多少？上云上平台合同额50万元能补多少？")
    assert "24万元" in short and "15万元" in short
    assert "数字化转型" in short and "上云" in short  # each figure said with what it is for
    assert not re.search(r"。(有|没有|可以|能)。", short)  # no bare verdict opening a second answer
    figure = page.input_value("#hotline-figure textarea")
    assert "min(" not in figure and "。；" not in figure and "；；" not in figure
    shot(page, "hotline-two-asks")


@DESKTOP_ONLY
def test_hotline_refused_eligibility_shows_no_figure(page):
    short = hotline(page, "我们是区级专精特新企业，数字化转型合同额120万元，能补多少？")
    assert "不符合" in short or "不在" in short
    assert not page.locator("#hotline-figure").is_visible()  # no 金额：24万元 after 不符合
    shot(page, "hotline-refused")


@DESKTOP_ONLY
def test_hotline_figure_box_reads_as_words(page):
    hotline(page, "上云上平台合同额50万元，补贴多少？")
    page.locator("#hotline-figure").wait_for(state="visible", timeout=30000)
    figure = page.input_value("#hotline-figure textarea")
    assert "15万元" in figure and "150,000" in figure and "min(" not in figure and "。；" not in figure


# ---- 3. ratings: rate, reload, rate -------------------------------------------------------------------------
def rate(page, nth: int, name: str):
    bots(page).nth(nth).get_by_role("button", name=name).click()


@DESKTOP_ONLY
def test_rating_survives_a_reload_and_can_be_undone_without_duplicates(page, server):
    marker = f"上云上平台改造补贴多少？{page.size_name}"
    ask(page, marker, "30%")
    ask(page, "首贷有补助吗？", "首贷")
    rate(page, 0, "👎 没帮助")
    wait_status(page, "已记录")
    mine = [r for r in feedback_rows(server) if r[1] == marker]
    assert len(mine) == 1 and mine[0][2] == -1  # the first bubble, not the latest
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=bot]').length === 2", timeout=30000)
    pressed = bots(page).nth(0).locator("button.act.pressed")
    assert pressed.count() == 1 and "没帮助" in pressed.inner_text()  # still shown as rated
    shot(page, "rating-after-reload")
    rate(page, 0, "👍 有帮助")  # changes the rating: the same row, no duplicate
    wait_status(page, "已记录")
    mine = [r for r in feedback_rows(server) if r[1] == marker]
    assert len(mine) == 1 and mine[0][2] == 1
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_function("document.querySelectorAll('#chat button.act.pressed').length === 1", timeout=30000)
    rate(page, 0, "👍 有帮助")  # the same thumb again, after a reload: undone
    wait_status(page, "撤销")
    assert [r for r in feedback_rows(server) if r[1] == marker] == []
    assert bots(page).nth(0).locator("button.act.pressed").count() == 0
    rate(page, 0, "👍 有帮助")
    wait_status(page, "已记录")
    page.get_by_text("对回答的意见").click()
    page.fill("#comment textarea", '<img src=y onerror="window.__xss=3">希望写明比例')
    page.click("#submit-feedback")
    wait_status(page, "已记录意见")
    mine = [r for r in feedback_rows(server) if r[1] == marker]
    assert len(mine) == 1 and mine[0][2] == 1 and "希望写明比例" in mine[0][3]
    assert page.evaluate("window.__xss || 0") == 0


# ---- 4. a long paste ------------------------------------------------------------------------------------------
def test_a_long_paste_keeps_a_small_bubble_and_shows_the_question_at_its_end(page):
    filler = "我们公司成立于2015年，主要从事工业软件研发。" * 240
    question = "请问上云上平台合同额50万元，补贴多少？"
    pasted = (filler + question)[-5000:]
    ask(page, pasted, "")
    user = page.locator("#chat [data-testid=user]").last
    assert user.bounding_box()["height"] <= 420, user.bounding_box()
    assert question in user.inner_text()  # the end, where the question is, is shown
    answer = bots(page).last
    assert "15万元" in answer.inner_text()  # answered: the question at the end was not lost
    assert answer.locator(".notice").count() == 1  # and the bubble says the paste was shortened
    shot(page, "long-paste")


# ---- 5. suggested follow-ups --------------------------------------------------------------------------------
def suggestions(page) -> list[str]:
    return [t.strip() for t in page.locator("#suggestions button").all_inner_texts() if t.strip()]


@DESKTOP_ONLY
def test_follow_ups_are_new_questions_without_nested_quotes(page):
    ask(page, "首贷有补助吗？", "首贷")
    first = bots(page).last.inner_text()
    offered = suggestions(page)
    assert offered and not any("”还有哪些支持" in s or s.count("“") > 1 for s in offered)
    page.locator("#suggestions button").first.click()
    page.wait_for_function("document.querySelector('#question textarea').value.length > 0", timeout=30000)
    before = bots(page).count()
    page.click("#send")
    wait_answer(page, before)
    assert bots(page).last.inner_text() != first  # not the same sentence again
    ask(page, "在纳斯达克上市有补贴吗？附近有好吃的吗？", "")
    ask(page, "我们是区级专精特新，能享受吗？", "")
    assert not any("适用范围" in s for s in suggestions(page))  # no "“适用范围和执行期”还有哪些支持？"
    shot(page, "suggestions")


# ---- 6. phone: the new answer in view, each step once, no label over it, 发送 on the first screen, focus ---------
def test_a_new_answer_opens_at_its_first_line(page):
    for q in ("上云上平台合同额50万元，补贴多少？", "首贷有补助吗？", "进入专板培育层的企业有奖励吗？"):
        ask(page, q, "")
    last = bots(page).last
    top = last.bounding_box()["y"]
    assert 0 <= top <= VIEWPORTS[page.size_name]["height"] - 80, top  # its first line is on screen
    first_line = last.locator(".answer").first
    box = first_line.bounding_box()
    assert box["y"] >= 0 and box["y"] < VIEWPORTS[page.size_name]["height"] - 40
    assert page.locator("#chat label, #chat [data-testid=block-label]").filter(has_text="对话").count() == 0
    shot(page, "new-answer-in-view")


@DESKTOP_ONLY
def test_the_steps_are_shown_once(page):
    ask(page, "上云上平台合同额50万元，补贴多少？", "15万元")
    bubble = bots(page).last.inner_text()
    assert bubble.count("500,000 × 30%") + bubble.count("500000 × 30%") == 1, bubble


def test_send_is_on_the_first_screen(page):
    box = page.locator("#send").bounding_box()
    assert box["y"] + box["height"] <= VIEWPORTS[page.size_name]["height"]
    shot(page, "first-screen")


@DESKTOP_ONLY
def test_typing_right_after_enter_is_kept(page):
    page.fill("#question textarea", "首贷有补助吗？")
    before = bots(page).count()
    page.press("#question textarea", "Enter")
    page.keyboard.type("上云上平台")  # the next question, typed at once
    wait_answer(page, before, "首贷")
    assert page.input_value("#question textarea") == "上云上平台"
    assert page.evaluate("document.activeElement === document.querySelector('#question textarea')")
    page.keyboard.type("改造补贴多少？")
    before = bots(page).count()
    page.keyboard.press("Enter")
    wait_answer(page, before, "30%")
    assert page.locator("#chat [data-testid=user]").count() == 2


@DESKTOP_ONLY
def test_empty_and_double_send(page):
    page.click("#send")
    page.wait_for_timeout(800)
    assert page.locator("#chat [data-testid=user]").count() == 0
    page.fill("#question textarea", "首贷有补助吗？")
    page.dblclick("#send")
    page.wait_for_function("document.querySelector('#chat').innerText.includes('首贷')", timeout=30000)
    page.wait_for_timeout(1500)
    assert page.locator("#chat [data-testid=user]").count() == 1 and bots(page).count() == 1


# ---- the chat's other promises ------------------------------------------------------------------------------
def test_citations_sit_under_their_answer(page):
    ask(page, "上云上平台合同额50万元，补贴多少？", "15万元")
    ask(page, "首贷有补助吗？", "首贷")
    first, second = bots(page).nth(0), bots(page).nth(1)
    assert "数智转型" in first.locator("details.cite").first.inner_text()
    assert "千亿畅融" in second.locator("details.cite").first.inner_text()  # not overwritten
    card = first.locator("details.cite").first
    card.locator("summary").click()
    assert card.locator("mark").is_visible() and "上云上平台改造" in card.locator("mark").inner_text()
    text_box, card_box = first.bounding_box(), card.bounding_box()
    assert card_box["y"] < text_box["y"] + text_box["height"]  # inside the answer's own bubble
    assert "150,000" in first.inner_text()  # figures grouped for reading
    shot(page, "chat-citations-under-answers")


@DESKTOP_ONLY
def test_user_text_is_shown_as_typed(page):
    page.evaluate("window.__xss = 0")
    typed = '**粗体** [链接](javascript:alert(1)) $$x^2$$ <img src=x onerror="window.__xss=1">'
    ask(page, typed, "")
    user = page.locator("#chat [data-testid=user]").first
    assert "**粗体**" in user.inner_text() and "$$x^2$$" in user.inner_text()
    assert user.locator("strong, a, .katex, img").count() == 0
    assert page.evaluate("window.__xss") == 0 and not _ALERTS


@DESKTOP_ONLY
def test_reload_keeps_the_chat_and_new_chat_clears_it(page):
    ask(page, "专板规范层奖励多少？", "30万")
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_function("document.querySelector('#chat').innerText.includes('30万')", timeout=30000)
    ask(page, "那培育层呢？", "培育层")  # the restored conversation still feeds follow-ups
    page.click("#new-chat")
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=user]').length === 0", timeout=30000)
    page.reload()
    page.wait_for_selector("#question textarea", timeout=60000)
    page.wait_for_timeout(1500)
    assert page.locator("#chat [data-testid=user]").count() == 0


# ---- 11. language and order ---------------------------------------------------------------------------------
ALLOWED_LATIN = {"API", "CSV", "Excel", "XLSX", "SaaS", "MES", "ERP", "A", "static", "zh", "retrieval", "llm"}


def latin_words(page) -> set[str]:
    texts = page.evaluate("""() => {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        if (el.closest('script, style, code, pre')) continue;
        for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
        for (const n of el.childNodes) if (n.nodeType === 3 && el.offsetParent !== null) out.push(n.textContent);
      }
      return out;
    }""")
    return {w for t in texts for w in re.findall(r"[A-Za-z]{2,}", t)} - ALLOWED_LATIN


def test_interface_words_are_chinese_and_thumbs_up_comes_first(page):
    ask(page, "上云上平台改造补贴多少？", "30%")
    buttons = bots(page).last.locator("button.act").all_inner_texts()
    assert buttons == ["复制", "👍 有帮助", "👎 没帮助"]
    rate(page, 0, "👍 有帮助")
    wait_status(page, "已记录")
    bots(page).last.get_by_role("button", name="复制").click()
    page.wait_for_timeout(300)
    found = latin_words(page)
    for word in ("Copy", "Liked", "Copied", "Like", "Dislike", "Clear", "Loading"):
        assert word not in found, found
    for tab in TABS[1:]:
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        assert not latin_words(page) - {"Gradio"}, (tab, latin_words(page))


# ---- 7. 政策体检 on screen ---------------------------------------------------------------------------------------
def test_eligibility_table_reads_whole_words_and_cards_have_no_empty_lines(page):
    page.get_by_role("tab", name="体检").click()
    page.locator("#p-qualification input").click()
    assert page.get_by_role("option", name="区级专精特新").count() == 1
    page.get_by_role("option", name="市级专精特新").click()
    page.fill("#p-industry textarea, #p-industry input", "制造业")
    page.fill("#p-digital textarea, #p-digital input", "120万元")
    page.click("#check-send")
    page.wait_for_function("document.querySelector('#check-table').innerText.includes('24万元')", timeout=30000)
    table = page.locator("#check-table")
    assert table.bounding_box()["width"] <= page.viewport_size["width"]
    for cell in table.locator("td.nowrap").all():  # 结果 and 最高金额: one line each (no 待确/认)
        if cell.is_visible() and cell.inner_text().strip():
            lines = page.evaluate("(el) => { const r = document.createRange(); r.selectNodeContents(el); "
                                  "return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }",
                                  cell.element_handle())
            assert lines == 1, cell.inner_text()
    if page.size_name == "phone":  # cards: a field with nothing in it is not a line
        visible = [c for c in table.locator("td").all() if c.is_visible()]
        assert all(c.inner_text().strip() for c in visible)
    assert page.locator("#check-files").inner_text().count("政策体检") >= 2
    shot(page, "eligibility")


# ---- 8. 原文: search as the chat understands ----------------------------------------------------------------------
@DESKTOP_ONLY
@pytest.mark.parametrize("words", ["上云 补贴", "贷款补贴", "專精特新", "首贷"])
def test_source_search_finds_what_chat_understands(page, words):
    page.get_by_role("tab", name="原文").click()
    page.fill("#doc-search textarea, #doc-search input", words)
    page.click("#doc-search-send")
    page.wait_for_function("/找到/.test(document.querySelector('#doc-search-result').innerText)", timeout=30000)
    assert "没有找到" not in page.locator("#doc-search-result").inner_text()


# ---- 9. 计算 ------------------------------------------------------------------------------------------------------
def calculate(page, rule: str, amount: str, industry: str = "") -> str:
    page.get_by_role("tab", name="计算").click()
    page.locator("#calc-rule input").click()
    page.get_by_role("option", name=rule).click()
    page.fill("#calc-amount textarea, #calc-amount input", amount)
    page.fill("#calc-industry textarea, #calc-industry input", industry)
    before = page.locator("#calc-result").inner_text()
    page.click("#calc-send")
    page.wait_for_function(f"(t => t !== {json.dumps(before)} && /可获得|符合|输入有误|请/.test(t) && !/处理中|processing|\\d\\.\\ds/.test(t))"
                           "(document.querySelector('#calc-result').innerText)", timeout=30000)
    return page.locator("#calc-result").inner_text()


@DESKTOP_ONLY
def test_calculator_reads_like_a_person_wrote_it(page):
    text = calculate(page, "制造业专精特新企业数字化转型升级", "80万元", "制造业")
    assert "16万元（160,000元）" in text and "即" not in text
    assert "合同额" in page.locator("#calc-amount").inner_text()  # the input says what amount it wants
    text = calculate(page, "区域性股权市场年度累计直接融资奖励", "1.5亿")
    assert "0元（0元" not in text and "即 0元" not in text
    assert "年度累计直接融资额" in page.locator("#calc-amount").inner_text()
    text = calculate(page, "上云上平台改造", "80万元人民币")
    assert "24万元" in text and "输入有误" not in text
    shot(page, "calculator")


# ---- every tab, at both sizes -------------------------------------------------------------------------------------
def test_every_tab_is_reachable_and_photographed(page):
    tabs = page.get_by_role("tab")
    assert [t.inner_text() for t in tabs.all()] == TABS
    assert all(t.is_visible() for t in tabs.all())
    assert not page.locator(".overflow-menu:not(.hide)").count()
    assert "离线模式：答案均引用原文，金额由计算器得出" in page.locator("#header").inner_text()
    ask(page, "上云上平台合同额50万元，补贴多少？", "15万元")
    shot(page, "tab-1-问答")
    hotline(page, "上云上平台合同额50万元，补贴多少？")
    shot(page, "tab-2-热线")
    calculate(page, "制造业专精特新企业数字化转型升级", "120万元", "制造业")
    shot(page, "tab-3-计算")
    page.get_by_role("tab", name="体检").click()
    page.locator("#p-qualification input").click()
    page.get_by_role("option", name="市级专精特新").click()
    page.click("#check-send")
    page.wait_for_function("document.querySelector('#check-table').innerText.length > 0", timeout=30000)
    shot(page, "tab-4-体检")
    page.get_by_role("tab", name="原文").click()
    page.fill("#doc-search textarea, #doc-search input", "首贷")
    page.click("#doc-search-send")
    page.wait_for_function("document.querySelector('#doc-search-result').innerText.includes('找到')", timeout=30000)
    shot(page, "tab-5-原文")
