"""The calculators as LangChain tools (structured inputs), for an agent or LLM front end.

The tools only wrap the deterministic functions in calculators.py: a model may choose a tool,
it never does the arithmetic.
"""
from __future__ import annotations

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from assistant.understand.amounts import AmountError, parse_amount
from assistant.calculate.calculators import FORMULAS, CalculationError, calculate
from assistant.calculate.rules import Rule


class AmountInput(BaseModel):
    amount: str = Field(description="金额，可写成 120万元、1.5亿、300000 等")


def _tool(rule: Rule) -> StructuredTool:
    def run(amount: str) -> dict:
        try:
            calc = calculate(rule, parse_amount(amount, rule.input_label))
        except (AmountError, CalculationError) as exc:
            return {"error": str(exc), "rule_id": rule.id}
        return {**calc.to_dict(), "section": rule.section, "quote": rule.quote}

    return StructuredTool.from_function(
        func=run, name=rule.id.replace("-", "_"), args_schema=AmountInput,
        description=f"{rule.title}：输入{rule.input_label}，按原文计算可获资金。原文：{rule.quote}")


def calculator_tools(rules: list[Rule]) -> list[StructuredTool]:
    return [_tool(r) for r in rules if r.kind in FORMULAS]
