"""Questions that name a document (《北京市专利保护和促进条例》) or an article (第十五条)."""
from __future__ import annotations

import re

from .models import Clause, Document
from .numerals import cn_to_int

_ARTICLE = re.compile(r"第([一二三四五六七八九十百千零〇两]+|\d+)条")
_DATE_SUFFIX = re.compile(r"[(（]\d{4}-\d{2}-\d{2}[)）]$")


def _names(doc: Document) -> set[str]:
    core = _DATE_SUFFIX.sub("", doc.title).strip()
    names = {core, core.removeprefix("北京市"), core.removeprefix("关于")}
    return {n for n in names if len(n) >= 4}


def _version(doc: Document) -> str:
    """The date in a file name like 某条例(2023-07-28): later versions sort higher; undated lowest."""
    m = re.search(r"(\d{4}-\d{2}-\d{2})", doc.doc_id)
    return m.group(1) if m else ""


def named_document(question: str, documents: list[Document]) -> Document | None:
    """The document whose title the question names: the longest match, then the latest version."""
    best, best_key = None, (0, "")
    for doc in documents:
        for name in _names(doc):
            key = (len(name), _version(doc))
            if name in question and key > best_key:
                best, best_key = doc, key
    return best


def named_article(question: str, documents: list[Document],
                  clauses: dict[str, Clause]) -> tuple[Document, str, Clause | None] | None:
    """(document, 第X条 as written, the clause or None when that document has no such article)."""
    m = _ARTICLE.search(question)
    if not m:
        return None
    raw = m.group(1)
    number = raw if raw.isdigit() else str(cn_to_int(raw))
    doc = named_document(question, documents)
    if doc is None:
        with_articles = [d for d in documents if d.style == "articles"]
        if len(with_articles) != 1:
            return None  # 第十五条 of which regulation? Let retrieval decide.
        doc = with_articles[0]
    return doc, m.group(0), clauses.get(f"{doc.doc_id}#{number}")
