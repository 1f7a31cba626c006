"""How a question names a loaded document: its title, or loosely (most of the title's characters
in order, ending in the same kind of document)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from assistant.models import Document
from assistant.understand.places import Gazetteer
from assistant.understand.cues import Cues
from assistant.understand.references import document_mention

TITLES = ["北京市促进科技成果转化条例", "上海市促进科技成果转化条例", "北京市数字经济促进条例", "北京国际科技创新中心建设条例",
          "广东省优化营商环境条例",
          "关于实施十大强企行动激发专精特新企业活力的若干措施"]
DOCS = [Document(doc_id=t, title=t, text="", source_path="", style="articles", meta={}) for t in TITLES]

CUES = Cues.load(Path(__file__).resolve().parent.parent / "corpus" / "cues.toml", "北京")


@pytest.mark.parametrize("question, title", [
    ("北京市数字经济促进条例第三条怎么说", "北京市数字经济促进条例"),
    ("北京数字经济那个条例对数据交易有规定吗", "北京市数字经济促进条例"),
    ("按北京科技成果转化条例，高校职务成果怎么分", "北京市促进科技成果转化条例"),
    # 科技 of 首都科技条件平台 stands well before the name: the name is still found
    ("想用首都科技条件平台上的仪器做检测，北京科技成果转化条例里有补贴吗", "北京市促进科技成果转化条例"),
    # 上 of 平台上 would make 上海…; the characters between count against a mention
    ("我们是个小微企业，想用首都科技条件平台上的大型仪器做测试，北京科技成果转化条例里说能给补贴吗", "北京市促进科技成果转化条例"),
    ("上海科技成果转化条例对高校有什么要求", "上海市促进科技成果转化条例"),
    ("关于实施十大强企行动激发专精特新企业活力的若干措施适用于哪些企业", "关于实施十大强企行动激发专精特新企业活力的若干措施"),
    ("广东营商环境条例什么时候开始实施的", "广东省优化营商环境条例"),  # 省 and 优化 left out
    ("上云补贴怎么算", None),
    ("这些条例里哪条管企业融资", None),  # a kind of document, but too few of any title's characters
])
def test_which_document_a_question_names(question, title):
    found = document_mention(question, DOCS, CUES)
    assert (found.document.title if found else None) == title


@given(st.text(alphabet="科技成果转化条例北京市促进平台首都的有吗，", max_size=40))
def test_a_loose_mention_is_a_compact_span_of_the_question(question):
    found = document_mention(question, DOCS, CUES)
    if found is not None and found.text not in TITLES:
        assert found.text in question and len(found.text) < 2 * len(found.document.title)


GAZETTEER = Gazetteer.load(Path(__file__).resolve().parent.parent / "corpus/places.toml")


@pytest.mark.parametrize("text, regions", [
    ("广东营商环境条例什么时候开始实施", ["广东"]),  # not 东营 (山东) across 广东|营商
    ("我们在东营市，山东有什么政策", ["山东", "山东"]),
    ("海淀和浦东新区的企业", ["北京", "上海"]),
    ("上云补贴怎么算", []),
])
def test_places_are_read_left_to_right(text, regions):
    assert [p.region for p in GAZETTEER.find(text)] == regions


@given(st.text(alphabet="广东营商山济南京海淀浦东新区上", max_size=30))
def test_found_places_never_overlap_and_are_in_order(text):
    places = GAZETTEER.find(text)
    assert all(a.end <= b.start for a, b in zip(places, places[1:]))
    assert all(text[p.start:p.end] == p.name for p in places)
