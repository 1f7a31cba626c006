"""Markdown summary (stdout) and a self-contained HTML report with inline SVG charts."""
from __future__ import annotations

import html
import json

from .runner import CaseResult

SHOWN = ["cases", "passed", "pass_rate", "hit@1", "hit@3", "hit@any", "mrr", "refusal_rate", "stray_verdicts", "citation_precision",
         "fact_recall",
         "amount_exact", "refusal_precision", "refusal_recall", "grounding", "quote_validity",
         "rouge_l_chars(weak)", "latency_p50_ms", "latency_p95_ms"]
COMPARED = ["hit@1", "hit@3", "mrr", "fact_recall", "refusal_recall", "latency_p50_ms", "latency_p95_ms"]


def fmt(v, key: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, dict):  # lost_at: the stage that lost each miss
        return "，".join(f"{k} {n}" for k, n in sorted(v.items(), key=lambda kv: -kv[1]))
    if key.endswith("_ms"):
        return f"{v:.1f}"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.2f}"
    return str(v)


def markdown(summary: dict, problems: list, baseline: dict | None = None, compare: dict | None = None) -> str:
    kinds = list(summary["by_kind"])
    lines = ["# 评测结果", "", "| 指标 | 全部 | " + " | ".join(kinds) + " |",
             "|---|---|" + "---|" * len(kinds)]
    for key in SHOWN:
        row = [fmt(summary["overall"].get(key), key)] + [fmt(summary["by_kind"][k].get(key), key) for k in kinds]
        lines.append(f"| {key} | " + " | ".join(row) + " |")
    lines.append("")
    lines.append("rouge_l_chars(weak): character overlap with 标准答案 — a weak signal of wording, not correctness.")
    if summary["overall"].get("lost_at"):
        lines.append(f"失分环节（金标准为条文时，首条引用不对的用例由哪一环节丢失）：{fmt(summary['overall']['lost_at'])}")
    by_set = summary.get("by_set") or {}
    if len(by_set) > 1:
        per_set = ("cases", "passed", "pass_rate", "hit@1", "refusal_precision", "refusal_recall")
        lines += ["", "## 各用例集", "", "| 用例集 | " + " | ".join(per_set) + " |",
                  "|---|" + "---|" * len(per_set)]
        for name, block in by_set.items():
            lines.append(f"| {name} | " + " | ".join(fmt(block.get(k), k) for k in per_set) + " |")
    if baseline:
        lines += ["", "## 对照基线（RecursiveCharacterTextSplitter + Chroma + 同一向量模型，top-3）", "",
                  "| 指标 | 本系统 | 基线 | 本系统/基线 |", "|---|---|---|---|"]
        for key in COMPARED:
            ours, theirs = summary["overall"].get(key), baseline.get(key)
            ratio = (ours / theirs) if isinstance(ours, (int, float)) and theirs else None
            lines.append(f"| {key} | {fmt(ours, key)} | {fmt(theirs, key)} | {fmt(ratio) if ratio is not None else '—'} |")
    if compare:
        lines += ["", "## 与上次对比", "", f"退步 {len(compare['regressed'])} 例：" + "、".join(compare["regressed"]),
                  f"改进 {len(compare['improved'])} 例：" + "、".join(compare["improved"])]
    if problems:
        lines += ["", "## 无法读取的用例", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines)


def _bars(title: str, items: list[tuple[str, float]], maximum: float = 1.0, counts: bool = False) -> str:
    h = 26 * len(items) + 30
    parts = [f'<svg width="560" height="{h}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 28 + 26 * i
        w = 0 if maximum == 0 else 360 * min(value, maximum) / maximum
        parts.append(f'<text x="0" y="{y + 15}">{html.escape(label)}</text>'
                     f'<rect x="130" y="{y}" width="{w:.1f}" height="18" fill="#2b6cb0"/>'
                     f'<text x="{136 + w:.1f}" y="{y + 15}">{int(value) if counts else fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram(latencies: list[float]) -> str:
    if not latencies:
        return ""
    top = max(latencies) or 1.0
    n = 12
    counts = [0] * n
    for v in latencies:
        counts[min(n - 1, int(v / top * n))] += 1
    items = [(f"≤{top * (i + 1) / n:.1f} ms", float(c)) for i, c in enumerate(counts)]
    return _bars("延迟分布（每题毫秒数 → 用例数）", items, max(counts), counts=True)


def html_report(summary: dict, results: list[CaseResult], problems: list, baseline: dict | None) -> str:
    kinds = summary["by_kind"]
    failed = [r for r in results if not r.passed]
    rows = []
    for r in failed:
        facts = "；".join("/".join(g) for g in r.case.facts)
        quotes = "<br>".join(html.escape(f"{q['label']}：{q['quote']}") for q in r.quotes)
        rows.append(f"<tr><td>{html.escape(r.case.id)}<br><small>{html.escape(r.case.kind)}</small></td>"
                    f"<td>{html.escape(r.case.question[:200])}</td><td>{html.escape(r.text[:600])}</td>"
                    f"<td>{html.escape(facts)}<br>条款：{html.escape(','.join(r.case.sections))}"
                    f"<br>金额：{fmt(r.case.amount_yuan)}</td><td>{quotes}</td></tr>")
    overall = summary["overall"]
    kind_names = list(kinds)
    table = ("<tr><th>指标</th><th>全部</th>" + "".join(f"<th>{html.escape(k)}</th>" for k in kind_names) + "</tr>"
             + "".join(f"<tr><th>{k}</th><td>{fmt(overall.get(k), k)}</td>"
                       + "".join(f"<td>{fmt(kinds[n].get(k), k)}</td>" for n in kind_names) + "</tr>"
                       for k in SHOWN))
    base = ""
    if baseline:
        base = ("<h2>对照基线（RecursiveCharacterTextSplitter + Chroma + 同一向量模型，top-3）</h2>"
                "<table><tr><th>指标</th><th>本系统</th><th>基线</th></tr>" + "".join(
                    f"<tr><th>{k}</th><td>{fmt(overall.get(k), k)}</td><td>{fmt(baseline.get(k), k)}</td></tr>"
                    for k in COMPARED) + "</table>")
    probs = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>评测报告</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:24px;max-width:1200px}}
table{{border-collapse:collapse;margin:8px 0}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}}
.fail td{{font-size:13px}}</style></head><body>
<h1>评测报告</h1><p>{overall['cases']} 例，通过 {overall['passed']} 例（{fmt(overall['pass_rate'])}）</p>
<table>{table}</table>
{_bars("各类别通过率", [(k, v["pass_rate"] or 0.0) for k, v in kinds.items()])}
{_bars("各类别 hit@1", [(k, v["hit@1"]) for k, v in kinds.items() if v["hit@1"] is not None])}
{_histogram([r.latency_ms for r in results])}
{base}
<h2>未通过的用例（{len(failed)}）</h2>
{'<table class="fail"><tr><th>用例</th><th>问题</th><th>回答</th><th>期望</th><th>引用的条款</th></tr>' + ''.join(rows) + '</table>' if rows else '<p>无。</p>'}
{'<h2>无法读取的用例</h2><ul>' + probs + '</ul>' if probs else ''}
</body></html>"""


def compare_runs(current: list[CaseResult], previous_path) -> dict:
    previous = {r["case"]["id"]: r["passed"] for r in json.loads(previous_path.read_text(encoding="utf-8"))}
    now = {r.case.id: r.passed for r in current}
    return {"regressed": [k for k, v in now.items() if previous.get(k) is True and not v],
            "improved": [k for k, v in now.items() if previous.get(k) is False and v]}
