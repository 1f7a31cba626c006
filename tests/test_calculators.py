"""Subsidy arithmetic: boundary tables and properties (hypothesis)."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.understand.amounts import AmountError, find_amounts, fmt_yuan, parse_amount
from assistant.calculate.calculators import CalculationError, calculate, cap_check, result_line, threshold
from assistant.calculate.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = {r.id: r for r in load_rules(ROOT / "corpus/rules")}
W, Y = 10_000, 100_000_000


@pytest.mark.parametrize("rule_id, value, amount", [
    ("digital-transformation", 1_200_000, 240_000),
    ("digital-transformation", 5_000_000, 1_000_000),  # exactly at the cap
    ("digital-transformation", 5_000_001, 1_000_000),
    ("digital-transformation", 4_999_999, 999_999.8),
    ("cloud-migration", 1_000_000, 300_000),  # exactly at the cap
    ("cloud-migration", 100_000, 30_000),
    ("cloud-migration", 1_500_000, 300_000),
    ("brand-promotion", 1_000_000, 300_000),
    ("brand-promotion", 800_000, 240_000),
    ("expo", 200_000, 140_000),
    ("expo", 100 * Y, 70 * Y),  # the text states no cap: none is invented
    ("patent-fees", 30_000, 30_000),
    ("equity-financing", 19 * Y, 0),
    ("equity-financing", 20 * Y, 0),  # exactly 20亿: nothing in the band yet
    ("equity-financing", 20 * Y + 1, 0.02),
    ("equity-financing", int(20.5 * Y), 1_000_000),
    ("equity-financing", 21 * Y, 2_000_000),  # the cap binds from 21亿
    ("equity-financing", 25 * Y, 2_000_000),  # exactly 25亿
    ("equity-financing", 30 * Y, 2_000_000),
])
def test_formula_table(rule_id, value, amount):
    calc = calculate(RULES[rule_id], Decimal(value))
    expected = int(Decimal(str(amount)).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert calc.amount_yuan == expected
    assert calc.steps and calc.rule_id == rule_id


def test_financing_steps_state_the_reading_and_where_the_cap_binds():
    steps = calculate(RULES["equity-financing"], Decimal(22 * Y)).steps
    assert steps[0] == "按年度累计直接融资额22亿元计算"
    assert "读法" in steps[1] and "21亿元" in steps[1]
    assert any("按上限2,000,000元计" in s for s in steps)


def test_contract_example_steps():
    calc = calculate(RULES["cloud-migration"], Decimal(500_000))
    assert calc.to_dict() == {"rule_id": "cloud-migration", "inputs": {"contract_yuan": 500000},
                              "amount_yuan": 150000,
                              "steps": ["按合同额50万元计算", "合同额 500,000 × 30% = 150,000元",
                                        "150,000元未超过上限300,000元"]}


def test_the_first_step_says_the_amount_as_read_and_as_written():
    calc = calculate(RULES["digital-transformation"], Decimal(5_000_000), written="5百万")
    assert calc.steps[0] == "按合同额500万元计算（您写的是“5百万”）"
    assert calculate(RULES["digital-transformation"], Decimal(5_000_000), written="500万").steps[0] == "按合同额500万元计算"


@pytest.mark.parametrize("rule_id, value", [(r, v) for r in ("digital-transformation", "cloud-migration",
                                                              "brand-promotion", "expo", "patent-fees",
                                                              "equity-financing")
                                            for v in (1, 8000, 1_200_000, 19 * Y, 22 * Y, 30 * Y)])
def test_steps_are_readable(rule_id, value):
    """No raw formulas (min(…)), no stray 。； when a display joins the steps, figures grouped."""
    steps = calculate(RULES[rule_id], Decimal(value)).steps
    for s in steps:
        assert "min(" not in s and "max(" not in s and not s.endswith(("。", "；")), s
        assert not re.search(r"\d{5,}", s), s  # 1,200,000, never 1200000


@pytest.mark.parametrize("value, says", [(15 * Y, "未达到20亿元"), (20 * Y, "未超过20亿元")])
def test_financing_below_the_band_is_not_applicable_not_zero_yuan(value, says):
    rule = RULES["equity-financing"]
    calc = calculate(rule, Decimal(value))
    assert calc.amount_yuan == 0
    line = result_line(rule, calc)
    assert line.startswith(says) and "不适用" in line and "0元" not in line


def test_expo_says_no_cap_is_stated():
    assert any("未规定金额上限" in s for s in calculate(RULES["expo"], Decimal(1000)).steps)


@pytest.mark.parametrize("rule_id", ["board-reward", "listing", "first-use"])
def test_cap_rules_have_no_formula_but_check_claims(rule_id):
    rule = RULES[rule_id]
    with pytest.raises(CalculationError):
        calculate(rule, Decimal(1))
    assert cap_check(rule, rule.cap_yuan + 1).amount_yuan == int(rule.cap_yuan)
    assert "超出上限" in cap_check(rule, rule.cap_yuan + 1).steps[0]
    assert "在上限以内" in cap_check(rule, rule.cap_yuan).steps[0]


@pytest.mark.parametrize("revenue, industry, met", [
    (Y, "制造业", True),  # exactly 1亿
    (Y - 1, "制造业", False),
    (2 * Y, "非建筑业", True),
    (3 * Y, "建筑业", False),
    (None, "制造业", None),
    (Y, None, True),
])
def test_tech_center_threshold(revenue, industry, met):
    value = None if revenue is None else Decimal(revenue)
    assert threshold(RULES["tech-center"], value, industry).met is met


@pytest.mark.parametrize("bad", [0, -1, Decimal("1e30"), Decimal("NaN")])
def test_bad_amounts_are_refused_with_a_chinese_message(bad):
    with pytest.raises(AmountError, match="合同额"):
        calculate(RULES["cloud-migration"], Decimal(bad))


@pytest.mark.parametrize("text, yuan", [
    ("300万元", 3_000_000), ("1.5亿", 150_000_000), ("两千万", 20_000_000), ("3,000,000元", 3_000_000),
    ("21.3亿", 2_130_000_000), ("６０万", 600_000), ("一亿五千万", 150_000_000), ("三十万元", 300_000),
    ("500000", 500_000), ("8000元", 8000), ("99.9万", 999_000),
])
def test_parse_amount(text, yuan):
    assert parse_amount(text) == yuan
    assert [m.yuan for m in find_amounts(f"合同额{text}，能拿多少？")] == [yuan]


@pytest.mark.parametrize("text", ["前30名", "2028年底", "30%", "第十五条", "十大强企", "一个企业", "3家"])
def test_figures_that_are_not_money(text):
    assert find_amounts(text) == []


@pytest.mark.parametrize("bad, message", [
    ("", "请填写"), ("-5", "负数"), ("0", "大于0"), ("1e30", "过大"), ("abc", "无法识别"),
    ("12万美元", "美元"), ("NaN", "有效数字"), ("3到5万", "范围"),
])
def test_parse_amount_errors_name_the_problem(bad, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(bad, "合同额")


def test_format():
    assert fmt_yuan(150000) == "150000元（15万元）"
    assert fmt_yuan(2_130_000_000) == "2130000000元（21.3亿元）"


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10) ** 12, places=2,
                      allow_nan=False, allow_infinity=False)
FORMULA_RULES = ["digital-transformation", "cloud-migration", "brand-promotion", "equity-financing"]


@pytest.mark.parametrize("rule_id", FORMULA_RULES)
@given(a=amounts, b=amounts)
def test_caps_never_exceeded_and_monotonic(rule_id, a, b):
    rule = RULES[rule_id]
    lo, hi = sorted((a, b))
    x, y = calculate(rule, lo).amount_yuan, calculate(rule, hi).amount_yuan
    assert 0 <= x <= y <= rule.cap_yuan


@given(v=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20 * Y), places=2))
def test_financing_is_zero_up_to_20_yi(v):
    assert calculate(RULES["equity-financing"], v).amount_yuan == 0


@given(v=amounts)
def test_percent_rules_never_exceed_their_rate(v):
    for rule_id in ("digital-transformation", "cloud-migration", "brand-promotion", "expo"):
        rule = RULES[rule_id]
        assert calculate(rule, v).amount_yuan <= int((v * rule.rate).to_integral_value("ROUND_HALF_UP"))


def test_langchain_tools_wrap_the_same_calculators():
    from assistant.llm.tools import calculator_tools

    tools = {t.name: t for t in calculator_tools(list(RULES.values()))}
    assert set(tools) == {"digital_transformation", "cloud_migration", "equity_financing", "brand_promotion",
                          "expo", "patent_fees"}
    out = tools["cloud_migration"].invoke({"amount": "50万"})
    assert out["amount_yuan"] == 150000 and out["section"] == "5" and out["quote"] == RULES["cloud-migration"].quote
    assert "负数" in tools["cloud_migration"].invoke({"amount": "-1"})["error"]
    assert tools["equity_financing"].args_schema.model_json_schema()["required"] == ["amount"]


# ---- the router: what each amount of an ask is for, and what is computed --------------------------
from assistant.calculate.router import route  # noqa: E402

ALL = list(RULES.values())


def routed(question, industry=None, history=()):
    return route(question, list(history), ALL, bool(history), industry)


@pytest.mark.parametrize("question, industry, amount, first_step", [
    ("数字化转型升级签了5百万的合同，能补多少？", "制造业", 1_000_000, "500万元"),
    ("制造业数字化转型合同1.5百万能补多少", "制造业", 300_000, "150万元"),
    ("制造业数字化转型合同5千万能补多少", "制造业", 1_000_000, "5000万元"),
    ("制造业数字化转型合同1百5十万能补多少", "制造业", 300_000, "150万元"),
    ("上云上平台合同15万5，补多少", None, 46_500, "15.5万元"),
    ("上云上平台合同450w，补多少", None, 300_000, "450万元"),
    ("入选品牌强国，品牌推广费用350W，补多少", None, 300_000, "350万元"),
    ("上云上平台合同壹佰万元整，补多少", None, 300_000, "100万元"),
    ("制造业数字化转型合同陆佰万元，补多少", "制造业", 1_000_000, "600万元"),
    ("区域性股权市场融资22个亿，奖励多少", None, 2_000_000, "22亿元"),
    ("上云上平台合同80万元人民币，补多少", None, 240_000, "80万元"),
    ("3M公司给我们做的上云合同50万，补多少", None, 150_000, "50万元"),
    ("营收2亿，制造业数字化转型合同300万，补多少", "制造业", 600_000, "300万元"),
    ("制造业数字化转型合同500万元（5,000,000元），补多少", "制造业", 1_000_000, "500万元"),
])
def test_amounts_as_written_are_computed_and_stated(question, industry, amount, first_step):
    r = routed(question, industry)
    assert not r.asks_input and r.calculation.amount_yuan == amount, (r.lead, r.calculation)
    assert r.calculation.steps[0].startswith("按") and first_step in r.calculation.steps[0]


@pytest.mark.parametrize("question, says", [
    ("上云上平台合同额是负的50万，补多少", "负数"), ("上云上平台合同-50万，补多少", "负数"),
    ("上云上平台合同50万美元，补多少", "人民币"), ("上云合同3到5万，补多少", "范围"),
    ("上云合同3-5万，补多少", "范围"), ("上云合同几十万能补多少", "确切"), ("上云合同十几万能补多少", "确切"),
    ("上云合同不到50万，补多少", "上限或下限"), ("上云合同10万或者20万，补多少", "哪一个"),
    ("区域性股权市场融资3亿5000，奖励多少", "两种常见读法"), ("专利年费减缴后每年135元，能资助多少", "哪几年"),
    ("专利年费原价900元，能资助多少", "减缴后"), ("上云上平台改造能拿几十万吗", "确切"),
])
def test_amounts_not_read_for_sure_are_asked_back(question, says):
    r = routed(question)
    assert r.asks_input and r.calculation is None and says in r.lead, r.lead
    assert r.lead.endswith(("？", "。")) and "可获得" not in r.lead


def test_several_items_are_combined_as_the_rule_says():
    # cloud: 10万 and 20万 give 9万 however the cap is read
    r = routed("上云上平台两个合同10万和20万，补多少")
    assert r.calculation.amount_yuan == 90_000 and "两种口径结果相同" in " ".join(r.calculation.steps)
    # digital: the text does not say per contract or in total, and here it matters: both are given
    r = routed("制造业数字化转型两个合同300万和400万，补多少", "制造业")
    assert r.calculation.amount_yuan == 1_000_000 and "140万元" in r.lead and "100万元" in r.lead
    # financing: 年度累计 says to add them up
    r = routed("区域性股权市场融资两笔，10亿和12亿，奖励多少")
    assert r.calculation.amount_yuan == 2_000_000 and "年度累计" in " ".join(r.calculation.steps)
    # a total said beside its items
    r = routed("上云上平台两个合同一共30万，补多少")
    assert r.calculation.amount_yuan == 90_000


def test_patent_fees_over_several_years_use_the_reduced_fee():
    r = routed("发明专利第2到第4年年费，原价900元，减缴后每年135元，能资助多少？")
    c = r.calculation
    assert c.amount_yuan == 405 and c.inputs["fees_yuan"] == 405 and c.inputs["periods"] == 3
    assert "原价不计" in " ".join(c.steps) and "135 × 3 = 405元" in " ".join(c.steps)
    r = routed("发明专利第9到第12年年费，减缴后每年600元，能资助多少？")
    assert r.calculation.amount_yuan == 1200 and "前十年" in " ".join(r.calculation.steps)


def test_a_claim_is_checked_against_what_the_rule_gives():
    r = routed("花了50w参展，听说能全报，是给50万对吧？")
    assert r.calculation.amount_yuan == 350_000 and r.verdict == "不能"
    assert r.lead.startswith("不能") and "35万元" in r.lead and "全额" in r.lead
    r = routed("上云上平台合同额200万，能拿50万吗？")
    assert r.verdict == "不能" and r.calculation.amount_yuan == 300_000
    r = routed("上云上平台合同额60万，能拿15万吗？")
    assert r.verdict == "可以" and r.calculation.amount_yuan == 180_000


@pytest.mark.parametrize("question, amount, says", [
    ("区域性股权市场融资1.5亿，奖励多少", 0, "未达到20亿元"),
    ("直接融资10到15亿有奖励吗", 0, "未达到20亿元"),
    ("制造业数字化转型合同超过500万，补多少", 1_000_000, "100万元"),
])
def test_a_result_every_value_shares_is_said_without_a_guess(question, amount, says):
    r = routed(question, "制造业")
    assert not r.asks_input and r.calculation.amount_yuan == amount and says in r.lead
    assert not re.search(r"(?<![\d,.])0元", r.lead)


def test_an_approximate_amount_is_computed_and_said_to_be_an_estimate():
    r = routed("上云上平台合同大概50万，补多少")
    assert r.calculation.amount_yuan == 150_000 and "估计" in r.lead and "约50万元" in r.calculation.steps[0]


def test_followup_takes_the_rule_from_history_and_the_amount_from_the_question():
    r = routed("那如果合同额是10万元呢？", history=["上云上平台改造补贴怎么算？"])
    assert r.calculation.amount_yuan == 30_000


@pytest.mark.parametrize("question, verdict", [
    ("上年度营收不到1亿，能申报企业技术中心吗", None), ("非建筑业，营收超过2亿，能申报企业技术中心吗", "符合"),
    ("营收8000万，能申报企业技术中心吗", "不符合"),
])
def test_threshold_with_bounds(question, verdict):
    r = routed(question)
    assert r.verdict == verdict and (r.asks_input if verdict is None else not r.asks_input), r.lead


@pytest.mark.parametrize("question, amount, says", [
    ("上云补贴最高30万，我们合同80万能拿多少", 240_000, ""),
    ("上云补助不超过30万，合同额50万补多少", 150_000, ""),
    ("上云补贴最高50万，我们合同200万能拿多少", 300_000, "原文规定的上限是30万元"),
    ("我们注册资本1000万，上云合同50万，能补多少", 150_000, ""),
    ("上云上平台合同额50万，其中软件30万，能补多少", 150_000, ""),
    ("联系电话13800138000，上云合同50万，能补多少", 150_000, ""),
])
def test_amounts_that_are_not_the_input_are_set_aside(question, amount, says):
    r = routed(question)
    assert r.calculation.amount_yuan == amount and says in r.lead, (r.lead, r.calculation)


def test_an_amount_that_does_not_say_what_it_is_is_asked_about():
    r = routed("上云合同10万，还有一个20万，补多少")
    assert r.asks_input and "20万" in r.lead and r.calculation is None
