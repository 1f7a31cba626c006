"""A LangChain retrieval chain (LCEL) that lets a model phrase the answer, guarded.

message → (follow-ups) model rewrite into a standalone question, checked → the project's hybrid
retriever as a LangChain BaseRetriever → a Chinese prompt with the numbered clauses and any
calculator result → the model's wording with a [n] per claim → the guard. The calculators are
bound as tools: if the model calls one, the code computes. Any failure, or any answer the guard
rejects, gives the offline answer, with a log line saying why; Answer.answerer says which.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from langchain_core.documents import Document as LCDocument
from langchain_core.messages import ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever

from assistant.answer.sentences import best_sentences
from assistant.understand.terms import QueryTerms
from assistant.llm.guard import check_answer, check_rewrite
from assistant.llm.client import ModelClient, ModelUnavailable
from assistant.models import Answer, Citation
from assistant.understand.query import is_followup
from assistant.answer.verdict import say
from assistant.llm.tools import calculator_tools

log = logging.getLogger(__name__)
_MARKER = re.compile(r"\[(\d+)\]")
_CN = "一二三四五六七八九十"

SYSTEM = ("你是专精特新企业政策咨询助手。只能依据下面编号的政策原文回答，不得编造。"
          "每一句结论后用 [编号] 标出依据的条款。不要自己计算：涉及金额时，只能使用“计算结果”里给出的数字。"
          "原文没有写明的金额、比例、日期，一律说“原文未规定”。回答用简体中文，先给结论，不超过150字。")
HUMAN = "政策原文：\n{clauses}\n\n计算结果：{calculation}\n\n确定性判断（必须与之一致）：{verdict}\n\n问题：{question}"
REWRITE = ("把用户的最后一个问题改写成一个不依赖上下文、完整独立的问题。保留问题中的所有金额，不要增加金额。"
           "只输出改写后的问题。\n\n对话：\n{conversation}\n\n最后的问题：{question}")


class PolicyRetriever(BaseRetriever):
    """The project's hybrid retriever (BM25 + Chroma, fused) as a LangChain retriever."""

    hybrid: Any
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager=None) -> list[LCDocument]:
        return [LCDocument(page_content=h.clause.text,
                           metadata={"doc_id": h.clause.doc_id, "title": h.clause.doc_title,
                                     "section": h.clause.section, "label": h.clause.label,
                                     "key": h.clause.key})
                for h in self.hybrid.search(query, k=self.k)]


