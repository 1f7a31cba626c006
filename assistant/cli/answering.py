"""Asking: `ask` (one question or a JSONL batch), `info`, `check` (政策体检)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from assistant.cli.batch import run_batch
from assistant.cli.common import _settings

log = logging.getLogger("assistant")


def _error_line(lineno: int, item_id: str, reason: str) -> dict:
    """A batch line that could not be answered: its id (if it can be read), where, and why."""
    message = f"第{lineno}行无法读取：{reason}"
    return {"id": item_id, "line": lineno, "error": message, "text": message, "refused": True,
            "citations": [], "calculation": None}


def _batch(bot, path: str) -> int:
    def answer(question: str, history: list, item_id: str) -> dict:
        return {**bot.ask(question, history).to_dict(), "id": item_id}

    return run_batch(path, answer, _error_line)


def cmd_ask(args) -> int:
    from assistant.api import Assistant

    if not args.jsonl and args.question is None:
        print("请提供问题，或用 --jsonl 指定批量问题文件", file=sys.stderr)
        return 2
    bot = Assistant.load(settings=_settings(args))
    if args.jsonl:
        return _batch(bot, args.jsonl)
    answer = bot.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(answer.text)
    return 0


def cmd_info(args) -> int:
    from assistant.api import Assistant

    info = Assistant.load(settings=_settings(args)).info()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"向量模型：{info['embedder']}（{info['embedder_path'] or '无本地目录'}）")
    print(f"索引：{info['index']}（构建 {info['build']}），共 {len(info['documents'])} 份文档、{info['clauses']} 个条款")
    print("回答方式：" + ("离线确定性回答（金额由计算器得出）" if info["answerer"] == "offline" else info["answerer"]))
    for d in info["documents"][:50]:
        print(f"  · {d['title']}（{d['region'] or '地区未知'}，{d['clauses']} 条）")
    if len(info["documents"]) > 50:
        print(f"  … 另有 {len(info['documents']) - 50} 份")
    return 0


def cmd_check(args) -> int:
    from assistant.api import Assistant
    from assistant.calculate.eligibility import ProfileError, render_table

    try:
        profile = json.loads(Path(args.profile).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"无法读取企业情况文件 {args.profile}：{exc}", file=sys.stderr)
        return 2
    bot = Assistant.load(settings=_settings(args))
    try:
        report = bot.check(profile)
    except ProfileError as exc:
        print(f"企业情况有误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_table(report))
    return 0
