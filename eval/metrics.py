"""Per-question results and the metrics computed from them: retrieval, citations, answers, latency."""

from __future__ import annotations

import math
import re
import statistics

from pydantic import BaseModel, Field

from core.settings import EVAL_METRICS

# Every metric, in report order. The names live in core.settings, which checks [eval.gate] and [eval.targets] keys
# against them when the config loads.
METRICS = EVAL_METRICS
# Metrics where a smaller value is better; a gate threshold on them is a ceiling, not a floor.
LOWER_IS_BETTER = {"false_abstention", "partial_when_answerable", "latency_p50_ms", "latency_p95_ms"}
# The project's own gold set (dev, held-out) and the blind set (blind-dev, blind-test).
SPLITS = ("dev", "held-out", "blind-dev", "blind-test")
OWN_SPLITS = ("dev", "held-out")


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
    answer_type: str | None = None  # the blind set's: what kind of thing the question asks for
    hard_negative: bool = False
    recency: bool = False
    partial: bool = False  # the answer said the papers hold the topic but not all it asks
    missing_named: bool = False  # the answer named (in `missing` or its text) a specific the gold set says is absent
    confidence: float | None = None  # the learned ranker's P(answer here) for the passage the first citation quotes

    @property
    def lead_holds_type(self) -> bool | None:
        """Whether the lead quote holds a value of the kind asked (number, person, date, decision); None when the
        question asks for another kind, is unanswerable, or got no answer."""
        if not self.answerable or self.abstained or not self.citations or self.answer_type not in _TYPE_VALUE:
            return None
        return bool(_TYPE_VALUE[self.answer_type].search(self.citations[0].quote))

    @property
    def hard_negative_handled(self) -> bool | None:
        """A hard negative answered as partial or abstained, with the missing specific named."""
        if not self.hard_negative:
            return None
        return (self.abstained or self.partial) and self.missing_named

    @property
    def from_newest(self) -> bool | None:
        """A recency question whose first citation comes from a document holding its gold answer (the newest
        papers that speak to it)."""
        if not self.recency or not self.answerable:
            return None
        files = {file for file, _ in self.gold_pages}
        return bool(self.citations) and self.citations[0].file in files

    @property
    def first_gold_rank(self) -> int | None:
        gold = set(self.gold_pages)
        return next((i for i, page in enumerate(self.ranked_pages, start=1) if page in gold), None)

    @property
    def failed(self) -> bool:
        if not self.answerable:
            return not self.abstained
        return self.abstained or not self.correct or not any(c.on_gold_page for c in self.citations)


# What a lead quote must hold for each kind of question, by the gold set's own measure (independent of the
# answerer's rules): a number, a name or role, a date, a decision word.
_TYPE_VALUE = {
    "number": re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|none)\b", re.I),
    "person": re.compile(
        r"\b(?:Councillor|Cllr|Mr|Mrs|Ms|Dr|Chair|Director|Head|Manager|Officer|Lead|Leader|Member|Chief|Commissioner)\b"
        r"|\b[A-Z][a-z]+ [A-Z][a-z'-]+\b"
    ),
    "date": re.compile(
        r"\b(?:\d{1,2}(?:st|nd|rd|th)? [A-Z][a-z]+|January|February|March|April|May|June|July|August|September|"
        r"October|November|December|(?:19|20)\d\d|spring|summer|autumn|winter)\b"
    ),
    "decision": re.compile(
        r"\b(?:RESOLVED|resolved|agreed|approved|noted|deferred|rejected|endorsed|recommended|decided|requested)\b"
    ),
}


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
    metrics["hard_negatives_handled"] = _share([flag for r in results if (flag := r.hard_negative_handled) is not None])
    # An answer to an answerable question that says part of it is missing: a false partial, unless the gold set
    # asked more than the papers give.
    metrics["partial_when_answerable"] = _share([r.partial for r in answerable if not r.abstained])
    metrics["lead_holds_type"] = _share([flag for r in results if (flag := r.lead_holds_type) is not None])
    metrics["recency_newest"] = _share([flag for r in results if (flag := r.from_newest) is not None])
    latencies = [r.latency_ms for r in results]
    metrics["latency_p50_ms"] = percentile(latencies, 50)
    metrics["latency_p95_ms"] = percentile(latencies, 95)
    return metrics


def breakdown(results: list[QuestionResult]) -> dict[str, dict]:
    """Metrics over the project's own gold set ("all": what the gate judges), each split, and each kind of question
    of the own set and the blind-dev half (never the blind-test half's kinds: its aggregates only)."""
    out = {"all": compute([r for r in results if r.split in OWN_SPLITS])}
    for split in SPLITS:
        out[split] = compute([r for r in results if r.split == split])
    for kind in sorted({r.kind for r in results}):
        out[f"kind:{kind}"] = compute([r for r in results if r.kind == kind and r.split in OWN_SPLITS])
    for kind in sorted({r.answer_type for r in results if r.split == "blind-dev" and r.answer_type}):
        out[f"blind-dev type:{kind}"] = compute(
            [r for r in results if r.answer_type == kind and r.split == "blind-dev"]
        )
    return out


def meets(metric: str, value: float | None, threshold: float) -> bool:
    """Whether a value passes its threshold: at least it, or at most it for lower-is-better metrics."""
    if value is None:
        return False
    return value <= threshold if metric in LOWER_IS_BETTER else value >= threshold


def calibration_table(results: list[QuestionResult], bins: int = 5) -> list[dict]:
    """The ranker's confidence in the passage an answer leads with against how often that first citation is on a
    gold page: for answered answerable questions with a confidence, in equal-width bins of it. Each row: "bin",
    "questions", "predicted" (mean confidence), "observed" (share with hit@1)."""
    scored = [(r.confidence, r.ranked_pages[:1] and r.ranked_pages[0] in r.gold_pages) for r in results]
    pairs = [
        (c, bool(hit))
        for r, (c, hit) in zip(results, scored, strict=True)
        if c is not None and r.answerable and not r.abstained
    ]
    rows = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [(c, hit) for c, hit in pairs if low <= c < high or (i == bins - 1 and c == 1.0)]
        if inside:
            rows.append(
                {
                    "bin": f"{low:.1f}-{high:.1f}",
                    "questions": len(inside),
                    "predicted": statistics.fmean(c for c, _ in inside),
                    "observed": statistics.fmean(float(hit) for _, hit in inside),
                }
            )
    return rows
