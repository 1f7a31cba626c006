"""What the app shows, built from an answer's fields (assistant/serve/render.py), checked on answers
made with the domain classes themselves: two asks, a 不符合 with a figure computed beside it, a
refusal, an answer from before parts existed. The browser tests check the same on the live app."""
from __future__ import annotations

import html
import re

import pytest

from assistant.models import Answer, AnswerPart, Calculation, Citation
from assistant.serve import render

POLICY = "关于实施十大强企行动激发专精特新企业活力的若干措施"
DIGITAL = Citation("bj-zjtx-2023", POLICY, "5", "五、实施“数智转型”行动",
                   "支持制造业专精特新企业开展数字化转型升级，按照合同额的20%给予最高100万元的资金支持。")
CLOUD = Citation("bj-zjtx-2023", POLICY, "5", "五、实施“数智转型”行动",
                 "鼓励专精特新企业实施上云上平台改造，按照合同额的30%给予最高30万元的资金支持。")
SCOPE = Citation("bj-zjtx-2023", POLICY, "scope", "适用范围和执行期",
                 "本政策适用于国家级专精特新“小巨人”企业和市级专精特新中小企业")
DIGITAL_CALC = Calculation("digital-transformation", {"contract_yuan": 1200000}, 240000,
                           ["合同额 1200000 × 20% = 240000", "240000 ≤ 上限 1000000"])
CLOUD_CALC = Calculation("cloud-migration", {"contract_yuan": 500000}, 150000,
                         ["合同额 500000 × 30% = 150000", "150000 ≤ 上限 300000"])


def two_asks() -> dict:
    parts = [AnswerPart("制造业数字化转型升级", None, "可获得的资金支持为24万元。", [DIGITAL], [], DIGITAL_CALC),
             AnswerPart("上云上平台改造", None, "可获得的资金支持为15万元。", [CLOUD], [], CLOUD_CALC)]
    return Answer("（渲染由字段完成，不读此文字）", False, [DIGITAL, CLOUD], DIGITAL_CALC,
                  short="制造业数字化转型升级：可获得24万元；上云上平台改造：可获得15万元。",
                  more_calculations=[CLOUD_CALC], parts=parts).to_dict()


def district_level() -> dict:
    """不符合 (a 区级 enterprise), then the measure asked about with the amount the calculator
    still computed (as the pipeline answers it)."""
    parts = [AnswerPart("适用范围", "不符合", "本政策适用于国家级专精特新“小巨人”企业和市级专精特新中小企业。",
                        [SCOPE], ["您提到“区级专精特新”，不在本政策适用范围内。"]),
             AnswerPart("制造业数字化转型升级", None, "可获得的资金支持为24万元。", [DIGITAL], [], DIGITAL_CALC)]
    return Answer("不符合：……", False, [SCOPE, DIGITAL], DIGITAL_CALC, short="不符合。", parts=parts).to_dict()


def test_a_figure_before_the_not_eligible_part_is_still_wrong_to_offer_after_it():
    d = two_asks()
    d["parts"][0]["verdict"] = "不符合"  # 非制造业: the digital part is refused, the cloud part after it too
    assert render.figures(d["parts"]) == [False, False]
    d = two_asks()
    d["parts"][1]["verdict"] = "不符合"
    assert render.figures(d["parts"]) == [True, False]


def refused() -> dict:
    return Answer("已加载的文件中没有关于这个问题的规定。", True,
                  parts=[AnswerPart("", None, "已加载的文件中没有关于这个问题的规定。", refused=True)]).to_dict()


def legacy() -> dict:
    d = Answer("可获得的资金支持为15万元（150000元）。\n计算过程：\n· 合同额 500000 × 30% = 150000", False,
               [CLOUD], CLOUD_CALC, short="可获得的资金支持为15万元。").to_dict()
    d.pop("parts")
    return d


def clause_text(citation: dict) -> str:
    return "五、实施“数智转型”行动。" + citation["quote"]


