"""Builds at scale (issue #10): the numpy BM25 against a reference, incremental builds equal to
full ones, documents' regions, the home region and incidental regulation matches."""
from __future__ import annotations

import io
import math
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from assistant import Assistant
from assistant.cli.common import ProgressBars
from assistant.api import Toolkit
from assistant.store.build import _assemble
from assistant.store.index import open_index
from assistant.store.lexical import BM25
from assistant.models import Document
from assistant.understand.places import Gazetteer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def reference_bm25(docs: list[list[str]], query: dict[str, float], k1=1.5, b=0.75) -> list[float]:
    """Okapi BM25 written out term by term, the way a textbook gives it."""
    n = len(docs)
    avgdl = (sum(len(d) for d in docs) / n) if n and sum(len(d) for d in docs) else 1.0
    df = Counter(w for d in docs for w in set(d))
    out = []
    for d in docs:
        tf = Counter(d)
        score = 0.0
        for w, qw in query.items():
            if tf[w]:
                idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
                score += qw * idf * tf[w] * (k1 + 1) / (tf[w] + k1 * (1 - b + b * len(d) / avgdl))
        out.append(score)
    return out


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("甲乙丙丁戊己庚辛"), max_size=12), min_size=1, max_size=15),
       st.dictionaries(st.sampled_from("甲乙丙丁壬"), st.floats(0.1, 2.0), min_size=1, max_size=3))
def test_bm25_matches_the_textbook_formula(docs, query):
    got = BM25.build(docs).scores(query)
    assert np.allclose(got, reference_bm25(docs, query), rtol=1e-4, atol=1e-5)


def _corpus(tmp_path: Path, *regs: str) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for name in ("bj-zjtx-2023.txt", "bj-zjtx-2023.meta.json"):
        shutil.copy(ROOT / "corpus/documents" / name, corpus)
    for reg in regs:
        shutil.copy(FIXTURES / "corpus-mixed" / reg, corpus)
    return corpus


def _snapshot(index_dir: Path, embedder) -> dict:
    idx = open_index(index_dir, embedder)
    words = {w: i for w, i in idx.bm25.vocab.items()}
    return {
        "clauses": [c.key for c in idx.clauses],
        "chunks": [(idx.clauses[ch.clause].key, ch.text) for ch in idx.chunks],
        "keys": list(idx.keys),
        "vectors": np.asarray(idx.vectors).copy(),
        "stored": idx.dense.count(),
        "scores": {q: idx.bm25.scores({q: 1.0}) for q in ("首贷", "专利", "补贴", "条例") if q in words},
    }


def test_incremental_add_and_remove_equal_full_builds(settings, tmp_path):
    regs = sorted(p.name for p in (FIXTURES / "corpus-mixed").glob("*.md"))
    assert regs, "the mixed corpus fixture holds a regulation"
    toolkit = Toolkit.load(settings)
    base = _corpus(tmp_path)
    extra = tmp_path / "extra"
    extra.mkdir()
    for reg in regs:
        shutil.copy(FIXTURES / "corpus-mixed" / reg, extra)

    inc = replace(settings, index_dir=tmp_path / "inc")
    toolkit.build([base], inc.index_dir)
    added = toolkit.build([base, extra], inc.index_dir, incremental=True)
    assert added["reused_documents"] == 1 and added["reparsed_documents"] == len(regs)
    assert 0 < added["embedded_chunks"] < added["chunks"]

    full = replace(settings, index_dir=tmp_path / "full")
    toolkit.build([base, extra], full.index_dir)
    a, b = _snapshot(inc.index_dir, toolkit.embedder), _snapshot(full.index_dir, toolkit.embedder)
    assert a["clauses"] == b["clauses"] and a["chunks"] == b["chunks"] and a["keys"] == b["keys"]
    assert np.allclose(a["vectors"], b["vectors"]) and a["stored"] == b["stored"]
    assert a["scores"].keys() == b["scores"].keys() and a["scores"]
    for q in a["scores"]:
        assert np.allclose(a["scores"][q], b["scores"][q], atol=1e-5), q

    # Removing the regulation again gives the seed-only index back, vectors dropped from Chroma.
    removed = toolkit.build([base, extra], inc.index_dir, incremental=True, exclude=set(
        d.doc_id for d in Assistant.load(settings=inc).documents() if d.style == "articles"))
    assert removed["embedded_chunks"] == 0
    only = replace(settings, index_dir=tmp_path / "only")
    toolkit.build([base], only.index_dir)
    a, b = _snapshot(inc.index_dir, toolkit.embedder), _snapshot(only.index_dir, toolkit.embedder)
    assert a["chunks"] == b["chunks"] and a["stored"] == b["stored"]
    for q in b["scores"]:
        assert np.allclose(a["scores"][q], b["scores"][q], atol=1e-5), q


def test_a_changed_file_is_parsed_again(settings, tmp_path):
    toolkit = Toolkit.load(settings)
    corpus = _corpus(tmp_path, *[p.name for p in (FIXTURES / "corpus-mixed").glob("*.md")])
    s = replace(settings, index_dir=tmp_path / "idx")
    toolkit.build([corpus], s.index_dir)
    reg = next(corpus.glob("*.md"))
    reg.write_text(reg.read_text(encoding="utf-8").replace("第一条", "第一条 （修订）", 1), encoding="utf-8")
    m = toolkit.build([corpus], s.index_dir, incremental=True)
    assert m["reparsed_documents"] == 1 and m["reused_documents"] == 1 and m["embedded_chunks"] >= 1
    assert any("（修订）" in c.text for c in Assistant.load(settings=s).index.clauses)


