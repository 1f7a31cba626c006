"""Questions that name a document (《北京市专利保护和促进条例》) or an article (第十五条)."""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from assistant.documents.versions import work_title
from assistant.models import Clause, Document
from assistant.understand.cues import Cues
from assistant.understand.numerals import cn_to_int

_ARTICLE = re.compile(r"第([一二三四五六七八九十百千零〇两]+|\d+)条")
_DATE_SUFFIX = re.compile(r"[(（]\d{4}-\d{2}-\d{2}[)）]$")


_PROVINCE_LEVEL = re.compile(r"^(.{2,3}?)[省市](?!场)")


def _names(doc: Document, home: str = "", marker=None) -> frozenset[str]:
    """marker: a version's mark at a title's end (（2026修订）, corpus/structure.toml): a question
    names the work, not the version."""
    return _title_names(work_title(doc.title, marker) if marker is not None else doc.title, home)


@functools.lru_cache(maxsize=8192)
def _title_names(title: str, home: str = "") -> frozenset[str]:
    """How a question may name the document: its title, without 关于 or 北京市, and with the
    province's 省/市 left out (广东优化营商环境条例), the way people say it. Cached: every question
    looks at every loaded title."""
    core = _DATE_SUFFIX.sub("", title).strip()
    names = {core, core.removeprefix(f"{home}市") if home else core, core.removeprefix("关于"),
             _PROVINCE_LEVEL.sub(r"\1", core),
             core.removeprefix(_NATIONAL)}  # 民法典 names 中华人民共和国民法典
    return frozenset(n for n in names if len(n) >= 4)


def _kind_and_chars(name: str, cues: Cues) -> tuple[str, frozenset[str]] | None:
    """The kind a title ends with (条例, 办法 …) and its characters; cached per name."""
    found = _KINDS.get(name)
    if found is None:
        kind = cues.first("document_kind", name[-2:])
        found = _KINDS[name] = (kind.group(0), frozenset(name)) if kind else ()
    return found or None


_KINDS: dict[str, tuple] = {}
_NATIONAL = "中华人民共和国"


def _version(doc: Document) -> str:
    """The version date the build read (meta version_date), else the date in a file name like
    某条例(2023-07-28): later versions sort higher; undated lowest."""
    if doc.meta.get("version_date"):
        return str(doc.meta["version_date"])
    m = re.search(r"(\d{4}-\d{2}-\d{2})", doc.doc_id)
    return m.group(1) if m else ""


FUZZY_SHARE = 0.6  # of the weight of a title's characters, in order, for a loose mention (北京国际科创中心建设条例)


@dataclass(frozen=True)
class Mention:
    document: Document
    text: str  # the words of the question that name it


def named_document(question: str, documents: list[Document], cues: Cues, marker=None) -> Document | None:
    """The document whose title the question names: the longest match, then the latest version."""
    mention = document_mention(question, documents, cues, marker)
    return mention.document if mention else None


def document_mention(question: str, documents: list[Document], cues: Cues, marker=None) -> Mention | None:
    """Where the question names a loaded document: its title (the longest, then the latest
    version), else a loose mention — most of the title's characters in order, ending in the same
    kind of document (北京数字经济那个条例 → 北京市数字经济促进条例)."""
    best, best_key = None, (0, "")
    for doc in documents:
        for name in _names(doc, cues.home, marker):
            if name in question and (key := (len(name), _version(doc))) > best_key:
                best, best_key = Mention(doc, name), key
    if best is not None or not cues.has("document_kind", question):
        return best
    weights = _char_weights(tuple(d.title for d in documents))
    best_score, question_chars = 0.0, set(question)
    for doc in documents:
        for name in _names(doc, cues.home, marker):
            found = _kind_and_chars(name, cues)
            if found is None or found[0] not in question:
                continue
            kind, chars = found
            total = sum(weights.get(c, 1.0) for c in name)
            # Most of what sets the title apart (预付卡 of 单用途预付卡管理条例), not its common
            # characters (北京市…条例), must be in the question.
            if sum(weights.get(c, 1.0) for c in chars & question_chars) < FUZZY_SHARE * total:
                continue
            for start, end in _kind_windows(question, kind, len(name)):
                window = question[start:end]
                span = _in_order(name, window)
                if span is None:
                    continue
                first, last, positions = span
                matched = sum(weights.get(window[p], 1.0) for p in positions)
                if matched < FUZZY_SHARE * total:
                    continue
                # Characters matched (by weight), less half of those in between that are not the
                # title's: 北京科技成果转化条例 names 北京市促进…, not 上海市促进… through a stray 上.
                score = matched - 0.5 * ((last - first) - len(positions))
                key = (score, _version(doc))
                if score > best_score or (score == best_score and best is not None and key > best_key):
                    best, best_key, best_score = Mention(doc, window[first:last]), key, score
    return best


@functools.lru_cache(maxsize=8)
def _char_weights(titles: tuple[str, ...]) -> dict[str, float]:
    """How much a character sets a title apart among the loaded ones: log(N / titles holding it).
    With one or two documents loaded every character counts about alike."""
    counts: dict[str, int] = {}
    for title in titles:
        for ch in set(title):
            counts[ch] = counts.get(ch, 0) + 1
    n = len(titles)
    return {ch: math.log((n + 1) / (k + 0.5)) for ch, k in counts.items()}


def _kind_windows(question: str, kind: str, length: int):
    """Where a loose mention can stand: ending at each 条例 (the document's kind) of the question,
    reaching back at most twice the title's length."""
    at = question.find(kind)
    while at >= 0:
        end = at + len(kind)
        yield max(0, end - 2 * length), end
        at = question.find(kind, at + 1)


def _in_order(title: str, text: str) -> tuple[int, int, list[int]] | None:
    """(start, end, positions): a longest common subsequence of title's characters in text within
    a span of under twice the title's length. The alignment found first may start on a stray early
    character (科技 in 首都科技条件平台 … 北京科技成果转化条例): then it is sought again after it."""
    offset = 0
    while True:
        positions = _subsequence(title, text[offset:])
        if not positions:
            return None
        start, last = positions[0], positions[-1]
        if last - start < 2 * len(title):
            return offset + start, offset + last + 1, [offset + p for p in positions]
        offset += start + 1


def _subsequence(title: str, text: str) -> list[int]:
    """The positions in text of a longest common subsequence, by dynamic programming over the two
    short strings."""
    n, m = len(title), len(text)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if title[i] == text[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    positions, i, j = [], 0, 0
    while i < n and j < m:
        if title[i] == text[j] and table[i][j] == table[i + 1][j + 1] + 1:
            positions.append(j)
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return positions


def named_article(question: str, documents: list[Document], clauses: dict[str, Clause],
                  cues: Cues, marker=None) -> tuple[Document, str, Clause | None] | None:
    """(document, 第X条 as written, the clause or None when that document has no such article)."""
    m = _ARTICLE.search(question)
    if not m:
        return None
    raw = m.group(1)
    number = raw if raw.isdigit() else str(cn_to_int(raw))
    doc = named_document(question, documents, cues, marker)
    if doc is None:
        with_articles = [d for d in documents if d.style == "articles"]
        if len(with_articles) != 1:
            return None  # 第十五条 of which regulation? Let retrieval decide.
        doc = with_articles[0]
    return doc, m.group(0), clauses.get(f"{doc.doc_id}#{number}")
