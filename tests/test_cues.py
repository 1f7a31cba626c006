"""Every cue list's examples match and its non-examples do not (corpus/cues.toml)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.understand.cues import Cues

ROOT = Path(__file__).resolve().parent.parent
CUES = Cues.load(ROOT / "corpus" / "cues.toml", "北京")
CASES = [(name, text, True) for name in CUES.names() for text in CUES[name].examples] + \
        [(name, text, False) for name in CUES.names() for text in CUES[name].non_examples]


@pytest.mark.parametrize("name,text,matches", CASES, ids=[f"{n}:{t}" for n, t, _ in CASES])
def test_cue_examples(name, text, matches):
    assert CUES.has(name, text) is matches


def test_every_cue_has_examples_and_non_examples():
    missing = [n for n in CUES.names() if not CUES[n].examples or not CUES[n].non_examples]
    assert not missing


def test_home_region_is_a_setting():
    shanghai = Cues.load(ROOT / "corpus" / "cues.toml", "上海")
    assert shanghai.has("level_city", "上海市专精特新企业")
    assert not shanghai.has("level_city", "北京市专精特新企业")
    assert CUES.has("level_city", "北京市专精特新企业")
    nowhere = Cues.load(ROOT / "corpus" / "cues.toml", "")
    assert nowhere.has("level_city", "市级专精特新") and not nowhere.has("level_city", "北京市专精特新")
