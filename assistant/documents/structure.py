"""Split a document into clauses along its own structure (rules in corpus/structure.toml)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.models import Clause, Document
from assistant.understand.numerals import cn_to_int


class StructureError(ValueError):
    """The document has none of the structures we know how to split."""


@dataclass(frozen=True)
class StructureRules:
    section: re.Pattern
    subsection: re.Pattern
    scope: re.Pattern
    preamble_label: str
    scope_label: str
    chapter: re.Pattern
    part: re.Pattern
    article: re.Pattern
    articles_preamble_label: str
    info_end: str
    version_marker: re.Pattern | None = None  # a version's mark at a title's end (assistant/documents/versions.py)

    @classmethod
    def load(cls, path: Path) -> "StructureRules":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pol, art = data["policy"], data["articles"]
        return cls(
            section=re.compile(pol["section"]), subsection=re.compile(pol["subsection"]),
            scope=re.compile(pol["scope"]), preamble_label=pol["preamble_label"],
            scope_label=pol["scope_label"], chapter=re.compile(art["chapter"]),
            part=re.compile(art["part"]), article=re.compile(art["article"]),
            articles_preamble_label=art["preamble_label"], info_end=data["markdown"]["info_end"],
            version_marker=re.compile(data["versions"]["marker"]) if "versions" in data else None,
        )

    def starts_structure(self, para: str) -> bool:
        return para.startswith("#") or any(
            p.match(para) for p in (self.section, self.subsection, self.scope, self.chapter,
                                    self.part, self.article))

    def detect_style(self, paragraphs: list[str]) -> str:
        if sum(1 for p in paragraphs if self.article.match(p)) >= 1:
            return "articles"
        if any(self.section.match(p) for p in paragraphs):
            return "policy"
        raise StructureError("未找到可识别的条款结构（既无“一、”式章节，也无“第X条”）")


def _heading_label(para: str, marker_end: int) -> str:
    """'五、实施“数智转型”行动。通过…' → '五、实施“数智转型”行动' (the heading sentence)."""
    head = re.split(r"[。；]", para, maxsplit=1)[0]
    if len(head) > 40:
        head = re.split(r"[，,]", head, maxsplit=1)[0][:40]
    return head if len(head) > marker_end else para[:40]


MAX_CLAUSE_CHARS = 8000


def _cut(text: str, start: int, limit: int) -> int:
    """The last sentence end in text[start:limit], else limit."""
    for i in range(limit - 1, start + MAX_CLAUSE_CHARS // 2, -1):
        if text[i] in "。！？；":
            return i + 1
    return limit


class _Builder:
    """Accumulates paragraphs into clauses while tracking spans in the joined text."""

    def __init__(self, doc: Document, paragraphs: list[str]):
        self.doc = doc
        self.offsets, pos = [], 0
        for p in paragraphs:
            self.offsets.append(pos)
            pos += len(p) + 2  # paragraphs are joined by "\n\n" in Document.text
        self.paragraphs = paragraphs
        self.clauses: list[Clause] = []

    def add(self, section: str, label: str, path: tuple[str, ...], idx: list[int]) -> None:
        if not idx:
            return
        start = self.offsets[idx[0]]
        end = self.offsets[idx[-1]] + len(self.paragraphs[idx[-1]])
        # A clause longer than MAX_CLAUSE_CHARS (a document without structure) is split into
        # parts "5", "5~2", "5~3" … at sentence ends where there are any.
        part = 1
        while start < end:
            stop = end if end - start <= MAX_CLAUSE_CHARS else _cut(self.doc.text, start, start + MAX_CLAUSE_CHARS)
            sid = section if part == 1 else f"{section}~{part}"
            self.clauses.append(Clause(self.doc.doc_id, self.doc.title, sid, label, path,
                                       self.doc.text[start:stop], (start, stop)))
            start, part = stop, part + 1


def parse_policy(doc: Document, paragraphs: list[str], rules: StructureRules) -> list[Clause]:
    b = _Builder(doc, paragraphs)
    section, label, path, idx = "preamble", rules.preamble_label, (rules.preamble_label,), []
    sub_parent: tuple[str, str] | None = None
    for i, para in enumerate(paragraphs):
        m_sec, m_sub = rules.section.match(para), rules.subsection.match(para)
        if section != "scope" and rules.scope.match(para):
            b.add(section, label, path, idx)
            section, label, path, idx = "scope", rules.scope_label, (rules.scope_label,), []
        elif m_sec and section != "scope":
            b.add(section, label, path, idx)
            section, label = str(cn_to_int(m_sec.group(1))), _heading_label(para, m_sec.end())
            path, idx, sub_parent = (label,), [], (section, label)
        elif m_sub and sub_parent and section != "scope":
            b.add(section, label, path, idx)
            sub_label = _heading_label(para, m_sub.end())
            section = f"{sub_parent[0]}.{cn_to_int(m_sub.group(1))}"
            label, path, idx = f"{sub_parent[1]} {sub_label}", (sub_parent[1], sub_label), []
        idx.append(i)
    b.add(section, label, path, idx)
    return b.clauses


def parse_articles(doc: Document, paragraphs: list[str], rules: StructureRules) -> list[Clause]:
    b = _Builder(doc, paragraphs)
    chapter = part = ""
    section, label, idx = "preamble", rules.articles_preamble_label, []
    path: tuple[str, ...] = (label,)
    seen: set[str] = set()
    for i, para in enumerate(paragraphs):
        m_ch, m_part, m_art = (rules.chapter.match(para), rules.part.match(para),
                               rules.article.match(para))
        if m_ch or m_part:
            b.add(section, label, path, idx)
            heading = re.sub(r"\s+", " ", para.lstrip("#").strip())
            chapter, part = (heading, "") if m_ch else (chapter, heading)
            section, idx = "", []  # headings are not clauses; text resumes at the next article
            continue
        if m_art:
            b.add(section, label, path, idx)
            number = str(cn_to_int(m_art.group(1)))
            # A repeated number (e.g. an annex restarting at 第一条) keeps ids unique.
            section = number if number not in seen else f"{number}-{i}"
            seen.add(section)
            label = f"第{m_art.group(1)}条"
            path, idx = tuple(x for x in (chapter, part, label) if x), []
        if section:
            idx.append(i)
    b.add(section, label, path, idx)
    return b.clauses


def parse(doc: Document, rules: StructureRules) -> list[Clause]:
    paragraphs = doc.text.split("\n\n")
    if doc.style == "articles":
        return parse_articles(doc, paragraphs, rules)
    return parse_policy(doc, paragraphs, rules)
