"""Building the index and managing its documents: `index`, `corpus add/list/remove`.

Each command that changes an index holds the index's lock from reading the live state to the
switch (assistant/store/index.py), so two commands never build from the same old state and what
a command reports is what went live. A corpus change is one transaction with its build
(assistant/documents/managed.py): checked and decided first, undone on any failure, and its
choices written and copies deleted only once the new build is live."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from assistant.cli.common import ProgressBars, _settings

log = logging.getLogger("assistant")
LISTED = 20  # names shown in one message before 等


def _live_state(index_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """The live build's documents ({doc_id: {title, source_path}}) and the versions it left
    out ({doc_id: superseded entry}); empty when there is none."""
    from assistant.store.build import read_jsonl
    from assistant.store.index import current_build

    build = index_dir / "builds" / (current_build(index_dir) or "-")
    try:
        docs = {d["doc_id"]: {"title": d.get("title", ""), "source_path": d.get("source_path", "")}
                for d in read_jsonl(build / "documents.jsonl")}
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}
    return docs, {s["doc_id"]: s for s in manifest.get("superseded", [])}


def _some(names) -> str:
    names = list(names)
    return "、".join(names[:LISTED]) + ("等" if len(names) > LISTED else "")


def _failure(exc: BaseException, what: str) -> tuple[int, str]:
    """A failed change as (exit code, Chinese message); the old index serves either way."""
    from assistant.store.index import IndexUnusable
    from assistant.store.vectorstore import disk_full, is_outage

    if disk_full(exc):
        return 1, f"{what}失败：磁盘空间不足（{exc}）。未做任何更改，旧索引继续使用；请清理磁盘后重试。"
    if isinstance(exc, IndexUnusable):
        return 2, f"{what}失败：{exc}"
    if is_outage(exc):
        return 1, f"{what}失败：向量库无法连接（{exc}）。未做任何更改，旧索引继续使用。"
    log.exception("%s failed", what)
    return 1, f"{what}失败，原索引保持不变：{type(exc).__name__}: {exc}"


def _apply(index_dir: Path, change, build, files: dict[str, Path] | None = None) -> dict:
    """One change: journaled, files put in place, built, then committed; undone on any failure."""
    from assistant.documents import managed

    managed.begin(index_dir, change)
    try:
        if files:
            managed.put_in_place(index_dir, change, files)
        manifest = build()
    except BaseException:
        managed.rollback(index_dir, change)
        raise
    try:
        managed.commit(index_dir, change)
    except OSError as exc:  # the new build is live: the journal stays, the next change finishes it
        print(f"注意：新索引已生效，但收尾未完成（{exc}）；下次更改索引时会自动补完。", file=sys.stderr)
    return manifest


def _say_recovered(index_dir: Path) -> None:
    from assistant.documents import managed

    done = managed.recover(index_dir)
    if done:
        print(f"注意：{done}", file=sys.stderr)


def _say_versions(before: dict[str, dict], manifest: dict, added: set[str] = frozenset(),
                  removed: str | None = None) -> None:
    """What the build decided about versions that differs from the live one it replaced."""
    now = {s["doc_id"]: s for s in manifest.get("superseded", [])}
    for doc_id, s in now.items():
        if doc_id in before:
            continue
        if doc_id in added:
            print(f"注意：新加入的 {doc_id} 是《{s['title']}》的较旧版本（{s['version'] or '未注明日期'}），"
                  f"仍以 {s['by']}（{s['by_version'] or '未注明日期'}）为准，{doc_id} 不用于回答；"
                  "如需两版并存，请加 --keep-both", file=sys.stderr)
        else:
            print(f"《{s['title']}》：{s['by']}（{s['by_version'] or '较新'}）取代了 {doc_id}"
                  f"（{s['version'] or '未注明日期'}），旧版本不再用于回答（文件保留，corpus list 可见）；"
                  "如需两版并存，请加 --keep-both", file=sys.stderr)
    back = [d for d in before if d not in now and d not in added and d != removed]
    if back:
        print(f"重新启用：{_some(back)}（取代它们的较新版本已不在索引中）", file=sys.stderr)


def _say_errors(index_dir: Path, manifest: dict) -> None:
    managed = str((index_dir / "documents").resolve())
    for err in manifest["errors"]:
        hint = "（索引目录中的副本，可用 corpus remove <文件名去掉扩展名> 删除）" if err.startswith(managed) else ""
        print(f"无法解析（已跳过）：{err}{hint}", file=sys.stderr)


def cmd_index(args) -> int:
    from assistant.api import Toolkit
    from assistant.documents.managed import Change
    from assistant.store.index import build_lock, claim_directory

    settings = _settings(args)
    index_dir = settings.index_dir
    corpus = [Path(c) for c in args.corpus] if args.corpus else [settings.corpus_dir]
    missing = [str(c) for c in corpus if not c.exists()]
    if missing:
        print(f"错误：语料目录不存在：{'、'.join(missing)}", file=sys.stderr)
        return 2
    toolkit = Toolkit.load(settings)
    try:
        claim_directory(index_dir)
        with build_lock(index_dir):
            _say_recovered(index_dir)
            before, _ = _live_state(index_dir)
            change = Change(keep_all_versions=bool(getattr(args, "keep_both", False)))
            manifest = _apply(index_dir, change,
                              lambda: toolkit.build(corpus, index_dir, progress=ProgressBars()))
    except Exception as exc:
        code, message = _failure(exc, "索引构建")
        print(message, file=sys.stderr)
        return code
    _say_errors(index_dir, manifest)
    after, superseded = _live_state(index_dir)
    dropped = sorted(set(before) - set(after) - set(superseded))
    if dropped:
        print(f"注意：新索引不再包含原索引中的 {len(dropped)} 份文档：{_some(dropped)}", file=sys.stderr)
    if superseded:
        print(f"同名文档只用最新版本：{len(superseded)} 份较旧版本未用于回答（corpus list 可见）："
              f"{_some(d + '（由 ' + s['by'] + ' 取代）' for d, s in superseded.items())}；"
              "如需各版本并存，请加 --keep-both", file=sys.stderr)
    print(f"已索引 {manifest['documents']} 份文档、{manifest['clauses']} 个条款"
          f"（{manifest['chunks']} 个片段），向量模型 {manifest['embedder']}，索引位置 {index_dir}",
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


def cmd_corpus(args) -> int:
    if args.action == "list":
        return _list(args)
    if args.action == "add":
        return _add(args)
    return _remove(args)


def _list(args) -> int:
    from assistant.api import Assistant

    bot = Assistant.load(settings=_settings(args))
    info = bot.info()
    meta = {d.doc_id: d.meta for d in bot.documents()}
    rows = [{**d, "format": meta[d["doc_id"]].get("format", "text"), "issuer": meta[d["doc_id"]].get("issuer"),
             "version": meta[d["doc_id"]].get("version_date"), "status": "live", "superseded_by": None}
            for d in info["documents"]]
    rows += [{"doc_id": s["doc_id"], "title": s["title"], "region": None, "clauses": 0,
              "format": Path(s["source_path"]).suffix.lstrip(".").lower() or "text", "issuer": None,
              "version": s["version"] or None, "status": "superseded", "superseded_by": s["by"]}
             for s in bot.index.superseded]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        status = "在用" if r["status"] == "live" else f"已被 {r['superseded_by']} 取代"
        print(f"{r['doc_id']}\t{r['title']}\t{r['region'] or '地区未知'}\t{r['clauses']} 条\t{r['format']}"
              f"\t{r['version'] or '未注明日期'}\t{status}")
    return 0


def _check_new(files: list[Path], structure) -> tuple[list, list[str]]:
    """Read every file to add as a build would: (its documents, problems in Chinese). A file that
    cannot be read, or would not be picked up from the folder, is never copied in."""
    from assistant.documents.corpus import DocumentError, document_files, read_document
    from assistant.documents.structure import parse

    docs, problems = [], []
    seen: dict[str, Path] = {}
    for f in files:
        try:
            f.name.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{f}：文件名不是有效的 UTF-8 文字，请改名后再加入")
            continue
        if f.name in seen:
            problems.append(f"{f}：与 {seen[f.name]} 同名（索引目录中只能有一个同名文件）")
            continue
        seen[f.name] = f
        if not document_files(f) or f.name.lower() in ("readme.md", "readme.txt"):
            problems.append(f"{f}：这个文件名会被当作说明文件跳过，请改名后再加入")
            continue
        try:
            doc = read_document(f, structure)
            if not parse(doc, structure):
                raise DocumentError(f, "未切分出任何条款")
        except DocumentError as exc:
            problems.append(f"{f}：{exc.reason}")
            continue
        except (OSError, ValueError) as exc:
            problems.append(f"{f}：无法读取（{exc}）")
            continue
        docs.append(doc)
    return docs, problems


def _clashes(docs, files: list[Path], index_dir: Path, roots: list[Path], live: dict[str, dict],
             superseded: dict[str, dict]) -> list[str]:
    """Documents to add whose id another file already has (two files, one id: one would be
    skipped). The same file again, or our own copy of that name, is no clash."""
    from assistant.documents.corpus import _doc_id_from_path, document_files

    managed = (index_dir / "documents").resolve()
    taken: dict[str, Path] = {}
    for root in roots:
        if root.resolve() != managed:
            for p in document_files(root):
                taken.setdefault(_doc_id_from_path(p), p.resolve())
    for doc_id, d in {**superseded, **live}.items():
        if d.get("source_path"):
            taken.setdefault(doc_id, Path(d["source_path"]).resolve())
    problems, ids = [], {}
    for doc, f in zip(docs, files):
        other = taken.get(doc.doc_id)
        if doc.doc_id in ids:
            problems.append(f"{f}：文档编号 {doc.doc_id} 与同时加入的 {ids[doc.doc_id]} 相同")
        elif other is not None and other not in (f.resolve(), managed / f.name):
            problems.append(f"{f}：文档编号 {doc.doc_id} 已被 {other} 使用；请改文件名（例如在名称后加上日期），"
                            f"或先 corpus remove {doc.doc_id}")
        ids[doc.doc_id] = f
    return problems


def _add(args) -> int:
    from assistant.api import Toolkit
    from assistant.documents import managed
    from assistant.documents.corpus import DOCUMENT_SUFFIXES
    from assistant.documents.versions import work_title
    from assistant.store.index import build_lock, claim_directory

    settings = _settings(args)
    index_dir = settings.index_dir
    files = [Path(f) for f in args.files]
    bad = [str(f) for f in files if not f.is_file() or f.suffix.lower() not in DOCUMENT_SUFFIXES]
    if bad:
        print(f"错误：文件不存在或类型不支持（支持 {' '.join(DOCUMENT_SUFFIXES)}）：{'、'.join(bad)}", file=sys.stderr)
        return 2
    toolkit = Toolkit.load(settings)
    docs, problems = _check_new(files, toolkit.structure)
    if problems:  # checked before anything is written: a refused add leaves no trace
        for p in problems:
            print(f"无法加入：{p}", file=sys.stderr)
        print("未做任何更改（没有文件被加入）。", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    fresh = not index_dir.exists()
    try:
        claim_directory(index_dir)
        with build_lock(index_dir):
            _say_recovered(index_dir)
            live, superseded_before = _live_state(index_dir)
            roots = _corpus_roots(index_dir) or [settings.corpus_dir]
            problems = _clashes(docs, files, index_dir, roots, live, superseded_before)
            if problems:
                for p in problems:
                    print(f"无法加入：{p}", file=sys.stderr)
                print("未做任何更改（没有文件被加入）。", file=sys.stderr)
                _forget(index_dir, fresh)
                return 2
            ours = managed.documents_dir(index_dir).resolve()
            # An operator's file already in a corpus folder is taken in place (it was left out by
            # corpus remove); anything else is copied into documents/ with its metadata sidecar.
            place: dict[str, Path] = {}
            for f in files:
                if any(f.resolve().is_relative_to(r.resolve()) for r in roots if r.resolve() != ours):
                    continue
                place[f.name] = f
                sidecar = f.with_suffix(".meta.json")
                if sidecar.exists():
                    place[sidecar.name] = sidecar
            change = managed.Change(
                place=list(place), existed=[n for n in place if (ours / n).exists()],
                include=[d.doc_id for d in docs],
                keep_versions=sorted({work_title(d.title, toolkit.structure.version_marker) for d in docs})
                if getattr(args, "keep_both", False) else [])
            left_out = managed.excluded(index_dir) - set(change.include)
            build_roots = roots + ([ours] if ours not in [r.resolve() for r in roots] else [])
            manifest = _apply(index_dir, change, lambda: toolkit.build(
                build_roots, index_dir, incremental=True, exclude=left_out, progress=ProgressBars()), place)
    except Exception as exc:
        code, message = _failure(exc, "加入文档")
        print(message, file=sys.stderr)
        _forget(index_dir, fresh)
        return code
    print(f"已更新索引：{manifest['documents']} 份文档、{manifest['clauses']} 个条款；重新计算 "
          f"{manifest['embedded_chunks']} 个片段，沿用 {manifest['reused_chunks']} 个；用时 "
          f"{time.perf_counter() - t0:.1f} 秒", file=sys.stderr)
    _say_versions(superseded_before, manifest, {d.doc_id for d in docs})
    _say_errors(index_dir, manifest)
    return 0


def _forget(index_dir: Path, fresh: bool) -> None:
    """A refused or failed add into a directory it created leaves no directory behind."""
    import shutil

    from assistant.store.index import current_build, is_ours

    if fresh and is_ours(index_dir) and current_build(index_dir) is None:
        shutil.rmtree(index_dir, ignore_errors=True)


def _remove(args) -> int:
    from assistant.api import Toolkit
    from assistant.documents import managed
    from assistant.documents.corpus import _doc_id_from_path, document_files
    from assistant.store.index import build_lock, is_ours

    settings = _settings(args)
    index_dir = settings.index_dir
    if not is_ours(index_dir):
        print(f"错误：{index_dir} 没有索引（用 corpus list 查看）", file=sys.stderr)
        return 2
    toolkit = Toolkit.load(settings)
    doc_id = args.doc_id
    t0 = time.perf_counter()
    try:
        with build_lock(index_dir):
            _say_recovered(index_dir)
            live, superseded = _live_state(index_dir)
            ours = managed.documents_dir(index_dir).resolve()
            entry = live.get(doc_id) or superseded.get(doc_id)
            if entry is None:
                # A copy of ours that never made it into the index (rejected before adds checked):
                # nothing to rebuild, the file goes.
                stuck = [p for p in (document_files(ours) if ours.exists() else []) if _doc_id_from_path(p) == doc_id]
                if stuck:
                    for p in stuck:
                        p.unlink()
                        p.with_suffix(".meta.json").unlink(missing_ok=True)
                    print(f"已删除索引目录中未能编入索引的文件：{_some(p.name for p in stuck)}", file=sys.stderr)
                    return 0
                print(f"错误：索引中没有文档 {doc_id}（用 corpus list 查看编号）", file=sys.stderr)
                return 2
            # Decided before anything is written: removing the last live document is refused.
            takes_over = [s for s in superseded.values() if s["by"] == doc_id]
            if doc_id in live and len(live) == 1 and not takes_over:
                print(f"错误：{doc_id} 是索引中唯一的文档，不能移除（索引不能为空）；未做任何更改，旧索引保持不变。",
                      file=sys.stderr)
                return 2
            source = Path(entry["source_path"])
            if source.resolve().parent == ours:  # our own copy: deleted once the build without it is live
                drop = [source.name] + ([source.with_suffix(".meta.json").name]
                                        if source.with_suffix(".meta.json").exists() else [])
                change = managed.Change(drop=drop)
            else:  # an operator's file: left in place, left out of the index
                change = managed.Change(exclude=[doc_id])
            left_out = managed.excluded(index_dir) | {doc_id}
            roots = _corpus_roots(index_dir)
            manifest = _apply(index_dir, change, lambda: toolkit.build(
                roots, index_dir, incremental=True, exclude=left_out, progress=ProgressBars()))
    except Exception as exc:
        code, message = _failure(exc, "移除文档")
        print(message, file=sys.stderr)
        return code
    print(f"已移除 {doc_id}。已更新索引：{manifest['documents']} 份文档、{manifest['clauses']} 个条款；用时 "
          f"{time.perf_counter() - t0:.1f} 秒", file=sys.stderr)
    _say_versions(superseded, manifest, removed=doc_id)
    _say_errors(index_dir, manifest)
    return 0
