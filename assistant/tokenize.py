"""Chinese word segmentation for lexical retrieval: jieba with the policy vocabulary."""
from __future__ import annotations

import logging
import re

import jieba

from .lexicon import Lexicon

jieba.setLogLevel(logging.WARNING)
_WORD = re.compile(r"[\w\u4e00-\u9fff%]")


class Segmenter:
    def __init__(self, lexicon: Lexicon):
        self._jieba = jieba.Tokenizer()
        self._jieba.check_initialized()
        # General-language counts of the words we boost, before boosting (see general_frequency).
        self._general_before = {w: self._jieba.FREQ.get(w, 0) for w in lexicon.vocabulary()}
        for word in sorted(lexicon.vocabulary()):
            # A high frequency keeps policy terms (上云上平台, 专精特新) whole.
            self._jieba.add_word(word, freq=20000)
        self._general_total = sum(self._jieba.FREQ.values())

    def general_frequency(self, word: str) -> int:
        """jieba's dictionary count of a word (how often general Chinese uses it), as jieba
        shipped it: the policy vocabulary's boost above is not general usage."""
        if word in self._general_before:
            return self._general_before[word]
        return self._jieba.FREQ.get(word, 0)

    @property
    def general_total(self) -> int:
        return self._general_total

    def cut(self, text: str) -> list[str]:
        """Precise-mode words (as questions are read), punctuation dropped."""
        return [w for w in self._jieba.cut(text) if _WORD.search(w)]

    def is_dictionary_word(self, word: str) -> bool:
        self._jieba.check_initialized()
        return self._jieba.FREQ.get(word, 0) > 0

    def words(self, text: str) -> list[str]:
        """Index tokens: search-mode cut (whole words plus their parts), lower-cased, no punctuation."""
        return [t.lower() for t in self._jieba.cut_for_search(text) if _WORD.search(t)]

    def terms(self, text: str) -> list[tuple[str, int, int]]:
        """Question words with their spans, precise mode, so 上云上平台 stays one word."""
        return [(w, start, end) for w, start, end in self._jieba.tokenize(text) if _WORD.search(w)]
