"""Places users name (海淀, 廊坊, 上海) → the province-level region they belong to.

Geography comes from corpus/places.toml; which regions are *covered* comes only from the loaded
documents (metadata `region`, else the region named at the start of the title).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .models import Document


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
        """Place names in text, longest first, no overlaps, in text order."""
        taken = [False] * len(text)
        found: list[Place] = []
        for name in sorted(self.names, key=len, reverse=True):
            start = text.find(name)
            while start >= 0:
                end = start + len(name)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(name)
                    found.append(Place(name, self.names[name], start, end))
                start = text.find(name, end)
        return sorted(found, key=lambda p: p.start)

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
