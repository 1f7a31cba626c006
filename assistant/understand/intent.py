"""What an ask asks for — a figure, a yes or no, how to apply, how long a document is valid … —
read once from the cues (corpus/cues.toml) and carried by the Ask; later stages read the flags,
never the words."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understand.cues import Cues

_YEAR = re.compile(r"(20\d\d)\s*年")


@dataclass(frozen=True)
class Intent:
    yes_no: bool = False  # 能不能, …吗
    has: bool = False  # 有没有, 有…吗: answered 有/没有
    amount: bool = False  # 多少, 怎么算, 比例
    money: bool = False  # 补贴, 资金, 钱
    procedure: bool = False  # 怎么申请, 材料, 去哪办
    validity: bool = False  # 有效期, 到什么时候
    started: bool = False  # 什么时候开始实施
    eligibility: bool = False  # 能享受吗, 适用吗
    alternative: bool = False  # 按合同额还是按发票金额
    penalty: bool = False  # 会被罚多少, 怎么处罚
    on_topic: bool = False  # about the policy as a whole (an overview may answer)
    years: tuple[int, ...] = ()  # years the ask names (2029年还能申请吗)

    @property
    def kind(self) -> str:
        """The main thing asked, for the trace."""
        for name in ("validity", "started", "procedure", "penalty", "amount", "eligibility", "has", "yes_no"):
            if getattr(self, name):
                return name
        return "lookup"

    @property
    def about_dates(self) -> bool:
        return self.validity or self.started or bool(self.years)


def read_intent(text: str, cues: Cues) -> Intent:
    """text: the ask's own words without greetings and self-introductions (a year in 我们公司成立于
    2015年 says who is calling, not what is asked)."""
    return Intent(yes_no=cues.has("yes_no", text), has=cues.has("has", text),
                  amount=cues.has("amount_ask", text), money=cues.has("money_ask", text),
                  procedure=cues.has("procedure", text), validity=cues.has("validity", text),
                  started=cues.has("started", text), eligibility=cues.has("eligibility_ask", text),
                  alternative=cues.has("alternative", text), on_topic=cues.has("on_topic", text),
                  penalty=cues.has("penalty_ask", text),
                  years=tuple(int(y) for y in _YEAR.findall(text)))