def visible_text(markup: str) -> str:
    hidden = re.sub(r"<pre class=\"copy-src\" hidden>.*?</pre>", "", markup, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", hidden))


def test_each_part_is_named_and_its_steps_are_shown_once():
    shown = visible_text(render.answer_html(two_asks(), clause_text, turn=1))
    assert shown.count("1,200,000 × 20%") == 1 and shown.count("500,000 × 30%") == 1
    assert "制造业数字化转型升级" in shown and "上云上平台改造" in shown
    assert "渲染由字段完成" not in shown  # the text rendering is not what the bubble shows


def test_no_figure_after_a_negative_verdict():
    d = district_level()
    shown = visible_text(render.answer_html(d, clause_text, turn=1))
    assert "不符合" in shown and "240,000" not in shown and "计算" not in shown
    assert render.figure_text(d) == ""  # the hotline's 金额与条件 box stays hidden
    copied = render.copy_text(d)
    assert "计算" not in copied and "相关条款：制造业数字化转型升级" in copied  # not offered as theirs
    assert "相关条款：" in shown


def test_hotline_figure_box_reads_as_words_with_each_subject():
    figure = render.figure_text(two_asks())
    assert figure.startswith("制造业数字化转型升级：24万元（240,000元）")
    assert "上云上平台改造：15万元（150,000元）" in figure
    assert "min(" not in figure and "。；" not in figure
    assert render.spoken(two_asks()).count("：") == 2  # the lead's speech names both


@pytest.mark.parametrize("make", [two_asks, district_level, refused, legacy])
def test_copy_text_is_clean_text_with_its_sources(make):
    d = make()
    text = render.copy_text(d)
    assert not re.search(r"<[a-zA-Z/]", text) and "&#" not in text and "&lt;" not in text
    for c in d["citations"]:
        assert c["quote"] in text and c["label"] in text
    markup = render.answer_html(d, clause_text, turn=3)
    hidden = re.search(r'<pre class="copy-src" hidden>(.*?)</pre>', markup, flags=re.S).group(1)
    assert "\n" not in hidden and html.unescape(hidden) == text  # one line for the chat's Markdown pass


def test_buttons_are_chinese_copy_then_thumbs_up_then_down_and_the_pressed_one_shows():
    markup = render.actions_html(5, -1)
    labels = re.findall(r">([^<]+)</button>", markup)
    assert labels == ["复制", "👍 有帮助", "👎 没帮助"]
    assert re.findall(r'value="([a-z]+:5)"', markup) == ["copy:5", "like:5", "dislike:5"]
    assert 'act-dislike pressed"' in markup and "like pressed" not in markup.replace("dislike pressed", "")


def test_everything_shown_is_escaped():
    d = two_asks()
    d["parts"][0]["lead"] = '<img src=x onerror="alert(1)">'
    d["parts"][0]["subject"] = "<script>x</script>"
    d["citations"][0]["label"] = '"><i onmouseover=x>'
    markup = render.answer_html(d, clause_text, turn=1)
    assert "<img" not in markup and "<script>" not in markup and "<i onmouseover" not in markup


@pytest.mark.parametrize("length", [400, 401, 5000, 20000])
def test_a_long_paste_shows_its_start_and_its_end(length):
    question = "上云上平台合同额50万元，补贴多少？"
    message = ("企" * length + question)[-length:]
    shown = render.user_bubble(message)
    first = visible_text(shown.split("<details")[0])
    if length <= render.LONG_MESSAGE:
        assert "未显示" not in shown
    else:
        assert question[-render.SHOWN_TAIL:] in first and len(first) < 300
        assert message in html.unescape(shown.replace("<br>", "\n"))  # nothing the user typed is lost


@pytest.mark.parametrize("yuan, words", [(0, "0元"), (800, "800元"), (160000, "16万元（160,000元）"),
                                         (2000000, "200万元（2,000,000元）")])
def test_amounts_read_once_in_each_form(yuan, words):
    assert render.amount_words({"amount_yuan": yuan, "steps": []}) == words
