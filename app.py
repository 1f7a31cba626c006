"""The browser app (Gradio, mounted on FastAPI): chat with citations under each answer, hotline
answers to read aloud, calculators, 政策体检, the documents, feedback — plus plain HTTP
(/api/ask, /api/info, /v1/chat/completions) on the same port. The only module that imports Gradio.

    .venv/bin/python app.py [--host 127.0.0.1] [--port 7860]
"""
from __future__ import annotations

import argparse
import html
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr

from assistant import Assistant
from assistant.understand.amounts import AmountError, fmt_wan, parse_amount
from assistant.calculate.calculators import CalculationError, calculate, industry_fits, threshold
from assistant.calculate.eligibility import AMOUNTS, CHOICES, FLAGS, STATUS_CN, ProfileError, spreadsheet_safe
from assistant.serve.feedback import FeedbackError, FeedbackStore, FeedbackUnavailable, Rating
from assistant.settings import Settings
from assistant.answer.speech import readable_number

log = logging.getLogger("app")
HEADER = "离线模式：答案均引用原文，金额由计算器得出"
HEADER_LLM = "大模型措辞模式：答案由大模型组织语言，每个数字都经核对与原文一致，金额由计算器得出；未通过核对时自动改用离线答案"
WELCOME = ("**您好，我是专精特新政策助手。** 我依据《关于实施十大强企行动激发专精特新企业活力的若干措施》等已加载文件回答，"
           "每个答案都引用原文条款，补贴金额由计算器按原文算出。\n\n"
           "可以这样问：“上云上平台合同额50万元，补贴多少？”“首贷有补助吗？”“我们是区级专精特新，能享受吗？”")
EXAMPLES = ["上云上平台改造补贴多少？", "我们是制造业企业，数字化转型合同额120万元，能拿多少？",
            "进入专板培育层的企业有奖励吗？", "在纳斯达克上市有补贴吗？", "参加线上外贸展会的费用能补贴吗？",
            "2029年还能申请吗？"]
MAX_INPUT = 10_000
UNKNOWN = "不清楚"
FEEDBACK_OFF = "反馈功能暂时关闭（反馈数据库不可用）。"
CHECK_FILES = Path(tempfile.gettempdir()) / "zjtx-check"  # one folder for 政策体检 downloads
KEEP_CHECK_FILES = 50
CSS = """
.cite {border:1px solid #d0d7de;border-radius:6px;padding:4px 10px;margin:6px 0;background:#fafbfc}
.cite summary {cursor:pointer;font-weight:600}
.cite mark {background:#fff3a3}
.calc {border-left:3px solid #2f81f7;padding:2px 10px;margin:6px 0}
.short-answer textarea {font-size:20px !important;line-height:1.6}
.refused {color:#9a3412;font-weight:600}
.check-table {border-collapse:collapse;width:100%}
.check-table th, .check-table td {border:1px solid #d0d7de;padding:6px;vertical-align:top;text-align:left}
.status-met {color:#1a7f37;font-weight:700} .status-not_met {color:#9a3412;font-weight:700}
.status-unknown {color:#6e7781;font-weight:700}
@media (max-width: 700px) {
  .check-table thead {display:none}
  .check-table tr {display:block;border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px}
  .check-table td {display:block;border:none;padding:2px 4px}
  .check-table td::before {content:attr(data-label) "：";font-weight:600}
}
"""
# The conversation is kept in the browser (localStorage), so a reload does not lose it.
SAVED_KEY = "zjtx-chat-v1"


# ---- presentation (all user-visible text escaped here) -------------------------------------
def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$<>"}


def literal(text: str) -> str:
    """What the user typed, shown as typed: no HTML, no Markdown, no formulas."""
    return "".join(_MARKDOWN.get(ch, html.escape(ch)) for ch in text).replace("\n", "<br>")


def clause_html(bot: Assistant, doc_id: str, section: str, quote: str) -> str:
    clause = bot.offline.clauses_by_key.get(f"{doc_id}#{section}")
    body, q = esc(clause.text if clause else quote), esc(quote)
    if q and q in body:
        body = body.replace(q, f"<mark>{q}</mark>", 1)
    return body.replace("\n", "<br>")


