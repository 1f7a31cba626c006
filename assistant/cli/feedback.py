"""`feedback-export`: ratings from the app as Q&A cases.

The export only reads the database: a running app may be writing to it, so a damaged file is
reported, not moved, and --out may never name the database (or its journal) itself. The output is
written beside --out and renamed into place at the end: a failed export leaves the old file as it was.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from assistant.cli.common import _settings

log = logging.getLogger("assistant")
SIDECARS = ("", "-journal", "-wal", "-shm")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _names_the_database(out: Path, db: Path) -> bool:
    targets = [db.with_name(db.name + s) for s in SIDECARS]
    return any(out.resolve() == t.resolve() or _same_file(out, t) for t in targets)


def cmd_feedback_export(args) -> int:
    from assistant.serve.feedback import FeedbackStore, FeedbackUnavailable

    path = _settings(args).index_dir / "feedback.sqlite"
    out_path = Path(args.out) if args.out else None
    if out_path is not None:
        if _names_the_database(out_path, path):
            print(f"错误：--out 指向反馈数据库本身（{path}），导出会覆盖全部反馈；请换一个输出文件", file=sys.stderr)
            return 2
        if out_path.is_dir() or not out_path.parent.is_dir():
            print(f"错误：无法写入 {out_path}（是目录，或所在目录不存在）", file=sys.stderr)
            return 2
    if not path.exists():
        print(f"没有反馈记录：{path}", file=sys.stderr)
        return 0
    try:
        store = FeedbackStore.reader(path)
    except FeedbackUnavailable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        if out_path is None:
            _write_cases(store, sys.stdout)
            return 0
        fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".part", dir=out_path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                count = _write_cases(store, out)
            os.replace(tmp, out_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except sqlite3.DatabaseError as exc:
        print(f"错误：读取反馈数据库失败（{exc}），未做任何改动", file=sys.stderr)
        return 2
    print(f"已导出 {count} 条反馈到 {out_path}（👎 的用例需人工补全期望后再加入评测集）", file=sys.stderr)
    return 0


def _write_cases(store, out) -> int:
    count = 0
    for case in store.export_cases():  # streamed: one row in memory at a time
        out.write(json.dumps(case, ensure_ascii=False) + "\n")
        count += 1
    return count
