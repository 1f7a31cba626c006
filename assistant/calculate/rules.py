"""Subsidy rules as data (corpus/rules/*.toml, one file per document)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class Band:
    from_yuan: Decimal
    to_yuan: Decimal | None
    rate: Decimal
    text: str


@dataclass(frozen=True)
class Rule:
    id: str
    doc_id: str
    section: str
    title: str
    quote: str
    kind: str
    triggers: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    input: str = ""
    input_label: str = ""
    rate: Decimal | None = None
    cap_yuan: Decimal | None = None
    bands: tuple[Band, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def get(self, key: str, default=None):
        return self.extra.get(key, default)

    def trigger_in(self, text: str) -> str | None:
        """The longest trigger named in text, unless an exclusion word is there too."""
        if any(x in text for x in self.exclude):
            return None
        found = [t for t in self.triggers if t in text]
        return max(found, key=len) if found else None


def _rule(doc_id: str, d: dict) -> Rule:
    known = {"id", "section", "title", "quote", "kind", "triggers", "exclude", "input",
             "input_label", "rate", "cap_yuan", "bands"}
    bands = tuple(Band(Decimal(b["from_yuan"]), Decimal(b["to_yuan"]) if "to_yuan" in b else None,
                       Decimal(b["rate"]), b["text"]) for b in d.get("bands", []))
    return Rule(id=d["id"], doc_id=doc_id, section=str(d["section"]), title=d["title"],
                quote=d["quote"], kind=d["kind"], triggers=tuple(d.get("triggers", [])),
                exclude=tuple(d.get("exclude", [])), input=d.get("input", ""),
                input_label=d.get("input_label", ""),
                rate=Decimal(d["rate"]) if "rate" in d else None,
                cap_yuan=Decimal(d["cap_yuan"]) if "cap_yuan" in d else None, bands=bands,
                extra={k: v for k, v in d.items() if k not in known})


def load_rules(directory: Path) -> list[Rule]:
    rules: list[Rule] = []
    for path in sorted(directory.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules.extend(_rule(data["doc_id"], r) for r in data.get("rule", []))
    return rules
