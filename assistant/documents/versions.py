"""Versions of one document: which of several same-titled documents is live.

Two documents are versions of one work when their titles agree once a version marker at the end
is taken off (北京市安全生产条例 and 北京市安全生产条例(2022-05-25), …条例 and …条例（2026修订）;
the marker is data: corpus/structure.toml [versions]).
A same title is taken to be the same work (issuers as read from the text are too unreliable to
tell two apart; an operator keeps both with --keep-both). The newest is live and answers questions; the others are superseded: left out of the build,
listed in its manifest, and shown by `corpus list`. "Newest" is the latest date a version states
about itself — the marker, a dated file name, a metadata sidecar's `version`, the dates of its
adoption and revision record, its date issued or in force — then the file written last (a file
`corpus add` copies gets the time of the add). An operator may keep every version of a work
(`corpus add --keep-both`, `index --keep-both`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.models import Clause, Document

# Numerals only: the dates a document states (2022年5月25日, 2022-05-25, 2026).
_DATE_CN = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_FILE_DATE = re.compile(r"[（(](\d{4})-(\d{1,2})-(\d{1,2})[）)]")
_RECORD_OPENS = ("（", "(")  # a PDF's or Word file's adoption record opens its text in brackets

Date = tuple[int, int, int]


def work_title(title: str, marker: re.Pattern | None) -> str:
    """The title without its version marker and spaces: what versions of one work share."""
    core = marker.sub("", title) if marker is not None else title
    return re.sub(r"\s+", "", core)


def _marker_date(title: str, marker: re.Pattern | None) -> Date | None:
    m = marker.search(title) if marker is not None else None
    if not m:
        return None
    if m.group(1):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    return int(m.group(4)), 0, 0


def _iso(value) -> Date | None:
    m = _DATE_ISO.match(str(value or "").strip())
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)) if m else None


def version_date(doc: Document, marker: re.Pattern | None) -> Date:
    """The latest date the document states about its own version; (0, 0, 0) when none."""
    found: list[Date] = []
    if (d := _marker_date(doc.title, marker)) is not None:
        found.append(d)
    for name in (doc.doc_id, doc.source_path.rsplit("/", 1)[-1]):
        found += [(int(y), int(mo), int(dd)) for y, mo, dd in _FILE_DATE.findall(name)]
    for key in ("version", "issued", "effective"):
        if (d := _iso(doc.meta.get(key))) is not None:
            found.append(d)
    record = list(doc.meta.get("history") or [])
    first = doc.text.split("\n\n", 1)[0]
    if first.startswith(_RECORD_OPENS):
        record.append(first)
    for line in record:
        found += [(int(y), int(mo), int(dd)) for y, mo, dd in _DATE_CN.findall(str(line))]
    return max(found, default=(0, 0, 0))


def _written(doc: Document) -> int:
    stat = doc.meta.get("file_stat") or []
    return int(stat[1]) if len(stat) > 1 else 0


def _date_text(d: Date) -> str:
    if d == (0, 0, 0):
        return ""
    return "-".join([f"{d[0]:04d}"] + [f"{x:02d}" for x in d[1:] if x])


@dataclass
class Versions:
    documents: list[Document]  # live
    clauses: list[Clause]  # of the live documents
    superseded: list[dict]  # {doc_id, title, source_path, version, by}: left out of the build
    kept: list[str]  # works of several versions all kept live (the operator's choice)


def resolve(documents: list[Document], clauses: list[Clause], marker: re.Pattern | None,
            keep: set[str] | bool = frozenset()) -> Versions:
    """Keep the newest version of each work live. keep: works (work_title) whose versions all stay
    live, or True for every work."""
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        doc.meta.pop("supersedes", None)
        if (d := version_date(doc, marker)) != (0, 0, 0):
            doc.meta["version_date"] = _date_text(d)
        groups.setdefault(work_title(doc.title, marker), []).append(doc)
    superseded: list[dict] = []
    gone: set[str] = set()
    kept: list[str] = []
    for work, docs in groups.items():
        if len(docs) < 2:
            continue
        if keep is True or work in keep:
            kept.append(work)
            continue
        newest = max(docs, key=lambda d: (version_date(d, marker), _written(d), d.doc_id))
        older = [d for d in docs if d is not newest]
        newest.meta["supersedes"] = [d.doc_id for d in older]
        for d in older:
            gone.add(d.doc_id)
            superseded.append({"doc_id": d.doc_id, "title": d.title, "source_path": d.source_path,
                               "version": _date_text(version_date(d, marker)), "by": newest.doc_id,
                               "by_version": _date_text(version_date(newest, marker))})
    if not gone:
        return Versions(documents, clauses, [], sorted(kept))
    return Versions([d for d in documents if d.doc_id not in gone],
                    [c for c in clauses if c.doc_id not in gone],
                    sorted(superseded, key=lambda s: s["doc_id"]), sorted(kept))
