"""Four classes of amounts misheard (issue 19): a range read as its upper figure, a per-year fee
read as the total over years, two measures' amounts summed under one, and a rule not found for
the words people use. Each class: several phrasings of our own, and non-examples."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculate.roles import amount_roles, count_periods
from assistant.calculate.router import find_rule, route
from assistant.calculate.rules import load_rules
from assistant.understand.amounts import APPROXIMATE, EXACT, RANGE, read_amounts

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "corpus/rules")
W = 10_000


def routed(text: str):
    r = route(text, [], RULES, False)
    assert r is not None, text
    return r


# ---- 1. a range is one amount, whatever approximation words stand around it ------------------------
@pytest.mark.parametrize("text, low, high", [
    ("上云合同大概3到5万 能补多少钱", 3 * W, 5 * W),
    ("合同大约3至5万元", 3 * W, 5 * W),
    ("合同3-5万左右", 3 * W, 5 * W),
    ("差不多三到五万吧", 3 * W, 5 * W),
    ("估计30~50万", 30 * W, 50 * W),
    ("预计3万到5万之间", 3 * W, 5 * W),
    ("约1.5亿~2亿", 150_000_000, 200_000_000),
])
def test_a_range_with_an_approximation_is_one_range(text, low, high):
    found = read_amounts(text)
    assert len(found) == 1, found
    a = found[0]
    assert (a.kind, a.yuan, a.low, a.high) == (RANGE, None, Decimal(low), Decimal(high)), a
    assert a.problem and "范围" in a.problem


@pytest.mark.parametrize("text, kind, yuan", [
    ("大概50万", APPROXIMATE, 50 * W),
    ("合同50万左右", APPROXIMATE, 50 * W),
    ("合同50万", EXACT, 50 * W),
])
def test_a_single_approximate_figure_stays_usable(text, kind, yuan):
    (a,) = read_amounts(text)
    assert (a.kind, a.yuan) == (kind, Decimal(yuan))


@pytest.mark.parametrize("text", ["第3到5年", "2024年3月到5月", "大概3到5年", "大概第2到第4年"])
def test_spans_of_years_and_months_are_not_money(text):
    assert read_amounts(text) == []


@pytest.mark.parametrize("text", ["上云合同大概3到5万 能补多少钱", "上云合同大约三到五万，补多少",
                                  "上云上平台改造3到5万左右，能补贴多少", "企业上云差不多30~50万，补多少"])
def test_no_figure_is_computed_on_a_range_whose_ends_differ(text):
    r = routed(text)
    assert r.asks_input and r.calculation is None, r
    assert "范围" in r.lead


def test_a_range_whose_ends_give_the_same_result_is_answered_and_says_so():
    r = routed("上云合同大概120到150万，能补多少")  # the 30万 cap either way
    assert r.calculation is not None and r.calculation.amount_yuan == 300_000
    assert "范围内的任何金额" in r.lead


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 98), st.integers(1, 99), st.sampled_from(["到", "至", "~"]),
       st.sampled_from(["大概", "大约", "差不多", "约"]))
def test_ranges_in_chinese_numerals_read_as_cn2an_writes_them(a, gap, word, approx):
    b = a + gap
    text = f"合同{approx}{cn2an.an2cn(a)}{word}{cn2an.an2cn(b)}万"
    (found,) = read_amounts(text)
    assert (found.kind, found.low, found.high) == (RANGE, Decimal(a * W), Decimal(b * W)), text


# ---- 2. a fee per year over several years ------------------------------------------------------------
@pytest.mark.parametrize("text, amount, periods", [
    ("发明专利减缴后每年年费1200元，前5年的年费一共能资助多少", 6000, 5),
    ("专利每年年费900元，前三年能资助多少", 2700, 3),
    ("专利减缴后一年的年费是800元，第3年到第6年能资助多少", 3200, 4),
    ("专利年费每年900元，第8年到第12年能资助多少", 2700, 3),  # years 8, 9, 10 are within 前十年
    ("专利年费一年1500元，交了3年，能资助多少", 4500, 3),
    ("专利年费每年900元，交了12年，能资助多少", 9000, 10),
])
def test_a_per_year_fee_times_the_years_within_the_first_ten(text, amount, periods):
    r = routed(text)
    calc = r.calculation
    assert calc is not None and calc.amount_yuan == amount, (r.lead, calc)
    assert calc.inputs["periods"] == periods
    assert any("×" in s for s in calc.steps), calc.steps


def test_a_grant_fee_and_yearly_fees_are_added():
    r = routed("专利授权费2000元，年费一年1500元，交了3年，能资助多少")
    assert r.calculation.amount_yuan == 2000 + 3 * 1500, r.calculation
    assert not any("一年共1年" in s for s in r.calculation.steps)


@pytest.mark.parametrize("text, per_year", [
    ("专利年费1200元，前5年能资助多少", "6000元"),
    ("专利第8到第12年年费900元，能资助多少", "2700元"),
    ("发明专利的年费是1000元，第2至第4年能资助多少", "3000元"),
])
def test_a_fee_not_said_per_year_or_in_total_is_asked_back_with_both_readings(text, per_year):
    r = routed(text)
    assert r.asks_input and r.calculation is None, r
    assert "每年" in r.lead and "合计" in r.lead and per_year in r.lead


def test_a_total_over_years_past_the_first_ten_is_not_reimbursed_whole():
    r = routed("专利第8到第12年的年费一共4500元，能资助多少")
    assert r.asks_input and r.calculation is None, r


@pytest.mark.parametrize("text, amount", [
    ("专利第5年的年费1200元，能资助多少", 1200),  # one year: the fee is that year's
    ("专利第2到第4年年费一共405元，能资助多少", 405),  # a total within the first ten
    ("专利授权费3000元，前5年能资助多少", 3000),  # not a yearly fee
])
def test_figures_that_are_not_a_yearly_fee_over_years_are_taken_as_said(text, amount):
    r = routed(text)
    assert r.calculation is not None and r.calculation.amount_yuan == amount, r


@pytest.mark.parametrize("text, amount", [
    ("专利第1到第3年年费，官方每年900元，减缴85%后每年实际交135元，能资助多少", 405),
    ("发明专利第4至第6年的年费标准每年1200元，享受减缴后每年实缴180元，资助多少", 540),
    ("年费每年2000元，减免后每年实付300元，第2年到第3年能资助多少", 600),
])
def test_of_two_yearly_fees_the_one_paid_after_the_reduction_is_counted(text, amount):
    r = routed(text)
    assert r.calculation is not None and r.calculation.amount_yuan == amount, r


@pytest.mark.parametrize("text", [
    "专利第8到第12年年费，第8、9年每年2000元，减缴后每年实交300元；第10年减缴后实交600元；第11、12年每年4000元，一共能资助多少",
    "专利第1到第3年年费每年900元，第4到第5年每年1200元，能资助多少",  # two fees, one span said
])
def test_yearly_fees_that_cannot_be_matched_to_their_years_are_asked_back(text):
    r = routed(text)
    assert r.asks_input and r.calculation is None, r


def test_a_per_year_word_is_not_a_count_of_years():
    assert count_periods("年费一年1500元，交了3年").count == 3
    assert count_periods("前一年的年费").count == 1
    assert count_periods("年费一年1500元") is None
    assert amount_roles("减缴后每年年费1200元")[-1].role == "per_unit"


# ---- 3. two measures, each with its own amount -----------------------------------------------------
@pytest.mark.parametrize("text", [
    "今年参加国际展会花了30万，品牌上了榜单，宣传推广又花了40万，这俩分别能补多少",
    "我们参展花了30万 品牌推广花了40万 各补多少",
    "30万的展会费，40万的品牌推广费，分别能补多少",
    "参展费用30万、品牌宣传推广费40万，这两项各能补多少",
])
def test_each_measure_takes_its_own_amount_and_both_results_are_given(text):
    r = routed(text)
    assert r.rule.id == "expo" and r.calculation.amount_yuan == 210_000, (r.lead, r.calculation)
    assert r.calculation.inputs == {"cost_yuan": 300_000}
    assert "12万元" in r.lead  # brand promotion: 40万 × 30%
    assert any("40万" in n and "未计入本项" in n for n in r.notes), r.notes


@pytest.mark.parametrize("text, rule_id, amount", [
    ("参展费30万、品牌宣传费40万", "expo", 210_000),  # no 'each': the first measure, the other set aside
    ("数字化转型合同200万，公司融资额5亿，能补多少", "digital-transformation", 400_000),
])
def test_an_amount_of_another_measure_is_never_summed_in(text, rule_id, amount):
    r = routed(text)
    assert r.rule.id == rule_id and r.calculation.amount_yuan == amount, (r.lead, r.calculation)
    assert "另，" not in r.lead


@pytest.mark.parametrize("text, amount", [
    ("品牌推广两笔费用10万和20万，能补多少", 90_000),  # one measure: its items, as before
    ("品牌宣传推广花了40万，能补多少", 120_000),
])
def test_amounts_of_one_measure_are_not_split(text, amount):
    r = routed(text)
    assert r.rule.id == "brand-promotion" and r.calculation.amount_yuan == amount, r
    assert not any("未计入本项" in n for n in r.notes)


# ---- 4. the words people use for moving to the cloud --------------------------------------------
@pytest.mark.parametrize("text", [
    "把业务系统搬到云上，合同80万元人民币，补贴多少",
    "系统迁移到云上，合同50万能补多少",
    "我们把财务系统迁到云上了，花了20万",
    "业务系统搬上云，合同60万",
])
def test_moving_systems_to_the_cloud_is_the_cloud_rule(text):
    rule = find_rule(text, RULES)
    assert rule is not None and rule.id == "cloud-migration", text


@pytest.mark.parametrize("text, rule_id", [
    ("数字化转型合同80万，能补多少", "digital-transformation"),
    ("品牌推广花了40万", "brand-promotion"),
])
def test_other_measures_keep_their_rules(text, rule_id):
    assert find_rule(text, RULES).id == rule_id


@pytest.mark.parametrize("text", ["公司在云南，合同80万", "白云区的企业，合同80万"])
def test_a_cloud_character_alone_is_not_the_cloud_rule(text):
    assert find_rule(text, RULES) is None
