"""The amount reader against oracles that are not ours: cn2an's Arabic → Chinese renderer (and its
financial capitals), renderings of one value that must all read alike, a hand-written table of how
people write amounts, and every word list of corpus/amounts.toml with its examples."""
from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import cn2an
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assistant.understand.amounts import (APPROXIMATE, EXACT, AmountError, find_amounts, parse_amount,
                                          read_amounts)

ROOT = Path(__file__).resolve().parent.parent
WORDS = tomllib.loads((ROOT / "corpus/amounts.toml").read_text(encoding="utf-8"))
READING_LISTS = ["letter_units", "counted", "money_context", "yuan", "foreign", "negative", "range",
                 "alternative", "approximate", "vague", "bound_upper", "bound_lower", "not_money_before",
                 "not_money_after"]
PROBLEM_KINDS = {"problem", "range", "vague", "bound", "alternative"}
W, Y = 10 ** 4, 10 ** 8


def one(text: str):
    found = read_amounts(text)
    assert len(found) == 1, (text, found)
    return found[0]


# ---- every reading list's examples and non-examples --------------------------------------------------
def _cases(kind: str):
    for name in READING_LISTS:
        for case in WORDS[name].get(kind, []):
            yield pytest.param(name, case, id=f"{name}:{case if isinstance(case, str) else case[0]}")


@pytest.mark.parametrize("name, case", list(_cases("examples")))
def test_word_list_examples(name, case):
    text, expected = (case, None) if isinstance(case, str) else case
    if name in ("not_money_before", "not_money_after"):
        assert read_amounts(text) == [], text
        return
    a = one(text)
    if expected in PROBLEM_KINDS:
        assert a.problem and a.yuan is None, (text, a)
        if expected != "problem":
            assert a.kind == expected
    else:
        assert a.usable and a.yuan == Decimal(str(expected)), (text, a)


@pytest.mark.parametrize("name, case", list(_cases("non_examples")))
def test_word_list_non_examples(name, case):
    if isinstance(case, str):
        assert read_amounts(case) == [], case
        return
    text, expected = case
    a = read_amounts(text)[0]
    if expected in PROBLEM_KINDS:
        assert a.kind == expected
    else:
        assert a.usable and a.yuan == Decimal(str(expected)), (text, a)


# ---- how people write amounts: a table written by hand ------------------------------------------------
COLLOQUIAL = [
    # the forms
    ("数字化转型升级签了5百万的合同", 5_000_000), ("合同1.5百万", 1_500_000), ("合同5千万", 50_000_000),
    ("合同2.5千万", 25_000_000), ("合同1百5十万", 1_500_000), ("融资3亿5000万", 350_000_000),
    ("合同15万5，补多少", 155_000), ("合同1万5000元", 15_000), ("合同450w", 4_500_000),
    ("品牌推广费用350W", 3_500_000), ("合同额80k", 80_000), ("融资22个亿", 2_200_000_000),
    ("壹佰万元整", 1_000_000), ("陆佰万元", 6_000_000), ("80万元人民币", 800_000),
    ("合同１，５００，０００元", 1_500_000), ("合同1 500 000元", 1_500_000), ("合同1,500,000", 1_500_000),
    ("花了50w参展", 500_000), ("减缴后每年135元", 135),
    # and more, as callers say them
    ("合同两百万", 2_000_000), ("一百五十万", 1_500_000), ("一百五十万元", 1_500_000), ("合同额一百五", None),
    ("营收一亿二", 120_000_000), ("花了三万五", 35_000), ("一万零五元", 10_005), ("十五万五千元", 155_000),
    ("幺百万元", 1_000_000), ("两千五百万", 25_000_000), ("一千零一十元", 1010), ("壹拾伍万元正", 150_000),
    ("贰佰万元", 2_000_000), ("叁亿伍仟万元", 350_000_000), ("玖仟元", 9000), ("一点五亿", 150_000_000),
    ("合同3个w", 30_000), ("1.2万亿", 1_200_000_000_000), ("15000万元", 150_000_000), ("1.5亿", 150_000_000),
    ("3亿5", 350_000_000), ("1万5", 15_000), ("1万500元", 10_500), ("2千5", 2500), ("5块钱", 5),
    ("¥80,000", 80_000), ("￥50万", 500_000), ("RMB50万", 500_000), ("人民币叁拾万元整", 300_000),
    ("融资21.3亿", 2_130_000_000), ("６０万", 600_000), ("合同额 50 万元", 500_000), ("50萬", 500_000),
    ("兩百萬元", 2_000_000), ("合同500000", 500_000), ("合同额300000元", 300_000),
]


