"""What the web app shows, built from the answer's fields (never by editing its text): chat bubbles,
the text a copy button puts on the clipboard, the hotline's figure box, the calculator's result,
the 政策体检 table. Every user-visible string is escaped here. No Gradio: app.py wires these in.
"""
from __future__ import annotations

import html
import re

from assistant.understand.amounts import fmt_wan

NEGATIVE = {"不可以", "没有", "不符合", "不能"}  # verdicts after which no amount is offered
LONG_MESSAGE = 400  # a user's message longer than this is shown folded (its start and its end)
SHOWN_HEAD, SHOWN_TAIL = 40, 100  # characters shown from each end (the question is usually last)


_LONG_NUMBER = re.compile(r"(?<![\d.,])(\d{5,})(?![\d,])")


def readable_number(text: str) -> str:
    """Digits grouped for reading: 1200000 × 30% = 360000 → 1,200,000 × 30% = 360,000 (years and
    short numbers stay as they are)."""
    return _LONG_NUMBER.sub(lambda m: f"{int(m.group(1)):,}", text)


def esc(text) -> str:
    return html.escape(str(text or ""), quote=True)


_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~$<>"}


def literal(text: str) -> str:
    """What the user typed, shown as typed: no HTML, no Markdown, no formulas."""
    return "".join(_MARKDOWN.get(ch, html.escape(ch)) for ch in text).replace("\n", "<br>")


def user_bubble(message: str) -> str:
    """The user's message. A long paste is folded to its start and its end (where the question
    usually is), with the whole text a click away in a box of bounded height."""
    if len(message) <= LONG_MESSAGE:
        return literal(message)
    head, tail = message[:SHOWN_HEAD], message[-SHOWN_TAIL:]
    hidden = len(message) - SHOWN_HEAD - SHOWN_TAIL
    return (f'<div class="long-message" data-testid="long-message">{literal(head)}'
            f'<span class="elided">……（中间 {hidden:,} 字未显示）……</span>{literal(tail)}</div>'
            f'<details class="full-message"><summary>展开全文（共 {len(message):,} 字）</summary>'
            f'<div class="full-text">{literal(message)}</div></details>')


# ---- the answer's structure ---------------------------------------------------------------------
def parts_of(answer: dict) -> list[dict]:
    """The answer's parts; an answer from before parts existed is one part made of its old fields."""
    parts = [p for p in answer.get("parts") or [] if isinstance(p, dict)]
    if parts:
        return parts
    return [{"subject": "", "verdict": answer.get("verdict"), "lead": "", "citations": answer.get("citations") or [],
             "notes": [], "calculation": answer.get("calculation"), "refused": bool(answer.get("refused")),
             "text": answer.get("text", "")}]


def has_parts(answer: dict) -> bool:
    return bool(answer.get("parts"))


def offers_amount(part: dict) -> bool:
    """A figure is offered only where the part says yes (or says nothing against it)."""
    return bool(part.get("calculation")) and not part.get("refused") and part.get("verdict") not in NEGATIVE


def after_not_eligible(parts: list[dict]) -> list[bool]:
    """Which parts come after a 不符合: shown as related clauses, not as what the enterprise gets."""
    out, seen = [], False
    for part in parts:
        out.append(seen)
        seen = seen or part.get("verdict") == "不符合"
    return out


def figures(parts: list[dict]) -> list[bool]:
    """Which parts offer their figure: none after a 不符合 (an enterprise outside the policy gets no
    amount for the measure it asked about, though the calculator could compute one)."""
    return [offers_amount(p) and not moot for p, moot in zip(parts, after_not_eligible(parts))]


def _cite_key(c: dict) -> tuple:
    return c.get("doc_id"), c.get("section"), c.get("quote")


def numbered_citations(answer: dict) -> list[dict]:
    """Every citation once, in order of first use: the answer's own list, then any a part adds."""
    seen, out = set(), []
    for c in [*(answer.get("citations") or []), *(c for p in parts_of(answer) for c in p.get("citations") or [])]:
        if isinstance(c, dict) and _cite_key(c) not in seen:
            seen.add(_cite_key(c))
            out.append(c)
    return out


def amount_words(calc: dict) -> str:
    yuan = int(calc["amount_yuan"])
    compact = fmt_wan(yuan)
    plain = f"{yuan:,}元"
    return compact if compact == plain or yuan < 10_000 else f"{compact}（{plain}）"


