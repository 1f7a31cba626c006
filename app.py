"""The browser app (Gradio, mounted on FastAPI): chat with citations under each answer, hotline
answers to read aloud, calculators, 政策体检, the documents, feedback — plus plain HTTP
(/api/ask, /api/info, /v1/chat/completions) on the same port. The only module that imports Gradio.
What is shown is built from the answer's fields in assistant/serve/render.py.

    .venv/bin/python app.py [--host 127.0.0.1] [--port 7860]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr

from assistant import Assistant
from assistant.calculate.calculators import CalculationError, calculate, industry_fits, threshold
from assistant.calculate.eligibility import AMOUNTS, CHOICES, FLAGS, STATUS_CN, ProfileError, spreadsheet_safe
from assistant.serve import render
from assistant.serve.feedback import FeedbackError, FeedbackStore, FeedbackUnavailable, Rating
from assistant.serve.render import esc
from assistant.settings import Settings
from assistant.understand.amounts import AmountError, fmt_wan, parse_amount

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
MAX_SAVED_TURNS = 50  # the conversation kept in the browser (and sent back with each question)
MAX_HISTORY = 10  # earlier turns given to the assistant with a question
UNKNOWN = "不清楚"
DISTRICT = "区级专精特新"  # offered so that a 区级 enterprise learns it is outside the policy's scope
FEEDBACK_OFF = "反馈功能暂时关闭（反馈数据库不可用）。"
CHECK_FILES = Path(tempfile.gettempdir()) / "zjtx-check"  # one folder for 政策体检 downloads
KEEP_CHECK_FILES = 50
CHECK_COLUMNS = ["结果", "措施", "说明", "需确认", "最高金额（元）", "条款", "原文"]  # CSV and XLSX alike
CHECK_WIDTHS = [8, 30, 50, 30, 14, 26, 60]
CSS = """
#chat .message-content .answer p {margin:0 0 6px 0}
.cite {border:1px solid #d0d7de;border-radius:6px;padding:4px 10px;margin:6px 0;background:#fafbfc}
.cite summary {cursor:pointer;font-weight:600}
.cite mark {background:#fff3a3}
.calc {border-left:3px solid #2f81f7;padding:2px 10px;margin:6px 0}
.part + .part {border-top:1px dashed #d0d7de;margin-top:8px;padding-top:8px}
.part-subject {font-weight:700;margin-bottom:2px}
.part.related {color:#57606a}
.verdict {font-weight:700;margin-right:6px;padding:0 6px;border-radius:4px}
.verdict-yes {color:#1a7f37;background:#dafbe1} .verdict-no {color:#9a3412;background:#fff1e5}
.verdict-refused {color:#6e7781;background:#eaeef2}
.notice {color:#6e7781;font-size:90%}
.notes {color:#57606a;margin:4px 0 4px 1.2em}
.ask-back {color:#0969da}
.refused {color:#9a3412;font-weight:600}
.actions {display:flex;gap:8px;margin-top:8px;flex-wrap:wrap}
.actions .act {border:1px solid #d0d7de;border-radius:14px;padding:2px 12px;background:#fff;cursor:pointer;font-size:90%}
.actions .act.pressed {background:#ddf4ff;border-color:#2f81f7;font-weight:700}
.actions .act:disabled {opacity:.6}
#chat pre.copy-src {display:none !important}
.long-message .elided {color:#6e7781;display:block;margin:4px 0}
.full-message .full-text {max-height:40vh;overflow:auto;border-top:1px solid #d0d7de;margin-top:4px;padding-top:4px}
.short-answer textarea {font-size:20px !important;line-height:1.6}
.check-table {border-collapse:collapse;width:100%}
.check-table th, .check-table td {border:1px solid #d0d7de;padding:6px;vertical-align:top;text-align:left}
.check-table th, .check-table td.nowrap {white-space:nowrap}
.status-met {color:#1a7f37;font-weight:700} .status-not_met {color:#9a3412;font-weight:700}
.status-unknown {color:#6e7781;font-weight:700}
.search-hit small {color:#6e7781}
@media (max-width: 700px) {
  .check-table thead {display:none}
  .check-table tr {display:block;border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px}
  .check-table td {display:block;border:none;padding:2px 4px;white-space:normal}
  .check-table td.empty {display:none}
  .check-table td::before {content:attr(title) "：";font-weight:600}
  #header h1 {font-size:1.3em;margin:0}
  #header p {font-size:85%;margin:2px 0}
  /* On a phone the conversation grows with the page: one scroll, not a box inside a page. */
  #chat, #chat .bubble-wrap {height:auto !important;max-height:none !important;min-height:180px}
  .actions {gap:4px} .actions .act {padding:2px 8px}
}
"""
# The conversation is kept in the browser (localStorage), so a reload does not lose it.
SAVED_KEY = "zjtx-chat-v1"

# Page script: the send step that never disables the input, copy, ratings, and bringing a new
# answer's first line into view. Gradio's sanitizer keeps a button's class, value and title and a
# <pre hidden>, which is all this needs.
HEAD = r"""<script>
(() => {
  const busy = {id: null, at: 0};
  // The question as typed, shown at once (as render.literal shows it) until the answer replaces the chat.
  const literal = (text) => text.replace(/[\\`*_{}\[\]()#+\-.!|~$<>&"']/g, (c) => "&#" + c.charCodeAt(0) + ";")
                                .replace(/\n/g, "<br>");
  const shown = (text) => text.length > 400 ? "……" + literal(text.slice(-100)) : literal(text);
  const bubble = (role, html) => ({role, metadata: null, content: [{type: "text", text: html}], options: null});
  // What the box held at the moment of Enter or the click on 发送: Gradio reads the box later, when
  // a keystroke of the next question may already be in it.
  let atSend = null;
  const remember = () => {
    const box = document.querySelector("#question textarea");
    if (box) atSend = {text: box.value, at: Date.now()};
  };
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.target.closest && e.target.closest("#question")) remember();
  }, true);
  document.addEventListener("click", (e) => { if (e.target.closest && e.target.closest("#send")) remember(); }, true);
  window.zjtxTake = (value, chat) => {
    const now = Date.now();
    const message = atSend && now - atSend.at < 5000 && value.startsWith(atSend.text) ? atSend.text : value;
    atSend = null;
    if (!message || !message.trim()) return ["", chat];
    if (busy.id && now - busy.at < 120000) return ["", chat];  // an answer is on its way: the text stays
    busy.id = now.toString(36) + Math.random().toString(36).slice(2, 8);
    busy.at = now;
    // Only the message sent leaves the box, here and now: whatever was typed after Enter stays
    // (an output applied later would overwrite keystrokes made in between).
    const box = document.querySelector("#question textarea");
    if (box) {
      const typed = box.value;
      box.value = typed.startsWith(message) ? typed.slice(message.length) : (typed === message ? "" : typed);
      box.dispatchEvent(new Event("input", {bubbles: true}));
    }
    const waiting = (chat || []).concat([bubble("user", shown(message)), bubble("assistant", "正在查找原文……")]);
    return [JSON.stringify({id: busy.id, text: message}), waiting];
  };
  const scrollParent = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p).overflowY;
      if ((s === "auto" || s === "scroll") && p.scrollHeight > p.clientHeight + 2) return p;
    }
    return null;
  };
  window.zjtxReveal = () => {
    const bots = document.querySelectorAll("#chat [data-testid=bot]");
    const last = bots[bots.length - 1];
    if (!last) return;
    const box = scrollParent(last);
    if (box) {  // the chat scrolls inside its box (desktop): its first line to the box's top
      box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const top = last.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight - 120) window.scrollBy({top: top - 12, behavior: "instant"});
    } else {  // the chat grows with the page (phone): its first line to the top of the screen
      const top = last.getBoundingClientRect().top;
      if (top < 0 || top > 60) window.scrollBy({top: top - 12, behavior: "instant"});
    }
  };
  window.zjtxDone = (done) => {
    if (done && done === busy.id) {
      busy.id = null;
      requestAnimationFrame(() => requestAnimationFrame(window.zjtxReveal));
    }
  };
  const copy = async (text, button) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const t = document.createElement("textarea");
      t.value = text; t.style.position = "fixed"; t.style.left = "-9999px";
      document.body.appendChild(t); t.select(); document.execCommand("copy"); t.remove();
    }
    const was = button.textContent;
    button.textContent = "已复制";
    setTimeout(() => { button.textContent = was; }, 1500);
  };
  // Words Gradio writes without its translation table (labels of its own buttons, what screen
  // readers hear for each message): said in Chinese too.
  const WORDS = {"Copy": "复制", "Copied": "已复制", "Copied!": "已复制", "More tabs": "更多", "Clear": "清空对话",
                 "chatbot conversation": "对话记录", "Gradio footer navigation": "页脚", "Like": "赞",
                 "Dislike": "踩", "Liked": "已赞", "Disliked": "已踩", "Copy message": "复制", "Copied message": "已复制",
                 "Empty value": "空", "processing |": "处理中 |"};
  const localize = (el) => {
    if (!el.getAttribute) return;
    for (const name of ["aria-label", "title"]) {
      const value = el.getAttribute(name);
      if (!value) continue;
      if (WORDS[value]) el.setAttribute(name, WORDS[value]);
      else if (value.startsWith("bot's message")) el.setAttribute(name, "助手的回答");
      else if (value.startsWith("user's message: ")) el.setAttribute(name, "您的问题：" + value.slice(16));
    }
  };
  const retext = (node) => {
    const said = WORDS[(node.nodeValue || "").trim()];
    if (said) node.nodeValue = said;
  };
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "attributes") localize(change.target);
      else if (change.type === "characterData") retext(change.target);
      else change.addedNodes.forEach((n) => {
        if (n.nodeType === 3) retext(n);
        if (n.nodeType !== 1) return;
        localize(n);
        n.querySelectorAll("[aria-label], [title]").forEach(localize);
        const walk = document.createTreeWalker(n, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) retext(walk.currentNode);
      });
    }
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                        attributes: true, attributeFilter: ["aria-label", "title"]});
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#chat button.act");
    if (!button) return;
    event.preventDefault();
    const [act] = (button.value || "").split(":");
    if (act === "copy") {
      const bubble = button.closest(".answer");
      const source = bubble && bubble.querySelector("pre.copy-src");
      if (source) copy(source.textContent, button);
      return;
    }
    const box = document.querySelector("#rate-request textarea, #rate-request input");
    const send = document.querySelector("#rate-send");
    if (!box || !send) return;
    box.value = button.value + ":" + Date.now();
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => send.click(), 0);
  });
})();
</script>"""

# Gradio writes a few words of its own (the clear button, loading and error notes, downloads);
# the page is Chinese whatever language the browser says it prefers.
GRADIO_WORDS = {
    "chatbot.clear": "清空对话", "chatbot.copy_message": "复制", "chatbot.copied_message": "已复制",
    "chatbot.like": "赞", "chatbot.dislike": "踩", "chatbot.retry": "重试", "chatbot.undo": "撤销",
    "chatbot.edit": "编辑", "chatbot.submit": "提交", "chatbot.cancel": "取消", "chatbot.chatbot": "对话",
    "chatbot.conversation": "对话",
    "common.loading": "加载中", "common.error": "出错了", "common.download": "下载", "common.clear": "清空",
    "common.copy": "复制", "common.copied": "已复制", "common.close": "关闭", "common.submit": "提交",
    "common.flag": "标记", "common.share": "分享", "common.edit": "编辑", "common.undo": "撤销",
    "common.remove": "移除", "common.no_devices": "未找到设备", "common.settings": "设置",
    "common.built_with_gradio": "基于 Gradio 构建", "common.language": "语言", "common.complete": "完成",
    "errors.connection_can_break": "连接可能中断，请保持页面打开。", "errors.default_error": "出错了，请重试。",
    "errors.lost_connection": "连接已断开，正在重新连接……", "errors.use_via_api": "通过 API 使用",
    "errors.use_via_api_or_mcp": "通过 API 使用", "errors.waiting_for_inputs": "正在等待文件上传完成，请稍后重试。",
    "file.uploading": "正在上传……", "file.drop_to_upload": "拖放文件到此处上传",
    "dropdown.dropdown": "下拉选择", "upload_text.click_to_upload": "点击上传", "upload_text.drop_file": "拖放文件到此处",
}


def gradio_words() -> gr.I18n:
    return gr.I18n(en=GRADIO_WORDS, **{"zh-CN": GRADIO_WORDS, "zh-TW": GRADIO_WORDS})


# ---- what the conversation is made of ----------------------------------------------------------------
class Clauses:
    """Whole clauses by key for the citation cards, following the live build."""

    def __init__(self, bot: Assistant):
        self.bot, self.build, self.by_key = bot, None, {}

    def text(self, citation: dict) -> str:
        index = self.bot.index
        if index.directory.name != self.build:
            self.by_key, self.build = {c.key: c for c in index.clauses}, index.directory.name
        clause = self.by_key.get(f"{citation.get('doc_id')}#{citation.get('section')}")
        return clause.text if clause else ""


def answer_of(bot: Assistant, question: str, history: list | None = None) -> dict:
    """The answer dict, with the notice said before everything (truncation, typos read) even where
    the dict form does not carry it."""
    answer = bot.ask(question, history or [])
    d = answer.to_dict()
    d.setdefault("notice", getattr(answer, "notice", "") or "")
    return d


def kept_answer(answer: dict) -> dict:
    """What a turn keeps of an answer (the trace is for developers and can be large)."""
    return {k: v for k, v in answer.items() if k != "trace"}


def ordered(turns: dict) -> list[tuple[str, dict]]:
    """The turns in order. They come back from the browser, so anything damaged is left out."""
    good = [(k, t) for k, t in (turns or {}).items() if isinstance(k, str) and k.isdigit() and isinstance(t, dict)
            and isinstance(t.get("question"), str) and isinstance(t.get("answer"), dict)]
    return sorted(good, key=lambda kv: int(kv[0]))


def history_of(turns: dict) -> list[tuple[str, str]]:
    return [(t["question"], str(t["answer"].get("text") or "")) for _, t in ordered(turns)][-MAX_HISTORY:]


def bot_bubble(clauses: Clauses, key: str, turn: dict) -> str:
    return render.answer_html(turn["answer"], clauses.text, int(key), turn.get("rating"),
                              spoken_first=bool(turn.get("hotline")))


def messages_of(clauses: Clauses, turns: dict) -> list[dict]:
    """The chat as shown, rebuilt from the turns (so a reload shows what the fields say now)."""
    out = []
    for key, turn in ordered(turns):
        try:
            bubble = bot_bubble(clauses, key, turn)
        except (KeyError, TypeError, ValueError, AttributeError):  # a turn saved by an older page, or damaged
            log.warning("a saved turn could not be shown; left out")
            continue
        out += [{"role": "user", "content": render.user_bubble(turn["question"])},
                {"role": "assistant", "content": bubble}]
    return out


def trimmed(turns: dict) -> dict:
    """The latest MAX_SAVED_TURNS turns, renumbered from the start."""
    kept = ordered(turns)[-MAX_SAVED_TURNS:]
    return {str(2 * i + 1): t for i, (_, t) in enumerate(kept)}


class Suggestions:
    """The question offered for each measure, and the first sentence the assistant answers it with
    (None when it would not answer it): both depend only on the build, so each is worked out once."""

    def __init__(self, bot: Assistant):
        self.bot, self.build, self.known = bot, None, {}
        self.lock = threading.Lock()

    @staticmethod
    def question(rule) -> str:
        return f"{rule.title}最多补多少？" if rule.kind in ("percent_cap", "cap") else f"{rule.title}是怎么规定的？"

    def quote(self, rule) -> str | None:
        build = self.bot.index.directory.name
        with self.lock:
            if build != self.build:
                self.build, self.known = build, {}
            if rule.id in self.known:
                return self.known[rule.id]
        try:
            reply = self.bot.offline.answer(self.question(rule), [])
            found = None if reply.refused or not reply.citations else reply.citations[0].quote
        except Exception:  # a suggestion is never worth an error
            log.exception("suggestion for %s failed", rule.id)
            found = None
        with self.lock:
            if build == self.build:
                self.known[rule.id] = found
        return found


def follow_ups(bot: Assistant, answer: dict, asked: str, suggestions: Suggestions) -> list[list[str]]:
    """Suggested next questions: other measures of the clauses just cited first, each kept only if
    the assistant answers it from a sentence this answer did not already quote; after a refusal (or
    an answer about who the policy is for), the opening examples."""
    parts = render.parts_of(answer)
    cited = [c for p in parts if not p.get("refused") for c in p.get("citations") or []]
    if answer.get("refused") or not cited or all(c.get("section") == "scope" for c in cited):
        return [[q] for q in EXAMPLES[:3]]
    quoted = {c.get("quote") for c in render.numbered_citations(answer)}
    used = {(p.get("calculation") or {}).get("rule_id") for p in parts} | {(answer.get("calculation") or {}).get("rule_id")}
    places = {(c.get("doc_id"), c.get("section")) for c in cited}
    near = [r for r in bot.rules if (r.doc_id, r.section) in places]
    offered = []
    for rule in near + [r for r in bot.rules if r not in near]:
        if rule.kind in ("scope", "threshold") or rule.id in used or rule.title in asked:
            continue
        quote = suggestions.quote(rule)
        if quote is None or quote in quoted:
            continue
        offered.append(suggestions.question(rule))
        if len(offered) == 3:
            break
    return [[s] for s in offered] or [[q] for q in EXAMPLES[:3] if q != asked]


# ---- one builder per tab ---------------------------------------------------------------------
def chat_tab(bot: Assistant, feedback: FeedbackStore | None, feedback_notice: str):
    clauses, suggestions = Clauses(bot), Suggestions(bot)
    saved = gr.BrowserState({"turns": {}}, storage_key=SAVED_KEY)
    turns = gr.State({})  # assistant message index → {question, history, answer, hotline, feedback, rating}
    rated = gr.State(None)  # the index of the message rated last (its comment goes there)
    chat = gr.Chatbot(show_label=False, height=520, buttons=[], elem_id="chat", latex_delimiters=[],
                      placeholder=WELCOME, autoscroll=False)
    with gr.Row(elem_id="ask-row"):
        box = gr.Textbox(label="您的问题", placeholder="例如：上云上平台改造补贴多少？", scale=5,
                         elem_id="question", max_length=MAX_INPUT, autofocus=True)
        send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
    suggested = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES], label="可以接着问（点击填入）",
                           elem_id="suggestions")
    with gr.Row():
        hotline_mode = gr.Checkbox(label="热线模式：先显示可直接念给来电人的简短答案", value=False)
        clear = gr.Button("新对话", elem_id="new-chat", size="sm")
    with gr.Accordion("对回答的意见（先在回答下方点 👍 或 👎）", open=False):
        comment = gr.Textbox(label="意见（可选）", lines=2, elem_id="comment", max_length=2000)
        submit_fb = gr.Button("提交意见", elem_id="submit-feedback")
    fb_status = gr.Markdown(esc(feedback_notice), elem_id="feedback-status")
    # Driven by the page script: the message taken from the box, the answer just finished, a rating.
    pending = gr.Textbox(visible="hidden", elem_id="pending")
    done = gr.Textbox(visible="hidden", elem_id="answered")
    rate_request = gr.Textbox(visible="hidden", elem_id="rate-request")
    rate_send = gr.Button(visible="hidden", elem_id="rate-send")

    def restore(store: dict):
        kept = trimmed((store or {}).get("turns") or {})
        return messages_of(clauses, kept), kept

    def converse(message: str, turn_map: dict, hotline: bool):
        """One question of the conversation → (messages, turns, suggestions, saved)."""
        message = (message or "")[:MAX_INPUT]
        turn_map = trimmed(turn_map or {})
        history = history_of(turn_map)
        answer = kept_answer(answer_of(bot, message, history))
        turn_map = trimmed({**turn_map, str(2 * len(turn_map) + 1): {
            "question": message, "history": history, "answer": answer, "hotline": bool(hotline),
            "feedback": None, "rating": None}})
        return (messages_of(clauses, turn_map), turn_map, gr.update(samples=follow_ups(bot, answer, message, suggestions)),
                {"turns": turn_map})

    def respond(taken: str, turn_map: dict, hotline: bool):
        """The chat's own send: `taken` is {"id", "text"} from the page script ("" changes nothing).
        One update: the page already shows the question (the page script drew it)."""
        try:
            request = json.loads(taken) if taken else None
        except ValueError:
            request = None
        if not isinstance(request, dict) or not str(request.get("text", "")).strip():
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        done_id = str(request.get("id", ""))
        try:
            return (*converse(str(request["text"]), turn_map, hotline), done_id)
        except Exception:  # the page must get its answer slot back, and the text is not lost
            log.exception("answering failed")
            shown = messages_of(clauses, trimmed(turn_map or {}))
            failed = shown + [{"role": "user", "content": render.user_bubble(str(request["text"]))},
                              {"role": "assistant", "content": '<p class="refused">出错了，这个问题暂时无法回答，请稍后重试。</p>'}]
            return failed, gr.skip(), gr.skip(), gr.skip(), done_id

    def chat_api(message: str, _messages: list, hotline: bool, turn_map: dict):
        """API (/chat): one message of this session's conversation → (messages, "", suggestions, saved)."""
        if not (message or "").strip():
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        messages, new_turns, samples, store = converse(message, turn_map, hotline)
        return messages, "", samples, store, new_turns

    def rate(request_text: str, turn_map: dict, req: gr.Request):
        """👍/👎 under a bubble rates that bubble; the same thumb again undoes; the other changes it.
        Nothing is lost when a new rating is refused, and a reload keeps the rating (and its undo)."""
        act, _, rest = (request_text or "").partition(":")
        key = rest.partition(":")[0]
        value = {"like": 1, "dislike": -1}.get(act)
        turn = dict((turn_map or {}).get(key) or {})
        if value is None or not turn:
            return gr.skip(), gr.skip(), gr.skip(), "只能评价助手的回答。", gr.skip()
        if feedback is None:
            return gr.skip(), gr.skip(), gr.skip(), FEEDBACK_OFF, gr.skip()
        rated_before = Rating(*turn["feedback"]) if turn.get("feedback") else None
        try:
            if value == turn.get("rating"):
                if rated_before:
                    feedback.remove(rated_before)
                turn["feedback"], turn["rating"] = None, None
                status = "已撤销对这条回答的评价。"
            else:
                if not (rated_before and feedback.change(rated_before, value)):
                    rated_now = feedback.rate(turn["question"], turn["history"], turn["answer"], value,
                                              session=getattr(req, "session_hash", "") or "")
                    turn["feedback"] = list(rated_now)
                turn["rating"] = value
                status = f"已记录您对“{esc(turn['question'][:30])}”的评价，可在下方补充意见。"
        except (FeedbackError, OSError) as exc:
            return gr.skip(), gr.skip(), gr.skip(), esc(str(exc)), gr.skip()
        except Exception:  # a database error must not take the page down
            log.exception("rating failed")
            return gr.skip(), gr.skip(), gr.skip(), "评价暂时无法保存，请稍后再试。", gr.skip()
        turn_map = {**turn_map, key: turn}
        return (messages_of(clauses, turn_map), turn_map, key if turn.get("feedback") else None, status,
                {"turns": turn_map})

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
        return [], {}, None, "", {"turns": {}}, gr.update(samples=[[q] for q in EXAMPLES])

    for trigger in (send.click, box.submit):
        trigger(None, [box, chat], [pending, chat], js="(m, c) => window.zjtxTake(m, c)", queue=False,
                api_visibility="private").then(
            respond, [pending, turns, hotline_mode], [chat, turns, suggested, saved, done],
            api_visibility="private").then(
            None, [done], None, js="(d) => window.zjtxDone(d)", queue=False, api_visibility="private")
    api_message = gr.Textbox(visible=False)
    gr.Button(visible=False).click(chat_api, [api_message, chat, hotline_mode, turns],
                                   [chat, box, suggested, saved, turns], api_name="chat")
    suggested.click(lambda s: s[0], suggested, box, api_visibility="private")
    clear.click(new_chat, None, [chat, turns, rated, comment, saved, suggested], api_visibility="private")
    chat.clear(new_chat, None, [chat, turns, rated, comment, saved, suggested], api_visibility="private")
    rate_send.click(rate, [rate_request, turns], [chat, turns, rated, fb_status, saved], api_visibility="private")
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
        answer = answer_of(bot, (question or "")[:MAX_INPUT])
        figure_text = render.figure_text(answer)
        # No figure (none asked, or the verdict is negative): no box at all.
        return (render.spoken(answer), gr.update(value=figure_text, visible=bool(figure_text)),
                render.quotes_text(answer))

    hb.click(hotline, hq, [short, figure, quote], api_name="hotline")
    hq.submit(hotline, hq, [short, figure, quote], api_visibility="private")


def amount_label(rule) -> str:
    what = rule.input_label or "金额"
    return f"{what}（可写 120万元、1.5亿、300000）"


def calculator_tab(bot: Assistant) -> None:
    formula = {r.title: r for r in bot.rules if r.kind in ("percent_cap", "percent", "banded", "reimburse")}
    thresholds = {r.title: r for r in bot.rules if r.kind == "threshold"}
    first = next(iter(formula.values()), None)
    rule_pick = gr.Dropdown(list(formula) + list(thresholds), label="补贴项目",
                            value=first.title if first else None, elem_id="calc-rule")
    amount = gr.Textbox(label=amount_label(first) if first else "金额", elem_id="calc-amount")
    industry = gr.Textbox(label="行业（可选，如 制造业、建筑业）", elem_id="calc-industry")
    cbtn = gr.Button("计算", variant="primary", elem_id="calc-send")
    cout = gr.Markdown(elem_id="calc-result")

    def relabel(rule_title: str):
        rule = formula.get(rule_title) or thresholds.get(rule_title)
        return gr.update(label=amount_label(rule) if rule else "金额")

    def calc(rule_title: str, amount_text: str, industry_text: str):
        rule = formula.get(rule_title) or thresholds.get(rule_title)
        if rule is None:
            return "请选择一项补贴项目。"
        try:
            value = parse_amount(amount_text, rule.input_label) if (amount_text or "").strip() else None
            if rule.kind == "threshold":
                r = threshold(rule, value, (industry_text or "").strip() or None)
                verdict = {True: "符合", False: "不符合", None: "待确认"}[r.met]
                return f"**{verdict}**：{esc(render.readable_number(r.reason))}\n\n原文：“{esc(rule.quote)}”"
            if industry_text and not industry_fits(rule, industry_text):
                return f"**不符合**：本项限于{esc(rule.get('industry'))}专精特新企业。\n\n原文：“{esc(rule.quote)}”"
            if value is None:
                return f"请填写{esc(rule.input_label or '金额')}。"
            c = calculate(rule, value)
        except (AmountError, CalculationError) as exc:
            return f"**输入有误**：{esc(str(exc))}"
        steps = "\n".join(f"- {esc(s)}" for s in render.steps_of(c.to_dict()))
        # 0元 once, not 0元（0元，即 0元）: the steps say why (below a band, rounding).
        return f"### 可获得：{esc(render.amount_words(c.to_dict()))}\n\n{steps}\n\n原文：“{esc(rule.quote)}”"

    rule_pick.change(relabel, rule_pick, amount, api_visibility="private")
    cbtn.click(calc, [rule_pick, amount, industry], cout, api_name="calculate", show_progress="hidden")


# ---- 政策体检 ----------------------------------------------------------------------------------
def most_yuan(row, caps: dict) -> int | None:
    """The amount a row can bring: computed when known, else the clause's own cap (最高30万元),
    none when the answer is no."""
    if row.max_amount_yuan is not None:
        return row.max_amount_yuan
    cap = caps.get(row.rule_id)
    return int(cap) if cap is not None and row.status != "not_met" else None


def check_rows(report, caps: dict) -> list[list]:
    return [[STATUS_CN[r.status], r.measure, r.reason, r.ask, most_yuan(r, caps), r.label, r.quote]
            for r in report.rows]


def profile_lines(profile: dict, shown_qualification: str) -> list[tuple[str, str]]:
    labels = {k: v[0] for k, v in CHOICES.items()} | AMOUNTS | FLAGS | {"industry": "行业"}
    flags = {True: "是", False: "否"}
    lines = [("体检时间", time.strftime("%Y-%m-%d %H:%M")), ("资质", shown_qualification)]
    lines += [(labels.get(k, k), flags.get(v, v) if isinstance(v, bool) else str(v))
              for k, v in profile.items() if k != "qualification"]
    return lines


def _check_path(suffix: str, stem: str) -> Path:
    CHECK_FILES.mkdir(parents=True, exist_ok=True)
    old = sorted(CHECK_FILES.glob("政策体检-*"), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - KEEP_CHECK_FILES + 2)]:
        p.unlink(missing_ok=True)
    return CHECK_FILES / f"{stem}{suffix}"


def check_csv(rows: list[list], profile: list[tuple[str, str]], stem: str) -> Path:
    """The table, then (after an empty row) the enterprise profile it was checked against."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CHECK_COLUMNS)
    w.writerows([[spreadsheet_safe("" if v is None else v) for v in row] for row in rows])
    w.writerow([])
    w.writerow(["企业情况", ""])
    w.writerows([[spreadsheet_safe(k), spreadsheet_safe(v)] for k, v in profile])
    out = _check_path(".csv", stem)
    out.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")  # BOM: Excel opens it as UTF-8
    return out


def check_xlsx(rows: list[list], profile: list[tuple[str, str]], stem: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "政策体检"
    ws.append(CHECK_COLUMNS)
    for row in rows:
        ws.append([spreadsheet_safe(v) for v in row])
    for i, width in enumerate(CHECK_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    info = wb.create_sheet("企业情况")
    info.append(["项目", "填写"])
    for k, v in profile:
        info.append([spreadsheet_safe(k), spreadsheet_safe(v)])
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 30, 30
    out = _check_path(".xlsx", stem)
    wb.save(out)
    return out


def check_table_html(rows: list[list]) -> str:
    head = ["结果", "措施", "说明", "需确认", "最高金额", "条款"]
    status_class = {v: k for k, v in STATUS_CN.items()}
    out = []
    for status, measure, reason, ask, most, label, _quote in rows:
        amount = "" if most is None else fmt_wan(most)
        cells = [(f'<span class="status-{status_class[status]}">{esc(status)}</span>', "nowrap"),
                 (esc(measure), ""), (esc(render.readable_number(reason or "")), ""), (esc(ask), ""),
                 (esc(amount), "nowrap"), (esc(label), "")]
        out.append("<tr>" + "".join(
            f'<td title="{h}" class="{cls}{" empty" if not text else ""}">{text}</td>'
            for h, (text, cls) in zip(head, cells)) + "</tr>")
    return (f'<table class="check-table"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>'
            f'<tbody>{"".join(out)}</tbody></table>')


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
        profile = {"qualification": qualification, "industry": industry,
                   "revenue_last_year": revenue, "digital_contract": digital, "cloud_contract": cloud,
                   "board_layer": layer, "direct_financing": financing, "listing": listing,
                   "brand_listed": flags.get(brand_listed), "brand_cost": brand_cost,
                   "foreign_trade": flags.get(foreign_trade), "expo_cost": expo_cost,
                   "patent_fees": patent_fees, "first_use": first_use}
        profile = {k: v for k, v in profile.items() if v not in (None, "", UNKNOWN)}
        try:
            report = bot.check(profile)
        except ProfileError as exc:
            return f"**企业情况有误**：{esc(str(exc))}", "", None
        shown = DISTRICT + "（不在本政策适用范围内）" if qualification == DISTRICT else report.qualification
        caps = {r.id: r.cap_yuan for r in bot.rules}
        rows = check_rows(report, caps)
        facts = profile_lines({**profile, "qualification": qualification}, shown)
        stem = f"政策体检-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        met = sum(r.status == "met" for r in report.rows)
        return (f"资质：{esc(shown)}；符合 {met} 项，共 {len(report.rows)} 项。",
                check_table_html(rows), [str(check_csv(rows, facts, stem)), str(check_xlsx(rows, facts, stem))])

    pbtn.click(check, [q_, ind, rev, dig, cld, lay, fin, lst, bl, bc, ft, ec, pf, fu],
               [psum, ptable, pfile], api_name="check")


# ---- 原文 ----------------------------------------------------------------------------------------
def source_tab(bot: Assistant):
    """The documents as loaded now (a re-index shows without a restart), their clauses, and search."""

    def documents() -> dict:
        bot.refresh()
        return {d.title: d for d in bot.documents()}

    def clauses_of(title: str) -> list:
        doc = documents().get(title)
        return [c for c in bot.index.clauses if doc and c.doc_id == doc.doc_id]

    def show_section(title: str, label: str):
        clause = next((c for c in clauses_of(title) if c.label == label), None)
        if clause is None:
            return ""
        path = " › ".join(esc(p) for p in clause.heading_path)
        return f"<p><small>{path}</small></p><p>{esc(clause.text).replace(chr(10), '<br>')}</p>"

    def sections_of(title: str):
        choices = [c.label for c in clauses_of(title)]
        value = choices[0] if choices else None
        return gr.update(choices=choices, value=value), show_section(title, value)

    def reload_documents(current: str | None):
        docs = documents()
        title = current if current in docs else next(iter(docs), None)
        sections, text = sections_of(title) if title else (gr.update(choices=[], value=None), "")
        return f"已加载 {len(docs)} 份文件。", gr.update(choices=list(docs), value=title), sections, text

    def hit_html(clause, words: str) -> str:
        text = esc(clause.text)
        if words and esc(words) in text:
            text = text.replace(esc(words), f"<mark>{esc(words)}</mark>")
        return (f'<details class="cite search-hit"><summary>《{esc(clause.doc_title)}》{esc(clause.label)}</summary>'
                f'<div>{text.replace(chr(10), "<br>")}</div></details>')

    def search(words: str):
        words = (words or "").strip()[:200]
        if not words:
            return ""
        bot.refresh()
        if hasattr(bot, "search"):  # ranked clauses, as the answers find them (any wording)
            hits = [h.clause for h in bot.search(words, 20)]
        else:
            hits = [c for c in bot.index.clauses if words in c.text or words in c.label][:30]
        if not hits:
            return f"<p>没有找到与“{esc(words)}”相关的条款。</p>"
        return f"<p>找到 {len(hits)} 处：</p>" + "".join(hit_html(c, words) for c in hits)

    docs = documents()
    first = next(iter(docs), None)
    first_labels = [c.label for c in clauses_of(first)] if first else []
    count = gr.Markdown(f"已加载 {len(docs)} 份文件。", elem_id="doc-count")
    with gr.Row():
        query = gr.Textbox(label="在文件中查找", placeholder="如：首贷、上云 补贴、知识产权", elem_id="doc-search", scale=4)
        find = gr.Button("查找", scale=1, elem_id="doc-search-send")
    found = gr.HTML(elem_id="doc-search-result")
    # Documents added by a re-index are named too (the list itself follows on the tab and on load).
    dpick = gr.Dropdown(list(docs), value=first, label="文件", elem_id="doc-pick", allow_custom_value=True)
    # Choices change with the document, so API callers may name any section label.
    spick = gr.Dropdown(first_labels, value=first_labels[0] if first_labels else None, label="章节 / 条款",
                        elem_id="section-pick", allow_custom_value=True)
    stext = gr.HTML(show_section(first, first_labels[0]) if first_labels else "", elem_id="section-text")
    dpick.change(sections_of, dpick, [spick, stext], api_visibility="private")
    spick.change(show_section, [dpick, spick], stext, api_name="source")
    find.click(search, query, found, api_visibility="private", show_progress="hidden")
    query.submit(search, query, found, api_visibility="private", show_progress="hidden")
    return reload_documents, dpick, [count, dpick, spick, stext]


def info_markdown(bot: Assistant) -> str:
    bot.refresh()
    info = bot.info()
    offline = info["answerer"] == "offline"
    way = "离线确定性回答（未接入大模型）" if offline else f"大模型 {esc(info['answerer'][4:])}（经核对）"
    return (f"向量模型：`{esc(info['embedder'])}`｜索引：{len(info['documents'])} 份文件、"
            f"{info['clauses']} 个条款｜回答方式：{way}")


def build_app(bot: Assistant, feedback: FeedbackStore | None, feedback_notice: str = "") -> gr.Blocks:
    offline = bot.answerer_name == "offline"
    with gr.Blocks(title="专精特新政策助手") as demo:
        gr.Markdown(f"# 专精特新政策问答助手\n{HEADER if offline else HEADER_LLM}", elem_id="header")
        with gr.Accordion("技术信息", open=False):
            tech = gr.Markdown(info_markdown(bot), elem_id="tech-info")
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
            with gr.Tab("原文", elem_id="tab-source") as source:
                reload_documents, dpick, source_outputs = source_tab(bot)
        # A plain JSON endpoint for gradio_client users: Client(url).predict(q, [], api_name="/ask")
        api_q, api_h, api_out = gr.Textbox(visible=False), gr.JSON(visible=False), gr.JSON(visible=False)

        def ask(question: str, history: list) -> dict:
            """API: one question (+ history as [[q, a], …]) → the CONTRACT answer dict."""
            pairs = [(str(h[0]), str(h[1] or "")) for h in (history or []) if isinstance(h, (list, tuple)) and len(h) == 2]
            return bot.ask((question or "")[:MAX_INPUT], pairs[-MAX_HISTORY:]).to_dict()

        gr.Button(visible=False).click(ask, [api_q, api_h], api_out, api_name="ask")
        demo.load(restore, saved, [chat, turns], api_visibility="private")
        demo.load(lambda: info_markdown(bot), None, tech, api_visibility="private")
        source.select(reload_documents, dpick, source_outputs, api_visibility="private")
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
    return gr.mount_gradio_app(api, demo, path="/", css=CSS, head=HEAD, i18n=gradio_words(),
                               footer_links=["api"], show_error=False, run_history=False)


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
