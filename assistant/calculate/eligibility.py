"""政策体检: an enterprise profile → every measure as met / not met / unknown, with amounts."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from assistant.understand.amounts import AmountError, fmt_wan, parse_amount
from assistant.calculate.calculators import calculate, industry_fits, result_line, threshold
from assistant.calculate.rules import Rule

QUALIFICATIONS = {"国家级小巨人": "国家级专精特新“小巨人”企业", "市级专精特新": "市级专精特新中小企业",
                  "区级专精特新": "区级专精特新企业", "无": ""}
OUT_OF_SCOPE = {"区级专精特新", "无"}  # the policy's scope clause leaves these out
CHOICES = {
    "qualification": ("资质", set(QUALIFICATIONS)),
    "board_layer": ("专板层级", {"规范层", "培育层", "无"}),
    "listing": ("上市计划", {"A股", "境外", "无"}),
    "first_use": ("首制首试首用类型", {"首流片", "首批次", "首试产", "首方案", "无"}),
}
AMOUNTS = {
    "revenue_last_year": "上年度主营业务收入", "digital_contract": "数字化转型合同额",
    "cloud_contract": "上云上平台合同额", "direct_financing": "年度累计直接融资额",
    "brand_cost": "品牌宣传推广费用", "expo_cost": "展会实际发生费用",
    "patent_fees": "专利授权费及年费实际应缴金额",
}
FLAGS = {"brand_listed": "上年度入选知名品牌榜单", "foreign_trade": "开展外贸业务"}
TEXTS = {"industry": "行业"}
FIELD_LABELS = {k: v[0] for k, v in CHOICES.items()} | AMOUNTS | FLAGS | TEXTS
STATUS_CN = {"met": "符合", "not_met": "不符合", "unknown": "待确认"}


def spreadsheet_safe(value):
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab/CR) gets a leading
    apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class ProfileError(ValueError):
    """A profile field that cannot be used; the message names the field in Chinese."""


@dataclass
class Row:
    rule_id: str
    measure: str
    section: str
    label: str
    status: str  # met / not_met / unknown
    reason: str
    ask: str = ""
    max_amount_yuan: int | None = None
    quote: str = ""


@dataclass
class Report:
    qualification: str
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"qualification": self.qualification, "rows": [asdict(r) for r in self.rows]}

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["结果", "措施", "说明", "需确认", "最高金额（元）", "条款", "原文"])  # as the app writes it
        for r in self.rows:
            w.writerow([spreadsheet_safe(v) for v in (
                STATUS_CN[r.status], r.measure, r.reason, r.ask,
                "" if r.max_amount_yuan is None else r.max_amount_yuan, r.label, r.quote)])
        return buf.getvalue()


def _clean(profile: dict) -> dict:
    if not isinstance(profile, dict):
        raise ProfileError("企业情况应为 JSON 对象（键值对）")
    out: dict = {}
    for key, value in profile.items():
        if key not in FIELD_LABELS:
            raise ProfileError(f"未知字段“{key}”，可用字段：{'、'.join(f'{k}（{v}）' for k, v in FIELD_LABELS.items())}")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # blank means unknown
        label = FIELD_LABELS[key]
        if key in CHOICES and value not in CHOICES[key][1]:
            raise ProfileError(f"字段“{label}”的值“{value}”无法识别，可选：{'、'.join(sorted(CHOICES[key][1]))}")
        if key in AMOUNTS:
            try:
                value = parse_amount(value, label)
            except AmountError as exc:
                raise ProfileError(str(exc)) from exc
        if key in FLAGS:
            if isinstance(value, str) and value in ("是", "否"):
                value = value == "是"
            if not isinstance(value, bool):
                raise ProfileError(f"字段“{label}”应为 是/否（true/false），收到“{value}”")
        if key in TEXTS and not isinstance(value, str):
            raise ProfileError(f"字段“{label}”应为文字，收到“{value}”")
        out[key] = value
    return out


def _row(rule: Rule, status: str, reason: str, ask: str = "", amount=None) -> Row:
    return Row(rule.id, rule.title, rule.section, "", status, reason, ask,
               None if amount is None else int(amount), rule.quote)


def _computed(rule: Rule, value: Decimal | None, field_label: str) -> Row:
    if value is None:
        return _row(rule, "met", f"符合条件；提供{field_label}即可计算具体金额", f"{field_label}是多少？",
                    rule.cap_yuan)
    calc = calculate(rule, value)
    if calc.amount_yuan == 0:
        return _row(rule, "not_met", result_line(rule, calc), amount=0)
    return _row(rule, "met", "；".join(calc.steps), amount=calc.amount_yuan)


def _unknown(rule: Rule, ask: str) -> Row:
    """Not yet known whether it applies; the clause's own maximum is still worth showing."""
    return _row(rule, "unknown", "尚不清楚", ask, rule.cap_yuan)


