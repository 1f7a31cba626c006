"""政策体检: profile → met / not met / unknown per measure, with amounts and clauses."""
from __future__ import annotations

import pytest

from assistant.calculate.eligibility import ProfileError

FULL = {"qualification": "市级专精特新", "industry": "制造业", "revenue_last_year": "1.2亿",
        "digital_contract": "120万元", "cloud_contract": "50万", "board_layer": "培育层",
        "direct_financing": "22亿", "listing": "无", "brand_listed": False, "foreign_trade": True,
        "expo_cost": "20万"}


def rows(bot, profile):
    return {r.rule_id: r for r in bot.check(profile).rows}


def test_full_profile(bot):
    r = rows(bot, FULL)
    assert (r["digital-transformation"].status, r["digital-transformation"].max_amount_yuan) == ("met", 240000)
    assert r["cloud-migration"].max_amount_yuan == 150000
    assert r["board-reward"].max_amount_yuan == 300000
    assert r["equity-financing"].max_amount_yuan == 2000000
    assert r["listing"].status == "not_met" and r["brand-promotion"].status == "not_met"
    assert r["expo"].max_amount_yuan == 140000
    assert r["tech-center"].status == "met"
    assert r["patent-fees"].status == "unknown" and r["patent-fees"].ask
    assert r["digital-transformation"].label == "五、实施“数智转型”行动"


def test_not_a_zjtx_enterprise_meets_nothing(bot):
    r = rows(bot, {**FULL, "qualification": "无"})
    assert {x.status for x in r.values()} == {"not_met"}
    assert "小巨人" in r["cloud-migration"].reason


def test_unknown_qualification_turns_met_into_unknown_with_a_question(bot):
    profile = {k: v for k, v in FULL.items() if k != "qualification"}
    r = rows(bot, profile)
    assert r["cloud-migration"].status == "unknown" and "小巨人" in r["cloud-migration"].ask


def test_empty_profile_asks_for_everything(bot):
    r = rows(bot, {})
    assert all(x.status == "unknown" and x.ask for x in r.values())


@pytest.mark.parametrize("industry, status", [("建筑业", "not_met"), ("软件和信息服务业", "not_met"),
                                              ("制造业", "met"), ("非制造业", "not_met"),
                                              ("非金属矿物制品制造业", "met")])
def test_industry_boundaries(bot, industry, status):
    assert rows(bot, {**FULL, "industry": industry})["digital-transformation"].status == status


def test_revenue_boundary(bot):
    assert rows(bot, {**FULL, "revenue_last_year": "1亿"})["tech-center"].status == "met"
    assert rows(bot, {**FULL, "revenue_last_year": "9999万"})["tech-center"].status == "not_met"
    assert rows(bot, {**FULL, "industry": "建筑业"})["tech-center"].status == "not_met"


def test_financing_below_band_is_not_met(bot):
    assert rows(bot, {**FULL, "direct_financing": "19亿"})["equity-financing"].status == "not_met"


@pytest.mark.parametrize("profile, field", [
    ({"qualification": "省级"}, "资质"), ({"digital_contract": "-5"}, "合同额"),
    ({"digital_contract": "很多"}, "数字化转型合同额"), ({"brand_listed": "也许"}, "品牌榜单"),
    ({"revenu": "1亿"}, "revenu"), ({"industry": 3}, "行业"), ({"expo_cost": "1e30"}, "展会"),
])
def test_bad_profiles_name_the_field(bot, profile, field):
    with pytest.raises(ProfileError, match=field):
        bot.check(profile)


def test_csv_export(bot):
    csv_text = bot.check(FULL).to_csv()
    assert csv_text.splitlines()[0].startswith("结果,措施")  # the column order the app writes
    assert "240000" in csv_text


def test_a_district_level_enterprise_is_out_of_scope(bot):
    report = bot.check({"qualification": "区级专精特新", "industry": "制造业", "digital_contract": "120万"})
    assert {r.status for r in report.rows} == {"not_met"}
    assert all("区级" in r.reason for r in report.rows)
