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

from assistant.answer.sentences import gives_money, split_after
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
    if not terms or not ask.words:
        return None
    # The sentence states the asked act itself: every content word of the ask — who, what, the
    # act — in the ask's own words or the documents' words for them (第一次贷款 → 首贷), not
    # merely the weightiest ones (侄子可以继承吗 is not answered by 自然人可以立遗嘱…继承).
    if not all(_stated(word, terms, sentence) for word in ask.words):
        return None
    if cues.has("forbids", sentence):
        return None  # a prohibition's scope is for the reader to weigh, not for a one-word verdict
    chief = max(terms, key=lambda t: t.weight)
    pieces = _pieces(sentence)
    for i, piece in enumerate(pieces):
        if intent.has or intent.money:
            # 有没有补助: from the clause naming what is asked about on, the sentence gives money
            # (or support): 实施上云上平台改造，按照合同额的30%给予…资金支持
            if not chief.found_in(piece):
                continue
            rest = "".join(pieces[i:])
            gives = gives_money(rest, cues) if intent.money else cues.has("support_grant", rest)
            return ("有" if intent.has else "可以") if gives else None
        # 能不能撤销: the permission governs the asked act, which follows it in the same clause
        act = ask.words[-1]
        for m in cues.find("permits", piece):
            if _stated(act, terms, piece[m.end():]):
                return "可以"
    return None


def _pieces(sentence: str) -> list[str]:
    return split_after(sentence, "，,；;：:。")


def _stated(word: str, terms, sentence: str) -> bool:
    if word in sentence:
        return True
    return any((word in t.word or t.word in word) and any(a in sentence for a in t.alternatives if a != t.word)
               for t in terms)


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
