"""Subsidy arithmetic: boundary tables and properties (hypothesis)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.understand.amounts import AmountError, find_amounts, fmt_yuan, parse_amount
from assistant.calculate.calculators import CalculationError, calculate, cap_check, threshold
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
    assert "读法" in steps[0] and "21亿元" in steps[0]
    assert any("按上限 2000000 计" in s for s in steps)


def test_contract_example_steps():
    calc = calculate(RULES["cloud-migration"], Decimal(500_000))
    assert calc.to_dict() == {"rule_id": "cloud-migration", "inputs": {"contract_yuan": 500000},
                              "amount_yuan": 150000,
                              "steps": ["合同额 500000 × 30% = 150000", "150000 ≤ 上限 300000"]}


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
    ("12万美元", "无法识别"), ("NaN", "有效数字"),
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
