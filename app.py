"""The browser app (Gradio): chat with citations, hotline answers, calculators, 政策体检,
source browser, feedback. The only module that imports Gradio.

    .venv/bin/python app.py [--host 127.0.0.1] [--port 7860]
"""
from __future__ import annotations

import argparse
import html
import logging
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr

from assistant import Assistant
from assistant.amounts import AmountError, fmt_yuan, parse_amount
from assistant.calculators import CalculationError, calculate, industry_fits, threshold
from assistant.eligibility import AMOUNTS, CHOICES, FLAGS, STATUS_CN, ProfileError
from assistant.feedback import FeedbackError, FeedbackStore, FeedbackUnavailable
from assistant.settings import Settings

log = logging.getLogger("app")
ANSWERER = "离线确定性回答（未接入大模型，所有金额由计算器得出）"
EXAMPLES = ["上云上平台改造补贴多少？", "我们是制造业企业，数字化转型合同额120万元，能拿多少？",
            "进入专板培育层的企业有奖励吗？", "在纳斯达克上市有补贴吗？", "参加线上外贸展会的费用能补贴吗？",
            "2029年还能申请吗？"]
MAX_INPUT = 10_000
UNKNOWN = "不清楚"
CSS = """
.cite-card {border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;margin:6px 0;background:#fafbfc}
.cite-card summary {cursor:pointer;font-weight:600}
.cite-card mark {background:#fff3a3}
.short-answer textarea {font-size:20px !important;line-height:1.6}
.refused {color:#9a3412;font-weight:600}
"""


# ---- presentation (all user-visible text escaped here) -------------------------------------
def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def clause_html(bot: Assistant, doc_id: str, section: str, quote: str) -> str:
    clause = bot.answerer.clauses_by_key.get(f"{doc_id}#{section}")
    text = clause.text if clause else quote
    body = esc(text)
    q = esc(quote)
    if q and q in body:
        body = body.replace(q, f"<mark>{q}</mark>", 1)
    return body.replace("\n", "<br>")


def citations_html(bot: Assistant, answer: dict) -> str:
    if answer.get("refused"):
        return '<p class="refused">本政策未涉及：未找到可引用的条款。</p>'
    cards = []
    for i, c in enumerate(answer.get("citations", []), 1):
        cards.append(
            f'<details class="cite-card" data-testid="citation"><summary>[{i}] {esc(c["label"])}'
            f'　<small>《{esc(c["title"])}》第 {esc(c["section"])} 部分</small></summary>'
            f'<div class="clause-text">{clause_html(bot, c["doc_id"], c["section"], c["quote"])}</div></details>')
    calc = answer.get("calculation")
    if calc:
        steps = "".join(f"<li>{esc(s)}</li>" for s in calc["steps"])
        cards.append(f'<div class="cite-card" data-testid="calculation"><b>计算结果：{esc(fmt_yuan(calc["amount_yuan"]))}'
                     f'</b><ul>{steps}</ul></div>')
    return "".join(cards) or "<p>（暂无引用）</p>"


def with_markers(answer: dict) -> str:
    """The answer text with [n] after each cited label, escaped for the chat bubble."""
    text = esc(answer["text"])
    for i, c in enumerate(answer.get("citations", []), 1):
        label = esc(f"【{c['label']}】")
        if label in text:
            text = text.replace(label, f"{label}[{i}]", 1)
    return text


def history_pairs(messages: list) -> list[tuple[str, str]]:
    """Chatbot messages → (question, answer) pairs in plain text for follow-up resolution."""
    pairs, question = [], None
    for m in messages or []:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):  # Gradio 6 may hand back [{"type": "text", "text": …}]
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        text = html.unescape(re.sub(r"<[^>]+>", "", str(content or "")))
        if m.get("role") == "user":
            question = text
        elif m.get("role") == "assistant" and question is not None:
            pairs.append((question, text))
            question = None
    return pairs


