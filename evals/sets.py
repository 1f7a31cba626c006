"""Q&A sets: JSONL (../shared/evals/README.md) and the CSV/XLSX sheets hotline teams keep."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {"lookup", "calc", "eligibility", "refuse", "adversarial", "multiturn", "csv", "typo",
         "colloquial", "validity", "regulation", "feedback", "multiask"}
CSV_QUESTION, CSV_REFERENCE, CSV_SECTIONS, CSV_AMOUNT = "问题", "标准答案", "期望条款", "期望金额"


@dataclass
class Case:
    id: str
    question: str
    kind: str = "lookup"
    sections: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    forbid: list[str] = field(default_factory=list)
    amount_yuan: int | None = None
    refused: bool | None = False
    history: list[tuple[str, str]] = field(default_factory=list)
    reference: str = ""  # 标准答案, CSV/XLSX sets only
    title: str = ""  # a substring of the title of the document the citation must come from
    source: str = ""  # file:line
    # Gold as any of several (document title, article) pairs (STARD's `articles`): a citation of
    # any one of them is right; `sections` is then unused.
    articles: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    source: str  # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def _case_from_json(obj: dict, source: str) -> Case:
    if not isinstance(obj, dict):
        raise ValueError("不是 JSON 对象")
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        raise ValueError("缺少字段 id")
    if not isinstance(obj.get("question"), str):  # an empty question is a valid adversarial case
        raise ValueError("缺少字段 question")
    facts = obj.get("facts", [])
    if not all(isinstance(g, list) and all(isinstance(s, str) for s in g) for g in facts):
        raise ValueError("facts 应为字符串列表的列表")
    amount = obj.get("amount_yuan")
    if amount is not None and not isinstance(amount, int):
        raise ValueError("amount_yuan 应为整数或 null")
    history = obj.get("history") or []
    if not all(isinstance(h, list) and len(h) == 2 for h in history):
        raise ValueError("history 应为 [问题, 回答] 对的列表")
    if obj.get("needs_review"):
        raise ValueError("反馈用例尚待人工补全期望（needs_review）")
    kind = obj.get("kind", "lookup")
    if kind not in KINDS:
        raise ValueError(f"未知的 kind：{kind}")
    articles = obj.get("articles") or []
    if not all(isinstance(a, dict) and "title" in a and "article" in a for a in articles):
        raise ValueError("articles 应为 {title, article} 的列表")
    return Case(id=obj["id"], question=obj["question"], kind=kind,
                articles=[(str(a["title"]), str(a["article"])) for a in articles],
                sections=[str(s) for s in obj.get("sections", [])], facts=facts,
                forbid=list(obj.get("forbid", [])), amount_yuan=amount,
                refused=bool(obj.get("refused", False)), history=[tuple(h) for h in history],
                title=str(obj.get("title") or ""), source=source)


def read_jsonl(path: Path) -> tuple[list[Case], list[Problem]]:
    cases, problems = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        src = f"{path}:{lineno}"
        try:
            cases.append(_case_from_json(json.loads(line), src))
        except ValueError as exc:  # JSONDecodeError is a ValueError
            problems.append(Problem(src, f"无法读取：{exc}"))
    return cases, problems


def _rows_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _rows_xlsx(path: Path) -> list[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    header = [str(h or "").strip() for h in rows[0]]
    return [{h: ("" if v is None else str(v)) for h, v in zip(header, r)} for r in rows[1:]]


def read_sheet(path: Path) -> tuple[list[Case], list[Problem]]:
    from assistant.understand.amounts import AmountError, parse_amount

    rows = _rows_xlsx(path) if path.suffix.lower() == ".xlsx" else _rows_csv(path)
    cases, problems = [], []
    for i, row in enumerate(rows, 2):  # line 1 is the header
        src = f"{path}:{i}"
        question = (row.get(CSV_QUESTION) or "").strip()
        if not question:
            problems.append(Problem(src, f"缺少“{CSV_QUESTION}”"))
            continue
        sections = [s.strip() for s in (row.get(CSV_SECTIONS) or "").replace("、", ",").split(",") if s.strip()]
        amount = None
        if (row.get(CSV_AMOUNT) or "").strip():
            try:
                amount = int(parse_amount(row[CSV_AMOUNT], CSV_AMOUNT))
            except AmountError as exc:
                problems.append(Problem(src, str(exc)))
                continue
        cases.append(Case(id=f"{path.stem}-{i}", question=question, kind="csv", sections=sections,
                          amount_yuan=amount, refused=None,
                          reference=(row.get(CSV_REFERENCE) or "").strip(), source=src))
    return cases, problems


def read_set(path: Path) -> tuple[list[Case], list[Problem]]:
    if not path.exists():
        return [], [Problem(str(path), "文件不存在")]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        cases, problems = read_sheet(path)
    elif suffix in (".jsonl", ".json"):
        cases, problems = read_jsonl(path)
    else:
        return [], [Problem(str(path), "不支持的文件类型（支持 .jsonl / .csv / .xlsx）")]
    if not cases and not problems:
        problems.append(Problem(str(path), "文件为空，没有用例"))
    return cases, problems


def check_sections(cases: list[Case], known: set[str]) -> list[Problem]:
    """Section ids that no loaded document has ('5', 'scope', or 'doc_id#15')."""
    bare = {k.split("#", 1)[1] for k in known}
    return [Problem(c.source, f"未知的条款编号 {s}（用例 {c.id}）") for c in cases for s in c.sections
            if s not in known and s not in bare]
