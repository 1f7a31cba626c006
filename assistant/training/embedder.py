"""Train the offline Chinese static embedding: BPE tokens + PPMI-SVD vectors + SIF weights.

No Chinese sentence-embedding model can be downloaded here, so we learn one from the regulation
corpus itself. The result is a token table averaged over a text's tokens — exactly what
sentence-transformers' StaticEmbedding computes — so it loads through that class too.

    python -m assistant train-embedder --method ppmi --corpus ../shared/corpus-scale --out models/zh-static

(The default method, contrastive training of this table with sentence-transformers, is in
assistant/training/retrieval.py.)
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

log = logging.getLogger(__name__)


def _train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    # Chinese has no spaces: split on punctuation and digits only, BPE learns the words.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
        pre_tokenizers.Digits(individual_digits=False)])
    tok.decoder = decoders.BPEDecoder()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=3,
                                  special_tokens=["[PAD]", "[UNK]"], show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def _cooccurrence(id_seqs: list[list[int]], vocab: int, window: int) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for d in range(1, window + 1):
        for ids in id_seqs:
            if len(ids) <= d:
                continue
            a = np.asarray(ids[:-d], dtype=np.int32)
            b = np.asarray(ids[d:], dtype=np.int32)
            w = np.full(a.shape, 1.0 / d, dtype=np.float32)
            rows += [a, b]
            cols += [b, a]
            vals += [w, w]
    m = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(vocab, vocab))
    return m.tocsr()


def _ppmi(m: sparse.csr_matrix, alpha: float = 0.75) -> sparse.csr_matrix:
    row = np.asarray(m.sum(axis=1)).ravel()
    col = np.asarray(m.sum(axis=0)).ravel() ** alpha  # context distribution smoothing
    coo = m.tocoo()
    # PMI(w, c) = log(P(w, c) / (P(w) · P_alpha(c))) = log(n(w, c) · Σ n(c)^a / (n(w) · n(c)^a))
    pmi = np.log(coo.data * col.sum() / (row[coo.row] * col[coo.col]))
    keep = pmi > 0
    return sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=m.shape)


def train(texts: list[str], out: Path, *, vocab_size: int = 24000, dim: int = 256,
          window: int = 5, sif_a: float = 1e-3) -> dict:
    t0 = time.perf_counter()
    tok = _train_tokenizer(texts, vocab_size)
    vocab = tok.get_vocab_size()
    id_seqs = [e.ids for e in tok.encode_batch(texts)]
    counts = np.bincount(np.concatenate([np.asarray(s, dtype=np.int64) for s in id_seqs]),
                         minlength=vocab).astype(np.float64)
    ppmi = _ppmi(_cooccurrence(id_seqs, vocab, window))
    u, s, _ = svds(ppmi.astype(np.float64), k=dim, random_state=0)
    vectors = u * np.sqrt(s)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    # SIF weights baked into the table: frequent tokens (的, 和, 应当) count for little in a mean.
    p = counts / counts.sum()
    vectors *= (sif_a / (sif_a + p))[:, None]
    vectors[0] = 0.0  # [PAD]
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    np.save(out / "embeddings.npy", vectors.astype(np.float16))
    info = {"kind": "static-ppmi-svd", "vocab_size": vocab, "dim": dim, "window": window,
            "sif_a": sif_a, "texts": len(texts), "tokens": int(counts.sum()),
            "train_seconds": round(time.perf_counter() - t0, 1)}
    (out / "config.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("trained static embedding: %s", info)
    return info