def calculation_html(calc: dict | None) -> str:
    if not calc:
        return ""
    steps = "".join(f"<li>{esc(readable_number(s))}</li>" for s in calc["steps"])
    return (f'<div class="calc" data-testid="calculation"><b>计算结果：{esc(fmt_wan(calc["amount_yuan"]))}'
            f'（{calc["amount_yuan"]:,}元）</b><ul>{steps}</ul></div>')


def answer_html(bot: Assistant, answer: dict, hotline: bool = False) -> str:
    """One chat bubble: the answer with [n] markers, then its own citations (folded) and steps."""
    if hotline and not answer["refused"]:
        text = esc(answer.get("short") or answer["text"])
    else:
        # Figures grouped for reading; quotes stay exactly as the document writes them.
        text = esc("\n".join(ln if ln.startswith("原文：") else readable_number(ln)
                             for ln in answer["text"].split("\n")))
        for i, c in enumerate(answer.get("citations", []), 1):
            label = esc(f"【{c['label']}】")
            text = text.replace(label, f"{label}<sup>[{i}]</sup>", 1)
    parts = [f'<div class="{"refused" if answer["refused"] else "answer"}">{text.replace(chr(10), "<br>")}</div>']
    for i, c in enumerate(answer.get("citations", []), 1):
        parts.append(f'<details class="cite" data-testid="citation"><summary>[{i}] {esc(c["label"])}'
                     f'　<small>《{esc(c["title"])}》</small></summary>'
                     f'<div class="clause-text">{clause_html(bot, c["doc_id"], c["section"], c["quote"])}</div></details>')
    parts.append(calculation_html(answer.get("calculation")))
    return "".join(parts)


def follow_ups(bot: Assistant, answer: dict, asked: str) -> list[list[str]]:
    """Suggested next questions: the other measures of the clause just cited."""
    if answer["refused"] or not answer["citations"]:
        return [[q] for q in EXAMPLES[:3]]
    first = answer["citations"][0]
    rules = [r for r in bot.rules if r.doc_id == first["doc_id"] and r.section == first["section"]
             and r.kind != "scope" and r.title not in asked]
    calc = answer.get("calculation") or {}
    suggestions = [f"{r.title}是怎么规定的？" for r in rules if r.id != calc.get("rule_id")]
    suggestions.append(f"“{first['label']}”还有哪些支持？")
    return [[s] for s in suggestions[:3]]


def check_file(csv_text: str) -> Path:
    """Write a 政策体检 CSV into one app folder, keeping only the newest KEEP_CHECK_FILES."""
    CHECK_FILES.mkdir(parents=True, exist_ok=True)
    old = sorted(CHECK_FILES.glob("政策体检-*"), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_CHECK_FILES + 2)]:
        p.unlink(missing_ok=True)
    out = CHECK_FILES / f"政策体检-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.csv"
    out.write_text("\ufeff" + csv_text, encoding="utf-8")  # BOM: Excel opens it as UTF-8
    return out


