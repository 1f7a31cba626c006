"""The domain nouns, passed everywhere. LangChain Documents never leave the index modules."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    """One policy document as loaded: metadata plus its repaired full text."""

    doc_id: str
    title: str
    text: str
    source_path: str = ""
    style: str = "policy"  # "policy" (一、/（一）) or "articles" (第X章/第X条)
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Clause:
    """A citable unit of a document: a numbered action, an article, a preamble."""

    doc_id: str
    doc_title: str
    section: str  # "5", "preamble", "scope", or an article number "15"
    label: str  # "五、实施“数智转型”行动", "第十五条"
    heading_path: tuple[str, ...]
    text: str
    span: tuple[int, int]  # character offsets in Document.text

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.section}"


@dataclass(frozen=True)
class Hit:
    """A clause found for a query, with the evidence the retrievers gave."""

    clause: Clause
    score: float
    lexical_rank: int | None = None
    dense_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    section: str
    label: str
    quote: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Calculation:
    rule_id: str
    inputs: dict
    amount_yuan: int
    steps: list[str]

    def to_dict(self) -> dict:
        return {"rule_id": self.rule_id, "inputs": dict(self.inputs),
                "amount_yuan": self.amount_yuan, "steps": list(self.steps)}


VERDICTS = ("可以", "不可以", "有", "没有", "符合", "不符合", "能", "不能")


@dataclass
class AnswerPart:
    """The answer to one ask of a message. A verdict is set only where a rule or the cited
    sentence itself entails it; otherwise None and the lead says what the text provides."""

    subject: str = ""  # what this part is about, said when several asks are answered (上云上平台改造)
    verdict: str | None = None  # one of VERDICTS, or None
    lead: str = ""  # the direct answer after the verdict, one or two sentences
    citations: list[Citation] = field(default_factory=list)  # verbatim quotes, the first the main one
    notes: list[str] = field(default_factory=list)  # what the text does not state, readings applied
    calculation: Calculation | None = None
    refused: bool = False
    result: str = ""  # what the calculation gives, as said aloud (可获得的资金支持为24万元)
    ask_back: str = ""  # what the caller must tell before a figure can be computed (chat wording)
    needs: str = ""  # the figure missing for a calculation (合同额), said on the hotline

    def to_dict(self) -> dict:
        return {"subject": self.subject, "verdict": self.verdict, "lead": self.lead,
                "citations": [c.to_dict() for c in self.citations], "notes": list(self.notes),
                "calculation": self.calculation.to_dict() if self.calculation else None,
                "refused": self.refused, "result": self.result, "ask_back": self.ask_back,
                "needs": self.needs}


@dataclass
class Answer:
    """The structured answer. `text` (chat) and `short` (hotline speech) are renderings of the
    parts; the LLM guard checks a model's wording against the fields, never against the text."""

    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    calculation: Calculation | None = None
    short: str = ""  # one or two sentences a hotline worker can read aloud
    answerer: str = "offline"  # or "llm:<model>" when a model's wording passed the guard
    more_calculations: list[Calculation] = field(default_factory=list)  # one per further ask
    parts: list[AnswerPart] = field(default_factory=list)  # one per ask answered
    notice: str = ""  # said before everything (truncation, typos read, instructions ignored)
    trace: list[dict] = field(default_factory=list)  # each stage's decision, in order

    @property
    def verdict(self) -> str | None:
        return self.parts[0].verdict if self.parts else None

    @property
    def lead(self) -> str:
        return self.parts[0].lead if self.parts else ""

    @property
    def notes(self) -> list[str]:
        return [n for p in self.parts for n in p.notes]

    @property
    def quotes(self) -> list[str]:
        return [c.quote for c in self.citations]

    def calculations(self) -> list[Calculation]:
        return ([self.calculation] if self.calculation else []) + self.more_calculations

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "calculation": self.calculation.to_dict() if self.calculation else None,
            "short": self.short,
            "answerer": self.answerer,
            # Every calculation the text shows, the first being "calculation" (several asks).
            "calculations": [c.to_dict() for c in self.calculations()],
            "verdict": self.verdict,
            "lead": self.lead,
            "notes": self.notes,
            "parts": [p.to_dict() for p in self.parts],
            "notice": self.notice,
            "trace": list(self.trace),
        }