def _amount_check(rule: Rule, spec: dict, p: dict) -> Row:
    value = p.get(spec["amount"])
    if value is None and spec.get("ask"):
        return _unknown(rule, spec["ask"])
    return _computed(rule, value, AMOUNTS[spec["amount"]])


def _choice_check(rule: Rule, spec: dict, p: dict) -> Row:
    value = p.get(spec["field"])
    if value is None:
        return _unknown(rule, spec["ask"])
    if value in spec["yes"]:
        return _row(rule, "met", f"符合：{value}；原文最高{fmt_wan(rule.cap_yuan)}", amount=rule.cap_yuan)
    return _row(rule, "not_met", spec["why_not"])


def _flag_check(rule: Rule, spec: dict, p: dict) -> Row:
    flag = p.get(spec["field"])
    if flag is None:
        return _unknown(rule, spec["ask"])
    if not flag:
        return _row(rule, "not_met", spec["why_not"])
    return _computed(rule, p.get(spec["amount"]), AMOUNTS[spec["amount"]])


def _industry_check(rule: Rule, spec: dict, p: dict) -> Row:
    industry, wanted = p.get("industry"), rule.get("industry")
    if industry is None:
        return _row(rule, "unknown", f"本项限于{wanted}专精特新企业", f"贵企业是否属于{wanted}？", rule.cap_yuan)
    if not industry_fits(rule, industry):
        return _row(rule, "not_met", f"本项限于{wanted}专精特新企业，贵企业行业为“{industry}”", amount=0)
    return _computed(rule, p.get(spec["amount"]), AMOUNTS[spec["amount"]])


def _threshold_check(rule: Rule, spec: dict, p: dict) -> Row:
    result = threshold(rule, p.get(spec["amount"]), p.get("industry"))
    status = {True: "met", False: "not_met", None: "unknown"}[result.met]
    ask = ""
    if result.met is None:
        ask = f"{AMOUNTS[spec['amount']]}是多少？"
        if p.get("industry") is None:
            ask = f"贵企业是否属于{rule.get('excluded_industry')}？" + ask
    return _row(rule, status, result.reason, ask)


CHECKS = {"amount": _amount_check, "choice": _choice_check, "flag": _flag_check,
          "industry": _industry_check, "threshold": _threshold_check}


def _evaluate(rule: Rule, p: dict) -> Row | None:
    spec = rule.get("profile")
    return CHECKS[spec["check"]](rule, spec, p) if spec else None


def check_profile(profile: dict, rules: list[Rule], labels: dict[str, str] | None = None) -> Report:
    """labels: "doc_id#section" → clause label, for the 条款 column."""
    p = _clean(profile)
    scope = next((r for r in rules if r.kind == "scope"), None)
    qualification = p.get("qualification")
    rows = []
    for rule in rules:
        row = _evaluate(rule, p)
        if row is None:
            continue
        if qualification in OUT_OF_SCOPE and scope is not None:
            said = "" if qualification == "无" else f"，{QUALIFICATIONS[qualification]}不在其中"
            row = _row(rule, "not_met", "本政策适用于" + "和".join(scope.get("qualifications")) + said)
        elif qualification is None and scope is not None and row.status == "met":
            row.status, row.ask = "unknown", "贵企业是否为国家级专精特新“小巨人”企业或市级专精特新中小企业？"
            row.reason = "其他条件符合；" + row.reason
        rows.append(row)
    doc_of = {r.id: r.doc_id for r in rules}
    for row in rows:
        row.label = (labels or {}).get(f"{doc_of[row.rule_id]}#{row.section}", row.section)
    return Report(QUALIFICATIONS.get(qualification or "", "") or (qualification or "未说明"), rows)


def render_table(report: Report) -> str:
    lines = [f"政策体检结果（资质：{report.qualification}）", ""]
    for r in report.rows:
        amount = "" if r.max_amount_yuan is None else f"，最高 {r.max_amount_yuan} 元"
        lines.append(f"[{STATUS_CN[r.status]}] {r.measure}（{r.label}）{amount}")
        lines.append(f"    {r.reason}")
        if r.ask:
            lines.append(f"    需确认：{r.ask}")
    return "\n".join(lines)
