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
from dataclasses import dataclass, replace
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
    embedder: str = ""  # whose cosines the "dense" feature was fitted on

    def reading(self, embedder: str) -> "GateModel":
        """The model as it can be read beside this embedder. Cosines of another model have another
        scale (an English MiniLM's are not the trained model's), so there the closeness in meaning
        is taken as unknown: the feature sits at its fitted mean and adds nothing."""
        if not self.embedder or embedder == self.embedder:
            return self
        log.info("门控模型按 %s 的语义相似度拟合，当前向量模型为 %s：语义相似度不计入", self.embedder, embedder)
        weights = tuple(0.0 if name == "dense" else w for name, w in zip(FEATURES, self.weights))
        return replace(self, weights=weights)

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
                   float(model["bias"]), float(model["threshold"]), model.get("embedder", ""))


def fit(rows: list[tuple[dict, int, float]], l2: float = 0.01, steps: int = 4000) -> GateModel:
    """Weighted logistic regression by gradient descent. rows: (evidence, 1 covered / 0 not, weight)."""
    import numpy as np

    x = np.asarray([vector(e) for e, _, _ in rows], dtype=float)
    y = np.asarray([label for _, label, _ in rows], dtype=float)
    w = np.asarray([weight for _, _, weight in rows], dtype=float)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales < 1e-6] = 1.0  # a feature constant in the data: its weight stays 0, never 0/0
    xs = np.hstack([(x - means) / scales, np.ones((len(y), 1))])
    theta = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xs @ theta)))
        grad = xs.T @ ((p - y) * w) / w.sum()
        grad[:-1] += l2 * theta[:-1]
        theta -= 0.5 * grad
    def plain(values) -> tuple[float, ...]:
        return tuple(float(v) for v in values.round(6))

    return GateModel(plain(means), plain(scales), plain(theta[:-1]), round(float(theta[-1]), 6), 0.5)


def write(model: GateModel, path: Path, provenance: str) -> None:
    """corpus/gate.toml: the model and, as comments, how it was made and what it scored."""
    def floats(values) -> str:
        return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"

    lines = [f"# {line}" if line else "#" for line in provenance.splitlines()]
    lines += ["", "[model]",
              "features = [" + ", ".join(f'"{f}"' for f in FEATURES) + "]",
              f"means = {floats(model.means)}", f"scales = {floats(model.scales)}",
              f"weights = {floats(model.weights)}", f"bias = {model.bias:.6g}",
              f"threshold = {model.threshold:.4g}", f'embedder = "{model.embedder}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
