"""政策体检: an enterprise profile → every measure as met / not met / unknown, with amounts."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from .amounts import AmountError, fmt_wan, parse_amount
from .calculators import calculate, threshold
from .rules import Rule

QUALIFICATIONS = {"国家级小巨人": "国家级专精特新“小巨人”企业", "市级专精特新": "市级专精特新中小企业", "无": ""}
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
        w.writerow(["措施", "结果", "说明", "需确认", "最高金额（元）", "条款", "原文"])
        for r in self.rows:
            w.writerow([r.measure, STATUS_CN[r.status], r.reason, r.ask,
                        "" if r.max_amount_yuan is None else r.max_amount_yuan, r.label, r.quote])
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
        cap = rule.cap_yuan
        return _row(rule, "met", f"符合条件；提供{field_label}即可计算具体金额", f"{field_label}是多少？", cap)
    calc = calculate(rule, value)
    if calc.amount_yuan == 0:
        return _row(rule, "not_met", "按原文该金额不能获得奖励：" + "；".join(calc.steps[1:]), amount=0)
    return _row(rule, "met", f"按{field_label}计算：" + "；".join(calc.steps), amount=calc.amount_yuan)


def _choice(rule: Rule, value, yes: set, ask: str, why_not: str) -> Row:
    if value is None:
        return _row(rule, "unknown", "尚不清楚", ask)
    if value in yes:
        return _row(rule, "met", f"符合：{value}；原文最高{fmt_wan(rule.cap_yuan)}", amount=rule.cap_yuan)
    return _row(rule, "not_met", why_not)


def _flag(rule: Rule, flag, ask: str, why_not: str, cost: Decimal | None, cost_label: str) -> Row:
    if flag is None:
        return _row(rule, "unknown", "尚不清楚", ask)
    if not flag:
        return _row(rule, "not_met", why_not)
    return _computed(rule, cost, cost_label)


def _industry_row(rule: Rule, p: dict) -> Row:
    industry = p.get("industry")
    if industry is None:
        return _row(rule, "unknown", f"本项限于{rule.get('industry')}专精特新企业", f"贵企业是否属于{rule.get('industry')}？")
    if rule.get("industry") not in industry or industry.startswith("非"):
        return _row(rule, "not_met", f"本项限于{rule.get('industry')}专精特新企业，贵企业行业为“{industry}”", amount=0)
    return _computed(rule, p.get("digital_contract"), AMOUNTS["digital_contract"])


def _evaluate(rule: Rule, p: dict) -> Row | None:
    if rule.id == "digital-transformation":
        return _industry_row(rule, p)
    if rule.id == "cloud-migration":
        return _computed(rule, p.get("cloud_contract"), AMOUNTS["cloud_contract"])
    if rule.id == "board-reward":
        return _choice(rule, p.get("board_layer"), {"规范层", "培育层"},
                       "是否已进入北京“专精特新”专板规范层或培育层？", "未进入专板规范层、培育层")
    if rule.id == "equity-financing":
        v = p.get("direct_financing")
        if v is None:
            return _row(rule, "unknown", "尚不清楚", "在北京区域性股权市场的年度累计直接融资额是多少？")
        return _computed(rule, v, AMOUNTS["direct_financing"])
    if rule.id == "listing":
        return _choice(rule, p.get("listing"), {"A股", "境外"}, "是否计划在A股或境外主要证券交易所上市？",
                       "暂无A股或境外主要证券交易所上市计划")
    if rule.id == "brand-promotion":
        return _flag(rule, p.get("brand_listed"), "上年度是否入选品牌强国工程等知名品牌榜单？",
                     "上年度未入选知名品牌榜单", p.get("brand_cost"), AMOUNTS["brand_cost"])
    if rule.id == "expo":
        return _flag(rule, p.get("foreign_trade"), "是否开展外贸业务并参加国际性展会或线上外贸展会？",
                     "未开展外贸业务", p.get("expo_cost"), AMOUNTS["expo_cost"])
    if rule.id == "patent-fees":
        v = p.get("patent_fees")
        if v is None:
            return _row(rule, "unknown", "按实际应缴金额资助", "发明专利授权费和前十年年费减缴后的实际应缴金额是多少？")
        return _computed(rule, v, AMOUNTS["patent_fees"])
    if rule.id == "first-use":
        return _choice(rule, p.get("first_use"), {"首流片", "首批次", "首试产", "首方案"},
                       "是否有集成电路首流片、新材料首批次、医药首试产或信创首方案？", "无首制首试首用项目")
    if rule.id == "tech-center":
        result = threshold(rule, p.get("revenue_last_year"), p.get("industry"))
        status = {True: "met", False: "not_met", None: "unknown"}[result.met]
        ask = "" if result.met is not None else "上年度主营业务收入是多少？"
        if result.met is None and p.get("industry") is None:
            ask = "贵企业是否属于建筑业？上年度主营业务收入是多少？"
        return _row(rule, status, result.reason, ask)
    return None


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
        if qualification == "无" and scope is not None:
            row = _row(rule, "not_met", "本政策适用于" + "和".join(scope.get("qualifications")))
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
