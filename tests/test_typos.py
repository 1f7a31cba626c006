"""Pinyin-IME slips in policy terms are read as the term; ordinary wording never is."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.understand.lexicon import correct_typos
from evals.sets import read_set

ROOT = Path(__file__).resolve().parent.parent


def fixes(bot, question):
    a = bot.answerer
    return correct_typos(question, a.lexicon.vocabulary(), a.seg.terms(question), a.seg.is_dictionary_word)


@pytest.mark.parametrize("question, typed, meant", [
    ("首流骗有奖励吗？", "首流骗", "首流片"),
    ("上云上平抬改造补贴比例是多少？", "上云上平抬", "上云上平台"),
    ("知识产权智押融资有政策吗？", "知识产权智押融资", "知识产权质押融资"),
    ("进入专板培育曾的企业有奖励吗？", "专板培育曾", "专板培育层"),
    ("参加线上外贸展汇的费用能补贴吗？", "线上外贸展汇", "线上外贸展会"),
])
def test_slips_are_read_as_the_term(bot, question, typed, meant):
    text, found = fixes(bot, question)
    assert found == [(typed, meant)] and meant in text
    answer = bot.ask(question)
    assert f"已按“{meant}”理解“{typed}”" in answer.text


@pytest.mark.parametrize("question", ["首贷补助比例是多少？", "区里对专精特新企业认定有奖励吗？",
                                      "专精特新企业有哪些支持政策？", "企业所得税优惠税率是多少？",
                                      "在区域性股权市场直接融资有奖励吗？"])
def test_ordinary_wording_is_left_alone(bot, question):
    assert fixes(bot, question) == (question, [])


def test_a_one_character_difference_that_does_not_sound_alike_is_no_slip(bot):
    """拖着不付 is a lexicon phrase one character from 拖着不退, but 退 (tui) is no IME slip for 付 (fu)."""
    assert fixes(bot, "那要是我们一直拖着不退呢，会罚多少？")[1] == []


@pytest.mark.parametrize("a, b, alike", [
    ("骗", "片", True), ("抬", "台", True), ("智", "质", True), ("汇", "会", True), ("力", "利", True),
    ("曾", "层", True),  # 曾 is also read ceng
    ("资", "知", True), ("能", "冷", True), ("们", "门", True),  # IME fuzzy syllables: z/zh, n/l, en/eng
    ("退", "付", False), ("层", "台", False), ("补", "贴", False), ("首", "手", True),
])
def test_sound_alike(a, b, alike):
    from assistant.understand.pinyin import sound_alike
    assert sound_alike(a, b) is alike


def test_no_question_in_the_project_sets_is_corrected_unless_it_is_a_typo_case(bot):
    cases = [c for p in sorted((ROOT / "evals/sets").glob("*.jsonl")) for c in read_set(p)[0]]
    wrongly = [(c.id, fixes(bot, c.question)[1]) for c in cases if c.kind != "typo" and fixes(bot, c.question)[1]]
    assert not wrongly
