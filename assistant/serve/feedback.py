"""👍/👎 feedback on answers, in SQLite beside the index; exported as Q&A set cases.

Bounded: each stored field has a size limit, each session a rate limit, and the export streams.
A damaged database is moved aside and reported, never fatal to the app.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  question TEXT NOT NULL,
  history TEXT NOT NULL,
  answer TEXT NOT NULL,
  rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
  comment TEXT NOT NULL DEFAULT ''
)"""
MAX_COMMENT = 2000
MAX_QUESTION = 2000
MAX_TURNS = 10  # the latest turns of history kept with a rating
MAX_TURN_CHARS = 2000
MAX_ANSWER_TEXT = 5000
MAX_CITATIONS = 10
RATE_LIMIT = 30  # ratings per session …
RATE_WINDOW_SECONDS = 600  # … in this window


class FeedbackError(ValueError):
    """A rating that cannot be stored (the message is Chinese)."""


class FeedbackUnavailable(RuntimeError):
    """The feedback database is damaged; it was moved aside (the message says where)."""


def _bounded_answer(answer: dict) -> dict:
    d = dict(answer or {})
    d["text"] = str(d.get("text", ""))[:MAX_ANSWER_TEXT]
    d["short"] = str(d.get("short", ""))[:MAX_ANSWER_TEXT]
    d["citations"] = [{k: str(v)[:MAX_ANSWER_TEXT] for k, v in c.items()}
                      for c in list(d.get("citations") or [])[:MAX_CITATIONS] if isinstance(c, dict)]
    d["refused"] = bool(d.get("refused"))
    calc = d.get("calculation")
    d["calculation"] = calc if isinstance(calc, dict) and len(json.dumps(calc, ensure_ascii=False)) < MAX_ANSWER_TEXT else None
    return {k: d[k] for k in ("text", "short", "refused", "citations", "calculation") if k in d}


def _bounded_history(history) -> list:
    turns = [h for h in (history or []) if isinstance(h, (list, tuple)) and len(h) == 2]
    return [[str(q)[:MAX_TURN_CHARS], str(a)[:MAX_TURN_CHARS]] for q, a in turns[-MAX_TURNS:]]


class FeedbackStore:
    """One SQLite file; parameterised statements only, so nothing a user typed is executed."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._recent: dict[str, deque] = defaultdict(deque)
        try:
            with self._connect() as db:
                db.execute(SCHEMA)
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
            path.replace(aside)
            log.error("feedback database %s is damaged (%s); moved to %s", path, exc, aside)
            raise FeedbackUnavailable(f"反馈数据库已损坏，已另存为 {aside.name}，反馈功能暂时关闭") from exc

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def _admit(self, session: str) -> None:
        now = time.monotonic()
        recent = self._recent[session]
        while recent and now - recent[0] > RATE_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= RATE_LIMIT:
            raise FeedbackError("反馈提交过于频繁，请稍后再试")
        recent.append(now)

    def add(self, question: str, history: list, answer: dict, rating: int, comment: str = "",
            session: str = "") -> int:
        """Store one rating of an answer (the CONTRACT answer dict, as the app holds it)."""
        if rating not in (-1, 1):
            raise FeedbackError("评价只能是 👍 或 👎")
        row = (time.strftime("%Y-%m-%dT%H:%M:%S"), str(question or "")[:MAX_QUESTION],
               json.dumps(_bounded_history(history), ensure_ascii=False),
               json.dumps(_bounded_answer(answer), ensure_ascii=False), rating,
               str(comment or "")[:MAX_COMMENT])
        with self._lock:
            self._admit(session)
            with self._connect() as db:
                cur = db.execute("INSERT INTO feedback (created_at, question, history, answer, rating, comment)"
                                 " VALUES (?, ?, ?, ?, ?, ?)", row)
                return int(cur.lastrowid)

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """The comment a user adds to the rating they just gave."""
        with self._lock, self._connect() as db:
            db.execute("UPDATE feedback SET comment = ? WHERE id = ?",
                       (str(comment or "")[:MAX_COMMENT], int(feedback_id)))

    def remove(self, feedback_id: int) -> None:
        """Undo a rating (the user clicked the same thumb again)."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM feedback WHERE id = ?", (int(feedback_id),))

    def rows(self) -> Iterator[dict]:
        """Every row, oldest first, one at a time (the export never holds them all)."""
        db = self._connect()
        try:
            db.row_factory = sqlite3.Row
            for r in db.execute("SELECT * FROM feedback ORDER BY id"):
                yield dict(r)
        finally:
            db.close()

    def export_cases(self) -> Iterator[dict]:
        """Q&A set cases (../shared/evals/README.md). 👍 answers become regression cases with the
        sections and amount they had; 👎 answers become cases marked needs_review, with the bad
        answer and the comment, whose expectations a person fills in before they join a set."""
        for r in self.rows():
            answer = json.loads(r["answer"])
            calc = answer.get("calculation")
            good = r["rating"] == 1
            case = {
                "id": f"fb-{r['id']}", "question": r["question"], "kind": "feedback",
                "sections": [c["section"] for c in answer["citations"][:1]] if good else [],
                "facts": [], "forbid": [],
                "amount_yuan": calc["amount_yuan"] if good and calc else None,
                "refused": answer["refused"] if good else False,
                "history": json.loads(r["history"]),
                "rating": r["rating"], "comment": r["comment"],
            }
            if not good:
                case["needs_review"] = True
                case["bad_answer"] = answer["text"]
            yield case
