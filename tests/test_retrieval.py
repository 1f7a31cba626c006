"""Retrieval beside the words: the character-bigram field of the lexical index
(store/lexical.CharGrams: BM25 over each chunk's bigrams, checked against a plain reference
implementation of the formula, and the field in a real build), and when the policy answers first
among regulations (retrieve/search.py)."""
from __future__ import annotations

import math
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from assistant import Assistant
from assistant.store.lexical import CharGrams

ROOT = Path(__file__).resolve().parent.parent
K1, B = 1.2, 0.75


def reference_bigrams(text: str) -> list[str]:
    """Bigrams of adjacent CJK characters, ASCII letters or digits (lower-cased), by hand."""
    keep = lambda ch: "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or ch.isascii() and ch.isalnum()
    t = text.lower()
    return [t[i:i + 2] for i in range(len(t) - 1) if keep(t[i]) and keep(t[i + 1])]


def reference_scores(texts: list[str], question: str) -> list[float]:
    docs = [Counter(reference_bigrams(t)) for t in texts]
    n = len(docs)
    lengths = [sum(d.values()) for d in docs]
    avgdl = sum(lengths) / n if n and sum(lengths) else 1.0
    out = []
    for d, length in zip(docs, lengths):
        s = 0.0
        for g in set(reference_bigrams(question)):
            if d[g]:
                df = sum(1 for e in docs if e[g])
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                s += idf * d[g] * (K1 + 1) / (d[g] + K1 * (1 - B + B * length / avgdl))
        out.append(s)
    return out


ALPHABET = "劳动合同到期解除转租甲乙。， ab1"


@hsettings(max_examples=150, deadline=None)
@given(texts=st.lists(st.text(alphabet=ALPHABET, max_size=14), min_size=1, max_size=6),
       question=st.text(alphabet=ALPHABET, max_size=10))
