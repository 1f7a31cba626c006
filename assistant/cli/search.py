"""`search`: the ranked clauses for a question, without the answer layer (../shared/CONTRACT.md).

Operators use it to see why an answer went wrong; evaluation runs use it to score retrieval
alone. One JSON line per question: {"id", "hits": [{"doc_id", "title", "section", "label",
"score"}]}, best first; batch input lines as for `ask --jsonl` (`history` is ignored).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.cli.answering import _ID, _read_item
from assistant.cli.common import _settings

MAX_K = 100


def hit_dict(hit) -> dict:
    c = hit.clause
    return {"doc_id": c.doc_id, "title": c.doc_title, "section": c.section, "label": c.label,
            "score": round(float(hit.score), 6)}


def _problem(question: str, max_chars: int) -> str | None:
    if not question.strip():
        return "问题为空"
    if len(question) > max_chars:
        return f"问题过长（{len(question)} 字，上限 {max_chars} 字）"
    return None


def _error_line(lineno: int, raw: bytes, reason: str, item_id=None) -> dict:
    if item_id is None:
        m = _ID.search(raw)
        item_id = m.group(1).decode("utf-8", "replace") if m else f"line-{lineno}"
    return {"id": item_id, "line": lineno, "error": f"第{lineno}行无法读取：{reason}", "hits": []}


def _batch(bot, path: str, k: int, max_chars: int) -> int:
    """One line out per line in, streamed; a bad line gets an error line and the batch goes on."""
    if path != "-" and not Path(path).is_file():
        print(f"错误：批量问题文件不存在：{path}", file=sys.stderr)
        return 2
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                question, _history, item_id = _read_item(raw)
            except UnicodeDecodeError as exc:
                out = _error_line(lineno, raw, f"不是 UTF-8 文本（第 {exc.start + 1} 字节）")
            except (ValueError, TypeError) as exc:
                out = _error_line(lineno, raw, str(exc))
            else:
                item_id = item_id if item_id is not None else f"line-{lineno}"
                problem = _problem(question, max_chars)
                if problem:
                    out = _error_line(lineno, raw, problem, item_id)
                else:
                    out = {"id": item_id, "hits": [hit_dict(h) for h in bot.search(question, k=k)]}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_search(args) -> int:
    from assistant.api import Assistant

    if not 1 <= args.k <= MAX_K:
        print(f"错误：--k 应在 1 到 {MAX_K} 之间", file=sys.stderr)
        return 2
    if not args.jsonl and args.question is None:
        print("请提供问题，或用 --jsonl 指定批量问题文件", file=sys.stderr)
        return 2
    settings = _settings(args)
    if not args.jsonl:
        problem = _problem(args.question, settings.max_question_chars)
        if problem:
            print(f"错误：{problem}", file=sys.stderr)
            return 2
    bot = Assistant.load(settings=settings)
    if args.jsonl:
        return _batch(bot, args.jsonl, args.k, settings.max_question_chars)
    hits = bot.search(args.question, k=args.k)
    if args.json:
        print(json.dumps({"id": None, "question": args.question, "hits": [hit_dict(h) for h in hits]},
                         ensure_ascii=False))
        return 0
    if not hits:
        print("没有找到相关条款")
    for rank, h in enumerate(hits, 1):
        c = h.clause
        text = c.text.replace("\n", " ")
        print(f"{rank:>2}. {h.score:.4f}  《{c.doc_title}》{c.label}（{c.doc_id}#{c.section}）\n    "
              f"{text[:80]}{'…' if len(text) > 80 else ''}")
    return 0
