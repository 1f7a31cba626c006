"""Does the retrieved text cover the question, and which of its sentences answer it?"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.store.lexical import BM25
from assistant.understand.lexicon import Lexicon
from assistant.models import Clause
from assistant.documents.textnorm import sentences
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats

# Share of a question's topic weight the cited clauses must cover to answer (unless anchored).
# Calibrated by `python -m evals calibrate` on the dev sets (evals/sets + colloquial-dev) for
# refusal precision ≥ 0.95 at the best recall; see evals/calibration.md.
MIN_COVERAGE = 0.7
ANCHOR_SHARE = 0.5  # a policy term at least half as weighty as the question's weightiest word
REST_COVERAGE = 0.8
REST_MIN_WORDS = 2  # one shared word (认定, 出口) is not enough to answer beside a missing topic
_AMOUNT_ASK = re.compile(r"多少|几|最高|上限|比例|额度|金额|标准|怎么算|如何计算|补多|奖多|给多")


@dataclass(frozen=True)
class Term:
    word: str
    weight: float
    alternatives: tuple[str, ...]  # the word and the documents' words for it
    parts: tuple[str, ...] = ()  # its non-generic sub-words: 医药企业 → 医药
    policy: bool = False  # one of the policy's own terms or a known alias of one

    def found_in(self, text: str) -> bool:
        if any(a in text for a in self.alternatives):
            return True
        # 医药企业 → 医药 + …: all of two or more sub-words; one alone (国际 of 国际标准) is too loose.
        return len(self.parts) > 1 and all(p in text for p in self.parts)


@dataclass
class QueryTerms:
    terms: list[Term]
    must_match: list[str] = field(default_factory=list)
    wants_amount: bool = False
    wants_money: bool = False
    alternative: bool = False
    must_alternatives: dict = field(default_factory=dict)  # must-match word → documents' words


# Words regulations use more often than this (per word) are the legal language's own function
# words (应当, 或者, 规定, 人民政府): never evidence of a topic.
FUNCTION_WORD_RATE = 3e-3
FRAGMENT_SHARE = 0.1  # a fragment the segmenter guessed (刚评, 分能): neither source knows it
# A guessed word the regulations hold fewer times than this is an accident of the guessing
# (登记后能享受 → 后能, twice in 1,908 regulations), not a word of theirs.
FRAGMENT_MAX_USES = 5
# A general-language word the documents do use (首席 in 首席数据官) still helps pick the sentence
# that answers, a little; it never decides coverage.
IN_INDEX_SHARE = 0.1
# Asked for money (补贴吗, 给钱吗): a sentence that grants money is worth about one topic word.
MONEY_SENTENCE_BONUS = 2.0
_MONEY_ASK = re.compile(r"补贴|补助|奖励|资金|钱|资助|报销|奖金|补多少|补点|补吗|给补")
# Money given. Bare 资金 is not: 利用本市财政资金建设 names where funding comes from, where
# 予以资金支持 / 专项资金 give it.
_MONEY_GRANT = re.compile(r"资金(支持|补助|奖励|资助|扶持)|专项资金|(给予|予以|安排|提供)[^，。；]{0,8}资金|"
                          r"奖励|补助|补贴|资助|万元|券|奖金|[\d零一二两三四五六七八九十百千万亿]元")
# A figure as documents write it: 30%, 100万元, 三千元, 十五日, 两年 (digits or Chinese numerals).
FIGURE = re.compile(r"\d|[零一二两三四五六七八九十百千万]+(?:元|万元|亿元|日|天|年|个月)")
MONEY_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿|千)?元|\d+(?:\.\d+)?\s*%|[零一二两三四五六七八九十百千万亿]+(?:万|亿)?元")


_ALTERNATIVE = re.compile(r"还是|或者|或是|而不是|不是按")


def is_function_word(word: str, stats: WordStats) -> bool:
    """One of the legal language's own function words (应当, 或者, 规定): never a topic."""
    return stats.regulation.get(word, 0) > FUNCTION_WORD_RATE * stats.regulation_total


def topic_share(word: str, seg: Segmenter, lexicon: Lexicon, stats: WordStats) -> float:
    """How much a question word is about a topic (1) rather than context (0)."""
    if word in lexicon.vocabulary():
        return 1.0  # the policy's own terms and their known aliases
    if is_function_word(word, stats):
        return 0.0
    if not seg.is_dictionary_word(word) and stats.regulation.get(word, 0) < FRAGMENT_MAX_USES:
        return FRAGMENT_SHARE
    return stats.topic_share(word)


GENERIC_QUERY_WEIGHT = 0.3  # a word the lexicon calls generic (补贴, 企业) in the lexical ranking
CONTEXT_QUERY_WEIGHT = 0.15  # a general-language word (谢谢, 大兴, 传感器): little


def lexical_weight(word: str, seg: Segmenter, lexicon: Lexicon, stats: WordStats,
                   context_terms: frozenset[str] = frozenset()) -> float:
    """A query word's weight in BM25: topic words 1, generic and context words less."""
    if word in lexicon.generic or lexicon.canonical(word) in context_terms:
        return GENERIC_QUERY_WEIGHT
    return CONTEXT_QUERY_WEIGHT + (1 - CONTEXT_QUERY_WEIGHT) * topic_share(word, seg, lexicon, stats)


