"""The synonym lexicon (corpus/lexicon.toml): expands how people talk into the documents' words."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]
    generic: frozenset[str]
    must_match: tuple[str, ...]
    regions: tuple[str, ...]
    synonyms: dict[str, tuple[str, ...]]  # canonical → aliases

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(terms=tuple(data.get("terms", [])), generic=frozenset(data.get("generic", [])),
                   must_match=tuple(data.get("must_match", [])), regions=tuple(data.get("regions", [])),
                   synonyms={k: tuple(v) for k, v in data.get("synonyms", {}).items()})

    def vocabulary(self) -> set[str]:
        """Every word the tokenizer must keep whole."""
        words = set(self.terms) | set(self.synonyms)
        for aliases in self.synonyms.values():
            words.update(aliases)
        return {w for w in words if len(w) > 1}

    def expansions(self, text: str) -> list[tuple[str, str, int, int]]:
        """(alias, canonical, start, end) for aliases found in text, longest first, no overlaps."""
        pairs = sorted(((a, c) for c, aliases in self.synonyms.items() for a in aliases),
                       key=lambda p: -len(p[0]))
        taken = [False] * len(text)
        found: list[tuple[str, str, int, int]] = []
        for alias, canonical in pairs:
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(alias)
                    found.append((alias, canonical, start, end))
                    break
                start = text.find(alias, start + 1)
        return found

    def expand(self, text: str) -> str:
        """The question with the documents' words appended: '纳斯达克上市' → '… 境外主要证券交易所'."""
        canon = list(dict.fromkeys(c for _, c, _, _ in self.expansions(text) if c not in text))
        return text if not canon else text + " " + " ".join(canon)

    def must_match_terms(self, text: str) -> list[str]:
        return [t for t in self.must_match if t in text]

    def regions_in(self, text: str) -> list[str]:
        return [r for r in self.regions if r in text]
