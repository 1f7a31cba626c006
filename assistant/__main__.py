"""Command line (../shared/CONTRACT.md). Only JSON goes to stdout in --json/--jsonl mode."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path

from .settings import Settings

log = logging.getLogger("assistant")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant", description="专精特新政策问答助手")
    sub = p.add_subparsers(dest="command", required=True)
    ix = sub.add_parser("index", help="（重新）构建索引")
    ix.add_argument("--corpus", action="append", help="文档目录（递归读取 .txt/.md），可重复")
    ix.add_argument("--index", help="索引目录")
    ask = sub.add_parser("ask", help="提问")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--index")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--jsonl", help="批量：每行一个 JSON 问题（- 为标准输入）")
    chk = sub.add_parser("check", help="政策体检：按企业情况逐项判断")
    chk.add_argument("--profile", required=True, help="企业情况 JSON 文件")
    chk.add_argument("--index")
    chk.add_argument("--json", action="store_true")
    fb = sub.add_parser("feedback-export", help="把网页上的 👍/👎 反馈导出为评测用例（JSONL）")
    fb.add_argument("--index")
    fb.add_argument("--out", help="输出文件（默认标准输出）")
    tr = sub.add_parser("train-embedder", help="在法规语料和政策上训练中文检索向量模型（sentence-transformers）")
    tr.add_argument("--corpus", action="append", required=True)
    tr.add_argument("--out", required=True)
    tr.add_argument("--method", choices=["contrastive", "ppmi"], default="contrastive",
                    help="contrastive：以 PPMI 表为起点的对比学习（默认）；ppmi：只训练 PPMI-SVD 表")
    tr.add_argument("--base", default="models/zh-static", help="对比学习的起点（PPMI-SVD 表目录）")
    tr.add_argument("--seed", type=int, default=42)
    tr.add_argument("--max-pairs", type=int, default=120_000)
    cp = sub.add_parser("corpus", help="管理索引中的文档：add / list / remove（只重新计算变化的文档）")
    cs = cp.add_subparsers(dest="action", required=True)
    ca = cs.add_parser("add", help="加入文档（.txt .md .pdf .docx .html），复制到索引目录的 documents/ 后增量更新")
    ca.add_argument("files", nargs="+")
    ca.add_argument("--index")
    cl = cs.add_parser("list", help="列出索引中的文档")
    cl.add_argument("--index")
    cl.add_argument("--json", action="store_true")
    cr = cs.add_parser("remove", help="按文档编号移出索引（操作员目录中的原文件不会被删除）")
    cr.add_argument("doc_id")
    cr.add_argument("--index")
    ml = sub.add_parser("mine-lexicon", help="用向量模型挖掘同义词候选（供人工审核后加入词表）")
    ml.add_argument("--out", required=True)
    inf = sub.add_parser("info", help="显示已加载的内容：向量模型、索引、文档、回答方式")
    inf.add_argument("--index")
    inf.add_argument("--json", action="store_true")
    mw = sub.add_parser("mine-wordstats", help="统计法规语料的词频（区分话题词与口语上下文）")
    mw.add_argument("--corpus", action="append", required=True)
    mw.add_argument("--out", required=True)
    return p


class ProgressBars:
    """Progress of long work on stderr: a tqdm bar per stage on a terminal, one line per finished
    stage otherwise (logs). Called from the build thread and Chroma's writer thread alike."""

    def __init__(self, stream=None, min_total: int = 200):
        import threading

        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_total = min_total
        self.bars: dict = {}
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        import time

        if total < self.min_total:
            return
        with self.lock:
            self.started.setdefault(stage, time.perf_counter())
            if self.tty:
                from tqdm import tqdm

                bar = self.bars.get(stage)
                if bar is None:
                    bar = self.bars[stage] = tqdm(total=total, desc=stage, file=self.stream,
                                                  position=len(self.bars), leave=True, unit="项")
                bar.update(done - bar.n)
                if done >= total:
                    bar.close()
            elif done >= total and stage not in self.bars:
                self.bars[stage] = True
                print(f"{stage}：{total} 项，用时 {time.perf_counter() - self.started[stage]:.1f} 秒",
                      file=self.stream, flush=True)


def _settings(args) -> Settings:
    return Settings.from_env(index_dir=getattr(args, "index", None))