@pytest.mark.parametrize("title, folder, history, region", [
    ("北京市数字经济促进条例", "", [], "北京"),
    ("鹤壁市大气污染防治条例", "河南", [], "河南"),  # the folder it was filed in
    ("东营市养犬管理条例", "", ["2017年8月31日 东营市第八届人民代表大会常务委员会第5次会议通过"], "山东"),
    ("中国（上海）自由贸易试验区条例", "上海", [], "上海"),
    ("关于议案的若干暂行规定", "", ["1983年3月16日 北京市第八届人民代表大会第一次会议通过"], "北京"),
    ("某某管理办法", "", [], None),
])
def test_a_documents_region(title, folder, history, region):
    gazetteer = Gazetteer.load(ROOT / "corpus/places.toml")
    path = f"/data/{folder}/{title}.md" if folder else f"/data/{title}.md"
    doc = Document("d", title, "正文", source_path=path, style="articles", meta={"history": history})
    assert gazetteer.region_of(doc) == region


def _regulation(folder: Path, title: str, articles: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n\n".join(f"第{'一二三四五六七八九十'[i]}条 {a}" for i, a in enumerate(articles))
    (folder / f"{title}.md").write_text(f"# {title}\n\n2020年1月1日通过\n\n<!-- INFO END -->\n\n{body}\n",
                                        encoding="utf-8")


def test_home_region_answers_first_and_named_regions_are_asked(settings, tmp_path):
    corpus = _corpus(tmp_path)
    _regulation(corpus / "北京", "北京市充电设施建设促进条例", ["本市对建设充电桩的单位给予补贴，每个充电桩最高一万元。"])
    _regulation(corpus / "上海", "上海市充电设施建设促进条例", ["本市对建设充电桩的单位给予补贴，每个充电桩最高两万元。"])
    s = replace(settings, index_dir=tmp_path / "idx")
    Toolkit.load(s).build([corpus], s.index_dir)
    bot = Assistant.load(settings=s)
    assert bot.ask("充电桩补贴最高多少？").citations[0].title == "北京市充电设施建设促进条例"
    assert bot.ask("上海的充电桩补贴最高多少？").citations[0].title == "上海市充电设施建设促进条例"
    # A caller who says they are in Shanghai has Shanghai's rules considered too.
    said = bot.ask("我们是浦东的一家公司，充电桩补贴最高多少？")
    assert "上海市充电设施建设促进条例" in {c.title for c in said.citations}
    # Without the home region's own documents, every loaded document answers.
    shutil.rmtree(corpus / "北京")
    s2 = replace(settings, index_dir=tmp_path / "idx2")
    Toolkit.load(s2).build([corpus], s2.index_dir)
    other = Assistant.load(settings=s2).ask("充电桩补贴最高多少？")
    assert other.citations[0].title == "上海市充电设施建设促进条例"


def test_a_common_word_in_an_unrelated_regulation_is_not_an_answer(settings, tmp_path):
    corpus = _corpus(tmp_path)
    for i, subject in enumerate("道路 公园 河道 图书馆 博物馆 菜市场 停车场 电梯 燃气 供水 供热 绿化 养犬 档案".split()):
        _regulation(corpus / "北京", f"北京市{subject}管理条例",
                    [f"本市加强{subject}管理，保障公共安全。",
                     f"向{subject}事业捐赠的单位和个人，依法享受企业所得税和个人所得税优惠政策。"])
    s = replace(settings, index_dir=tmp_path / "idx")
    Toolkit.load(s).build([corpus], s.index_dir)
    assert Assistant.load(settings=s).ask("个人所得税怎么申报？").refused
    # A regulation about the subject answers it.
    _regulation(corpus / "北京", "北京市个人所得税申报服务规定", ["纳税人按月申报个人所得税，可以通过网上办税服务厅办理。"])
    Toolkit.load(s).build([corpus], s.index_dir, incremental=True)
    got = Assistant.load(settings=s).ask("个人所得税怎么申报？")
    assert not got.refused and got.citations[0].title == "北京市个人所得税申报服务规定"


def test_progress_without_a_terminal_is_one_line_per_stage():
    out = io.StringIO()
    bars = ProgressBars(out, min_total=10)
    for done in (0, 50, 100):
        bars("分词", done, 100)
    bars("读取文档", 3, 3)  # too small to report
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("分词：100 项")


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=0, max_size=12),  # previous chunks' word counts
       st.lists(st.integers(-1, 11), min_size=0, max_size=15),  # each new chunk's previous row, -1 new
       st.integers(0, 2 ** 31))
def test_assembling_reused_and_new_words_matches_chunk_by_chunk(old_lengths, picks, seed):
    """_assemble copies runs of consecutive reused chunks as slices: the result must equal
    putting each chunk's words in its place one by one, whatever the order."""
    rng = np.random.default_rng(seed)
    rows = np.array([p if 0 <= p < len(old_lengths) else -1 for p in picks], dtype=np.int64)

    def flat(lengths):
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return offsets, rng.integers(0, 99, offsets[-1]).astype(np.int32), rng.integers(1, 9, offsets[-1]).astype(np.int32)

    old = flat(old_lengths)
    new = flat(rng.integers(0, 4, int((rows < 0).sum())))
    offsets, ids, counts = _assemble(rows, old, new)
    want_ids, want_counts, fresh = [], [], 0
    for r in rows:
        src, i = (old, r) if r >= 0 else (new, fresh)
        fresh += r < 0
        want_ids += src[1][src[0][i]:src[0][i + 1]].tolist()
        want_counts += src[2][src[0][i]:src[0][i + 1]].tolist()
    assert ids.tolist() == want_ids and counts.tolist() == want_counts
    assert offsets[-1] == len(want_ids) and len(offsets) == len(rows) + 1