@pytest.mark.parametrize("text, yuan", COLLOQUIAL)
def test_colloquial_forms(text, yuan):
    found = read_amounts(text)
    if yuan is None:
        assert found == [], found  # 一百五 with no unit or mark: a count, not money
        return
    assert len(found) == 1 and found[0].usable and found[0].yuan == yuan, (text, found)


@pytest.mark.parametrize("text, kind", [
    ("合同额是负的50万", "negative"), ("-50万", "negative"), ("50万美元", "currency"), ("$5000", "currency"),
    ("合同3到5万", "range"), ("3-5万", "range"), ("3万-5万元", "range"), ("10万到20万", "range"),
    ("几十万", "vague"), ("十几万", "vague"), ("50多万", "vague"), ("上百万", "vague"), ("三五万", "vague"),
    ("七八十万", "vague"), ("几个亿", "vague"), ("不到50万", "bound"), ("超过500万", "bound"),
    ("100万以内", "bound"), ("10万或20万", "alternative"), ("3亿5000", "unreadable"), ("1e30元", "unreadable"),
    ("5万3亿", "unreadable"),
])
def test_what_cannot_be_read_for_sure_is_asked_back(text, kind):
    a = one(text)
    assert a.kind == kind and a.yuan is None and a.problem, a
    assert a.problem.endswith(("？", "误", "金额")) and text.strip("合同额是") in a.problem or a.text in a.problem


@pytest.mark.parametrize("text, low, high", [
    ("3到5万", 3 * W, 5 * W), ("三到五万", 3 * W, 5 * W), ("几十万", 10 * W, 100 * W), ("十几万", 11 * W, 20 * W),
    ("50多万", 50 * W, 60 * W), ("三五万", 3 * W, 5 * W), ("一两百万", 100 * W, 200 * W), ("几个亿", Y, 10 * Y),
    ("不到50万", 0, 50 * W), ("超过500万", 500 * W, None), ("上百万", 100 * W, None), ("1.5亿~2亿", 1.5 * Y, 2 * Y),
])
def test_spans_carry_their_ends(text, low, high):
    a = one(text)
    assert a.low == Decimal(str(low)) and (a.high is None if high is None else a.high == Decimal(str(high))), a


@pytest.mark.parametrize("text, yuan", [("大概50万", 50 * W), ("50万左右", 50 * W), ("约30万元", 30 * W)])
def test_approximate_figures_are_usable_and_marked(text, yuan):
    a = one(text)
    assert a.kind == APPROXIMATE and a.usable and a.yuan == yuan


@pytest.mark.parametrize("text", ["前30名", "第3条", "10个园区", "2028年底", "30%", "百分之三十", "3家", "5G",
                                  "3M公司", "十大强企", "千亿畅融", "万一", "一次性奖励", "2023年签的合同", "二零二三年",
                                  "第2到第4年", "电机功率350W", "5万平方米", "3万人", "1000台设备", "4K电视",
                                  "电话13800138000"])
def test_not_money(text):
    assert read_amounts(text) == []


@pytest.mark.parametrize("text", ["两个合同10万和20万，补多少", "合同300万，营收2亿，能拿多少？",
                                  "花了50w参展，听说能全报，是给50万对吧？"])
def test_spans_are_the_callers_words(text):
    for a in read_amounts(text):
        assert text[a.start:a.end] == a.text