def test_scores_are_bm25_over_bigrams(texts, question):
    got = CharGrams.build(texts, K1, B).scores(question)
    assert np.allclose(got, reference_scores(texts, question), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("texts, question, matched", [
    (["劳动合同到期", "合同解除"], "合同到期怎么办", [True, True]),  # 合同 in both, 到期 in one
    (["劳动。合同", "动合"], "动合", [False, True]),  # no bigram spans punctuation
    (["劳动", "合同"], "动合", [False, False]),  # nor the boundary between two chunks
    (["ABC公司", "abd"], "abc", [True, True]),  # letters lower-cased: ab in both
    (["劳动合同"], "", [False]),
])
def test_what_counts_as_a_shared_bigram(texts, question, matched):
    assert [s > 0 for s in CharGrams.build(texts).scores(question)] == matched


def test_saved_and_loaded_alike(tmp_path):
    grams = CharGrams.build(["承租人经出租人同意，可以将租赁物转租给第三人", "租赁合同是出租人将租赁物交付承租人使用"])
    grams.save(tmp_path)
    again = CharGrams.load(tmp_path)
    assert np.array_equal(again.scores("房屋能转租吗"), grams.scores("房屋能转租吗"))


REGULATION = """# 某市房屋租赁管理条例

第一条 为了规范房屋租赁活动，制定本条例。

第二条 租赁合同到期，承租人需要继续租赁的，应当在租赁期限届满前通知出租人；合同到期未续订的，承租人应当按期返还房屋。到期后继续使用的，视为不定期租赁。

第三条 承租人经出租人同意，可以将房屋转租给第三人。

第四条 出租人应当配合房屋管理部门的安全检查，如实提供房屋安全情况，不得阻挠、隐瞒。

第五条 有下列行为之一的，由房屋管理部门责令限期改正，处以一千元以上五千元以下的罚款：

（一）阻挠房屋管理部门工作人员依法进入房屋检查的；

（二）拒不提供房屋安全资料的。
"""


PLEDGES = """# 某市股权出质条例

第一条 为了规范股权出质和质押股权的转让，制定本条例。

第二条 股权出质后，不得转让，但是出质人与质权人协商同意的除外。出质人转让已质押股权所得的价款，应当向质权人提前清偿债务或者提存。

第三条 以股权出质的，当事人应当向登记机关申请办理出质登记。质权自办理出质登记时设立。

第四条 已质押的股权被人民法院冻结的，质权人可以请求登记机关在冻结期间暂停办理该股权的转让登记。

第五条 质押股权的转让协议未经质权人同意的，登记机关不予办理股权变更登记。

第六条 股权质押合同应当载明被担保债权的数额、出质股权的数额和质押期限。

第七条 质押期间，质权人不得擅自转让或者处分质押的股权。
"""


@pytest.fixture(scope="module")
def beside_a_regulation(tmp_path_factory, settings):
    """The policy beside two small regulations."""
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.txt", corpus)
    shutil.copy(ROOT / "corpus/documents/bj-zjtx-2023.meta.json", corpus)
    (corpus / "某市房屋租赁管理条例.md").write_text(REGULATION, encoding="utf-8")
    (corpus / "某市股权出质条例.md").write_text(PLEDGES, encoding="utf-8")
    return Assistant.load(settings=replace(settings, index_dir=tmp_path_factory.mktemp("idx"), corpus_dir=corpus))


def test_every_build_has_the_field(beside_a_regulation):
    index = beside_a_regulation.index
    assert (index.directory / CharGrams.FILE).exists()
    assert index.grams.weights.shape[1] == len(index.chunks)


def test_the_field_is_one_of_the_fused_rankings(beside_a_regulation):
    retriever = beside_a_regulation.offline.retriever
    index = retriever.index
    ranked = retriever.characters("房屋可以转租出去吗")
    first = index.clauses[index.chunks[ranked[0][0]].clause]
    assert (first.doc_title, first.section) == ("某市房屋租赁管理条例", "3")
    assert retriever.weights.chars > 0 and retriever.characters("？！") == []


def test_the_policys_own_period_when_the_ask_has_no_other_topic(beside_a_regulation):
    """到期 says what is asked, not about what: a regulation about contracts 到期 ranked first
    does not make 政策什么时候到期 a question about leases."""
    ans = beside_a_regulation.ask("政策什么时候到期？")
    assert [c.section for c in ans.citations] == ["scope"] and "2028" in ans.text
    lease = beside_a_regulation.ask("租赁合同到期了怎么办？")
    assert lease.citations and lease.citations[0].title == "某市房屋租赁管理条例"


@pytest.mark.parametrize("question, first", [
    # The policy mentions 股权质押 (its financing measure) and covers these words as well as the
    # regulation does, but none of its clauses is among the five best matches of all documents.
    ("已质押的股权，可以转让吗？", "某市股权出质条例"),
    ("股权质押以后还能不能转让", "某市股权出质条例"),
    # What the policy answers, it still answers first.
    ("知识产权质押融资有贴息吗", "关于实施十大强企行动激发专精特新企业活力的若干措施"),
    ("首贷有补助吗？", "关于实施十大强企行动激发专精特新企业活力的若干措施"),
])
def test_the_policy_first_only_among_the_best_matches(beside_a_regulation, question, first):
    ans = beside_a_regulation.ask(question)
    assert ans.citations and ans.citations[0].title == first


def test_asked_what_a_breach_costs_the_article_stating_the_fine_answers_first(beside_a_regulation):
    """The duty article (第四条 不得阻挠) matches the words best; the fine for it stands in 第五条,
    which lists the act in its own words and never names 第四条."""
    ans = beside_a_regulation.ask("房东拦着不让房屋管理部门进屋做安全检查，会被罚多少钱？")
    assert [c.section for c in ans.citations][:2] == ["5", "4"] and "一千元以上五千元以下" in ans.text
