"""Asking: `ask` (one question or a JSONL batch), `info`, `check` (政策体检)."""
from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

from assistant.cli.common import _settings

log = logging.getLogger("assistant")


_ID = re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.){0,200})"')


def _error_line(lineno: int, raw: bytes, reason: str, item_id=None) -> dict:
    """A batch line that could not be answered: its id (if it can be read), where, and why."""
    if item_id is None:
        m = _ID.search(raw)
        item_id = m.group(1).decode("utf-8", "replace") if m else f"line-{lineno}"
    message = f"第{lineno}行无法读取：{reason}"
    return {"id": item_id, "line": lineno, "error": message, "text": message, "refused": True,
            "citations": [], "calculation": None}


def _read_item(raw: bytes) -> tuple[str, list, object]:
    """One batch line → (question, history, id). Each line is decoded on its own."""
    item = json.loads(raw.decode("utf-8"))
    if not isinstance(item, dict):
        raise ValueError("不是 JSON 对象")
    question = item.get("question")
    if not isinstance(question, str):
        raise ValueError("缺少 question 字段（应为文字）")
    history = item.get("history") or []
    if not isinstance(history, list) or not all(isinstance(h, (list, tuple)) and len(h) == 2 for h in history):
        raise ValueError("history 应为 [问题, 回答] 对的列表")
    return question, [tuple(map(str, h)) for h in history], item.get("id")


def _batch(bot, path: str) -> int:
    """One answer line per input line, streamed: a bad line (bad bytes, bad JSON) gets an error
    line with its id and the batch goes on."""
    if path != "-" and not Path(path).is_file():
        print(f"错误：批量问题文件不存在：{path}", file=sys.stderr)
        return 2
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                question, history, item_id = _read_item(raw)
            except UnicodeDecodeError as exc:
                out = _error_line(lineno, raw, f"不是 UTF-8 文本（第 {exc.start + 1} 字节）")
            except (ValueError, TypeError) as exc:
                out = _error_line(lineno, raw, str(exc))
            else:
                out = bot.ask(question, history).to_dict()
                out["id"] = item_id if item_id is not None else f"line-{lineno}"
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


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
