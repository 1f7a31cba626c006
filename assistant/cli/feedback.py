"""`feedback-export`: ratings from the app as Q&A cases."""
from __future__ import annotations

import json
import logging
import sys

from assistant.cli.common import _settings

log = logging.getLogger("assistant")


def cmd_feedback_export(args) -> int:
    from assistant.serve.feedback import FeedbackStore, FeedbackUnavailable

    path = _settings(args).index_dir / "feedback.sqlite"
    if not path.exists():
        print(f"没有反馈记录：{path}", file=sys.stderr)
        return 0
    try:
        store = FeedbackStore(path)
    except FeedbackUnavailable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    count = 0
    try:
        for case in store.export_cases():  # streamed: one row in memory at a time
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"已导出 {count} 条反馈到 {args.out}（👎 的用例需人工补全期望后再加入评测集）", file=sys.stderr)
    return 0
