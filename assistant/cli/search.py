"""`search`: the ranked clauses for a question, without the answer layer (../shared/CONTRACT.md).

Operators use it to see why an answer went wrong; evaluation runs use it to score retrieval
alone. One JSON line per question: {"id", "hits": [{"doc_id", "title", "section", "label",
"score"}]}, best first; batch input lines as for `ask --jsonl` (`history` is ignored).
"""
from __future__ import annotations

import json
import sys

from assistant.cli.batch import run_batch
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


def _error_line(lineno: int, item_id: str, reason: str) -> dict:
    return {"id": item_id, "line": lineno, "error": f"第{lineno}行无法读取：{reason}", "hits": []}


def _batch(bot, path: str, k: int, max_chars: int) -> int:
    def answer(question: str, _history: list, item_id: str) -> dict | str:
        return _problem(question, max_chars) or {"id": item_id, "hits": [hit_dict(h) for h in bot.search(question, k=k)]}

    return run_batch(path, answer, _error_line)


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
