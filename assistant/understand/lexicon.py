"""The synonym lexicon (corpus/lexicon.toml): expands how people talk into the documents' words."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from assistant.understand.pinyin import sound_alike


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]
    generic: frozenset[str]
    must_match: tuple[str, ...]
    synonyms: dict[str, tuple[str, ...]]  # canonical → aliases: the policy's topics
    everyday: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the law's word → callers' words

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(terms=tuple(data.get("terms", [])), generic=frozenset(data.get("generic", [])),
                   must_match=tuple(data.get("must_match", [])),
                   synonyms={k: tuple(v) for k, v in data.get("synonyms", {}).items()},
                   everyday={k: tuple(v) for k, v in data.get("everyday", {}).items()})

    @cached_property
    def _policy_vocabulary(self) -> frozenset[str]:
        words = set(self.terms) | set(self.synonyms)
        for aliases in self.synonyms.values():
            words.update(aliases)
        return frozenset(w for w in words if len(w) > 1)

    @cached_property
    def _vocabulary(self) -> frozenset[str]:
        words = set(self._policy_vocabulary) | set(self.everyday)
        for aliases in self.everyday.values():
            words.update(aliases)
        return frozenset(w for w in words if len(w) > 1)

    def vocabulary(self) -> frozenset[str]:
        """Every word the tokenizer must keep whole."""
        return self._vocabulary

    def policy_vocabulary(self) -> frozenset[str]:
        """The policy's own terms and the known aliases of its topics (not everyday synonyms of
        general legal words: 社保 is no policy topic)."""
        return self._policy_vocabulary

    def is_policy_topic(self, canonical: str) -> bool:
        return canonical in self.synonyms or canonical in self.terms

    @cached_property
    def _alias_pairs(self) -> list[tuple[str, str]]:
        """(alias, canonical), longest alias first: sorted once, matched on every question."""
        tables = (*self.synonyms.items(), *self.everyday.items())
        return sorted(((a, c) for c, aliases in tables for a in aliases), key=lambda p: -len(p[0]))

    @cached_property
    def _expansion_cache(self) -> dict:
        return {}

    def expansions(self, text: str) -> list[tuple[str, str, int, int]]:
        """(alias, canonical, start, end) for aliases found in text, longest first, no overlaps.
        Memoised: one question asks this five times over (a bounded cache of recent texts)."""
        cache = self._expansion_cache
        found = cache.get(text)
        if found is None:
            if len(cache) > 4096:
                cache.clear()
            found = cache[text] = self._find_expansions(text)
        return list(found)

    def _find_expansions(self, text: str) -> list[tuple[str, str, int, int]]:
        pairs = self._alias_pairs
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

    @cached_property
    def _canonical(self) -> dict[str, str]:
        return {a: c for a, c in self._alias_pairs}

    def canonical(self, word: str) -> str:
        """The documents' word for an alias (国家级小巨人 → 国家级专精特新“小巨人”企业), else itself."""
        return self._canonical.get(word, word)

    def expand(self, text: str, skip: frozenset[str] = frozenset()) -> str:
        """The question with the documents' words appended: '纳斯达克上市' → '… 境外主要证券交易所'.
        skip: documents' words not to append (the enterprise's own description)."""
        canon = list(dict.fromkeys(c for _, c, _, _ in self.expansions(text)
                                   if c not in text and c not in skip))
        return text if not canon else text + " " + " ".join(canon)

    def must_match_terms(self, text: str) -> list[str]:
        return [t for t in self.must_match if t in text]


def correct_typos(text: str, vocabulary: set[str], tokens: list[tuple[str, int, int]],
                  is_word) -> tuple[str, list[tuple[str, str]]]:
    """Pinyin-IME slips in policy terms (首流骗 → 首流片, 平抬 → 平台): a span of the question that
    starts and ends on word boundaries, differs from a policy term of 3+ characters in exactly one
    character (not the first), whose odd character sounds like the term's (an IME slip; 拖着不退 is
    not 拖着不付) and is not part of a real word (补助 is, so 首贷补助 stays), is read as that term.
    Returns the text and (typed, read as) pairs."""
    starts, ends = {s for _, s, _ in tokens}, {e for _, _, e in tokens}
    token_at = {i: w for w, s, e in tokens for i in range(s, e)}
    taken = [False] * len(text)
    found: list[tuple[int, str, str]] = []
    # A slip never changes a term's first character: only terms starting at a word start qualify.
    initials = {text[i] for i in starts if i < len(text)}
    candidates = (t for t in vocabulary if len(t) >= 3 and t[0] in initials and t not in text)
    for term in sorted(candidates, key=lambda t: (-len(t), t)):
        n = len(term)
        for i in (i for i in sorted(starts) if text.startswith(term[0], i)):
            window = text[i:i + n]
            if len(window) < n or i + n not in ends or any(taken[i:i + n]) or not _cjk(window):
                continue
            odd = [k for k in range(n) if window[k] != term[k]]
            if len(odd) != 1 or odd[0] == 0 or is_word(window):
                continue
            host = token_at.get(i + odd[0], "")
            left, right = window[:odd[0]], window[odd[0] + 1:]
            # 认定有奖励 = 认定 + 有 + 奖励, 授权费和 = 授权费 + 和: words, not a slip.
            around_words = is_word(left) and (not right or is_word(right))
            if (len(host) > 1 and is_word(host)) or around_words or (n == 3 and _two_words(window, is_word)):
                continue
            if not sound_alike(window[odd[0]], term[odd[0]]):
                continue
            found.append((i, window, term))
            taken[i:i + n] = [True] * n
            break
    for i, window, term in sorted(found, reverse=True):
        text = text[:i] + term + text[i + len(window):]
    return text, [(w, t) for _, w, t in sorted(found)]


def _two_words(window: str, is_word) -> bool:
    """企业有 = 企业 + 有: ordinary text, not a slip for 企业债."""
    return any(is_word(window[:k]) and is_word(window[k:]) for k in range(1, len(window)))


def _cjk(s: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in s)