def check_xlsx(report, csv_path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "政策体检"
    ws.append(["结果", "措施", "说明", "需确认", "最高金额（元）", "条款", "原文"])
    for r in report.rows:
        ws.append([spreadsheet_safe(v) for v in (STATUS_CN[r.status], r.measure, r.reason, r.ask,
                                                 r.max_amount_yuan, r.label, r.quote)])
    out = csv_path.with_suffix(".xlsx")
    wb.save(out)
    return out


def check_table_html(report) -> str:
    head = ["结果", "措施", "说明", "需确认", "最高金额", "条款"]
    rows = []
    for r in report.rows:
        amount = "" if r.max_amount_yuan is None else f"{fmt_wan(r.max_amount_yuan)}"
        cells = [f'<span class="status-{r.status}">{STATUS_CN[r.status]}</span>', esc(r.measure),
                 esc(readable_number(r.reason)), esc(r.ask), esc(amount), esc(r.label)]
        rows.append("<tr>" + "".join(f'<td data-label="{h}">{c}</td>' for h, c in zip(head, cells)) + "</tr>")
    return (f'<table class="check-table"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


# ---- one builder per tab ---------------------------------------------------------------------
def chat_tab(bot: Assistant, feedback: FeedbackStore | None, feedback_notice: str) -> None:
    saved = gr.BrowserState({"messages": [], "turns": {}}, storage_key=SAVED_KEY)
    turns = gr.State({})  # assistant message index → {question, history, answer, feedback_id, rating}
    rated = gr.State(None)  # the index of the message rated last (its comment goes there)
    chat = gr.Chatbot(label="对话", height=520, buttons=["copy"], elem_id="chat", latex_delimiters=[],
                      feedback_options=("Like", "Dislike"), placeholder=WELCOME)
    with gr.Row():
        box = gr.Textbox(label="您的问题", placeholder="例如：上云上平台改造补贴多少？", scale=5,
                         elem_id="question", max_length=MAX_INPUT)
        send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
    suggested = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES], label="可以接着问（点击填入）",
                           elem_id="suggestions")
    with gr.Row():
        hotline_mode = gr.Checkbox(label="热线模式：只显示可直接念给来电人的简短答案", value=False)
        clear = gr.Button("新对话", elem_id="new-chat", size="sm")
    with gr.Accordion("对回答的意见（先在回答下方点 👍 或 👎）", open=False):
        comment = gr.Textbox(label="意见（可选）", lines=2, elem_id="comment", max_length=2000)
        submit_fb = gr.Button("提交意见", elem_id="submit-feedback")
    fb_status = gr.Markdown(esc(feedback_notice), elem_id="feedback-status")

    def restore(store: dict):
        store = store or {}
        return store.get("messages") or [], store.get("turns") or {}

    def answer(message: str, messages: list, turn_map: dict, hotline: bool):
        """Streams the answer; empty input changes nothing."""
        message = (message or "")[:MAX_INPUT]
        if not message.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        messages, turn_map = list(messages or []), dict(turn_map or {})
        history = [(t["question"], t["answer"]["text"]) for _, t in sorted(turn_map.items(), key=lambda kv: int(kv[0]))]
        d = bot.ask(message, history).to_dict()
        messages.append({"role": "user", "content": literal(message)})
        messages.append({"role": "assistant", "content": ""})
        turn_map[str(len(messages) - 1)] = {"question": message, "history": history, "answer": d}
        full = answer_html(bot, d, hotline)
        first_line = esc((d.get("short") if hotline and not d["refused"] else d["text"]).split("\n", 1)[0])
        messages[-1] = {"role": "assistant", "content": first_line}
        yield messages, turn_map, "", gr.skip(), gr.skip()
        messages[-1] = {"role": "assistant", "content": full}
        yield (messages, turn_map, "", gr.update(samples=follow_ups(bot, d, message)),
               {"messages": messages, "turns": turn_map})

    def rate(turn_map: dict, data: gr.LikeData, request: gr.Request):
        """👍/👎 on a bubble rates that bubble's question and answer; the same thumb again undoes."""
        if feedback is None:
            return turn_map, None, FEEDBACK_OFF
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = dict((turn_map or {}).get(str(index)) or {})
        if not turn:
            return turn_map, None, "只能评价助手的回答。"
        rating = 1 if data.liked is True else -1 if data.liked is False else 0
        try:
            rated = Rating(*turn["feedback"]) if turn.get("feedback") else None
            if rating == 0 or rating == turn.get("rating"):
                if rated:
                    feedback.remove(rated)
                turn["feedback"], turn["rating"] = None, None
                status = "已撤销对这条回答的评价。"
            else:
                if not (rated and feedback.change(rated, rating)):
                    rated = feedback.rate(turn["question"], turn["history"], turn["answer"], rating,
                                          session=getattr(request, "session_hash", "") or "")
                turn["feedback"], turn["rating"] = list(rated), rating
                status = f"已记录您对“{esc(turn['question'][:30])}”的评价，可在下方补充意见。"
        except FeedbackError as exc:
            return turn_map, None, esc(str(exc))
        turn_map = {**turn_map, str(index): turn}
        return turn_map, index if turn.get("feedback") else None, status

    def add_comment(turn_map: dict, last, text: str):
        if feedback is None:
            return FEEDBACK_OFF, gr.skip()
        turn = (turn_map or {}).get(str(last)) if last is not None else None
        if not turn or not turn.get("feedback"):
            return "请先在要评价的回答下方点 👍 或 👎，再提交意见。", gr.skip()
        if not feedback.set_comment(Rating(*turn["feedback"]), (text or "")[:2000]):
            return "这条评价已不在记录中，请重新点 👍 或 👎。", gr.skip()
        return f"已记录意见：{esc(text)[:200]}", ""

    def new_chat():
        return [], {}, None, "", {"messages": [], "turns": {}}, gr.update(samples=[[q] for q in EXAMPLES])

    locked, unlocked = gr.update(interactive=False), gr.update(interactive=True)
    outputs = [chat, turns, box, suggested, saved]
    for trigger, name in ((send.click, "chat"), (box.submit, None)):
        trigger(lambda: (locked, locked), None, [send, box], queue=False, api_visibility="private").then(
            answer, [box, chat, turns, hotline_mode], outputs,
            **({"api_name": name} if name else {"api_visibility": "private"})).then(
            lambda: (unlocked, unlocked), None, [send, box], queue=False, api_visibility="private")
    suggested.click(lambda s: s[0], suggested, box, api_visibility="private")
    clear.click(new_chat, None, [chat, turns, rated, comment, saved, suggested], api_visibility="private")
    chat.clear(new_chat, None, [chat, turns, rated, comment, saved, suggested], api_visibility="private")
    chat.like(rate, [turns], [turns, rated, fb_status], api_visibility="private")
    submit_fb.click(add_comment, [turns, rated, comment], [fb_status, comment], api_name="feedback")
    return saved, chat, turns, restore