class GuardedChain:
    """Offline answer first; the model may only re-word it, within the guard."""

    def __init__(self, offline, client: ModelClient, retriever: PolicyRetriever, rules, clauses_by_key):
        self.offline, self.client, self.retriever = offline, client, retriever
        self.clauses_by_key = clauses_by_key
        self.tools = {t.name: t for t in calculator_tools(rules)}
        model = client.model
        self.answer_chain = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", HUMAN)]) | (
            model.bind_tools(list(self.tools.values())) if self.tools and hasattr(model, "bind_tools") else model)
        self.rewrite_chain = ChatPromptTemplate.from_messages([("human", REWRITE)]) | model

    # the same entry point as the offline Answerer
    def answer(self, question, history=()) -> Answer:
        offline = self.offline.answer(question, history)
        if offline.refused or not isinstance(question, str):
            return offline  # a refusal by the offline path is never overturned
        try:
            return self._worded(question, list(history or []), offline)
        except ModelUnavailable as exc:
            log.warning("大模型不可用，使用离线回答：%s", exc)
        return offline

    def _standalone(self, question: str, history: list) -> str:
        earlier = [str(h[0]) for h in history if isinstance(h, (list, tuple)) and h]
        if not earlier or not is_followup(question, self.offline.cues):
            return question
        conversation = "\n".join(f"用户：{q}" for q in earlier[-3:])
        rewrite = self.client.invoke(self.rewrite_chain, {"conversation": conversation, "question": question})
        verdict = check_rewrite(question, rewrite, earlier)
        if not verdict.ok:
            log.warning("改写被丢弃（%s）：%r", verdict.reason, rewrite[:80])
            return question
        return rewrite

    def _numbered(self, offline: Answer, standalone: str) -> list[Citation]:
        """The offline answer's citations, then other retrieved clauses (their best sentences)."""
        cites = list(offline.citations)
        seen = {(c.doc_id, c.section) for c in cites}
        for doc in self.retriever.invoke(standalone):
            m = doc.metadata
            if (m["doc_id"], m["section"]) in seen or len(cites) >= 5:
                continue
            clause = self.clauses_by_key.get(m["key"])
            quote = best_sentences(clause, QueryTerms([]), self.offline.cues)[0] if clause else doc.page_content[:200]
            cites.append(Citation(m["doc_id"], m["title"], m["section"], m["label"], quote))
            seen.add((m["doc_id"], m["section"]))
        return cites

    def _worded(self, question: str, history: list, offline: Answer) -> Answer:
        standalone = self._standalone(question, history)
        cites = self._numbered(offline, standalone)
        calcs = offline.calculations()
        inputs = {"clauses": "\n".join(f"[{i}] 《{c.title}》{c.label}：{c.quote}" for i, c in enumerate(cites, 1)),
                  "calculation": "；".join(("；".join(c.steps) + f"；结果 {c.amount_yuan} 元") for c in calcs) or "无",
                  "verdict": "；".join(say(p.verdict, p.lead) + p.ask_back + "".join(p.notes) for p in offline.parts),
                  "question": standalone}
        text = self._invoke_with_tools(inputs)
        earlier = [str(h[0]) for h in history if h] + ([standalone] if standalone != question else [])
        verdict = check_answer(text, answer=offline, question=question, earlier=earlier, clauses=len(cites),
                               cues=self.offline.cues, quotes=[c.quote for c in cites])
        if not verdict.ok:
            log.warning("大模型回答未通过检查（%s），使用离线回答：%.40s", verdict.reason, question)
            return offline
        # Keep the clauses the model cited, in order of first mention; markers become 〔一〕 so
        # that every digit in the text is a figure from the sources.
        # The offline answer's citations stay (the text leans on them); other retrieved clauses
        # only when the model cited them.
        base = len(offline.citations)
        cited_extra = [n for n in dict.fromkeys(int(x) for x in _MARKER.findall(text)) if n > base]
        kept = cites[:base] + [cites[n - 1] for n in cited_extra]
        position = {n: i for i, n in enumerate([*range(1, base + 1), *cited_extra])}
        text = _MARKER.sub(lambda m: f"〔{_CN[position[int(m.group(1))]]}〕", text)
        lines = [f"{offline.notice}\n{text}" if offline.notice else text]
        for calc in calcs:
            lines.append("计算过程：\n" + "\n".join(f"· {step}" for step in calc.steps))
        lines += [f"〔{_CN[i]}〕原文：“{c.quote}”【{c.label}】" for i, c in enumerate(kept)]
        # The hotline keeps the offline speech: it is read aloud from the checked fields.
        return replace(offline, text="\n".join(lines), citations=kept, answerer=f"llm:{self.client.name}")

    def _invoke_with_tools(self, inputs: dict) -> str:
        """One model turn; if it calls a calculator tool, the code computes and the model words it."""
        if not self.client.breaker.allow():
            raise ModelUnavailable("模型接口暂停调用（连续失败，熔断中）")
        prompt = self.answer_chain.first.invoke(inputs)
        messages = prompt.to_messages()
        try:
            reply = self.answer_chain.last.invoke(messages)
            calls = getattr(reply, "tool_calls", None) or []
            if calls:
                messages.append(reply)
                for call in calls[:3]:
                    tool = self.tools.get(call["name"])
                    result = tool.invoke(call["args"]) if tool else {"error": "没有这个计算器"}
                    messages.append(ToolMessage(content=str(result), tool_call_id=call["id"]))
                reply = self.answer_chain.last.invoke(messages)
        except Exception as exc:  # timeouts, HTTP errors, bad bodies
            raise self.client.failed(exc) from exc
        text = getattr(reply, "content", "")
        if not isinstance(text, str) or not text.strip():
            self.client.breaker.failure()
            raise ModelUnavailable("模型返回了空回答")
        self.client.breaker.success()
        return text.strip()
