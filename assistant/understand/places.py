"""Places users name (海淀, 廊坊, 上海) → the province-level region they belong to.

Geography comes from corpus/places.toml; which regions are *covered* comes only from the loaded
documents (metadata `region`, else the region named at the start of the title).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from assistant.models import Document


@dataclass(frozen=True)
class Place:
    name: str  # as written in the text
    region: str  # province-level region: 北京, 上海, 河北 …
    start: int
    end: int


@dataclass(frozen=True)
class Gazetteer:
    names: dict[str, str]  # any name → its region

    @classmethod
    def load(cls, path: Path) -> "Gazetteer":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        names: dict[str, str] = {}
        for region, others in data.get("provinces", {}).items():
            names[region] = region
            for n in others:
                names.setdefault(n, region)
        return cls(names)

    def find(self, text: str) -> list[Place]:
        """Place names in text, read left to right, the longest at each position, no overlaps:
        广东营商环境 is 广东, not 东营 (a Shandong city) straddling 广东 and 营商."""
        lengths = self._lengths
        found: list[Place] = []
        i = 0
        while i < len(text):
            name = next((text[i:i + n] for n in lengths if text[i:i + n] in self.names), None)
            if name is None:
                i += 1
                continue
            found.append(Place(name, self.names[name], i, i + len(name)))
            i += len(name)
        return found

    @cached_property
    def _lengths(self) -> list[int]:
        """The lengths of the names, longest first."""
        return sorted({len(n) for n in self.names}, reverse=True)

    def is_place(self, word: str) -> bool:
        """深圳, 深圳市, 广东省: the word is a place name, whole."""
        bare = word.rstrip("市省区县")
        return any(p.start == 0 and p.end >= len(bare) for p in self.find(word))

    def region_of(self, doc: Document) -> str | None:
        """The region a document is for: its metadata, else the place its title starts with,
        else the folder it was filed in (…/河南/鹤壁市…条例.md), else the body that made it
        (the first place in the issuer or adoption lines: 东营市人民代表大会 → 山东)."""
        declared = str(doc.meta.get("region") or "")
        for text in (declared, doc.title):
            places = self.find(text)
            if places and places[0].start <= 2:  # 北京市…, 关于北京市… (not 京津冀 in the middle)
                return places[0].region
        folder = Path(doc.source_path).parent.name if doc.source_path else ""
        if folder in self.names:
            return self.names[folder]
        makers = [str(doc.meta.get("issuer") or ""), *(str(h) for h in (doc.meta.get("history") or [])[:2])]
        for text in makers:
            places = self.find(text)
            if places:
                return places[0].region
        return None