def hotline_tab(bot: Assistant) -> None:
    gr.Markdown("来电时输入问题，读出“可直接念的答案”；需要时再念条款原文。")
    hq = gr.Textbox(label="来电问题", elem_id="hotline-question", max_length=MAX_INPUT)
    hb = gr.Button("查询", variant="primary", elem_id="hotline-send")
    short = gr.Textbox(label="可直接念的答案", elem_classes="short-answer", buttons=["copy"],
                       elem_id="hotline-short")
    figure = gr.Textbox(label="金额与条件", buttons=["copy"], visible=False, elem_id="hotline-figure")
    quote = gr.Textbox(label="可引用的条款原文", lines=3, buttons=["copy"], elem_id="hotline-quote")

    def hotline(question: str):
        result = bot.ask((question or "")[:MAX_INPUT])
        quotes = "\n".join(f"“{c.quote}”（{c.label}）" for c in result.citations)
        figure_text = ""
        if result.calculation:
            figure_text = (f"金额：{fmt_wan(result.calculation.amount_yuan)}；"
                           + "；".join(readable_number(s) for s in result.calculation.steps))
        return result.short or result.text, figure_text, quotes

    def show_figure(figure_text: str):
        return gr.update(visible=bool(figure_text))  # no figure, no empty box

    hb.click(hotline, hq, [short, figure, quote], api_name="hotline").then(
        show_figure, figure, figure, api_visibility="private")
    hq.submit(hotline, hq, [short, figure, quote], api_visibility="private").then(
        show_figure, figure, figure, api_visibility="private")


