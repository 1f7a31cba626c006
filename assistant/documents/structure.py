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


def _pattern(table: dict, pieces: dict[str, str]) -> re.Pattern:
    """A table's `pattern`, each {name} in it replaced by the piece of that name ([pieces])."""
    text = table["pattern"]
    for name, piece in pieces.items():
        text = text.replace("{" + name + "}", piece)
    return re.compile(text)


@dataclass(frozen=True)
class IngestRules:
    """What a document carries around its text and says about itself (corpus/structure.toml
    [title_end], [pages], [facts], [official]); read by assistant/documents/ingest.py."""
    title_end: re.Pattern  # how a title ends (条例, 办法 …)
    page_number: re.Pattern  # a line that is a page number
    web_info_bar: re.Pattern  # a web page's 来源/发布时间/字体/打印 bar
    site_suffix: re.Pattern  # the site's name after a page's <title>
    issued: re.Pattern  # date adopted or issued (year, month, day captured)
    effective: re.Pattern  # date in force (year, month, day captured)
    validity: re.Pattern  # 有效期至…
    issuer: re.Pattern  # the issuing body (group 1)
    issuer_lead: re.Pattern  # what the issuer match drags in before the body's name
    term: re.Pattern  # a congress's term in the issuer's name (第十五届)
    red_header: re.Pattern  # 公文 furniture, below
    doc_number: re.Pattern
    addressees: re.Pattern
    sign_date: re.Pattern  # (year, month, day) in digits or Chinese numerals
    publicity: re.Pattern
    signature: re.Pattern

    @classmethod
    def from_data(cls, data: dict, pieces: dict[str, str]) -> "IngestRules":
        tables = {"title_end": data["title_end"], **data["pages"], **data["facts"], **data["official"]}
        return cls(**{name: _pattern(tables[name], pieces) for name in cls.__dataclass_fields__})


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
    annex: re.Pattern | None = None  # 附件 / 附则 opening a line
    ingest: IngestRules | None = None  # furniture and facts around the text (assistant/documents/ingest.py)

    @classmethod
    def load(cls, path: Path) -> "StructureRules":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pieces = data.get("pieces", {})
        pol, art = data["policy"], data["articles"]

        def rule(table: dict) -> re.Pattern:
            return _pattern(table, pieces)

        return cls(
            section=rule(pol["section"]), subsection=rule(pol["subsection"]),
            scope=rule(pol["scope"]), preamble_label=pol["preamble_label"],
            scope_label=pol["scope_label"], chapter=rule(art["chapter"]),
            part=rule(art["part"]), article=rule(art["article"]),
            articles_preamble_label=art["preamble_label"], info_end=data["markdown"]["info_end"],
            version_marker=rule(data["versions"]) if "versions" in data else None,
            annex=rule(data["annex"]) if "annex" in data else None,
            ingest=IngestRules.from_data(data, pieces) if "official" in data else None,
        )

    def starts_unit(self, line: str) -> bool:
        """A line opening a unit (第X章/节/条, 一、, （一）, 附件, 附则): a wrapped line before it
        does not go on into it, and it is never a page's running header."""
        return any(p is not None and p.match(line) for p in (self.chapter, self.part, self.article, self.section,
                                                             self.subsection, self.annex))

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
