"""How much of a question's topic the retrieved clauses cover: the evidence both the retrieval
strategy (policy first) and the gate read."""
from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Clause
from assistant.understand.terms import QueryTerms

# Share of a question's topic weight the cited clauses must cover to answer (unless anchored).
# Calibrated by `python -m evals calibrate` on the dev sets (evals/sets + colloquial-dev) for
# refusal precision ≥ 0.95 at the best recall; see evals/calibration.md.
MIN_COVERAGE = 0.7
ANCHOR_SHARE = 0.5  # a policy term at least half as weighty as the question's weightiest word
REST_COVERAGE = 0.8
REST_MIN_WORDS = 2  # one shared word (认定, 出口) is not enough to answer beside a missing topic


@dataclass(frozen=True)
class Coverage:
    score: float
    covered: tuple[str, ...]
    missing: tuple[str, ...]
    must_missing: tuple[str, ...]
    rest_score: float = 0.0  # coverage of the words that are not missing must-match topics
    rest_covered: int = 0  # how many of those words the text covers
    anchored: bool = False  # the main clause holds the question's chief policy term
    threshold: float = MIN_COVERAGE

    alternative: bool = False  # the question weighs alternatives (按合同额还是按发票金额)

    @property
    def answerable_with_caveat(self) -> bool:
        """A missing must-match word offered as an alternative beside an otherwise well-covered
        question ("按合同额还是按发票金额？"): answer, and say what the text does not mention.
        Where the missing word is what is asked about (出口退税多久到账), decline."""
        return (bool(self.must_missing) and self.alternative and self.rest_score >= REST_COVERAGE
                and self.rest_covered >= REST_MIN_WORDS)

    @property
    def covered_enough(self) -> bool:
        return (bool(self.covered) and not self.must_missing
                and (self.score >= self.threshold or self.anchored))


def assess(q: QueryTerms, clauses: list[Clause], threshold: float = MIN_COVERAGE) -> Coverage:
    # A document's title says what all of it is about (十大强企行动).
    text = "".join(c.doc_title + c.label + c.text for c in clauses)
    covered = [t for t in q.terms if t.found_in(text)]
    missing = [t for t in q.terms if not t.found_in(text)]
    total = sum(t.weight for t in q.terms) or 1.0
    must_missing = tuple(m for m in q.must_match
                         if not any(a in text for a in (m, *q.must_alternatives.get(m, ()))))
    top = max((t.weight for t in q.terms), default=0.0)
    first = clauses[0].label + clauses[0].text if clauses else ""
    # The question's weightiest policy term is what the first clause is about: whatever else
    # the caller said around it, this clause answers (a missing must-match topic still declines).
    anchored = any(t.policy and t.weight >= ANCHOR_SHARE * top and t.found_in(first) for t in q.terms)
    rest = [t for t in q.terms if not any(m in t.word or t.word in m for m in must_missing)]
    rest_total = sum(t.weight for t in rest) or 1.0
    rest_hits = [t for t in rest if t.found_in(text)]
    rest_score = sum(t.weight for t in rest_hits) / rest_total
    return Coverage(
        score=sum(t.weight for t in covered) / total,
        covered=tuple(t.word for t in covered), missing=tuple(t.word for t in missing),
        must_missing=must_missing, rest_score=rest_score, alternative=q.alternative,
        rest_covered=len(rest_hits), anchored=anchored, threshold=threshold)