def calculator_tab(bot: Assistant) -> None:
    formula = {r.title: r for r in bot.rules if r.kind in ("percent_cap", "percent", "banded", "reimburse")}
    thresholds = {r.title: r for r in bot.rules if r.kind == "threshold"}
    rule_pick = gr.Dropdown(list(formula) + list(thresholds), label="补贴项目",
                            value=next(iter(formula), None), elem_id="calc-rule")
    amount = gr.Textbox(label="金额（可写 120万元、1.5亿、300000）", elem_id="calc-amount")
    industry = gr.Textbox(label="行业（可选，如 制造业、建筑业）", elem_id="calc-industry")
    cbtn = gr.Button("计算", variant="primary", elem_id="calc-send")
    cout = gr.Markdown(elem_id="calc-result")

    def calc(rule_title: str, amount_text: str, industry_text: str):
        rule = formula.get(rule_title) or thresholds.get(rule_title)
        if rule is None:
            return "请选择一项补贴项目。"
        try:
            value = parse_amount(amount_text, rule.input_label) if (amount_text or "").strip() else None
            if rule.kind == "threshold":
                r = threshold(rule, value, (industry_text or "").strip() or None)
                verdict = {True: "符合", False: "不符合", None: "待确认"}[r.met]
                return f"**{verdict}**：{esc(readable_number(r.reason))}\n\n原文：“{esc(rule.quote)}”"
            if industry_text and not industry_fits(rule, industry_text):
                return f"**不符合**：本项限于{esc(rule.get('industry'))}专精特新企业。\n\n原文：“{esc(rule.quote)}”"
            if value is None:
                return f"请填写{esc(rule.input_label)}。"
            c = calculate(rule, value)
        except (AmountError, CalculationError) as exc:
            return f"**输入有误**：{esc(str(exc))}"
        steps = "\n".join(f"- {esc(readable_number(s))}" for s in c.steps)
        return (f"### 可获得：{esc(fmt_wan(c.amount_yuan))}（{c.amount_yuan:,}元，即 {c.amount_yuan}元）\n\n{steps}"
                f"\n\n原文：“{esc(rule.quote)}”")

    cbtn.click(calc, [rule_pick, amount, industry], cout, api_name="calculate")


def check_tab(bot: Assistant) -> None:
    with gr.Row():
        # Every choice starts at 不清楚: Gradio would otherwise preselect the first option.
        q_ = gr.Dropdown(sorted(CHOICES["qualification"][1]) + [UNKNOWN], value=UNKNOWN, label="资质",
                         elem_id="p-qualification")
        ind = gr.Textbox(label="行业", elem_id="p-industry")
        rev = gr.Textbox(label=AMOUNTS["revenue_last_year"], elem_id="p-revenue")
    with gr.Row():
        dig = gr.Textbox(label=AMOUNTS["digital_contract"], elem_id="p-digital")
        cld = gr.Textbox(label=AMOUNTS["cloud_contract"], elem_id="p-cloud")
        fin = gr.Textbox(label=AMOUNTS["direct_financing"])
    with gr.Row():
        lay = gr.Dropdown(sorted(CHOICES["board_layer"][1]) + [UNKNOWN], value=UNKNOWN, label="专板层级")
        lst = gr.Dropdown(sorted(CHOICES["listing"][1]) + [UNKNOWN], value=UNKNOWN, label="上市计划")
        fu = gr.Dropdown(sorted(CHOICES["first_use"][1]) + [UNKNOWN], value=UNKNOWN, label="首制首试首用类型")
    with gr.Row():
        bl = gr.Radio(["是", "否", UNKNOWN], value=UNKNOWN, label=FLAGS["brand_listed"])
        bc = gr.Textbox(label=AMOUNTS["brand_cost"])
        ft = gr.Radio(["是", "否", UNKNOWN], value=UNKNOWN, label=FLAGS["foreign_trade"])
        ec = gr.Textbox(label=AMOUNTS["expo_cost"])
        pf = gr.Textbox(label=AMOUNTS["patent_fees"])
    pbtn = gr.Button("开始体检", variant="primary", elem_id="check-send")
    psum = gr.Markdown(elem_id="check-summary")
    ptable = gr.HTML(elem_id="check-table")
    pfile = gr.File(label="下载结果（CSV、Excel）", file_count="multiple", elem_id="check-files")

    def check(qualification, industry, revenue, digital, cloud, layer, financing, listing,
              brand_listed, brand_cost, foreign_trade, expo_cost, patent_fees, first_use):
        flags = {"是": True, "否": False}
        profile = {"qualification": qualification, "industry": industry, "revenue_last_year": revenue,
                   "digital_contract": digital, "cloud_contract": cloud, "board_layer": layer,
                   "direct_financing": financing, "listing": listing,
                   "brand_listed": flags.get(brand_listed), "brand_cost": brand_cost,
                   "foreign_trade": flags.get(foreign_trade), "expo_cost": expo_cost,
                   "patent_fees": patent_fees, "first_use": first_use}
        profile = {k: v for k, v in profile.items() if v not in (None, "", UNKNOWN)}
        try:
            report = bot.check(profile)
        except ProfileError as exc:
            return f"**企业情况有误**：{esc(str(exc))}", "", None
        csv_path = check_file(report.to_csv())
        met = sum(r.status == "met" for r in report.rows)
        return (f"资质：{esc(report.qualification)}；符合 {met} 项，共 {len(report.rows)} 项。",
                check_table_html(report), [str(csv_path), str(check_xlsx(report, csv_path))])

    pbtn.click(check, [q_, ind, rev, dig, cld, lay, fin, lst, bl, bc, ft, ec, pf, fu],
               [psum, ptable, pfile], api_name="check")


