"""Select: which documents an ask is answered from.

A named document (its title, loosely or exactly), a region only some documents are for, else the
home region's documents (with the home region's own regulations loaded, a Shanghai rule is not the
caller's rule) — and the policy first among them. Regions the message names that no loaded
document covers decline the message before any retrieval.
"""
from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Document
from assistant.understand.places import Gazetteer, Place
from assistant.understand.query import Ask, Query


@dataclass(frozen=True)
class Selection:
    doc_ids: list[str] | None  # searched alone: the documents the ask names (title or region)
    home: list[str] | None  # otherwise searched: the documents a question naming none may use
    named_document: bool = False  # doc_ids is a document named by its title
    reason: str = ""

    @property
    def named(self) -> bool:
        return self.doc_ids is not None

    def describe(self) -> dict:
        return {"decision": self.reason, "documents": (self.doc_ids or [])[:5],
                "home": None if self.home is None else len(self.home)}


class Selector:
    def __init__(self, documents: list[Document], gazetteer: Gazetteer, primary_ids: list[str],
                 home_region: str):
        self.documents = documents
        self.gazetteer = gazetteer
        self.region_of = {d.doc_id: gazetteer.region_of(d) for d in documents}
        self.primary_ids = primary_ids
        self._primary = set(primary_ids)
        self.home_region = home_region
        self._home_cache: dict[frozenset, list[str] | None] = {}
        self.covered_regions = {r for r in self.region_of.values() if r}

    def uncovered_regions(self, query: Query, aliased: list[tuple[int, int]]) -> list[str]:
        """Regions the message asks about that no loaded document is for (香港上市 is a listing,
        not a region: spans inside a lexicon alias are skipped)."""
        uncovered = [p.region for p in query.regions if p.region not in self.covered_regions
                     and not any(s <= p.start < e for s, e in aliased)]
        return list(dict.fromkeys(uncovered))

    def select(self, query: Query, ask: Ask) -> Selection:
        home = self.home_documents(frozenset(p.region for p in query.context.places))
        if query.document is not None:
            doc = query.document.document
            return Selection([doc.doc_id], home, True, f"named document 《{doc.title}》")
        region_docs = self.region_documents(query.regions)
        if region_docs:
            names = "、".join(dict.fromkeys(p.region for p in query.regions))
            return Selection(region_docs, home, False, f"region {names}: {len(region_docs)} documents")
        own = self.caller_documents(query.context.places)
        if own:
            names = "、".join(dict.fromkeys(p.region for p in query.context.places))
            return Selection(None, own, False, f"where the caller is ({names}): {len(own)} documents")
        if home is not None:
            return Selection(None, home, False, f"home region {self.home_region}: {len(home)} documents")
        return Selection(None, None, False, "all documents")

    def home_documents(self, callers: frozenset[str] = frozenset()) -> list[str] | None:
        """The documents a question naming no region is answered from: with the home region's
        own documents loaded besides the policy (北京's regulations), a Shanghai or Henan rule
        is not the caller's rule, so other regions' documents wait until the question names
        their region, or the caller says they are there (我们在河南). With none of the home
        region's loaded, every document an operator added answers. None: all."""
        if callers not in self._home_cache:
            home = self.home_region
            ours = {home} | set(callers)
            docs = None
            if home and any(r == home and d not in self._primary for d, r in self.region_of.items()):
                docs = [d for d, r in self.region_of.items() if r is None or r in ours or d in self._primary]
                docs = docs if len(docs) < len(self.region_of) else None
            self._home_cache[callers] = docs
        return self._home_cache[callers]

    def caller_documents(self, places: tuple[Place, ...]) -> list[str] | None:
        """A caller in another region than the home one (我在烟台一家公司上班) is answered from that
        region's documents when some are loaded, with the policy and documents of no region."""
        regions = {p.region for p in places} - {self.home_region}
        ours = [d for d, r in self.region_of.items() if r in regions]
        if not ours:
            return None
        return [d for d, r in self.region_of.items() if r in regions or r is None or d in self._primary]

    def region_documents(self, regions: tuple[Place, ...]) -> list[str] | None:
        """A question about a region that only some loaded documents are for goes to them."""
        wanted = {p.region for p in regions}
        docs = [d for d, r in self.region_of.items() if r in wanted]
        return docs if docs and len(docs) < len(self.documents) and not set(docs) & self._primary \
            else None

    def policy_documents(self) -> list[Document]:
        primary = [d for d in self.documents if d.doc_id in self._primary]
        return primary or [d for d in self.documents if d.style == "policy"] or self.documents
