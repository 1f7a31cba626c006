"""👍/👎 feedback on answers, in SQLite beside the index; exported as Q&A set cases.

Bounded: each stored field has a size limit; each session and all sessions together a rate limit
(a new session id per click buys nothing); the table a row limit; the export streams.
A rating is changed or undone only with the token it was stored with (the browser keeps it across
reloads), so a reload never duplicates a rating and nobody removes another's.
The app moves a damaged database aside at start and reports it; the export only reads, and never
moves, changes or overwrites the database (a running app may be using it).
"""
from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections import deque
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  question TEXT NOT NULL,
  history TEXT NOT NULL,
  answer TEXT NOT NULL,
  rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
  comment TEXT NOT NULL DEFAULT '',
  token TEXT NOT NULL DEFAULT ''
)"""
MAX_COMMENT = 2000
MAX_QUESTION = 2000
MAX_TURNS = 10  # the latest turns of history kept with a rating
MAX_TURN_CHARS = 2000
MAX_ANSWER_TEXT = 5000
MAX_CITATIONS = 10
RATE_LIMIT = 30  # new ratings per session …
OVERALL_RATE_LIMIT = 120  # … and from all sessions together …
RATE_WINDOW_SECONDS = 600  # … in this window
MAX_ROWS = 50_000  # ratings kept in all; beyond it new ones are refused until exported and cleared


class FeedbackError(ValueError):
    """A rating that cannot be stored (the message is Chinese)."""


class FeedbackUnavailable(RuntimeError):
    """The feedback database is damaged or unreadable (the message says what was done about it)."""


class Rating(NamedTuple):
    """A stored rating and the secret that lets its author change or undo it."""

    id: int
    token: str


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


def _damaged(db: sqlite3.Connection) -> str | None:
    """Why the database cannot be used, or None."""
    found = db.execute("PRAGMA quick_check").fetchone()[0]
    return None if found == "ok" else f"quick_check: {found}"


class FeedbackStore:
    """One SQLite file; parameterised statements only, so nothing a user typed is executed."""

    def __init__(self, path: Path, *, per_session: int = RATE_LIMIT, overall: int = OVERALL_RATE_LIMIT,
                 max_rows: int = MAX_ROWS):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.per_session, self.overall, self.max_rows = per_session, overall, max_rows
        self._lock = threading.Lock()
        self._recent: dict[str, deque] = {}
        self._all: deque = deque()
        try:
            with self._write() as db:
                problem = _damaged(db)
                if problem:
                    raise sqlite3.DatabaseError(problem)
        except sqlite3.DatabaseError as exc:
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
            path.replace(aside)
            log.error("feedback database %s is damaged (%s); moved to %s", path, exc, aside)
            raise FeedbackUnavailable(f"反馈数据库已损坏，已另存为 {aside.name}，反馈功能暂时关闭") from exc

    @classmethod
    def reader(cls, path: Path) -> "FeedbackStore":
        """The store opened read-only (for the export): a damaged file is reported, never moved."""
        store = cls.__new__(cls)
        store.path, store._lock = path, threading.Lock()
        try:
            with closing(store._read()) as db:
                problem = _damaged(db)
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
        if problem:
            raise FeedbackUnavailable(f"反馈数据库无法读取（{problem}），未做任何改动；"
                                      "网页应用下次启动时会把它另存并新建")
        return store

    def _read(self) -> sqlite3.Connection:
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a connection with the table in place (the file may have been moved or
        replaced while the app runs, and ratings must keep working), committed and closed."""
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            with db:
                db.execute(SCHEMA)
                if "token" not in {r[1] for r in db.execute("PRAGMA table_info(feedback)")}:
                    db.execute("ALTER TABLE feedback ADD COLUMN token TEXT NOT NULL DEFAULT ''")
                yield db

    def _admit(self, session: str) -> None:
        """A new rating counts against its session and against everyone; either limit refuses it."""
        now = time.monotonic()
        for recent in (self._all, *self._recent.values()):
            while recent and now - recent[0] > RATE_WINDOW_SECONDS:
                recent.popleft()
        self._recent = {k: v for k, v in self._recent.items() if v}
        mine = self._recent.get(session) or deque()
        if len(mine) >= self.per_session or len(self._all) >= self.overall:
            raise FeedbackError("反馈提交过于频繁，请稍后再试")
        mine.append(now)
        self._all.append(now)
        self._recent[session] = mine

    def rate(self, question: str, history: list, answer: dict, rating: int, comment: str = "",
             session: str = "") -> Rating:
        """Store one rating of an answer (the CONTRACT answer dict, as the app holds it)."""
        if rating not in (-1, 1):
            raise FeedbackError("评价只能是 👍 或 👎")
        token = secrets.token_urlsafe(16)
        row = (time.strftime("%Y-%m-%dT%H:%M:%S"), str(question or "")[:MAX_QUESTION],
               json.dumps(_bounded_history(history), ensure_ascii=False),
               json.dumps(_bounded_answer(answer), ensure_ascii=False), rating,
               str(comment or "")[:MAX_COMMENT], token)
        with self._lock, self._write() as db:
            if db.execute("SELECT count(*) FROM feedback").fetchone()[0] >= self.max_rows:
                raise FeedbackError("反馈记录已达上限，请管理员导出后再收集")
            self._admit(session)
            cur = db.execute("INSERT INTO feedback (created_at, question, history, answer, rating, comment, token)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            return Rating(int(cur.lastrowid), token)

    def add(self, question: str, history: list, answer: dict, rating: int, comment: str = "",
            session: str = "") -> int:
        """As `rate`, returning the row id only."""
        return self.rate(question, history, answer, rating, comment, session).id

    def _update(self, statement: str, params: tuple, rated: Rating) -> bool:
        if not rated or not rated.token:
            return False
        with self._lock, self._write() as db:
            return db.execute(statement, (*params, int(rated.id), str(rated.token))).rowcount > 0

    def change(self, rated: Rating, rating: int) -> bool:
        """👍 ↔ 👎 on a rating already stored; False when it is no longer there."""
        if rating not in (-1, 1):
            raise FeedbackError("评价只能是 👍 或 👎")
        return self._update("UPDATE feedback SET rating = ? WHERE id = ? AND token = ?", (rating,), rated)

    def set_comment(self, rated: Rating, comment: str) -> bool:
        """The comment a user adds to the rating they gave."""
        return self._update("UPDATE feedback SET comment = ? WHERE id = ? AND token = ?",
                            (str(comment or "")[:MAX_COMMENT],), rated)

    def remove(self, rated: Rating) -> bool:
        """Undo a rating (the user clicked the same thumb again)."""
        return self._update("DELETE FROM feedback WHERE id = ? AND token = ?", (), rated)

    def rows(self) -> Iterator[dict]:
        """Every row, oldest first, one at a time (the export never holds them all); read-only."""
        with closing(self._read()) as db:
            db.row_factory = sqlite3.Row
            if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").fetchone():
                return
            for r in db.execute("SELECT * FROM feedback ORDER BY id"):
                row = dict(r)
                row.pop("token", None)  # a secret of the rater's browser, never exported
                yield row

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