def _document_ids(index_dir: Path) -> set[str]:
    """The documents the live build holds (empty when there is none)."""
    from .index import current_build

    build = current_build(index_dir)
    path = index_dir / "builds" / (build or "-") / "documents.jsonl"
    try:
        return {json.loads(ln)["doc_id"] for ln in path.read_text(encoding="utf-8").splitlines() if ln}
    except (OSError, ValueError, KeyError):
        return set()


def cmd_index(args) -> int:
    from .api import Toolkit
    from .index import IndexUnusable

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


_ID = re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.){0,200})"')


def _error_line(lineno: int, raw: bytes, reason: str, item_id=None) -> dict:
    """A batch line that could not be answered: its id (if it can be read), where, and why."""
    if item_id is None:
        m = _ID.search(raw)
        item_id = m.group(1).decode("utf-8", "replace") if m else f"line-{lineno}"
    message = f"第{lineno}行无法读取：{reason}"
    return {"id": item_id, "line": lineno, "error": message, "text": message, "refused": True,
            "citations": [], "calculation": None}


def _read_item(raw: bytes) -> tuple[str, list, object]:
    """One batch line → (question, history, id). Each line is decoded on its own."""
    item = json.loads(raw.decode("utf-8"))
    if not isinstance(item, dict):
        raise ValueError("不是 JSON 对象")
    question = item.get("question")
    if not isinstance(question, str):
        raise ValueError("缺少 question 字段（应为文字）")
    history = item.get("history") or []
    if not isinstance(history, list) or not all(isinstance(h, (list, tuple)) and len(h) == 2 for h in history):
        raise ValueError("history 应为 [问题, 回答] 对的列表")
    return question, [tuple(map(str, h)) for h in history], item.get("id")


def _batch(bot, path: str) -> int:
    """One answer line per input line, streamed: a bad line (bad bytes, bad JSON) gets an error
    line with its id and the batch goes on."""
    if path != "-" and not Path(path).is_file():
        print(f"错误：批量问题文件不存在：{path}", file=sys.stderr)
        return 2
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    with stream:
        for lineno, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            try:
                question, history, item_id = _read_item(raw)
            except UnicodeDecodeError as exc:
                out = _error_line(lineno, raw, f"不是 UTF-8 文本（第 {exc.start + 1} 字节）")
            except (ValueError, TypeError) as exc:
                out = _error_line(lineno, raw, str(exc))
            else:
                out = bot.ask(question, history).to_dict()
                out["id"] = item_id if item_id is not None else f"line-{lineno}"
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_ask(args) -> int:
    from .api import Assistant

    if not args.jsonl and args.question is None:
        print("请提供问题，或用 --jsonl 指定批量问题文件", file=sys.stderr)
        return 2
    bot = Assistant.load(settings=_settings(args))
    if args.jsonl:
        return _batch(bot, args.jsonl)
    answer = bot.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        print(answer.text)
    return 0


def _corpus_roots(index_dir: Path) -> list[Path]:
    """The folders the live build was made from, plus the index's own documents/ folder."""
    from .index import current_build

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

    from .api import Assistant, Toolkit
    from .corpus import DOCUMENT_SUFFIXES
    from .index import claim_directory

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


def cmd_mine_lexicon(args) -> int:
    from .api import Toolkit
    from .lexicon_mining import candidates, write_sheet

    toolkit = Toolkit.load(Settings.from_env())
    seg = toolkit.segmenter
    general = {w: seg.general_frequency(w) for w in seg._jieba.FREQ}  # noqa: SLF001 - the dictionary itself
    rows = candidates(toolkit.lexicon, toolkit.stats, general, toolkit.embedder)
    write_sheet(rows, Path(args.out))
    print(f"已写入 {len(rows)} 条候选到 {args.out}（人工审核后再加入 corpus/lexicon.toml）", file=sys.stderr)
    return 0


def cmd_info(args) -> int:
    from .api import Assistant

    info = Assistant.load(settings=_settings(args)).info()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"向量模型：{info['embedder']}（{info['embedder_path'] or '无本地目录'}）")
    print(f"索引：{info['index']}（构建 {info['build']}），共 {len(info['documents'])} 份文档、{info['clauses']} 个条款")
    print("回答方式：" + ("离线确定性回答（金额由计算器得出）" if info["answerer"] == "offline" else info["answerer"]))
    for d in info["documents"][:50]:
        print(f"  · {d['title']}（{d['region'] or '地区未知'}，{d['clauses']} 条）")
    if len(info["documents"]) > 50:
        print(f"  … 另有 {len(info['documents']) - 50} 份")
    return 0