def steps_of(calc: dict) -> list[str]:
    return [readable_number(str(s)) for s in calc.get("steps") or []]


# ---- the chat bubble ----------------------------------------------------------------------------------
def _markers(part: dict, numbers: dict) -> str:
    found = [numbers[_cite_key(c)] for c in part.get("citations") or [] if _cite_key(c) in numbers]
    return "".join(f"<sup>[{n}]</sup>" for n in dict.fromkeys(found))


def _calc_box(calc: dict, with_result: bool = True) -> str:
    """The steps; the result in the heading only where no lead has said it already."""
    steps = "".join(f"<li>{esc(s)}</li>" for s in steps_of(calc))
    head = f"计算结果：{esc(amount_words(calc))}" if with_result else "计算过程"
    return f'<div class="calc" data-testid="calculation"><b>{head}</b><ul>{steps}</ul></div>'



def _part_html(part: dict, numbers: dict, several: bool, figure: bool, related: bool) -> str:
    verdict, lead = part.get("verdict"), part.get("lead") or ""
    out = [f'<div class="part{" related" if related else ""}" data-testid="part">']
    if several and part.get("subject"):
        out.append(f'<div class="part-subject">{"相关条款：" if related else ""}{esc(part["subject"])}</div>')
    kind = "refused" if part.get("refused") else "no" if verdict in NEGATIVE else "yes"
    badge = f'<span class="verdict verdict-{kind}">{esc(verdict)}</span>' if verdict else ""
    out.append(f'<p class="lead">{badge}{esc(lead)}{_markers(part, numbers)}</p>')
    notes = [n for n in part.get("notes") or [] if n]
    if notes:
        out.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    if part.get("ask_back"):
        out.append(f'<p class="ask-back">{esc(part["ask_back"])}</p>')
    if figure:
        out.append(_calc_box(part["calculation"], with_result=not lead))
    out.append("</div>")
    return "".join(out)


def _legacy_html(answer: dict) -> str:
    """An answer without parts: its text as written, line by line."""
    kind = "refused" if answer.get("refused") else "answer-text"
    body = esc(answer.get("text", "")).replace("\n", "<br>")
    calc = answer.get("calculation")
    box = _calc_box(calc) if calc and not answer.get("refused") else ""
    return f'<div class="{kind}">{body}</div>{box}'


def citation_cards(citations: list[dict], clause_text) -> str:
    """Folded cards, one per source, each opening on the whole clause with the quote marked."""
    cards = []
    for i, c in enumerate(citations, 1):
        body, quote = esc(clause_text(c) or c.get("quote", "")), esc(c.get("quote", ""))
        if quote and quote in body:
            body = body.replace(quote, f"<mark>{quote}</mark>", 1)
        cards.append(f'<details class="cite" data-testid="citation"><summary>[{i}] {esc(c.get("label"))}'
                     f'　<small>《{esc(c.get("title"))}》</small></summary>'
                     f'<div class="clause-text">{body.replace(chr(10), "<br>")}</div></details>')
    return "".join(cards)


RATINGS = {1: ("like", "👍 有帮助"), -1: ("dislike", "👎 没帮助")}


def actions_html(turn: int, rating: int | None) -> str:
    """Copy, then 👍, then 👎, labelled in Chinese; the pressed rating shows (class "pressed").
    A button's value names its action and bubble for the page script (Gradio keeps value, class
    and title of a button in a chat message, nothing else)."""
    buttons = [f'<button type="button" class="act act-copy" value="copy:{turn}" title="复制这条回答（纯文字）">复制</button>']
    for value, (name, label) in RATINGS.items():
        pressed = rating == value
        title = f"{label[2:]}（已选，再点一次撤销）" if pressed else label[2:]
        buttons.append(f'<button type="button" class="act act-{name}{" pressed" if pressed else ""}" '
                       f'value="{name}:{turn}" title="{title}">{label}</button>')
    return f'<div class="actions">{"".join(buttons)}</div>'