def test_chat_and_calculator_tab_read_alike():
    """The issue: 15万5 was 150,005 in chat and 155,000 in the calculator tab."""
    for written in ("15万5", "1万5000", "5百万", "450w", "壹佰万元整", "80万元人民币", "22个亿"):
        chat = [m.yuan for m in find_amounts(f"上云上平台合同{written}，补多少？")]
        assert chat == [parse_amount(written)], written


@pytest.mark.parametrize("text", ["50万美元", "负的50万", "-50万", "3亿5000", "1e308万元"])
def test_refused_amounts_raise_in_the_old_interface(text):
    with pytest.raises(AmountError):
        find_amounts(text)
    with pytest.raises(AmountError):
        parse_amount(text)


@pytest.mark.parametrize("text", ["3到5万", "几十万", "不到50万", "10万或20万"])
def test_unsure_amounts_are_refused_by_the_form(text):
    with pytest.raises(AmountError, match="？"):
        parse_amount(text, "合同额")


# ---- oracles that are not ours -----------------------------------------------------------------------
amounts = st.integers(min_value=1, max_value=10 ** 12)


def _says_thousands_after_yi(n: int) -> bool:
    """cn2an writes 568,100,002,562 as 五千六百八十一亿二千五百六十二 (no 零 where the 万 place is
    empty). People say 三亿五千 for 3亿5千万 too, so a figure after 亿 with no 万 is asked back."""
    return n >= 10 ** 8 and (n // W) % W == 0 and n % W >= 10


@given(amounts)
@settings(max_examples=300, deadline=None)
@example(5_000_000)
@example(1_500_000)
@example(155_000)
@example(10_005)
@example(350_000_000)
@example(568_100_002_562)
def test_reads_what_cn2an_writes(n):
    """cn2an writes 一百五十万, 一万零五, 三亿五千万: each must read back to the number, or be
    asked back where the form has two usual readings — never read as another number."""
    for written in (cn2an.an2cn(n), cn2an.an2cn(n, "up") + "元", cn2an.an2cn(n, "rmb")):
        if _says_thousands_after_yi(n) and "零" not in written.split("亿")[-1]:
            with pytest.raises(AmountError, match="两种常见读法"):
                parse_amount(written)
            continue
        assert parse_amount(written) == n, written
        # in a sentence a bare numeral without 万/亿 is a count (十大, 一个): money needs its 元
        said = written if written.endswith(("元", "整")) or n >= W else written + "元"
        assert [m.yuan for m in find_amounts(f"合同额{said}，补多少？")] == [n], said


@given(st.integers(min_value=1, max_value=10 ** 10), st.integers(min_value=0, max_value=99))
@settings(max_examples=100, deadline=None)
def test_reads_cn2an_amounts_with_jiao_and_fen(n, cents):
    written = cn2an.an2cn(f"{n}.{cents:02d}", "rmb")
    if _says_thousands_after_yi(n) and "零" not in written.split("亿")[-1]:
        return  # asked back (test_reads_what_cn2an_writes)
    assert parse_amount(written) == Decimal(n) + Decimal(cents) / 100, written


def _full_width(s: str) -> str:
    return s.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789,"})


def renderings(n: int) -> list[str]:
    """One value in the ways people write it (each a form a caller might type)."""
    out = [f"{n}元", f"{n:,}元", f"{n:,}".replace(",", " ") + "元", _full_width(f"{n:,}") + "元", f"¥{n}",
           f"人民币{n}元"]
    if not _says_thousands_after_yi(n):  # (those are asked back: test_reads_what_cn2an_writes)
        out += [cn2an.an2cn(n) + "元", cn2an.an2cn(n, "up") + "元整"]
    wan, rest = divmod(n, W)
    if rest == 0:
        out += [f"{wan}万", f"{wan}万元", f"{wan}w", f"{wan}W", f"{wan}万元人民币"]
    elif wan and rest >= 10:
        out.append(f"{wan}万{rest}元")  # 1万5000元, 1万500元: the digits after 万 as written
    if n % 1000 == 0 and n >= W:
        wan_text = f"{Decimal(n) / W:f}"
        out.append((wan_text.rstrip("0").rstrip(".") if "." in wan_text else wan_text) + "万")  # 1.5万, 99.9万
        out.append(f"{n // 1000}k")
    if n % Y == 0:
        out += [f"{n // Y}亿", f"{n // Y}个亿"]
    elif n > Y and n % W == 0:
        out.append(f"{n // Y}亿{(n % Y) // W}万")  # 3亿5000万
    if n % 10 ** 6 == 0 and n // 10 ** 6 < 10:
        out.append(f"{n // 10 ** 6}百万")  # 5百万
    if n % 10 ** 7 == 0 and n // 10 ** 7 < 10:
        out.append(f"{n // 10 ** 7}千万")  # 5千万
    return out


values = st.one_of(st.integers(min_value=1000, max_value=10 ** 12),
                   st.integers(min_value=1, max_value=10 ** 5).map(lambda k: k * W),
                   st.integers(min_value=1, max_value=9999).map(lambda k: k * 1000),
                   st.integers(min_value=1, max_value=999).map(lambda k: k * Y),
                   st.integers(min_value=1, max_value=9).map(lambda k: k * 10 ** 6))


@given(values)
@settings(max_examples=300, deadline=None)
@example(5_000_000)
@example(50_000_000)
@example(15_000)
@example(4_500_000)
@example(2_200_000_000)
def test_every_rendering_of_a_value_reads_the_same(n):
    for written in renderings(n):
        assert parse_amount(written) == n, written
        read = read_amounts(f"合同额{written}，能补多少？")
        assert [(a.yuan, a.kind) for a in read] == [(n, EXACT)], written


# ---- what each amount is for: the role lists' examples ------------------------------------------------
ROLE_LISTS = ["claim", "rule_figure", "list_price", "per_unit", "total", "part", "joins", "restated"]


def _role_cases(kind: str):
    for name in ROLE_LISTS:
        for text, role in WORDS[name].get(kind, []):
            yield pytest.param(text, role, id=f"{name}:{text}")


@pytest.mark.parametrize("text, role", list(_role_cases("examples")) + list(_role_cases("non_examples")))
def test_role_lists(text, role):
    from assistant.calculate.roles import amount_roles

    roles = amount_roles(text)
    assert roles and roles[-1].role == role, (text, roles)


@pytest.mark.parametrize("text, paid", [(t, True) for t in WORDS["paid"]["examples"]]
                         + [(t, False) for t in WORDS["paid"]["non_examples"]])
def test_paid_list(text, paid):
    from assistant.calculate.roles import amount_roles, clause_before
    from assistant.understand.amounts import amount_words

    amount = amount_roles(text)[-1].amount
    assert bool(amount_words().anywhere("paid", clause_before(text, amount), "before")) is paid, text


@pytest.mark.parametrize("text, quantity", [tuple(c) for c in WORDS["quantity"]["examples"] + WORDS["quantity"]["non_examples"]])
def test_quantity_list(text, quantity):
    from assistant.calculate.roles import amount_roles

    assert amount_roles(text)[-1].quantity == quantity


@pytest.mark.parametrize("text, count", [tuple(c) for c in WORDS["period"]["examples"]])
def test_period_examples(text, count):
    from assistant.calculate.roles import count_periods

    assert count_periods(text).count == count


@pytest.mark.parametrize("text", WORDS["period"]["non_examples"])
def test_period_non_examples(text):
    from assistant.calculate.roles import count_periods

    assert count_periods(text) is None


@pytest.mark.parametrize("name", ["full_claim", "asks_figure", "each_ask"])
def test_any_lists(name):
    from assistant.understand.amounts import amount_words

    w = amount_words()
    assert all(w.anywhere(name, t) for t in WORDS[name]["examples"])
    assert not any(w.anywhere(name, t) for t in WORDS[name]["non_examples"])
