"""The gate's calibrated decision: is an ask covered by the clauses found?

A logistic model over the gate's evidence (how much of the ask the clauses cover, its weightiest
word, the share of it no loaded document uses, closeness in meaning, …), fitted on mixed dev data
— the project's sets, another author's colloquial set, STARD's real legal questions over the laws
that answer them, and the same STARD questions over the policy alone, where nothing answers them —
by `python -m evals calibrate`, which writes corpus/gate.toml with its figures. No Chinese here:
the evidence is numbers.
"""
from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
FEATURES = ("cov3", "cov1", "dense", "unseen", "anchored", "lnterms")


def vector(evidence: dict) -> list[float]:
    """The evidence as the model reads it (booleans as 0/1, the number of words as a log)."""
    return [float(evidence.get(name, 0.0)) if name != "lnterms" else math.log1p(evidence.get("n_terms", 0))
            for name in FEATURES]


@dataclass(frozen=True)
class GateModel:
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, evidence: dict) -> float:
        z = self.bias + sum(w * (x - m) / s for w, x, m, s in
                            zip(self.weights, vector(evidence), self.means, self.scales))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def covers(self, evidence: dict) -> tuple[bool, float]:
        p = self.probability(evidence)
        return p >= self.threshold, p

    @classmethod
    def load(cls, path: Path) -> "GateModel | None":
        if not path.exists():
            return None
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        model = data["model"]
        if tuple(model["features"]) != FEATURES:
            # A model of other features cannot be read: coverage alone decides until it is refitted.
            log.error("%s 的特征 %s 与代码的 %s 不一致，暂按词覆盖判断；请运行 python -m evals calibrate",
                      path, model["features"], list(FEATURES))
            return None
        return cls(tuple(model["means"]), tuple(model["scales"]), tuple(model["weights"]),
                   float(model["bias"]), float(model["threshold"]))


def fit(rows: list[tuple[dict, int, float]], l2: float = 0.01, steps: int = 4000) -> GateModel:
    """Weighted logistic regression by gradient descent. rows: (evidence, 1 covered / 0 not, weight)."""
    import numpy as np

    x = np.asarray([vector(e) for e, _, _ in rows], dtype=float)
    y = np.asarray([label for _, label, _ in rows], dtype=float)
    w = np.asarray([weight for _, _, weight in rows], dtype=float)
    means, scales = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = np.hstack([(x - means) / scales, np.ones((len(y), 1))])
    theta = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xs @ theta)))
        grad = xs.T @ ((p - y) * w) / w.sum()
        grad[:-1] += l2 * theta[:-1]
        theta -= 0.5 * grad
    return GateModel(tuple(means.round(6)), tuple(scales.round(6)), tuple(theta[:-1].round(6)),
                     round(float(theta[-1]), 6), 0.5)


def write(model: GateModel, path: Path, provenance: str) -> None:
    """corpus/gate.toml: the model and, as comments, how it was made and what it scored."""
    def floats(values) -> str:
        return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"

    lines = [f"# {line}" if line else "#" for line in provenance.splitlines()]
    lines += ["", "[model]",
              "features = [" + ", ".join(f'"{f}"' for f in FEATURES) + "]",
              f"means = {floats(model.means)}", f"scales = {floats(model.scales)}",
              f"weights = {floats(model.weights)}", f"bias = {model.bias:.6g}",
              f"threshold = {model.threshold:.4g}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
