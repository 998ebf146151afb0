"""Per-question results and the metrics computed from them: retrieval, citations, answers, latency."""

from __future__ import annotations

import math
import statistics

from pydantic import BaseModel, Field

from core.settings import EVAL_METRICS

# Every metric, in report order. The names live in core.settings, which checks [eval.gate] and [eval.targets] keys
# against them when the config loads.
METRICS = EVAL_METRICS
# Metrics where a smaller value is better; a gate threshold on them is a ceiling, not a floor.
LOWER_IS_BETTER = {"false_abstention", "latency_p50_ms", "latency_p95_ms"}


class CitedPage(BaseModel):
    file: str
    page: int
    quote: str
    faithful: bool  # verbatim on the page it names
    on_gold_page: bool


class QuestionResult(BaseModel):
    """What one system did with one gold question."""

    id: str
    question: str
    kind: str
    split: str
    answerable: bool
    abstained: bool
    answer: str
    correct: bool  # answerable, answered, and every required term present
    citations: list[CitedPage] = Field(default_factory=list)
    ranked_pages: list[tuple[str, int]] = Field(default_factory=list)  # retrieval order, each page once
    gold_pages: list[tuple[str, int]] = Field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def first_gold_rank(self) -> int | None:
        gold = set(self.gold_pages)
        return next((i for i, page in enumerate(self.ranked_pages, start=1) if page in gold), None)

    @property
    def failed(self) -> bool:
        if not self.answerable:
            return not self.abstained
        return self.abstained or not self.correct or not any(c.on_gold_page for c in self.citations)


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _ndcg_at_10(result: QuestionResult) -> float:
    gold = set(result.gold_pages)
    dcg = sum(1 / math.log2(i + 1) for i, page in enumerate(result.ranked_pages[:10], start=1) if page in gold)
    ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(gold), 10) + 1))
    return dcg / ideal if ideal else 0.0


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating linearly between samples."""
    import numpy as np

    return float(np.percentile(values, q)) if values else None


def compute(results: list[QuestionResult]) -> dict[str, float | int | None]:
    """Every metric over a set of results; None where the set has no question it applies to."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    ranks = [r.first_gold_rank for r in answerable]
    answer_citations = [c for r in answerable for c in r.citations]
    metrics: dict[str, float | int | None] = {"questions": len(results), "answerable": len(answerable)}
    for k in (1, 3, 5, 10):
        metrics[f"hit_at_{k}"] = _share([rank is not None and rank <= k for rank in ranks])
    metrics["mrr"] = statistics.fmean([1 / rank if rank else 0.0 for rank in ranks]) if ranks else None
    metrics["ndcg_at_10"] = statistics.fmean([_ndcg_at_10(r) for r in answerable]) if answerable else None
    metrics["faithfulness"] = _share([c.faithful for r in results for c in r.citations])
    metrics["citation_precision"] = _share([c.on_gold_page for c in answer_citations])
    metrics["citation_recall"] = _share([any(c.on_gold_page for c in r.citations) for r in answerable])
    metrics["correctness"] = _share([r.correct for r in answerable])
    metrics["false_abstention"] = _share([r.abstained for r in answerable])
    metrics["abstention_unanswerable"] = _share([r.abstained for r in unanswerable])
    latencies = [r.latency_ms for r in results]
    metrics["latency_p50_ms"] = percentile(latencies, 50)
    metrics["latency_p95_ms"] = percentile(latencies, 95)
    return metrics


def breakdown(results: list[QuestionResult]) -> dict[str, dict]:
    """Metrics over all questions, each split, and each kind of question."""
    out = {"all": compute(results)}
    for split in ("dev", "held-out"):
        out[split] = compute([r for r in results if r.split == split])
    for kind in sorted({r.kind for r in results}):
        out[f"kind:{kind}"] = compute([r for r in results if r.kind == kind])
    return out


def meets(metric: str, value: float | None, threshold: float) -> bool:
    """Whether a value passes its threshold: at least it, or at most it for lower-is-better metrics."""
    if value is None:
        return False
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold
