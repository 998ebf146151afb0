"""A small learned ranker: the leading passages re-ordered by a logistic regression over retrieval's signals.

The hand-set re-scoring weights fit the questions they were tuned on; this model is fitted on dev questions only
(`python -m eval.fit`, cross-validated, strongly regularised) and stored as plain numbers in `qa/ranker.json`, so
answering needs numpy and nothing else. Its probability that a passage holds the answer orders the leaders.

Features (standardised with the training means and deviations): the hand-weighted score, cosine similarity,
BM25 (log), topic coverage, names, phrases, the best sentence's score and coverage, whether the best sentence can
lead and holds the kind of value asked, the passage's part, whether it records a decision (and whether the
question asks for one), agenda passages for questions about a meeting, a meeting the question's dates name, the
share of the question's specifics (periods, years, stages, breakdowns) its best sentence meets, work programmes
for questions about the next meeting; and where the passage stands among the question's leaders by the
hand-weighted score (its gap to the best, its rank), since scores compare only within a question. How new the
papers are is a rule applied after it (`Retriever.search`): too few questions about now to learn from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RANKER_FILE = Path(__file__).resolve().parent / "ranker.json"

FEATURES = (
    "score",
    "dense",
    "lexical",
    "coverage",
    "names",
    "phrases",
    "sentence",
    "sentence_coverage",
    "can_lead",
    "holds_type",
    "minutes",
    "report",
    "appendix",
    "work_programme",
    "agenda",
    "table",
    "decision_asked",
    "meeting_asked",
    "date_named",
    "specifics_met",
    "next_meeting",
    "score_gap",
    "score_rank",
)


@dataclass(frozen=True)
class LinearRanker:
    """P(answer in passage) = sigmoid(w . (x - mean) / scale + b), from features named in `FEATURES`."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> LinearRanker | None:
        """The fitted ranker, or None when none has been fitted (the hand-set order is kept)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            return None  # fitted on other features: refit with `python -m eval.fit`
        return cls(tuple(data["weights"]), float(data["bias"]), tuple(data["mean"]), tuple(data["scale"]))

    def probability(self, features: Mapping[str, float]) -> float:
        x = np.array([features[name] for name in FEATURES], dtype=np.float64)
        z = float(np.dot(self.weights, (x - np.array(self.mean)) / np.array(self.scale))) + self.bias
        return 1.0 / (1.0 + math.exp(-z))


# What the abstention model reads of a search: how strongly its leading passages speak to the question.
ABSTENTION_FEATURES = (
    "evidence",
    "probability",
    "dense",
    "coverage",
    "phrases",
    "sentence_coverage",
    "names",
    "can_lead",
    "specifics_met",
)


@dataclass(frozen=True)
class AbstentionModel:
    """P(the papers answer the question) = sigmoid(w . (x - mean) / scale + b) over `ABSTENTION_FEATURES` of a
    search's best passage; the answer abstains under `threshold`.

    Fitted with the ranker (`python -m eval.fit`) on dev questions only: answerable ones against those whose topic
    the papers never mention. Hard negatives (topic present, specific absent) are left out: they are to be answered
    as partial, which is the specifics' business, not abstention's. The threshold is the highest that keeps
    cross-validated false abstention within the target (`fit.FALSE_ABSTENTION`).
    """

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    @classmethod
    def load(cls, path: Path = RANKER_FILE) -> AbstentionModel | None:
        """The fitted model, or None when none has been fitted (the evidence threshold `answer.abstain_below` holds)."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8")).get("abstention")
        if not data or tuple(data["features"]) != ABSTENTION_FEATURES:
            return None
        return cls(
            tuple(data["weights"]), float(data["bias"]), tuple(data["mean"]), tuple(data["scale"]), data["threshold"]
        )

    def probability(self, features: Mapping[str, float]) -> float:
        x = np.array([features[name] for name in ABSTENTION_FEATURES], dtype=np.float64)
        z = float(np.dot(self.weights, (x - np.array(self.mean)) / np.array(self.scale))) + self.bias
        return 1.0 / (1.0 + math.exp(-z))
