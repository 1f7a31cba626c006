"""Calibrate the gate's decline decision on mixed dev data and write corpus/gate.toml.

    python -m evals calibrate [--config evals/calibration.toml] [--out corpus/gate.toml]

Each setting of the config is a set of cases over an index built from some corpora (built once
under var/calibration/ and reused): the project's sets over the policy, another author's
colloquial set over the policy and four Beijing regulations, STARD's tuning questions over the laws
that answer them, and the same STARD questions over the policy alone, where nothing answers them.
Every ask the gate decides by its evidence (not by a rule) becomes a row: covered (the case
expects an answer) or not (it expects a refusal). A weighted logistic model is fitted, each
setting weighing the same; the threshold is the highest that keeps refusal precision at the
target on the sets with written refusal expectations and declines at most the stated share of
the STARD questions. The per-setting figures are printed and written into gate.toml.
"""
from __future__ import annotations

import glob
import json
import shutil
import tomllib
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from . import stard
from .sets import read_set

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_name("calibration.toml")
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]


def _cases(spec: str, refused: bool | None) -> list[dict]:
    if spec.startswith("stard:"):
        part = getattr(stard, spec.split(":", 1)[1])()
        return [{"id": c["id"], "question": c["question"], "history": [], "refused": refused or False}
                for c in part]
    out = []
    for path in sorted(glob.glob(str(ROOT / spec))):
        for c in read_set(Path(path))[0]:
            if c.refused is None and refused is None:
                continue
            out.append({"id": c.id, "question": c.question, "history": c.history,
                        "refused": c.refused if refused is None else refused})
    return out


def _index(name: str, corpora: list[str], rebuild: bool) -> Path:
    from assistant.api import Toolkit
    from assistant.settings import Settings
    from assistant.store.index import is_empty

    index = ROOT / "var" / "calibration" / name
    if rebuild or is_empty(index):
        roots, staged = [], ROOT / "var" / "calibration" / f"{name}-files"
        for entry in corpora:
            if (ROOT / entry).is_dir():
                roots.append(ROOT / entry)
                continue
            staged.mkdir(parents=True, exist_ok=True)  # single files: copied into one folder
            for path in glob.glob(str(ROOT / entry)):
                shutil.copy2(path, staged / Path(path).name)
        settings = replace(Settings.from_env(), index_dir=index)
        Toolkit.load(settings).build(roots + ([staged] if staged.exists() else []), index)
    return index


def collect(config: dict, rebuild: bool = False) -> dict[str, list[tuple[dict, int]]]:
    """setting name → (evidence, label) rows of the asks the gate decides by its evidence."""
    from assistant import Assistant

    rows: dict[str, list[tuple[dict, int]]] = defaultdict(list)
    built: dict[tuple, Path] = {}
    for setting in config["setting"]:
        key = tuple(setting["corpora"])
        if key not in built:
            built[key] = _index(setting.get("index", setting["name"]), setting["corpora"], rebuild)
        bot = Assistant.load(built[key])
        for case in _cases(setting["cases"], setting.get("refused")):
            answer = bot.ask(case["question"], case["history"]).to_dict()
            for step in answer["trace"]:
                features = step.get("features") if step.get("stage") == "gate" else None
                if features and features.get("decides"):
                    rows[setting["name"]].append((features, 0 if case["refused"] else 1))
        print(f"{setting['name']}: {len(rows[setting['name']])} 个由证据决定的提问", flush=True)
    return rows


def _rates(model, rows) -> tuple[int, int, int, int]:
    """(declined rightly, declined wrongly, answered wrongly, total) for a setting's rows."""
    tp = fp = fn = 0
    for evidence, label in rows:
        covered, _ = model.covers(evidence)
        tp += (not covered) and label == 0
        fp += (not covered) and label == 1
        fn += covered and label == 0
    return tp, fp, fn, len(rows)


def calibrate(config_path: Path = CONFIG, out: Path | None = None, rebuild: bool = False) -> int:
    from assistant.answer.calibration import fit, write

    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    rows = collect(config, rebuild)
    weighted = []
    for setting in config["setting"]:
        got = rows[setting["name"]]
        weight = setting.get("weight", 1.0) * 100.0 / max(1, len(got))
        weighted += [(e, y, weight * (config.get("refusal_weight", 1.0) if y == 0 else 1.0)) for e, y in got]
    from assistant.settings import Settings
    from assistant.store.embedders import make_embedder

    settings = Settings.from_env()  # the embedder every setting's index was built with
    model = replace(fit(weighted), embedder=make_embedder(settings.embedder, settings.project_root).name)
    target = config["refusal_precision"]
    max_stard = config["max_declined_answerable"]
    written = [s["name"] for s in config["setting"] if s.get("refused") is None and not s["cases"].startswith("stard:")]
    answerable = [s["name"] for s in config["setting"] if s["cases"].startswith("stard:") and not s.get("refused")]
    table, chosen = [], None
    for t in THRESHOLDS:
        m = replace(model, threshold=t)
        tp = fp = 0
        for name in written:
            a, b, _, _ = _rates(m, rows[name])
            tp, fp = tp + a, fp + b
        precision = tp / (tp + fp) if tp + fp else 1.0
        declined = max((_rates(m, rows[n])[1] / max(1, len(rows[n])) for n in answerable), default=0.0)
        ok = precision >= target and declined <= max_stard
        table.append((t, precision, declined, ok))
        if ok:
            chosen = t  # the highest that still meets both
    if chosen is None:
        print("没有阈值同时满足拒答精确率与可回答问题的拒答上限；保留 0.5。")
        chosen = 0.5
    model = replace(model, threshold=chosen)
    lines = [f"Gate model: written by `python -m evals calibrate` ({config_path.name}); do not edit by hand.",
             f"Refusal precision target {target} on the sets with written refusals; at most "
             f"{max_stard:.0%} of answerable STARD questions declined.", "",
             "| setting | asks decided | declined rightly | declined wrongly | answered wrongly |",
             "|---|---|---|---|---|"]
    for setting in config["setting"]:
        tp, fp, fn, n = _rates(model, rows[setting["name"]])
        lines.append(f"| {setting['name']} | {n} | {tp} | {fp} | {fn} |")
    lines += ["", f"threshold {chosen} (grid: threshold, refusal precision, largest STARD decline share)"]
    lines += [f"  {t}: {p:.3f} {d:.3f}{' ok' if ok else ''}" for t, p, d, ok in table]
    text = "\n".join(lines)
    print(text)
    write(model, out or ROOT / "corpus" / "gate.toml", text)
    print(f"\n已写入 {out or ROOT / 'corpus' / 'gate.toml'}")
    (ROOT / "var" / "calibration").mkdir(parents=True, exist_ok=True)
    with (ROOT / "var" / "calibration" / "rows.jsonl").open("w", encoding="utf-8") as f:
        for name, got in rows.items():
            for e, y in got:
                f.write(json.dumps({"setting": name, "label": y, "evidence": e}, ensure_ascii=False) + "\n")
    return 0
