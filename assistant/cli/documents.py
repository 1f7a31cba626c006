"""Building the index and managing its documents: `index`, `corpus add/list/remove`."""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from assistant.cli.common import ProgressBars, _settings

log = logging.getLogger("assistant")


def _document_ids(index_dir: Path) -> set[str]:
    """The documents the live build holds (empty when there is none)."""
    from assistant.store.index import current_build

    build = current_build(index_dir)
    path = index_dir / "builds" / (build or "-") / "documents.jsonl"
    try:
        return {json.loads(ln)["doc_id"] for ln in path.read_text(encoding="utf-8").splitlines() if ln}
    except (OSError, ValueError, KeyError):
        return set()


def cmd_index(args) -> int:
    from assistant.api import Toolkit
    from assistant.store.index import IndexUnusable

    settings = _settings(args)
    corpus = [Path(c) for c in args.corpus] if args.corpus else [settings.corpus_dir]
    missing = [str(c) for c in corpus if not c.exists()]
    if missing:
        print(f"错误：语料目录不存在：{'、'.join(missing)}", file=sys.stderr)
        return 2
    toolkit = Toolkit.load(settings)
    before = _document_ids(settings.index_dir)
    try:
        manifest = toolkit.build(corpus, settings.index_dir, progress=ProgressBars())
    except IndexUnusable as exc:
        print(f"索引构建失败：{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the old index keeps serving; say why in Chinese
        log.exception("index build failed")
        print(f"索引构建失败，原索引保持不变：{exc}", file=sys.stderr)
        return 1
    for err in manifest["errors"]:
        print(f"无法解析（已跳过）：{err}", file=sys.stderr)
    dropped = sorted(before - _document_ids(settings.index_dir))
    if dropped:
        print(f"注意：新索引不再包含原索引中的 {len(dropped)} 份文档：{'、'.join(dropped[:20])}"
              f"{'等' if len(dropped) > 20 else ''}", file=sys.stderr)
    print(f"已索引 {manifest['documents']} 份文档、{manifest['clauses']} 个条款"
          f"（{manifest['chunks']} 个片段），向量模型 {manifest['embedder']}，索引位置 {settings.index_dir}",
          file=sys.stderr)
    return 0


def _corpus_roots(index_dir: Path) -> list[Path]:
    """The folders the live build was made from, plus the index's own documents/ folder."""
    from assistant.store.index import current_build

    roots: list[Path] = []
    build = current_build(index_dir)
    if build:
        try:
            manifest = json.loads((index_dir / "builds" / build / "manifest.json").read_text(encoding="utf-8"))
            roots = [Path(p) for p in str(manifest.get("corpus") or "").split(os.pathsep) if p]
        except (OSError, ValueError):
            roots = []
    managed = (index_dir / "documents").resolve()
    roots = [r for r in roots if r.exists() and r.resolve() != managed]
    return roots + ([managed] if managed.exists() else [])


def _excluded(index_dir: Path) -> set[str]:
    try:
        return set(json.loads((index_dir / "excluded.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return set()


def cmd_corpus(args) -> int:
    import shutil
    import time

    from assistant.api import Assistant, Toolkit
    from assistant.documents.corpus import DOCUMENT_SUFFIXES
    from assistant.store.index import claim_directory

    settings = _settings(args)
    index_dir = settings.index_dir
    if args.action == "list":
        bot = Assistant.load(settings=settings)
        info = bot.info()
        meta = {d.doc_id: d.meta for d in bot.documents()}
        rows = [{**d, "format": meta[d["doc_id"]].get("format", "text"),
                 "issuer": meta[d["doc_id"]].get("issuer")} for d in info["documents"]]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            for r in rows:
                print(f"{r['doc_id']}\t{r['title']}\t{r['region'] or '地区未知'}\t{r['clauses']} 条\t{r['format']}")
        return 0
    toolkit = Toolkit.load(settings)
    excluded = _excluded(index_dir)
    if args.action == "add":
        files = [Path(f) for f in args.files]
        bad = [str(f) for f in files if not f.is_file() or f.suffix.lower() not in DOCUMENT_SUFFIXES]
        if bad:
            print(f"错误：文件不存在或类型不支持（支持 {' '.join(DOCUMENT_SUFFIXES)}）：{'、'.join(bad)}", file=sys.stderr)
            return 2
        roots = _corpus_roots(index_dir) or [settings.corpus_dir]
        claim_directory(index_dir)
        managed = index_dir / "documents"
        managed.mkdir(exist_ok=True)
        for f in files:
            shutil.copy2(f, managed / f.name)
            for sidecar in (f.with_suffix(".meta.json"),):
                if sidecar.exists():
                    shutil.copy2(sidecar, managed / sidecar.name)
            excluded.discard(f.stem)
        roots = roots + ([managed.resolve()] if managed.resolve() not in [r.resolve() for r in roots] else [])
    else:  # remove
        roots = _corpus_roots(index_dir)
        bot = Assistant.load(settings=settings)
        doc = next((d for d in bot.documents() if d.doc_id == args.doc_id), None)
        if doc is None:
            print(f"错误：索引中没有文档 {args.doc_id}（用 corpus list 查看编号）", file=sys.stderr)
            return 2
        source = Path(doc.source_path)
        if source.resolve().parent == (index_dir / "documents").resolve():
            source.unlink(missing_ok=True)  # our own copy, inside our index directory
        else:
            excluded.add(args.doc_id)  # an operator's file: left in place, left out of the index
    (index_dir / "excluded.json").write_text(json.dumps(sorted(excluded), ensure_ascii=False), encoding="utf-8")
    t0 = time.perf_counter()
    manifest = toolkit.build(roots, index_dir, incremental=True, exclude=excluded, progress=ProgressBars())
    print(f"已更新索引：{manifest['documents']} 份文档、{manifest['clauses']} 个条款；重新计算 "
          f"{manifest['embedded_chunks']} 个片段，沿用 {manifest['reused_chunks']} 个；用时 "
          f"{time.perf_counter() - t0:.1f} 秒", file=sys.stderr)
    for err in manifest["errors"]:
        print(f"无法解析（已跳过）：{err}", file=sys.stderr)
    return 0