def answer_html(answer: dict, clause_text, turn: int | None = None, rating: int | None = None,
                spoken_first: bool = False) -> str:
    """One chat bubble: notice, each part (subject, verdict, lead with [n] markers, notes, its
    figure), the sources folded, then copy / 👍 / 👎 with the clean text they copy, hidden.
    clause_text(citation) → the whole clause; spoken_first: the hotline sentence leads."""
    citations = numbered_citations(answer)
    numbers = {_cite_key(c): i for i, c in enumerate(citations, 1)}
    out = []
    if answer.get("notice"):
        out.append(f'<p class="notice">{esc(answer["notice"])}</p>')
    if spoken_first and not answer.get("refused"):
        out.append(f'<p class="lead spoken">{esc(spoken(answer))}</p>')
    if has_parts(answer):
        parts = parts_of(answer)
        out += [_part_html(p, numbers, len(parts) > 1, f, r)
                for p, f, r in zip(parts, figures(parts), after_not_eligible(parts))]
    else:
        out.append(_legacy_html(answer))
    out.append(citation_cards(citations, clause_text))
    if turn is not None:
        out.append(actions_html(turn, rating))
        # One line for the Markdown pass the chat applies around HTML: newlines as entities.
        clean = esc(copy_text(answer)).replace("\n", "&#10;")
        out.append(f'<pre class="copy-src" hidden>{clean}</pre>')
    return f'<div class="answer" data-testid="answer">{"".join(out)}</div>'


def first_line(answer: dict) -> str:
    """What the bubble shows while the rest is being laid out."""
    part = parts_of(answer)[0]
    if has_parts(answer):
        return esc(" ".join(x for x in (part.get("verdict") or "", part.get("lead") or "") if x))
    return esc((answer.get("text") or "").split("\n", 1)[0])


# ---- plain text (clipboard, hotline) -------------------------------------------------------------
def copy_text(answer: dict) -> str:
    """The answer as clean text for pasting into a message or a document: no markup, the sources
    written out after it."""
    citations = numbered_citations(answer)
    numbers = {_cite_key(c): i for i, c in enumerate(citations, 1)}
    lines = [answer["notice"]] if answer.get("notice") else []
    if has_parts(answer):
        parts = parts_of(answer)
        for p, figure, related in zip(parts, figures(parts), after_not_eligible(parts)):
            marks = "".join(f"[{n}]" for n in dict.fromkeys(numbers[_cite_key(c)] for c in p.get("citations") or []
                                                                 if _cite_key(c) in numbers))
            verdict = f"{p['verdict']}。" if p.get("verdict") else ""
            head = f"{p['subject']}：" if len(parts) > 1 and p.get("subject") else ""
            head = f"相关条款：{head}" if related else head
            lines.append(f"{head}{verdict}{p.get('lead') or ''}{marks}")
            lines += [f"· {n}" for n in p.get("notes") or [] if n]
            if p.get("ask_back"):
                lines.append(p["ask_back"])
            if figure:
                lines.append("计算过程：" if p.get("lead") else f"计算结果：{amount_words(p['calculation'])}")
                lines += [f"  {s}" for s in steps_of(p["calculation"])]
    else:
        lines.append(answer.get("text", ""))
    if citations:
        lines.append("来源：")
        lines += [f"[{i}] 《{c.get('title')}》{c.get('label')}：“{c.get('quote')}”" for i, c in enumerate(citations, 1)]
    return "\n".join(lines)


def spoken(answer: dict) -> str:
    """What a hotline worker reads aloud: the speech rendering (each ask named), else the leads."""
    if answer.get("short"):
        return answer["short"]
    if has_parts(answer):
        return "".join(f"{p.get('verdict') + '。' if p.get('verdict') else ''}{p.get('lead') or ''}"
                       for p in parts_of(answer))
    return answer.get("text", "")


def figure_text(answer: dict) -> str:
    """The hotline's 金额与条件 box: each part that offers an amount, its figure and readable steps;
    nothing for a part whose verdict is negative or that was refused (the box then stays hidden)."""
    parts = parts_of(answer)
    blocks = []
    for p, figure in zip(parts, figures(parts)):
        if not figure:
            continue
        head = f"{p['subject']}：" if p.get("subject") and len(parts) > 1 else "金额："
        blocks.append("\n".join([f"{head}{amount_words(p['calculation'])}", *(f"· {s}" for s in steps_of(p["calculation"]))]))
    return "\n\n".join(blocks)


def quotes_text(answer: dict) -> str:
    return "\n".join(f"“{c.get('quote')}”（{c.get('label')}）" for c in numbered_citations(answer))
