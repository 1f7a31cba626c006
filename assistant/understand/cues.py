"""Cue lists (corpus/cues.toml): how callers ask and how documents grant, as data.

Each concept is compiled once into one pattern from its phrases (escaped, longest first), so the
code holds no Chinese phrase: `cues.has("yes_no", text)`, `cues.find("level_negation", text)`.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

_TRAILING = r"[?？。!！.\s]*$"


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: re.Pattern | None  # None: the concept has no usable phrase (e.g. no home region)
    phrases: tuple[str, ...]  # the `any` list, as written
    examples: tuple[str, ...] = ()
    non_examples: tuple[str, ...] = ()


def _alternation(phrases) -> str:
    return "|".join(re.escape(p) for p in sorted(set(phrases), key=lambda p: (-len(p), p)))


def _forms(spec: dict) -> list[str]:
    forms = []
    if spec.get("any"):
        forms.append(f"(?:{_alternation(spec['any'])})")
    if spec.get("starts"):
        forms.append(rf"^\s*(?:{_alternation(spec['starts'])})")
    if spec.get("ends"):
        forms.append(f"(?:{_alternation(spec['ends'])}){_TRAILING}")
    for near in spec.get("near", []):
        stop = near.get("stop", "")
        gap = f"[^{re.escape(stop)}]" if stop else "."
        forms.append(f"(?:{_alternation(near['first'])}){gap}{{0,{int(near['within'])}}}?"
                     f"(?:{_alternation(near['then'])})")
    return forms


def _with_home(spec, home: str):
    """Phrases holding {home} name the home region; without one they are dropped."""
    if isinstance(spec, dict):
        return {k: _with_home(v, home) for k, v in spec.items()}
    if isinstance(spec, list):
        out = [_with_home(v, home) for v in spec]
        return [v for v in out if v is not None and v != []]
    if isinstance(spec, str) and "{home}" in spec:
        return spec.replace("{home}", home) if home else None
    return spec


class Cues:
    def __init__(self, cues: dict[str, Cue], home: str = ""):
        self._cues = cues
        self.home = home  # the home region (ASSISTANT_HOME_REGION): whose documents are "ours"

    @classmethod
    def load(cls, path: Path, home_region: str = "") -> "Cues":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cues = {}
        for name, spec in data.items():
            spec = _with_home(spec, home_region)
            forms = _forms(spec)
            pattern = re.compile("|".join(forms), re.IGNORECASE | re.DOTALL) if forms else None
            cues[name] = Cue(name, pattern, tuple(spec.get("any", [])), tuple(spec.get("examples", [])),
                             tuple(spec.get("non_examples", [])))
        return cls(cues, home_region)

    def __getitem__(self, name: str) -> Cue:
        return self._cues[name]

    def names(self) -> list[str]:
        return list(self._cues)

    def has(self, name: str, text: str) -> bool:
        pattern = self._cues[name].pattern
        return bool(pattern and pattern.search(text))

    def find(self, name: str, text: str) -> list[re.Match]:
        pattern = self._cues[name].pattern
        return list(pattern.finditer(text)) if pattern else []

    def first(self, name: str, text: str) -> re.Match | None:
        pattern = self._cues[name].pattern
        return pattern.search(text) if pattern else None

    def starts(self, name: str, text: str, at: int) -> re.Match | None:
        """The concept's match beginning exactly at `at` (a phrase right after a place name)."""
        pattern = self._cues[name].pattern
        return pattern.match(text[at:]) if pattern else None

    def phrases(self, name: str) -> tuple[str, ...]:
        return self._cues[name].phrases
