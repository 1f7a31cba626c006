"""The question's words, weighed: which are the topic (社会保险, 首贷) and which are context
(谢谢, 海淀, 传感器), by statistics (corpus/wordstats.tsv against jieba's dictionary counts) and the
policy lexicon. Read once per ask by the Reader; coverage and sentence choice read the result."""
from __future__ import annotations

from dataclasses import dataclass, field

from assistant.store.lexical import BM25
from assistant.understand.intent import Intent
from assistant.understand.lexicon import Lexicon
from assistant.understand.tokenize import Segmenter
from assistant.understand.wordstats import WordStats

_FIGURE_CHARS = frozenset("0123456789.%,万亿元")


def _is_figure(word: str) -> bool:
    """30万, 1.5亿, 20%: a figure, not a topic word (amounts are read by the amount reader)."""
    return any(ch.isdigit() for ch in word) and all(ch in _FIGURE_CHARS for ch in word)


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
                stats: WordStats | None = None, context_terms: frozenset[str] = frozenset(),
                intent: Intent | None = None, topical: frozenset[str] = frozenset()) -> QueryTerms:
    """The question's topic words, each weighed by how much it is about a topic and how rare it is
    in the index. context_terms: words that describe the enterprise (制造业, 小巨人), not the topic;
    topical: those of them whose everyday words (合同 for 合同额) are the topic in this ask;
    intent: what the ask asks for (a figure, money, alternatives), read once by the Reader."""
    intent = intent or Intent()
    stats = stats or WordStats.empty()
    expansions = lexicon.expansions(text)
    unknown_weight = 0.6 * bm25.max_idf()
    terms: dict[str, Term] = {}
    for word, start, end in seg.terms(text):
        if (word in lexicon.generic or word in context_terms or len(word) < 2
                or _is_figure(word)):
            continue
        # The documents' words for every alias overlapping this word in the question.
        alts = [word] + [c for _, c, a_start, a_end in expansions if a_start < end and start < a_end]
        if any(a in context_terms and (a == word or a not in topical) for a in alts):
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
        policy_words = lexicon.policy_vocabulary()
        policy = any(a in policy_words for a in alts)  # 社保 → 社会保险 is a word of the laws, not the policy
        terms[word] = Term(word, weight, tuple(dict.fromkeys(alts)), parts, policy)
    # Aliases the segmenter split apart (纳斯达克 → 纳斯 达克) still count once, as themselves.
    for alias, canonical, _, _ in expansions:
        if canonical in context_terms and (canonical not in topical or canonical in text):
            continue
        if not any(alias in t.word or t.word in alias for t in terms.values()):
            terms[alias] = Term(alias, bm25.term_idf(canonical) or unknown_weight, (alias, canonical),
                                policy=lexicon.is_policy_topic(canonical))
    # A must-match word inside a recognised alias (香港 in 香港上市) is the alias's business.
    must = [m for m in lexicon.must_match_terms(text)
            if not any(a_start <= text.find(m) < a_end for _, _, a_start, a_end in expansions
                       if alias_of_other(m, text, a_start, a_end))]
    # 高企 is covered where the text says 高新技术企业: a must-match word's documents' words.
    must_alts = {m: tuple(c for a, c, _, _ in expansions if a == m) for m in must}
    return QueryTerms(list(terms.values()), must, intent.amount, intent.money, intent.alternative,
                      must_alts)


def alias_of_other(word: str, text: str, a_start: int, a_end: int) -> bool:
    """Whether an alias span is a longer phrase holding the word (香港上市 holds 香港), not the
    word itself being an alias (高企 → 高新技术企业)."""
    return text[a_start:a_end] != word
