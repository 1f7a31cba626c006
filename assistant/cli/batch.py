"""JSONL batches for `ask --jsonl` and `search --jsonl`: one line out per line in, streamed. Each
line is decoded on its own, so a bad line (bad bytes, bad JSON, a missing field) gets an error
line with its id and the batch goes on."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Callable

_ID = re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.){0,200})"')


def line_id(lineno: int, raw: bytes) -> str:
    """A line's id as far as it can be read (bad JSON may still name one), else line-N."""
    m = _ID.search(raw)
    return m.group(1).decode("utf-8", "replace") if m else f"line-{lineno}"


def read_item(raw: bytes) -> tuple[str, list, object]:
    """One batch line → (question, history, id)."""
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


def run_batch(path: str, answer: Callable[[str, list, str], dict | str],
              error_line: Callable[[int, str, str], dict]) -> int:
    """answer(question, history, id) → the line out, or why the question cannot be taken;
    error_line(lineno, id, reason) → the line out for a line that cannot be read or taken.
    Exit code 2 (and nothing printed) for a file that does not exist."""
    if path != "-" and not Path(path).is_file():
        print(f"错误：批量问题文件不存在：{path}", file=sys.stderr)
        return 2
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                question, history, item_id = read_item(raw)
            except UnicodeDecodeError as exc:
                out = error_line(lineno, line_id(lineno, raw), f"不是 UTF-8 文本（第 {exc.start + 1} 字节）")
            except (ValueError, TypeError) as exc:
                out = error_line(lineno, line_id(lineno, raw), str(exc))
            else:
                item_id = item_id if item_id is not None else f"line-{lineno}"
                out = answer(question, history, item_id)
                if isinstance(out, str):
                    out = error_line(lineno, item_id, out)
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0