def query_terms(text: str, seg: Segmenter, lexicon: Lexicon, bm25: BM25,
                stats: WordStats | None = None, context_terms: frozenset[str] = frozenset()) -> QueryTerms:
    """context_terms: words that describe the enterprise (制造业, 小巨人), not the topic."""
    stats = stats or WordStats.empty()
    expansions = lexicon.expansions(text)
    unknown_weight = 0.6 * bm25.max_idf()
    terms: dict[str, Term] = {}
    for word, start, end in seg.terms(text):
        if (word in lexicon.generic or word in context_terms or len(word) < 2
                or re.fullmatch(r"[\d.%,]+[万亿元]*", word)):
            continue
        # The documents' words for every alias overlapping this word in the question.
        alts = [word] + [c for _, c, a_start, a_end in expansions if a_start < end and start < a_end]
        if any(a in context_terms for a in alts):
            continue  # 国家级小巨人 → 国家级专精特新“小巨人”企业: who is asking, not what
        share = 1.0 if len(alts) > 1 else topic_share(word, seg, lexicon, stats)
        idf = bm25.term_idf(word.lower())
        if idf and share != FRAGMENT_SHARE:
            share = max(share, IN_INDEX_SHARE)
        # A topic word the documents never use is a strong sign of an uncovered topic; context
        # words (谢谢, 海淀, 一家, 传感器) weigh nothing either way.
        weight = (idf or unknown_weight) * share
        if weight <= 0 or word in terms or any(word in other for other in terms):
            continue
        parts = tuple(p for p in seg.words(word) if p != word.lower() and len(p) > 1
                      and p not in lexicon.generic)
        policy = len(alts) > 1 or word in lexicon.vocabulary()
        terms[word] = Term(word, weight, tuple(dict.fromkeys(alts)), parts, policy)
    # Aliases the segmenter split apart (纳斯达克 → 纳斯 达克) still count once, as themselves.
    for alias, canonical, _, _ in expansions:
        if canonical in context_terms:
            continue
        if not any(alias in t.word or t.word in alias for t in terms.values()):
            terms[alias] = Term(alias, bm25.term_idf(canonical) or unknown_weight, (alias, canonical),
                                policy=True)
    # A must-match word inside a recognised alias (香港 in 香港上市) is the alias's business.
    must = [m for m in lexicon.must_match_terms(text)
            if not any(a_start <= text.find(m) < a_end for _, _, a_start, a_end in expansions
                       if alias_of_other(m, text, a_start, a_end))]
    # 高企 is covered where the text says 高新技术企业: a must-match word's documents' words.
    must_alts = {m: tuple(c for a, c, _, _ in expansions if a == m) for m in must}
    return QueryTerms(list(terms.values()), must, bool(_AMOUNT_ASK.search(text)),
                      bool(_MONEY_ASK.search(text)), bool(_ALTERNATIVE.search(text)), must_alts)


def alias_of_other(word: str, text: str, a_start: int, a_end: int) -> bool:
    """Whether an alias span is a longer phrase holding the word (香港上市 holds 香港), not the
    word itself being an alias (高企 → 高新技术企业)."""
    return text[a_start:a_end] != word


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


def _sentence_score(sentence: str, q: QueryTerms) -> float:
    """Topic words first; a figure or a money grant only ranks sentences that are on the topic
    (新三板挂牌有奖励吗 must not be answered by the 专板 sentence because it names 30万元)."""
    score = sum(t.weight for t in q.terms if t.found_in(sentence))
    if score == 0 and q.terms:
        return 0.0
    if q.wants_amount and FIGURE.search(sentence):
        score += 0.5
    if q.wants_money and _MONEY_GRANT.search(sentence):
        score += MONEY_SENTENCE_BONUS
    return score


def best_sentences(clause: Clause, q: QueryTerms, limit: int = 2) -> list[str]:
    """The sentences of a clause that answer the question, in document order."""
    sents = sentences(clause.text.replace("\n\n", "\n"))
    body = [s for s in sents if s.rstrip("。") != clause.label] or sents
    scored = sorted(((s, _sentence_score(s, q)) for s in body), key=lambda p: -p[1])
    if not scored or scored[0][1] == 0:
        return body[:1]
    best, top = [scored[0][0]], scored[0][1]
    covered = {t.word for t in q.terms if t.found_in(best[0])}
    for s, score in scored[1:limit]:
        adds = {t.word for t in q.terms if t.found_in(s)} - covered
        # Asked for a figure the best sentence lacks (最少多少 → 不少于三千元): the figure joins.
        figure = q.wants_amount and bool(FIGURE.search(s)) and not MONEY_FIGURE.search(best[0])
        if score >= 0.6 * top and (adds or figure):
            best.append(s)
    if q.wants_money and not any(_MONEY_GRANT.search(b) for b in best):
        # Asked whether money is given, and the clause gives it in another sentence (通过科技创新券
        # 等方式予以资金支持): that sentence joins, however few of the question's words it repeats.
        grant = next((s for s, score in scored if score > 0 and _MONEY_GRANT.search(s)), None)
        if grant is not None:
            best.append(grant)
    return [s for s in body if s in best]
