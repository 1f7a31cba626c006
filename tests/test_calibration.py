"""The gate's calibrated model (corpus/gate.toml): fitting, writing and reading it back, and how it
reads beside an embedder other than the one its closeness-in-meaning feature was fitted on."""
from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer.calibration import FEATURES, GateModel, fit, vector, write
from assistant.settings import DEFAULT_EMBEDDER
from assistant.store.embedders import make_embedder

ROOT = Path(__file__).resolve().parent.parent


def evidence(cov: float, dense: float) -> dict:
    return {"cov3": cov, "cov1": cov, "dense": dense, "unseen": 1 - cov, "anchored": False, "n_terms": 3}


@pytest.fixture(scope="module")
def fitted() -> GateModel:
    rng = random.Random(7)
    rows = []
    for _ in range(300):  # covered asks: words found and close in meaning; the rest neither
        rows.append((evidence(rng.uniform(0.6, 1.0), rng.uniform(0.5, 0.9)), 1, 1.0))
        rows.append((evidence(rng.uniform(0.0, 0.4), rng.uniform(0.1, 0.5)), 0, 1.0))
    return replace(fit(rows), embedder="static:zh-retrieval")


def test_the_fit_separates_covered_from_uncovered(fitted):
    assert fitted.covers(evidence(0.9, 0.8))[0] and not fitted.covers(evidence(0.1, 0.2))[0]
    assert fitted.weights[FEATURES.index("dense")] > 0  # closeness counts where it was fitted


def test_written_model_reads_back_the_same(fitted, tmp_path):
    path = tmp_path / "gate.toml"
    write(fitted, path, "made by a test")
    again = GateModel.load(path)
    assert again.embedder == fitted.embedder and again.threshold == fitted.threshold
    for e in (evidence(0.9, 0.8), evidence(0.5, 0.5), evidence(0.1, 0.2)):
        assert again.probability(e) == pytest.approx(fitted.probability(e), abs=1e-4)


@pytest.mark.parametrize("embedder, dense_counts", [
    ("static:zh-retrieval", True),           # the model it was fitted beside
    ("st:/models/all-MiniLM-L6-v2", False),  # another model's cosines have another scale
    ("e5-small", False),
])
def test_closeness_counts_only_beside_the_embedder_it_was_fitted_on(fitted, embedder, dense_counts):
    model = fitted.reading(embedder)
    near, far = evidence(0.5, 0.95), evidence(0.5, 0.05)
    assert (model.probability(near) != model.probability(far)) == dense_counts
    # The other features read as before.
    assert model.probability(evidence(0.9, 0.5)) > model.probability(evidence(0.1, 0.5))


def test_a_model_of_other_features_is_not_read(tmp_path):
    path = tmp_path / "gate.toml"
    path.write_text('[model]\nfeatures = ["cov3"]\nmeans = [0]\nscales = [1]\nweights = [1]\n'
                    'bias = 0\nthreshold = 0.5\n', encoding="utf-8")
    assert GateModel.load(path) is None


def test_the_shipped_model_names_the_default_embedder():
    """A refit must record whose cosines it read, or another embedder would misread them."""
    shipped = GateModel.load(ROOT / "corpus" / "gate.toml")
    assert shipped is not None and len(shipped.weights) == len(vector({}))
    assert shipped.embedder == make_embedder(DEFAULT_EMBEDDER, ROOT).name