# ---- the app ---------------------------------------------------------------------------------
FEEDBACK_OFF = "反馈功能暂时关闭（反馈数据库不可用）。"
CHECK_FILES = Path(tempfile.gettempdir()) / "zjtx-check"  # one folder for 政策体检 downloads
KEEP_CHECK_FILES = 50


def check_file(csv_text: str) -> Path:
    """Write a 政策体检 CSV into one app folder, keeping only the newest KEEP_CHECK_FILES."""
    CHECK_FILES.mkdir(parents=True, exist_ok=True)
    old = sorted(CHECK_FILES.glob("政策体检-*.csv"), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_CHECK_FILES + 1)]:
        p.unlink(missing_ok=True)
    out = CHECK_FILES / f"政策体检-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.csv"
    out.write_text("\ufeff" + csv_text, encoding="utf-8")  # BOM: Excel opens it as UTF-8
    return out


def build_app(bot: Assistant, feedback: FeedbackStore | None, feedback_notice: str = "") -> gr.Blocks:
    formula_rules = {r.title: r for r in bot.rules if r.kind in ("percent_cap", "percent", "banded", "reimburse")}
    threshold_rules = {r.title: r for r in bot.rules if r.kind == "threshold"}
    docs = {f"{d.title}": d for d in bot.documents()}

    def ask(question: str, history: list) -> dict:
        """API: one question (+ history as [[q, a], …]) → the CONTRACT answer dict."""
        pairs = [tuple(h) for h in (history or []) if isinstance(h, (list, tuple)) and len(h) == 2]
        return bot.ask((question or "")[:MAX_INPUT], pairs).to_dict()

    def answer(message: str, messages: list, hotline: bool):
        """Chat: streams the answer into the chat, citations beside it."""
        message = (message or "")[:MAX_INPUT]
        pairs = history_pairs(messages)
        result = bot.ask(message, pairs)
        d = result.to_dict()
        shown = esc(result.short) if hotline and not result.refused else with_markers(d)
        messages = list(messages or []) + [{"role": "user", "content": esc(message) or "（空）"},
                                           {"role": "assistant", "content": ""}]
        state = {"question": message, "history": pairs, "answer": d}
        lines = shown.split("\n")
        for i in range(1, len(lines) + 1):  # stream line by line
            messages[-1] = {"role": "assistant", "content": "\n".join(lines[:i])}
            yield messages, citations_html(bot, d), "", state

    def hotline(question: str):
        result = bot.ask((question or "")[:MAX_INPUT])
        quote = "\n".join(f"“{c.quote}”【{c.label}】" for c in result.citations)
        figure = ""
        if result.calculation:
            figure = f"金额：{fmt_yuan(result.calculation.amount_yuan)}；" + "；".join(result.calculation.steps)
        return result.short or result.text, figure, quote

    def calc(rule_title: str, amount: str, industry: str):
        rule = formula_rules.get(rule_title) or threshold_rules.get(rule_title)
        if rule is None:
            return "请选择一项补贴规则。"
        try:
            value = parse_amount(amount, rule.input_label) if (amount or "").strip() else None
            if rule.kind == "threshold":
                r = threshold(rule, value, (industry or "").strip() or None)
                verdict = {True: "符合", False: "不符合", None: "待确认"}[r.met]
                return f"**{verdict}**：{esc(r.reason)}\n\n原文：“{esc(rule.quote)}”"
            if industry and not industry_fits(rule, industry):
                return f"**不符合**：本项限于{esc(rule.get('industry'))}专精特新企业。\n\n原文：“{esc(rule.quote)}”"
            if value is None:
                return f"请填写{esc(rule.input_label)}。"
            c = calculate(rule, value)
        except (AmountError, CalculationError) as exc:
            return f"**输入有误**：{esc(str(exc))}"
        steps = "\n".join(f"- {esc(s)}" for s in c.steps)
        return f"### 可获得：{esc(fmt_yuan(c.amount_yuan))}\n\n{steps}\n\n原文：“{esc(rule.quote)}”"

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
            return f"**企业情况有误**：{esc(str(exc))}", [], None
        rows = [[r.measure, STATUS_CN[r.status], r.reason, r.ask,
                 "" if r.max_amount_yuan is None else r.max_amount_yuan, r.label] for r in report.rows]
        out = check_file(report.to_csv())
        met = sum(r.status == "met" for r in report.rows)
        return f"资质：{esc(report.qualification)}；符合 {met} 项，共 {len(report.rows)} 项。", rows, str(out)

    def sections_of(title: str):
        doc = docs.get(title)
        choices = [c.label for c in bot.index.clauses if doc and c.doc_id == doc.doc_id]
        return gr.update(choices=choices, value=choices[0] if choices else None)

    def show_section(title: str, label: str):
        doc = docs.get(title)
        clause = next((c for c in bot.index.clauses if doc and c.doc_id == doc.doc_id and c.label == label), None)
        if clause is None:
            return ""
        path = " › ".join(esc(p) for p in clause.heading_path)
        return f"<h3>{esc(clause.label)}</h3><p><small>{path}</small></p><p>{esc(clause.text).replace(chr(10), '<br>')}</p>"

    def rate(state: dict, data: gr.LikeData, request: gr.Request):
        if feedback is None:
            return None, FEEDBACK_OFF
        if not state or "answer" not in state:
            return None, "请先提问，再评价回答。"
        rating = 1 if data.liked else -1
        try:
            fid = feedback.add(state["question"], state["history"], state["answer"], rating,
                               session=getattr(request, "session_hash", "") or "")
        except FeedbackError as exc:
            return None, esc(str(exc))
        return fid, "已记录您的评价，可在下方补充意见。"

    def give_feedback(state: dict, rating: str, comment: str, last_id, request: gr.Request):
        if feedback is None:
            return last_id, FEEDBACK_OFF
        if not state or "answer" not in state:
            return last_id, "请先提问，再评价回答。"
        if rating not in ("👍 有帮助", "👎 有问题"):
            return last_id, "请先选择 👍 或 👎，再提交。"  # no rating chosen: nothing is stored
        comment = (comment or "")[:2000]
        try:
            fid = feedback.add(state["question"], state["history"], state["answer"],
                               1 if rating == "👍 有帮助" else -1, comment,
                               session=getattr(request, "session_hash", "") or "")
        except FeedbackError as exc:
            return last_id, esc(str(exc))
        return fid, f"已记录（第 {fid} 条）。感谢反馈：{esc(comment)[:200]}"

    with gr.Blocks(title="专精特新政策助手") as demo:
        gr.Markdown(f"# 专精特新政策问答助手\n依据《关于实施十大强企行动激发专精特新企业活力的若干措施》等已加载文件作答，"
                    f"每个答案引用原文条款。\n\n<small>向量模型：{esc(bot.embedder_name)}｜回答方式：{ANSWERER}</small>")
        state = gr.State({})
        last_feedback = gr.State(None)
        with gr.Tab("政策问答"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="对话", height=460, buttons=["copy"], elem_id="chat",
                                      feedback_options=("Like", "Dislike"))
                    with gr.Row():
                        box = gr.Textbox(label="您的问题", placeholder="例如：上云上平台改造补贴多少？", scale=5,
                                         elem_id="question", max_length=MAX_INPUT)
                        send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
                    hotline_mode = gr.Checkbox(label="热线模式：只显示可直接念给来电人的简短答案", value=False)
                    gr.Examples(EXAMPLES, inputs=box, label="示例问题（点击填入）")
                    clear = gr.Button("清空对话")
                with gr.Column(scale=2):
                    cites = gr.HTML("<p>提问后，这里显示引用的条款原文（点击展开）。</p>", elem_id="citations")
                    with gr.Group():
                        rating = gr.Radio(["👍 有帮助", "👎 有问题"], label="这个回答", elem_id="rating")
                        comment = gr.Textbox(label="意见（可选）", lines=2, elem_id="comment", max_length=2000)
                        submit_fb = gr.Button("提交反馈", elem_id="submit-feedback")
                        fb_status = gr.Markdown(esc(feedback_notice), elem_id="feedback-status")
            send.click(answer, [box, chat, hotline_mode], [chat, cites, box, state], api_name="chat")
            box.submit(answer, [box, chat, hotline_mode], [chat, cites, box, state], api_visibility="private")
            clear.click(lambda: ([], "", {}), None, [chat, cites, state], api_visibility="private")
            chat.like(rate, [state], [last_feedback, fb_status], api_visibility="private")
            submit_fb.click(give_feedback, [state, rating, comment, last_feedback], [last_feedback, fb_status],
                            api_name="feedback")
        with gr.Tab("热线速答"):
            hq = gr.Textbox(label="来电问题", elem_id="hotline-question", max_length=MAX_INPUT)
            hb = gr.Button("查询", variant="primary", elem_id="hotline-send")
            short = gr.Textbox(label="可直接念的答案", elem_classes="short-answer", buttons=["copy"],
                               elem_id="hotline-short")
            figure = gr.Textbox(label="金额与条件", buttons=["copy"])
            quote = gr.Textbox(label="可引用的条款原文", lines=3, buttons=["copy"], elem_id="hotline-quote")
            hb.click(hotline, hq, [short, figure, quote], api_name="hotline")
            hq.submit(hotline, hq, [short, figure, quote], api_visibility="private")
        with gr.Tab("补贴计算"):
            rule_pick = gr.Dropdown(list(formula_rules) + list(threshold_rules), label="补贴项目",
                                    value=next(iter(formula_rules), None), elem_id="calc-rule")
            amount = gr.Textbox(label="金额（可写 120万元、1.5亿、300000）", elem_id="calc-amount")
            industry = gr.Textbox(label="行业（可选，如 制造业、建筑业）", elem_id="calc-industry")
            cbtn = gr.Button("计算", variant="primary", elem_id="calc-send")
            cout = gr.Markdown(elem_id="calc-result")
            cbtn.click(calc, [rule_pick, amount, industry], cout, api_name="calculate")
        with gr.Tab("政策体检"):
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
            ptable = gr.Dataframe(headers=["措施", "结果", "说明", "需确认", "最高金额（元）", "条款"],
                                  interactive=False, wrap=True, elem_id="check-table")
            pfile = gr.File(label="下载 CSV", elem_id="check-csv")
            pbtn.click(check, [q_, ind, rev, dig, cld, lay, fin, lst, bl, bc, ft, ec, pf, fu],
                       [psum, ptable, pfile], api_name="check")
        with gr.Tab("政策原文"):
            gr.Markdown(f"已加载 {len(docs)} 份文件。向量模型：`{esc(bot.embedder_name)}`；回答方式：{ANSWERER}。")
            first = next(iter(docs), None)
            first_sections = [c.label for c in bot.index.clauses if first and c.doc_id == docs[first].doc_id]
            dpick = gr.Dropdown(list(docs), value=first, label="文件", elem_id="doc-pick")
            # Choices change with the document, so API callers may name any section label.
            spick = gr.Dropdown(first_sections, value=None, label="章节 / 条款", elem_id="section-pick",
                                allow_custom_value=True)
            stext = gr.HTML(elem_id="section-text")
            dpick.change(sections_of, dpick, spick, api_visibility="private")
            spick.change(show_section, [dpick, spick], stext, api_name="source")
        # A plain JSON endpoint for outside tools: gradio_client.Client(url).predict(q, [], api_name="/ask")
        api_q, api_h, api_out = gr.Textbox(visible=False), gr.JSON(visible=False), gr.JSON(visible=False)
        gr.Button(visible=False).click(ask, [api_q, api_h], api_out, api_name="ask")
    return demo


def main(argv: list[str] | None = None) -> None:
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
    log.info("embedder: %s; answerer: %s", bot.embedder_name, ANSWERER)
    demo = build_app(bot, feedback, notice)
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=args.host, server_port=args.port, share=False, css=CSS,
                show_error=False, footer_links=["api"])


if __name__ == "__main__":
    main()
