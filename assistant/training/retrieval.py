"""Contrastive training of the Chinese retrieval embedder with sentence-transformers (issue #9).

A StaticEmbedding module starts from the PPMI-SVD table (models/zh-static) and is trained with
MultipleNegativesRankingLoss (in-batch negatives plus one BM25-mined hard negative) on pairs mined
without an LLM from the regulations and the policy:

- inverse cloze: a sentence of an article → the rest of that article;
- headings: a document title / chapter heading → an article under it;
- neighbours: a sentence → the next sentence;
- question-style anchors: templates over the synonym lexicon (“SaaS有什么支持？” → the policy
  sentence that says 上云上平台), and over the first words of regulation articles.

Documents of the evaluation splits never enter training: the held-out regulation documents
(every HOLDOUT_EVERY-th by a stable hash) and any document named in `exclude`.

The result is a sentence-transformers model directory (SentenceTransformer(path) loads it) that
also carries tokenizer.json + embeddings.npy, so the app computes it in numpy without torch.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.store.lexical import BM25
from assistant.documents.textnorm import sentences

log = logging.getLogger(__name__)
HOLDOUT_EVERY = 10  # one regulation document in ten is held out for the IR evaluation
QUESTION_TEMPLATES = ("{x}有什么支持？", "{x}有补贴吗？", "{x}能补多少？", "{x}有什么政策？", "关于{x}是怎么规定的？",
                      "我们想了解{x}", "{x}怎么申请？", "请问{x}有没有奖励")


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    heading: str
    text: str


def is_held_out(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest(), 16) % HOLDOUT_EVERY == 0


def _body(text: str) -> str:
    return re.sub(r"^第[一二三四五六七八九十百千零〇两]+条\s*", "", text.replace("\n\n", ""))


def mine_pairs(articles: list[Article], lexicon, rng: random.Random, max_pairs: int) -> list[tuple[str, str]]:
    """(anchor, positive) pairs, shuffled, at most max_pairs."""
    pairs: list[tuple[str, str]] = []
    for a in articles:
        body = _body(a.text)
        sents = [s for s in sentences(body) if len(s) >= 8]
        if len(sents) >= 2:
            i = rng.randrange(len(sents))
            rest = "".join(s for j, s in enumerate(sents) if j != i)
            pairs.append((sents[i], rest[:400]))
            k = rng.randrange(len(sents) - 1)
            pairs.append((sents[k], sents[k + 1]))
        if len(body) >= 20:
            pairs.append((f"{a.title} {a.heading}".strip(), body[:400]))
            head = re.split(r"[，。；：]", body, maxsplit=1)[0][:24]
            if len(head) >= 6:
                pairs.append((rng.choice(QUESTION_TEMPLATES).format(x=head), body[:400]))
    pairs += lexicon_questions(articles, lexicon, rng)
    rng.shuffle(pairs)
    return pairs[:max_pairs]


def lexicon_questions(articles: list[Article], lexicon, rng: random.Random) -> list[tuple[str, str]]:
    """How people say a policy term (the lexicon's aliases) → the sentence that uses the term."""
    out = []
    policy = [a for a in articles if a.doc_id.startswith("bj-zjtx")] or articles[:0]
    for canonical, aliases in lexicon.synonyms.items():
        homes = [s for a in policy for s in sentences(a.text) if canonical in s]
        for alias in (canonical, *aliases):
            for s in homes[:2]:
                for template in rng.sample(QUESTION_TEMPLATES, 3):
                    out.append((template.format(x=alias), s))
    return out


def add_hard_negatives(pairs: list[tuple[str, str]], seg, rng: random.Random,
                       batch: int = 256) -> list[tuple[str, str, str]]:
    """A BM25-similar passage that is not the positive: a harder negative than a random one.
    Scored in batches as one sparse product (anchors × words) · (words × passages)."""
    from scipy import sparse

    positives = list(dict.fromkeys(p for _, p in pairs))
    index = {p: i for i, p in enumerate(positives)}
    bm25 = BM25.build([seg.words(p) for p in positives])
    weights = bm25.weights.tocsc()
    out = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start:start + batch]
        rows, cols = [], []
        for r, (anchor, _) in enumerate(chunk):
            ids = {bm25.vocab[w] for w in seg.words(anchor) if w in bm25.vocab}
            rows += [r] * len(ids)
            cols += list(ids)
        queries = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                    shape=(len(chunk), weights.shape[0]))
        scores = (queries @ weights).toarray()
        for r, (anchor, positive) in enumerate(chunk):
            scores[r, index[positive]] = -1.0
            best = int(np.argmax(scores[r]))
            negative = positives[best] if scores[r, best] > 0 else positives[rng.randrange(len(positives))]
            out.append((anchor, positive, negative))
    return out


def ir_split(articles: list[Article], rng: random.Random, limit: int = 1500):
    """Queries (a sentence of a held-out article), the corpus (held-out articles), relevance."""
    held = [a for a in articles if is_held_out(a.doc_id) and len(_body(a.text)) >= 30]
    corpus = {f"{a.doc_id}#{i}": _body(a.text) for i, a in enumerate(held)}
    queries, relevant = {}, {}
    for key, body in list(corpus.items()):
        sents = [s for s in sentences(body) if len(s) >= 10]
        if len(sents) >= 2 and len(queries) < limit:
            q = rng.choice(sents)
            queries[f"q-{key}"] = q
            relevant[f"q-{key}"] = {key}
            corpus[key] = body.replace(q, "")  # inverse cloze: the query is not in its passage
    return queries, corpus, relevant