def source_tab(bot: Assistant) -> None:
    docs = {d.title: d for d in bot.documents()}
    first = next(iter(docs), None)

    def labels(title: str) -> list[str]:
        doc = docs.get(title)
        return [c.label for c in bot.index.clauses if doc and c.doc_id == doc.doc_id]

    def show_section(title: str, label: str):
        doc = docs.get(title)
        clause = next((c for c in bot.index.clauses if doc and c.doc_id == doc.doc_id and c.label == label), None)
        if clause is None:
            return ""
        path = " › ".join(esc(p) for p in clause.heading_path)
        return f"<p><small>{path}</small></p><p>{esc(clause.text).replace(chr(10), '<br>')}</p>"

    def sections_of(title: str):
        choices = labels(title)
        value = choices[0] if choices else None
        return gr.update(choices=choices, value=value), show_section(title, value)

    def search(words: str):
        words = (words or "").strip()
        if not words:
            return ""
        hits = [c for c in bot.index.clauses if words in c.text or words in c.label][:30]
        if not hits:
            return f"<p>没有找到“{esc(words)}”。</p>"
        items = []
        for c in hits:
            text = esc(c.text)
            text = text.replace(esc(words), f"<mark>{esc(words)}</mark>")
            items.append(f'<details class="cite"><summary>《{esc(c.doc_title)}》{esc(c.label)}</summary>'
                         f'<div>{text.replace(chr(10), "<br>")}</div></details>')
        return f"<p>找到 {len(hits)} 处：</p>" + "".join(items)

    gr.Markdown(f"已加载 {len(docs)} 份文件。")
    with gr.Row():
        query = gr.Textbox(label="在文件中查找", placeholder="如：首贷、上云、知识产权", elem_id="doc-search", scale=4)
        find = gr.Button("查找", scale=1, elem_id="doc-search-send")
    found = gr.HTML(elem_id="doc-search-result")
    dpick = gr.Dropdown(list(docs), value=first, label="文件", elem_id="doc-pick")
    first_labels = labels(first) if first else []
    # Choices change with the document, so API callers may name any section label.
    spick = gr.Dropdown(first_labels, value=first_labels[0] if first_labels else None, label="章节 / 条款",
                        elem_id="section-pick", allow_custom_value=True)
    stext = gr.HTML(show_section(first, first_labels[0]) if first_labels else "", elem_id="section-text")
    dpick.change(sections_of, dpick, [spick, stext], api_visibility="private")
    spick.change(show_section, [dpick, spick], stext, api_name="source")
    find.click(search, query, found, api_visibility="private")
    query.submit(search, query, found, api_visibility="private")


