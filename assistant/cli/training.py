"""Training and mining commands: `train-embedder`, `mine-lexicon`, `mine-wordstats`."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from assistant.settings import Settings

log = logging.getLogger("assistant")


def cmd_mine_lexicon(args) -> int:
    from assistant.api import Toolkit
    from assistant.training.lexicon import candidates, write_sheet

    toolkit = Toolkit.load(Settings.from_env())
    seg = toolkit.segmenter
    general = {w: seg.general_frequency(w) for w in seg._jieba.FREQ}  # noqa: SLF001 - the dictionary itself
    rows = candidates(toolkit.lexicon, toolkit.stats, general, toolkit.embedder)
    write_sheet(rows, Path(args.out))
    print(f"已写入 {len(rows)} 条候选到 {args.out}（人工审核后再加入 corpus/lexicon.toml）", file=sys.stderr)
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


def distil_sources(corpus: list[str], focus: list[str], settings: Settings, structure, seed: int):
    """What `train-embedder --teacher` reads: (Sources, jieba's general word counts, the cut,
    the policy vocabulary). Questions are generated from articles only: no evaluation question is
    ever read here."""
    import random
    from types import SimpleNamespace

    import jieba

    from assistant.documents.corpus import load_corpus
    from assistant.store.build import Chunk, chunk_clause, matched_text
    from assistant.training.distill import Sources
    from assistant.training.retrieval import Article, lexicon_questions
    from assistant.understand.lexicon import Lexicon

    texts, targets, regulations, indexed, policy = [], [], [], {}, []
    focus = [*focus, str(settings.corpus_dir)]
    for root, is_focus in [*((r, False) for r in corpus), *((r, True) for r in focus)]:
        for c in load_corpus(Path(root), structure).clauses:
            texts.append(c.text)
            chunks = chunk_clause(c)
            (targets if is_focus else regulations).extend(chunks)
            for chunk in chunks:
                indexed.setdefault(chunk, matched_text(SimpleNamespace(clauses=[c]), Chunk(0, chunk)))
            if Path(root).resolve() == settings.corpus_dir.resolve():
                policy += [(chunk, Article(c.doc_id, c.doc_title, "", chunk)) for chunk in chunks]
    print(f"训练语料：{len(texts)} 个条款；目标段落 {len(targets)} 个，法规段落 {len(regulations)} 个",
          file=sys.stderr)
    seg = jieba.Tokenizer()
    seg.check_initialized()
    general = {w: f for w, f in seg.FREQ.items() if f > 0}
    lexicon = Lexicon.load(settings.data_dir / "lexicon.toml")
    # The project's own documents: how callers name its terms (the synonym lexicon) → the chunk.
    chunks = [ch for ch, _ in policy]
    pairs = [(q, next(ch for ch in chunks if sentence in ch))
             for q, sentence in lexicon_questions([a for _, a in policy], lexicon, random.Random(seed))
             if any(sentence in ch for ch in chunks)]
    return Sources(texts, targets, regulations, indexed, pairs), general, seg.lcut, sorted(lexicon.vocabulary())


def cmd_distil(args, settings: Settings, structure) -> int:
    """`train-embedder --teacher e5-small`: distil the teacher into a static table (issue #18)."""
    from assistant.cli.common import ProgressBars
    from assistant.training.distill import Budget, DistillConfig, distil
    from assistant.training.teacher import TeacherCache, TeacherUnavailable, e5_small

    if args.teacher != "e5-small":
        print(f"错误：未知的教师模型 {args.teacher}（可用：e5-small）", file=sys.stderr)
        return 2
    try:
        teacher = e5_small()
    except TeacherUnavailable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        minutes = [float(m) * 60 for m in args.teacher_minutes.split(",")]
        budget = Budget(*(minutes if len(minutes) == 3 else [minutes[0] * f for f in (0.3, 0.2, 0.5)]))
    except (ValueError, TypeError):
        print("错误：--teacher-minutes 应为一个数，或三个用逗号隔开的数（词,段落,问题）", file=sys.stderr)
        return 2
    sources, general, cut, extra = distil_sources(args.corpus, args.focus or [], settings, structure, args.seed)
    cfg = DistillConfig(seed=args.seed, dim=args.dim, epochs=args.epochs, budget=budget)
    cache = TeacherCache(Path(args.teacher_cache), teacher)
    info = distil(sources, general, cut, extra, cache, Path(args.out), cfg, progress=ProgressBars(min_total=20))
    print(json.dumps({k: v for k, v in info.items() if k != "history"}, ensure_ascii=False, indent=2), file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from assistant.documents.corpus import load_corpus
    from assistant.documents.structure import StructureRules

    settings = Settings.from_env()
    structure = StructureRules.load(settings.data_dir / "structure.toml")
    if getattr(args, "teacher", None):
        return cmd_distil(args, settings, structure)
    if args.method == "ppmi":
        from assistant.training.embedder import train

        texts = []
        for root in args.corpus:
            corpus = load_corpus(Path(root), structure)
            texts += [p for d in corpus.documents for p in d.text.split("\n\n")]
        info = train(texts, Path(args.out))
        print(json.dumps(info, ensure_ascii=False), file=sys.stderr)
        return 0
    from assistant.api import Toolkit
    from assistant.training.retrieval import Article, train as train_contrastive

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
    from assistant.api import Toolkit
    from assistant.documents.corpus import load_corpus
    from assistant.understand.wordstats import mine, write

    toolkit = Toolkit.load(Settings.from_env())
    texts = (d.text for root in args.corpus
             for d in load_corpus(Path(root), toolkit.structure).documents)
    counts = mine(texts, toolkit.segmenter.cut)
    kept = write(counts, Path(args.out), " + ".join(args.corpus))
    print(f"已写入 {kept} 个词（共 {sum(counts.values())} 词次）到 {args.out}", file=sys.stderr)
    return 0