def train(articles: list[Article], lexicon, seg, base: Path, out: Path, *, seed: int = 42,
          max_pairs: int = 120_000, batch_size: int = 512, epochs: int = 1, learning_rate: float = 0.05,
          progress: bool = True) -> dict:
    import torch
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments)
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    rng = random.Random(seed)
    torch.manual_seed(seed)
    train_articles = [a for a in articles if not is_held_out(a.doc_id)]
    pairs = mine_pairs(train_articles, lexicon, rng, max_pairs)
    triplets = add_hard_negatives(pairs, seg, rng)
    log.info("training pairs: %d (from %d articles; %d held out)", len(triplets), len(train_articles),
             len(articles) - len(train_articles))
    data = Dataset.from_dict({"anchor": [t[0] for t in triplets], "positive": [t[1] for t in triplets],
                              "negative": [t[2] for t in triplets]})
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    table = np.load(base / "embeddings.npy").astype(np.float32)
    model = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=table)], device="cpu")
    queries, corpus, relevant = ir_split(articles, random.Random(seed))
    evaluator = InformationRetrievalEvaluator(queries, corpus, relevant, name="heldout-articles",
                                              show_progress_bar=False, batch_size=512)
    before = evaluator(model)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / ".checkpoints"), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
        learning_rate=learning_rate, warmup_steps=0, seed=seed, data_seed=seed, logging_steps=20,
        save_strategy="no", report_to=[], use_cpu=True, batch_sampler=BatchSamplers.BATCH_SAMPLER,
        disable_tqdm=not progress, dataloader_drop_last=True)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                         loss=MultipleNegativesRankingLoss(model))
    trainer.train()
    after = evaluator(model)
    seconds = round(time.perf_counter() - t0, 1)
    out.mkdir(parents=True, exist_ok=True)
    embedding = model[0].embedding
    embedding.weight.data = embedding.weight.data.contiguous()  # safetensors saves packed tensors only
    model.save(str(out))
    weights = model[0].embedding.weight.detach().cpu().numpy()
    np.save(out / "embeddings.npy", weights.astype(np.float16))  # the numpy path (no torch at run time)
    tokenizer.save(str(out / "tokenizer.json"))
    import shutil

    shutil.rmtree(out / ".checkpoints", ignore_errors=True)
    key = "heldout-articles_cosine_"
    figures = {m: {"before": round(before.get(key + m, 0.0), 4), "after": round(after.get(key + m, 0.0), 4)}
               for m in ("mrr@10", "ndcg@10", "recall@1", "recall@10")}
    info = {"kind": "static-contrastive", "base": str(base.name), "seed": seed, "pairs": len(triplets),
            "batch_size": batch_size, "epochs": epochs, "learning_rate": learning_rate,
            "loss": "MultipleNegativesRankingLoss (in-batch + 1 BM25 hard negative)",
            "train_seconds": seconds, "ir_heldout": figures, "heldout_queries": len(queries),
            "heldout_passages": len(corpus)}
    (out / "static_config.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "README.md").write_text(model_card(info), encoding="utf-8")
    return info


def model_card(info: dict) -> str:
    rows = "\n".join(f"| {m} | {v['before']} | {v['after']} |" for m, v in info["ir_heldout"].items())
    return f"""# zh-retrieval: a Chinese static retrieval embedder trained on CPU

A sentence-transformers model (one `StaticEmbedding` module, mean of token vectors) for the
专精特新 policy assistant. Load it with `SentenceTransformer("models/zh-retrieval")`; the app
computes the same table in numpy (`static:models/zh-retrieval`).

- **Start**: the PPMI-SVD table `models/{info['base']}` (BPE tokens from the 1,908 regulations).
- **Data** (no LLM, mined here): inverse cloze (a sentence → the rest of its article), neighbouring
  sentences, title/chapter heading → article, question templates over article openings and over the
  synonym lexicon's aliases → the policy sentence using the term; one BM25-mined hard negative each.
  {info['pairs']} training triplets. One regulation document in ten (stable hash) is held out and never
  trained on; the four Beijing regulations of colloquial-dev and the policy's evaluation questions are not
  training data.
- **Training**: `SentenceTransformerTrainer`, {info['loss']}, batch {info['batch_size']},
  {info['epochs']} epoch(s), learning rate {info['learning_rate']}, seed {info['seed']}, CPU,
  {info['train_seconds']} s.
- **Held-out regulation articles** (InformationRetrievalEvaluator, {info['heldout_queries']} queries over
  {info['heldout_passages']} passages):

| metric | PPMI-SVD table | this model |
|---|---|---|
{rows}

Reproduce: `python -m assistant train-embedder --corpus ../shared/corpus-scale --out models/zh-retrieval`.
Section hit@1 on the project's question sets: `python benchmarks/embedders.py`.
"""