def cmd_check(args) -> int:
    from .api import Assistant
    from .eligibility import ProfileError, render_table

    try:
        profile = json.loads(Path(args.profile).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"无法读取企业情况文件 {args.profile}：{exc}", file=sys.stderr)
        return 2
    bot = Assistant.load(settings=_settings(args))
    try:
        report = bot.check(profile)
    except ProfileError as exc:
        print(f"企业情况有误：{exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_table(report))
    return 0


def cmd_feedback_export(args) -> int:
    from .feedback import FeedbackStore, FeedbackUnavailable

    path = _settings(args).index_dir / "feedback.sqlite"
    if not path.exists():
        print(f"没有反馈记录：{path}", file=sys.stderr)
        return 0
    try:
        store = FeedbackStore(path)
    except FeedbackUnavailable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    count = 0
    try:
        for case in store.export_cases():  # streamed: one row in memory at a time
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"已导出 {count} 条反馈到 {args.out}（👎 的用例需人工补全期望后再加入评测集）", file=sys.stderr)
    return 0


def _evaluation_documents(root: Path) -> set[str]:
    """Titles of documents the evaluation sets ask about: never training data."""
    names = set()
    for path in [root.parent / "shared/evals/colloquial-dev.jsonl", *sorted((root / "evals").rglob("*.jsonl"))]:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    case = json.loads(line)
                except ValueError:
                    continue
                names.add(case.get("title") or "")
                names.update(s.split("#", 1)[0] for s in case.get("sections", []) if "#" in s)
    return {n for n in names if n}


def cmd_train(args) -> int:
    from .corpus import load_corpus
    from .structure import StructureRules

    settings = Settings.from_env()
    structure = StructureRules.load(settings.data_dir / "structure.toml")
    if args.method == "ppmi":
        from .embedder_training import train

        texts = []
        for root in args.corpus:
            corpus = load_corpus(Path(root), structure)
            texts += [p for d in corpus.documents for p in d.text.split("\n\n")]
        info = train(texts, Path(args.out))
        print(json.dumps(info, ensure_ascii=False), file=sys.stderr)
        return 0
    from .api import Toolkit
    from .retrieval_training import Article, train as train_contrastive

    toolkit = Toolkit.load(settings)
    excluded = _evaluation_documents(settings.project_root)
    articles, skipped = [], set()
    for root in [*args.corpus, str(settings.corpus_dir)]:
        corpus = load_corpus(Path(root), structure)
        for c in corpus.clauses:
            if any(name in c.doc_title or name == c.doc_id for name in excluded if c.doc_id != "bj-zjtx-2023"):
                skipped.add(c.doc_id)
                continue
            articles.append(Article(c.doc_id, c.doc_title, " ".join(c.heading_path[:-1]), c.text))
    print(f"训练语料：{len(articles)} 个条款；评测集涉及的 {len(skipped)} 份文档不参与训练", file=sys.stderr)
    base = Path(args.base) if Path(args.base).is_absolute() else settings.project_root / args.base
    info = train_contrastive(articles, toolkit.lexicon, toolkit.segmenter, base, Path(args.out),
                             seed=args.seed, max_pairs=args.max_pairs)
    print(json.dumps(info, ensure_ascii=False, indent=2), file=sys.stderr)
    return 0


def cmd_mine_wordstats(args) -> int:
    from .api import Toolkit
    from .corpus import load_corpus
    from .wordstats import mine, write

    toolkit = Toolkit.load(Settings.from_env())
    texts = (d.text for root in args.corpus
             for d in load_corpus(Path(root), toolkit.structure).documents)
    counts = mine(texts, toolkit.segmenter.cut)
    kept = write(counts, Path(args.out), " + ".join(args.corpus))
    print(f"已写入 {kept} 个词（共 {sum(counts.values())} 词次）到 {args.out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    from .index import IndexUnusable

    try:
        return _COMMANDS[args.command](args)
    except IndexUnusable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


_COMMANDS = {"index": cmd_index, "ask": cmd_ask, "check": cmd_check, "info": cmd_info, "corpus": cmd_corpus,
            "mine-lexicon": cmd_mine_lexicon,
            "feedback-export": cmd_feedback_export, "train-embedder": cmd_train,
            "mine-wordstats": cmd_mine_wordstats}


if __name__ == "__main__":
    sys.exit(main())
