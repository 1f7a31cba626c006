"""Questions the distillation generates over articles (assistant/training/distill.py): rule
sentences asked back, everyday words asked alone. Pure functions: no teacher needed."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from assistant.training.distill import everyday_questions, load_rules, rule_questions, split_rule

MARKERS = load_rules()[0]


@pytest.mark.parametrize("sentence, case, consequence", [
    ("用人单位依照本法第三十六条规定向劳动者提出解除劳动合同的，应当向劳动者支付经济补偿。",
     "用人单位依照本法第三十六条规定向劳动者提出解除劳动合同", "应当向劳动者支付经济补偿"),
    ("共同犯罪是指二人以上共同故意犯罪。", "共同犯罪", "是指二人以上共同故意犯罪"),
    ("已满十六周岁的人犯罪，应当负刑事责任。", "已满十六周岁的人犯罪", "应当负刑事责任"),
    # the consequence stops at its clause: the question asks one thing
    ("因不满十六周岁不予刑事处罚的，责令其父母加以管教；在必要的时候，依法进行专门矫治教育。",
     "因不满十六周岁不予刑事处罚", "责令其父母加以管教"),
    ("用人单位不得违反本法规定解除劳动合同", "用人单位", "不得违反本法规定解除劳动合同"),
])
def test_a_rule_sentence_splits_into_its_case_and_what_follows(sentence, case, consequence):
    assert split_rule(sentence, MARKERS) == (case, consequence)


@pytest.mark.parametrize("sentence", [
    "本法自2008年1月1日起施行。",  # no rule in it
    "的，应当支付。",  # a marker with nothing before it
    "当事人应当",  # nothing after it
])
def test_a_sentence_without_a_rule_gives_no_question(sentence):
    assert split_rule(sentence, MARKERS) is None


def test_a_long_case_is_cut_to_its_clause_nearest_the_rule():
    sentence = "，".join(["当事人一方不履行合同义务或者履行合同义务不符合约定"] * 3) + "的，应当承担违约责任。"
    case, consequence = split_rule(sentence, MARKERS, longest=40)
    assert case == "当事人一方不履行合同义务或者履行合同义务不符合约定"
    assert consequence == "应当承担违约责任"


def test_rule_questions_ask_each_rule_in_a_callers_words():
    passages = ["劳动者在试用期间被证明不符合录用条件的，用人单位可以解除劳动合同。用人单位不得随意解除劳动合同。",
                "本法自公布之日起施行。"]
    questions = rule_questions(passages, list, {}, 10, random.Random(1))
    assert len(questions) == 2  # one per rule sentence; the date line has none
    assert all(("劳动者在试用期间被证明不符合录用条件" in q or "用人单位" in q) for q in questions)
    assert rule_questions(passages, list, {}, 10, random.Random(1)) == questions  # seeded
    assert rule_questions(passages, list, {}, 0, random.Random(1)) == []


def test_everyday_questions_ask_words_callers_use_more_than_the_regulations_do():
    words = ["老公", "配偶", "欠钱", "借款合同", "房东", "的"]
    corpus = Counter({"配偶": 500, "借款合同": 300, "老公": 0, "欠钱": 1, "房东": 2, "的": 9000})
    general = {"老公": 1064, "配偶": 80, "欠钱": 3, "借款合同": 1, "房东": 200, "的": 300000}
    questions = everyday_questions(words, corpus, general, 2, random.Random(0))
    assert len(questions) == 2
    assert "老公" in questions[0] and "房东" in questions[1]  # commonest first, one word each
    assert not any(w in q for q in questions for w in ("配偶", "借款合同"))
    assert everyday_questions(words, corpus, general, 0, random.Random(0)) == []
