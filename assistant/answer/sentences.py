"""Which sentences of a clause answer the question, and what a sentence states: a figure, money
given. The quotes, the lead and the verdict are built from these."""
from __future__ import annotations

import re

from assistant.documents.textnorm import sentences
from assistant.models import Clause
from assistant.understand.cues import Cues
from assistant.understand.terms import QueryTerms

# Asked for money (补贴吗, 给钱吗): a sentence that grants money is worth about one topic word.
MONEY_SENTENCE_BONUS = 2.0
# A figure as documents write it: 30%, 100万元, 三千元, 十五日, 两年 (digits or Chinese numerals).
FIGURE = re.compile(r"\d|[零一二两三四五六七八九十百千万]+(?:元|万元|亿元|日|天|年|个月)")
MONEY_FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿|千)?元|\d+(?:\.\d+)?\s*%|[零一二两三四五六七八九十百千万亿]+(?:万|亿)?元")


def split_after(text: str, stops: str) -> list[str]:
    """The text cut after each of the stop characters, nothing dropped (spaces at the ends of
    pieces aside); a last piece without a stop is kept."""
    out, current = [], ""
    for ch in text:
        current += ch
        if ch in stops:
            out.append(current)
            current = ""
    if current.strip():
        out.append(current)
    return [p for p in out if p.strip()]


def gives_money(sentence: str, cues: Cues) -> bool:
    """The sentence gives money (予以资金支持, 专项资金, 30万元); bare 资金 (利用财政资金建设)
    names where funding comes from and does not."""
    return cues.has("money_grant", sentence) or bool(MONEY_FIGURE.search(sentence))


def states_figure(text: str) -> bool:
    return bool(FIGURE.search(text))


def states_money(text: str) -> bool:
    return bool(MONEY_FIGURE.search(text))


def _sentence_score(sentence: str, q: QueryTerms, cues: Cues) -> float:
    """Topic words first; a figure or a money grant only ranks sentences that are on the topic
    (新三板挂牌有奖励吗 must not be answered by the 专板 sentence because it names 30万元)."""
    score = sum(t.weight for t in q.terms if t.found_in(sentence))
    if score == 0 and q.terms:
        return 0.0
    if q.wants_amount and FIGURE.search(sentence):
        score += 0.5
    if q.wants_money and gives_money(sentence, cues):
        score += MONEY_SENTENCE_BONUS
    return score


def best_sentences(clause: Clause, q: QueryTerms, cues: Cues, limit: int = 2) -> list[str]:
    """The sentences of a clause that answer the question, in document order."""
    sents = sentences(clause.text.replace("\n\n", "\n"))
    body = [s for s in sents if s.rstrip("。") != clause.label] or sents
    scored = sorted(((s, _sentence_score(s, q, cues)) for s in body), key=lambda p: -p[1])
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
    if q.wants_money and not any(gives_money(b, cues) for b in best):
        # Asked whether money is given, and the clause gives it in another sentence (通过科技创新券
        # 等方式予以资金支持): that sentence joins, however few of the question's words it repeats.
        grant = next((s for s, score in scored if score > 0 and gives_money(s, cues)), None)
        if grant is not None:
            best.append(grant)
    return [s for s in body if s in best]
