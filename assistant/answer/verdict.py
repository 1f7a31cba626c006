"""A verdict (可以/不可以/有/没有/符合/不符合/能/不能) only where something entails it.

Two sources only:
- a rule (corpus/rules/*.toml): the policy's scope, a calculator's eligibility condition or cap —
  the router and the scope check state those verdicts themselves;
- the cited sentence itself: it states the asked act (the ask's topic words, nearly all of their
  weight) with a modality that grants or permits it (给予, 可以, 予以 …). Then a yes/no question is
  answered 有 (asked whether something exists, and the sentence gives money or support) or 可以.
Otherwise there is no verdict: the answer says what the text provides and quotes it.
"""
from __future__ import annotations

from assistant.answer.sentences import gives_money
from assistant.understand.cues import Cues
from assistant.understand.query import Ask

_VERDICT_SEP = {"符合": "：", "不符合": "：", "不能": "："}
VERDICT_WORDS = ("不可以", "不符合", "可以", "符合", "没有", "不能", "有", "能")


def entailed(ask: Ask, sentence: str, cues: Cues) -> str | None:
    """The verdict the sentence entails for a yes/no ask, or None."""
    intent = ask.intent
    if not intent.yes_no or intent.amount and not intent.has:
        return None
    terms = [t for t in ask.terms.terms if t.weight > 0]
    if not terms:
        return None
    # The sentence states the asked act itself: every topic word of the ask, in the ask's own
    # words or the documents' words for them (首贷; 第一次贷款 → 首贷), not merely most of them.
    if not all(t.found_in(sentence) for t in terms):
        return None
    if cues.has("forbids", sentence):
        return None  # a prohibition's scope is for the reader to weigh, not for a one-word verdict
    if intent.money:
        grants = gives_money(sentence, cues)
    else:
        grants = cues.has("support_grant", sentence) or cues.has("permits", sentence)
    if not grants:
        return None
    return "有" if intent.has else "可以"


def split_verdict(lead: str) -> tuple[str | None, str]:
    """A calculator's lead that opens with its verdict → (verdict, the rest): 不符合：… and 可以。…
    lose the word (the renderer says it again); 符合该放宽条件：… and 可以在上限以内申请：… keep
    their wording (the verdict opens the phrase)."""
    for word in VERDICT_WORDS:
        for sep in ("。", "：", "，"):
            if lead.startswith(word + sep):
                return word, lead[len(word) + 1:]
        head, colon, _ = lead.partition("：")
        if lead.startswith(word) and colon and len(head) <= len(word) + 8:
            return word, lead
    return None, lead


def say(verdict: str | None, lead: str) -> str:
    """The verdict and the lead as one sentence: 可以。… / 不符合：…"""
    if not verdict or lead.startswith(verdict):
        return lead
    return f"{verdict}{_VERDICT_SEP.get(verdict, '。')}{lead}"
