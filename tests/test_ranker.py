"""The learned ranker: loading, its probability, the order it gives, and the fitting script's measures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.fit import calibration, top_hits
from qa.ranker import ABSTENTION_FEATURES, FEATURES, RANKER_FILE, AbstentionModel, LinearRanker
from qa.service import QAService


def ranker_file(tmp_path: Path, weights: dict[str, float], features=FEATURES) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "ranker.json"
    path.write_text(
        json.dumps(
            {
                "features": list(features),
                "weights": [weights.get(name, 0.0) for name in features],
                "bias": 0.0,
                "mean": [0.0] * len(features),
                "scale": [1.0] * len(features),
            }
        )
    )
    return path


def test_the_committed_ranker_loads_and_reads_every_feature():
    ranker = LinearRanker.load(RANKER_FILE)
    assert ranker is not None and len(ranker.weights) == len(FEATURES)
    assert 0.0 < ranker.probability(dict.fromkeys(FEATURES, 0.5)) < 1.0


def test_a_ranker_fitted_on_other_features_is_not_used(tmp_path):
    assert LinearRanker.load(ranker_file(tmp_path, {}, features=("score", "dense"))) is None
    assert LinearRanker.load(tmp_path / "none.json") is None


def test_probability_is_the_logistic_of_the_weighted_standardised_features(tmp_path):
    ranker = LinearRanker.load(ranker_file(tmp_path, {"dense": 2.0, "coverage": -1.0}))
    assert ranker is not None
    features = dict.fromkeys(FEATURES, 0.0) | {"dense": 1.0, "coverage": 1.0}
    assert ranker.probability(features) == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_the_ranker_orders_the_leading_passages(pack_index, fake_embedder, tmp_path):
    """A ranker that only likes tables puts a table first; one that dislikes them puts one last, if anywhere."""
    question = "How many visits did the Riverside Play Centre have in 2022?"
    firsts = {}
    for sign in (1.0, -1.0):
        path = ranker_file(tmp_path / str(sign), {"table": 5.0 * sign})
        retrieval = pack_index.retrieval.model_copy(update={"ranker_file": path})
        settings = pack_index.model_copy(update={"retrieval": retrieval})
        _, searched = QAService(settings, embedder=fake_embedder).answer_with_retrieval(question)
        probabilities = [c.probability for c in searched.candidates]
        assert None not in probabilities and probabilities == sorted(probabilities, reverse=True)  # type: ignore[type-var]
        firsts[sign] = searched.candidates[0].features["table"]
    assert (firsts[1.0], firsts[-1.0]) == (1.0, 0.0)


def test_top_hits_and_calibration():
    groups = np.array([0, 0, 1, 1])
    labels = np.array([0, 1, 1, 0])
    assert top_hits(groups, labels, np.array([0.9, 0.1, 0.8, 0.2])) == pytest.approx(0.5)
    assert top_hits(groups, labels, np.array([0.1, 0.9, 0.8, 0.2])) == pytest.approx(1.0)
    table = calibration(np.array([0.1, 0.15, 0.9, 0.95]), np.array([0, 0, 1, 0]))
    assert [(b, n) for b, n, _, _ in table] == [("0.0-0.2", 2), ("0.8-1.0", 2)]
    assert table[1][3] == pytest.approx(0.5)


def test_the_abstention_model_is_read_beside_the_ranker_and_used_only_when_asked(pack_index, fake_embedder, tmp_path):
    """A model that finds nothing answerable (a large negative bias) abstains on everything, once switched on."""
    path = ranker_file(tmp_path, {})
    data = json.loads(path.read_text())
    n = len(ABSTENTION_FEATURES)
    data["abstention"] = {
        "features": list(ABSTENTION_FEATURES),
        "weights": [0.0] * n,
        "bias": -5.0,
        "mean": [0.0] * n,
        "scale": [1.0] * n,
        "threshold": 0.5,
    }
    path.write_text(json.dumps(data))
    model = AbstentionModel.load(path)
    assert model is not None and model.probability(dict.fromkeys(ABSTENTION_FEATURES, 1.0)) < 0.01
    question = "How many visits did the Riverside Play Centre have in 2022?"
    for learned, abstains in ((False, False), (True, True)):
        settings = pack_index.model_copy(deep=True)
        settings.retrieval.ranker_file = path
        settings.answer.learned_abstention = learned
        assert QAService(settings, embedder=fake_embedder).ask(question).abstained is abstains
    assert AbstentionModel.load(RANKER_FILE) is not None  # the committed fit carries one
