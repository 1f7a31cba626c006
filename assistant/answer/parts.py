"""Questions about a named document's standard parts — its purpose, scope, date in force
(corpus/parts.toml) — answered from the clause that states them, found by its wording: such a
question shares no topic word with that clause (立法目的 vs 为加强专利保护……制定本条例)."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.models import Clause


@dataclass(frozen=True)
class DocumentPart:
    name: str
    asks: tuple[str, ...]
    clause: re.Pattern
    pick: str  # "first" or "last" matching clause
    lead: str

    def find(self, clauses: list[Clause]) -> Clause | None:
        """The document's clause stating this part (clauses in document order)."""
        found = [c for c in clauses if self.clause.search(c.text)]
        if not found:
            return None
        return found[-1] if self.pick == "last" else found[0]


def load_parts(path: Path) -> tuple[DocumentPart, ...]:
    if not path.exists():
        return ()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(DocumentPart(p["name"], tuple(p["asks"]), re.compile(p["clause"]), p.get("pick", "first"),
                              p["lead"]) for p in data.get("part", []))


def asked_part(question: str, parts: tuple[DocumentPart, ...]) -> DocumentPart | None:
    """The part the question asks for: the one whose longest ask it contains."""
    best, best_len = None, 0
    for part in parts:
        for ask in part.asks:
            if len(ask) > best_len and ask in question:
                best, best_len = part, len(ask)
    return best
