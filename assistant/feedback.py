"""👍/👎 feedback on answers, in SQLite beside the index; exported as Q&A set cases."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

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


class FeedbackStore:
    """One SQLite file; parameterised statements only, so nothing a user typed is executed."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, question: str, history: list, answer: dict, rating: int, comment: str = "") -> int:
        """Store one rating of an answer (the CONTRACT answer dict, as the app holds it)."""
        if rating not in (-1, 1):
            raise ValueError("评价只能是 👍 或 👎")
        row = (time.strftime("%Y-%m-%dT%H:%M:%S"), question, json.dumps(history, ensure_ascii=False),
               json.dumps(answer, ensure_ascii=False), rating, (comment or "")[:MAX_COMMENT])
        with self._lock, self._connect() as db:
            cur = db.execute("INSERT INTO feedback (created_at, question, history, answer, rating, comment)"
                             " VALUES (?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid)

    def rows(self) -> list[dict]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY id")]

    def export_cases(self) -> list[dict]:
        """Q&A set cases (../shared/evals/README.md). 👍 answers become regression cases with the
        sections and amount they had; 👎 answers become cases marked needs_review, with the bad
        answer and the comment, whose expectations a person fills in before they join a set."""
        out = []
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
            out.append(case)
        return out
