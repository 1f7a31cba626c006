"""The answering pipeline, stage by stage (issue 17): what each stage decides, the structured
answer, verdicts only where the text entails them, and the renderings read from fields."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.render import speech
from assistant.answer.verdict import split_verdict
from assistant.models import AnswerPart, Calculation, Citation

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["understand", "select", "calculate", "retrieve", "gate", "compose"]


# ---- verdicts: only from a rule, or from the cited sentence stating the asked act ------------------
@pytest.mark.parametrize("question, verdict", [
    ("首贷有补助吗？", "有"),  # the clause naming 首贷 gives money
    ("上云有补贴吗", "有"),  # …and the money is given in the next clause of the sentence
    ("开展外贸业务的企业参加展会有补贴吗", "有"),
    ("可以发行科技创新债吗", "可以"),  # 支持…发行…科技创新债
    ("新三板挂牌有奖励吗", None),  # 支持…挂牌: support, but no money stated
    ("专利能不能作价入股", None),  # the patent clause does not speak of 作价入股
    ("我可以用名人的名字注册商标吗？", None),  # nor does the brand clause of trademarks
    ("我们只是区级专精特新，上云合同80万能补吗", "不符合"),  # the policy's scope rule
    ("我们不是制造业，数字化转型合同100万能补多少？", "不符合"),  # the rule's industry condition
])
def test_a_verdict_only_where_entailed(bot, question, verdict):
    assert bot.ask(question).verdict == verdict


def test_a_rule_of_the_policy_applies_only_to_questions_about_it(bot):
    """个体工商户 under the civil code is not a question about the policy: no 不符合 from its scope."""
    ans = bot.ask("我们是个体工商户，经营者的个人财产和个体户财产混在一起，债务怎么承担？")
    assert ans.verdict is None and "不符合" not in ans.text


@pytest.mark.parametrize("lead, expected", [
    ("不符合：该项支持限于制造业", ("不符合", "该项支持限于制造业")),
    ("可以。可获得15万元", ("可以", "可获得15万元")),
    ("符合该放宽条件：收入1.2亿元", ("符合", "符合该放宽条件：收入1.2亿元")),  # wording kept whole
    ("可获得的资金支持为15万元", (None, "可获得的资金支持为15万元")),
])
def test_split_verdict(lead, expected):
    assert split_verdict(lead) == expected


# ---- understanding: the ask, not the words around it --------------------------------------------
def test_a_year_in_the_introduction_is_not_a_question_about_the_period(bot):
    ans = bot.ask("我们公司成立于2015年，首贷有补贴吗")
    assert [c.section for c in ans.citations] == ["4"] and "2028" not in ans.text


def test_a_calculation_then_another_ask_answers_both(bot):
    ans = bot.ask("上云花了80万，另外首贷有没有补贴")
    assert ans.calculation.amount_yuan == 240000
    assert [c.section for c in ans.citations] == ["5", "4"] and len(ans.parts) == 2


def test_a_long_paste_keeps_the_question_at_its_end(bot):
    pasted = "。".join(["这是我们公司的情况介绍，我们做了很多年的研发和生产"] * 120)
    ans = bot.ask(pasted + "。请问上云上平台改造补贴多少？")
    assert "结尾的提问部分" in ans.text and [c.section for c in ans.citations] == ["5"]


# ---- the trace: which stage decided what ------------------------------------------------------------
def test_the_trace_names_every_stage(bot):
    trace = bot.ask("上云上平台合同额50万元，补贴多少？").to_dict()["trace"]
    assert [t["stage"] for t in trace] == STAGES
    gate = next(t for t in trace if t["stage"] == "gate")
    assert gate["decision"] == "rule" and gate["reason"]


def test_a_decline_says_which_stage_lost_it(bot):
    trace = bot.ask("明天北京天气怎么样？").to_dict()["trace"]
    gate = next(t for t in trace if t["stage"] == "gate")
    assert gate["decision"] == "decline" and gate["reason"]


@pytest.mark.slow
def test_answer_json_carries_the_structure_and_the_trace(settings):
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", "首贷有补助吗？", "--json", "--index",
                          str(settings.index_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    answer = json.loads(out.stdout)
    assert answer["verdict"] == "有" and answer["parts"][0]["citations"][0]["section"] == "4"
    assert [t["stage"] for t in answer["trace"]] == STAGES


# ---- rendering from fields ---------------------------------------------------------------------------
def _part(subject, verdict, lead, amount=None, refused=False):
    calc = Calculation("r", {"contract_yuan": 1}, amount, ["步骤"]) if amount is not None else None
    cite = [Citation("d", "t", "5", "五、", "原文")] if not refused else []
    return AnswerPart(subject=subject, verdict=verdict, lead=lead, citations=cite, calculation=calc, refused=refused)


def test_speech_names_each_ask_when_there_are_several():
    said = speech([_part("上云上平台改造", None, "可获得的资金支持为24万元。", 240000),
                   _part("首贷", "有", "对企业符合条件的首贷业务给予资金补助。")])
    assert said.startswith("上云上平台改造：") and "首贷：有。" in said


def test_speech_after_a_verdict_on_the_enterprise_says_only_that():
    said = speech([_part("适用对象", "不符合", "本政策适用于国家级和市级专精特新企业。"),
                   _part("上云上平台改造", None, "可获得的资金支持为24万元。", 240000)], verdict_first=True)
    assert said.startswith("不符合：") and "24万" not in said


# ---- articles: quoted whole, lists kept whole, references followed ---------------------------------
def test_a_list_item_brings_its_head_and_the_other_items():
    import re

    from assistant.answer.compose import Composer

    composer = Composer([], {}, [], None, [], 0, item_marker=re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]"))
    text = "第十条 有下列情形之一的，处一万元罚款：（一）未登记的；（二）伪造证件的；（三）拒不改正的。另有规定的除外。"
    assert composer._with_lists(text, ["（二）伪造证件的；"]) == [
        "第十条 有下列情形之一的，处一万元罚款：（一）未登记的；", "（二）伪造证件的；", "（三）拒不改正的。"]
    assert composer._with_lists(text, ["另有规定的除外。"]) == ["另有规定的除外。"]


@pytest.mark.parametrize("n", [1, 7, 10, 15, 20, 99, 100, 101, 103, 110, 115, 999, 1000, 1005, 1012, 1260, 9999])
def test_article_numbers_as_written(n):
    import cn2an

    from assistant.understand.numerals import article_numeral, cn_to_int

    assert article_numeral(n) == cn2an.an2cn(n)  # an oracle that is not ours
    if n < 10000:
        assert cn_to_int(article_numeral(n)) == n


def test_the_penalty_for_a_duty_is_followed(tmp_path, settings):
    from dataclasses import replace

    from assistant import Assistant

    corpus = tmp_path / "laws"
    corpus.mkdir()
    (corpus / "某省反不正当竞争条例.md").write_text(
        "# 某省反不正当竞争条例\n\n第一条 为制止不正当竞争，制定本条例。\n\n"
        "第六条 经营者销售商品，不得违背购买者的意愿搭售商品或者附加其他不合理的条件。\n\n"
        "第九条 经营者应当明码标价。\n\n"
        "第二十八条 违反本条例第六条规定的，监督检查部门可以根据情节处以一万元以上十万元以下的罚款。\n",
        encoding="utf-8")
    bot = Assistant.load(settings=replace(settings, index_dir=tmp_path / "index"),
                         corpus_dir=corpus)
    ans = bot.ask("某省反不正当竞争条例里，卖东西硬给顾客搭售别的商品，查到了会被罚多少？")
    assert [c.section for c in ans.citations][:2] == ["28", "6"]


@pytest.mark.slow
def test_an_index_cut_with_another_lexicon_is_rebuilt_on_open(tmp_path, settings):
    """After an upgrade that changes the lexicon, an index whose words were cut with the old one
    no longer matches the questions' words: it is rebuilt from its corpus when opened."""
    import shutil
    from dataclasses import replace

    from assistant import Assistant

    root = tmp_path / "project"
    shutil.copytree(ROOT / "corpus", root / "corpus")
    shutil.copytree(ROOT / "models", root / "models")
    local = replace(settings, project_root=root, corpus_dir=root / "corpus", index_dir=tmp_path / "index")
    first = Assistant.load(settings=local)
    built = first.index.directory.name
    first.index.close()
    lexicon = root / "corpus" / "lexicon.toml"
    lexicon.write_text(lexicon.read_text(encoding="utf-8").replace('"新基建",', '"新基建", "算力券",'),
                       encoding="utf-8")
    again = Assistant.load(settings=local)
    assert again.index.directory.name != built  # a new build, with the new lexicon's words
    assert again.index.manifest["signatures"] == again.toolkit.signatures()


def test_the_policy_period_answers_only_where_the_policy_answers(tmp_path, settings):
    """到期/逾期 in a question about a loan law asks nothing about the policy's period."""
    import shutil
    from dataclasses import replace

    from assistant import Assistant

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus" / "documents", corpus)
    (corpus / "某省民间借贷条例.md").write_text(
        "# 某省民间借贷条例\n\n第一条 为规范民间借贷，制定本条例。\n\n"
        "第五条 借款人未按照约定的期限返还借款的，出借人可以主张自逾期之日起的逾期利息。\n\n"
        "第六条 出借人与借款人约定的利率不得超过合同成立时一年期贷款市场报价利率四倍。\n",
        encoding="utf-8")
    bot = Assistant.load(settings=replace(settings, index_dir=tmp_path / "index"), corpus_dir=corpus)
    loan = bot.ask("借款人到期未还款，出借人可以主张逾期利息吗？")
    assert loan.citations and loan.citations[0].section == "5", loan.to_dict()["trace"]
    # The policy's own period still answers a question about the policy.
    period = bot.ask("首贷贴息政策执行到什么时候？")
    assert any(c.section == "scope" for c in period.citations) and "2028" in period.text
