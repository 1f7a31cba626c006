"""Load policy documents (.txt and .md) from a folder, with their metadata sidecars."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.documents.ingest import normalise_glyphs, official_furniture
from assistant.models import Clause, Document
from assistant.progress import Progress, no_progress
from assistant.documents.structure import StructureError, StructureRules, parse
from assistant.documents.textnorm import repair_page_breaks, split_paragraphs

log = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
EXTRACTED = (".pdf", ".docx", ".html", ".htm")  # read through assistant/documents/ingest.py
NOT_DOCUMENTS = {"readme.md", "readme.txt"}  # folder descriptions, not policy text


class DocumentError(ValueError):
    """A corpus file that could not be turned into clauses."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass
class LoadedCorpus:
    root: str = ""
    documents: list[Document] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    parsed: int = 0  # documents read and split now (the rest were unchanged and reused)
    reused: set[str] = field(default_factory=set)  # ids of the documents taken unchanged
    structure: StructureRules | None = None  # the rules it was read with (versions: their title marker)


def document_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and p.suffix.lower() in DOCUMENT_SUFFIXES and p.name.lower() not in NOT_DOCUMENTS)


def fingerprint(path: Path) -> str:
    """The file and its metadata sidecar, hashed: an unchanged document is not parsed again."""
    h = hashlib.sha1(path.read_bytes())
    sidecar = path.with_suffix(".meta.json")
    if sidecar.exists():
        h.update(b"\0meta\0" + sidecar.read_bytes())
    return h.hexdigest()


def _file_stat(path: Path) -> list[int]:
    """Size and modification time of the file and of its sidecar."""
    out = []
    for p in (path, path.with_suffix(".meta.json")):
        try:
            st = p.stat()
            out += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            out += [-1, -1]
    return out


def _read_meta(path: Path) -> dict:
    sidecar = path.with_suffix(".meta.json")
    if not sidecar.exists():
        return {}
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DocumentError(path, f"元数据文件 {sidecar.name} 无法读取（{exc}）") from exc
    if not isinstance(meta, dict):
        raise DocumentError(path, f"元数据文件 {sidecar.name} 应为 JSON 对象")
    return meta


def _doc_id_from_path(path: Path) -> str:
    return re.sub(r"\s+", "", path.stem)


def _raw_text(path: Path, rules: StructureRules | None = None) -> tuple[str, dict]:
    if path.suffix.lower() in EXTRACTED:
        from assistant.documents.ingest import ExtractionError, extract

        try:
            return extract(path, rules)
        except ExtractionError as exc:
            raise DocumentError(path, str(exc)) from exc
    try:
        return normalise_glyphs(path.read_text(encoding="utf-8")), {}
    except UnicodeDecodeError as exc:
        raise DocumentError(path, f"不是 UTF-8 文本（{exc.reason}）") from exc


def read_document(path: Path, rules: StructureRules) -> Document:
    raw, found = _raw_text(path, rules)
    meta = {**found, **_read_meta(path)}
    history: list[str] = []
    furniture: dict = {}
    if rules.info_end in raw:
        head, raw = raw.split(rules.info_end, 1)
        head_paras = split_paragraphs(head)
        title = head_paras[0].lstrip("#").strip() if head_paras else path.stem
        history = head_paras[1:]
        paragraphs = split_paragraphs(raw)
    else:
        # A 公文's red header, document number, addressees, signature and date are facts, not text.
        paragraphs, furniture = official_furniture(split_paragraphs(raw), rules)
        if not paragraphs:
            raise DocumentError(path, "文件为空")
        title = paragraphs.pop(0).lstrip("#").strip()
    paragraphs = repair_page_breaks(paragraphs, rules.starts_structure)
    if not paragraphs:
        raise DocumentError(path, "只有标题，没有正文")
    try:
        style = rules.detect_style(paragraphs)
    except StructureError as exc:
        raise DocumentError(path, str(exc)) from exc
    from assistant.documents.ingest import document_facts

    text = "\n\n".join(paragraphs)
    # What the document says about itself (issuer, dates, validity); a sidecar .meta.json wins.
    meta = {"history": history, **_signed(furniture),
            **document_facts(title, "\n".join(history) + "\n" + text, rules), **furniture, **meta}
    return Document(doc_id=meta.get("doc_id") or _doc_id_from_path(path),
                    title=meta.get("title") or title, text=text,
                    source_path=str(path), style=style, meta=meta)


def _signed(furniture: dict) -> dict:
    """A 公文's signature and date, as the issuer and date issued when the text states none."""
    out = {}
    if furniture.get("signed"):
        out["issued"] = furniture["signed"]
    if furniture.get("signed_by"):
        out["issuer"] = "、".join(furniture["signed_by"])
    return out


# A document the previous build already parsed, by its resolved path: (document, its clauses).
Known = dict[str, tuple[Document, list[Clause]]]


def _parse_file(path: Path, rules: StructureRules, known: Known) -> tuple[Document, list[Clause], bool]:
    old = known.get(str(path.resolve()))
    try:
        seen = _file_stat(path)
        # Size and modification time unchanged: the same file (hashing 1,900 files costs ~0.5 s).
        if old is not None and old[0].meta.get("file_stat") == seen:
            return old[0], old[1], False
        stamp = fingerprint(path)
    except OSError as exc:
        raise DocumentError(path, f"无法读取（{exc}）") from exc
    if old is not None and old[0].meta.get("fingerprint") == stamp:
        old[0].meta["file_stat"] = seen
        return old[0], old[1], False
    doc = read_document(path, rules)
    doc.meta["fingerprint"], doc.meta["file_stat"] = stamp, seen
    clauses = parse(doc, rules)
    if not clauses:
        raise DocumentError(path, "未切分出任何条款")
    return doc, clauses, True


def load_corpus(root: Path | list[Path], rules: StructureRules, known: Known | None = None,
                progress: Progress = no_progress) -> LoadedCorpus:
    """Every document under one folder or several (recursively); bad files are reported, skipped.
    known: documents parsed by the previous build; those whose file did not change are reused."""
    roots = root if isinstance(root, list) else [root]
    out = LoadedCorpus(root=os.pathsep.join(str(r.resolve()) for r in roots), structure=rules)
    seen: dict[str, Path] = {}
    paths = [p for r in roots for p in document_files(r)]
    for n, path in enumerate(paths):
        if n % 100 == 0:
            progress("读取文档", n, len(paths))
        try:
            doc, clauses, parsed = _parse_file(path, rules, known or {})
            if doc.doc_id in seen:
                raise DocumentError(path, f"文档编号 {doc.doc_id} 与 {seen[doc.doc_id]} 重复")
        except DocumentError as exc:
            log.error("跳过无法解析的文件 %s：%s", exc.path, exc.reason)
            out.errors.append(exc)
            continue
        seen[doc.doc_id] = path
        out.parsed += parsed
        if not parsed:
            out.reused.add(doc.doc_id)
        out.documents.append(doc)
        out.clauses.extend(clauses)
    progress("读取文档", len(paths), len(paths))
    return out