def build_app(bot: Assistant, feedback: FeedbackStore | None, feedback_notice: str = "") -> gr.Blocks:
    info = bot.info()
    with gr.Blocks(title="专精特新政策助手") as demo:
        offline = info["answerer"] == "offline"
        gr.Markdown(f"# 专精特新政策问答助手\n{HEADER if offline else HEADER_LLM}", elem_id="header")
        with gr.Accordion("技术信息", open=False):
            way = "离线确定性回答（未接入大模型）" if offline else f"大模型 {esc(info['answerer'][4:])}（经核对）"
            gr.Markdown(f"向量模型：`{esc(info['embedder'])}`｜索引：{len(info['documents'])} 份文件、"
                        f"{info['clauses']} 个条款｜回答方式：{way}")
        # Short tab names: all five fit on a phone screen, none hidden behind "⋯".
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("问答", elem_id="tab-chat"):
                saved, chat, turns, restore = chat_tab(bot, feedback, feedback_notice)
            with gr.Tab("热线", elem_id="tab-hotline"):
                hotline_tab(bot)
            with gr.Tab("计算", elem_id="tab-calc"):
                calculator_tab(bot)
            with gr.Tab("体检", elem_id="tab-check"):
                check_tab(bot)
            with gr.Tab("原文", elem_id="tab-source"):
                source_tab(bot)
        # A plain JSON endpoint for gradio_client users: Client(url).predict(q, [], api_name="/ask")
        api_q, api_h, api_out = gr.Textbox(visible=False), gr.JSON(visible=False), gr.JSON(visible=False)

        def ask(question: str, history: list) -> dict:
            """API: one question (+ history as [[q, a], …]) → the CONTRACT answer dict."""
            pairs = [tuple(h) for h in (history or []) if isinstance(h, (list, tuple)) and len(h) == 2]
            return bot.ask((question or "")[:MAX_INPUT], pairs).to_dict()

        gr.Button(visible=False).click(ask, [api_q, api_h], api_out, api_name="ask")
        demo.load(restore, saved, [chat, turns], api_visibility="private")
    return demo


def body_limit(path: str) -> int:
    """The largest request body a path accepts: the JSON APIs 1 MB; Gradio's routes carry the
    conversation the browser sends back (bounded by MAX_SAVED_TURNS), 8 MB."""
    from assistant.serve.limits import MB
    from assistant.serve.rest import MAX_BODY_BYTES

    return MAX_BODY_BYTES if path.startswith(("/api/", "/v1/")) else 8 * MB


def make_server(bot: Assistant, feedback: FeedbackStore | None, notice: str = ""):
    """FastAPI with the REST/OpenAI routes, and the Gradio app mounted at / (Gradio's documented way).
    Request sizes are checked before bodies are read, and Gradio's upload endpoint is closed."""
    from fastapi import FastAPI

    from assistant.serve.limits import RequestLimits
    from assistant.serve.rest import make_router

    workers = bot.toolkit.settings.serve_workers
    api = FastAPI(title="专精特新政策助手", docs_url=None, redoc_url=None)
    api.include_router(make_router(bot, workers))
    api.add_middleware(RequestLimits, limit_for=body_limit)
    demo = build_app(bot, feedback, notice)
    demo.queue(default_concurrency_limit=workers)
    return gr.mount_gradio_app(api, demo, path="/", css=CSS, footer_links=["api"], show_error=False)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(description="专精特新政策问答助手（网页）")
    p.add_argument("--host", default=os.environ.get("ASSISTANT_HOST", "127.0.0.1"),
                   help="监听地址，默认只对本机开放")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--index", help="索引目录")
    args = p.parse_args(argv)
    settings = Settings.from_env(index_dir=args.index)
    bot = Assistant.load(settings=settings)
    try:
        feedback, notice = FeedbackStore(settings.index_dir / "feedback.sqlite"), ""
    except FeedbackUnavailable as exc:  # the app still starts; feedback is off and says why
        feedback, notice = None, str(exc)
        log.error("%s", exc)
    log.info("embedder: %s; answerer: %s", bot.embedder_name, bot.answerer_name)
    uvicorn.run(make_server(bot, feedback, notice), host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=5)  # open event streams must not hold a shutdown


if __name__ == "__main__":
    main()
