"""Fit the learned ranker on dev questions only, cross-validated, and write `qa/ranker.json`.

    python -m eval.fit [--out qa/ranker.json] [--c 0.1]

Training questions: the answerable questions of the own set's dev split and of the blind set's blind-dev half (never
held-out, never blind-test). For each, the retriever's leading passages in the hand-set order, each with the
features of `qa.ranker.FEATURES` and a label: does the passage print a gold page. A logistic regression with strong
L2 regularisation (scikit-learn) is scored by 5-fold cross-validation grouped by question: the share of questions
whose top passage holds a gold page, hand-set order against the model's, and the calibration of its probabilities
(predicted against observed, in bins). The report goes to eval/reports/ranker-fit.md.

The abstention model is fitted after it, on the same dev questions (answerable against off-topic), with the new
ranker's probabilities among its inputs, and stored beside it (see `qa.ranker.AbstentionModel`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
from pathlib import Path

import numpy as np

from core.settings import Settings, load_settings
from eval.gold import GoldQuestion, load_eval_gold
from qa.ranker import ABSTENTION_FEATURES, FEATURES, RANKER_FILE

DEV_SPLITS = ("dev", "blind-dev")


def collect(settings: Settings, gold: list[GoldQuestion]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features X, labels y, question groups g and hand-set scores h of every leading passage of every question."""
    from qa.retrieve import Retriever
    from qa.service import QAService

    service = QAService(settings)
    generation = service._current()
    hand = Retriever(
        settings.retrieval, generation.snapshot, generation.retriever.corpus, generation.retriever.sentences
    )
    rows, labels, groups, scores = [], [], [], []
    for number, question in enumerate(gold):
        searched, _ = generation.spelling.correct(question.question)
        plan = generation.planner.plan(generation.planner.parse(searched))
        gold_pages = {(e.file, p) for e in question.expected for p in e.pages}
        for candidate in hand.search(plan, settings.retrieval.rerank_depth).candidates:
            passage = candidate.passage
            rows.append([candidate.features[name] for name in FEATURES])
            labels.append(any((passage.file, span.page) in gold_pages for span in passage.pages))
            groups.append(number)
            scores.append(candidate.score)
    return np.array(rows, float), np.array(labels, int), np.array(groups), np.array(scores, float)


def top_hits(groups: np.ndarray, labels: np.ndarray, order_by: np.ndarray) -> float:
    """The share of questions whose highest-ordered passage is labelled a hit."""
    hits = []
    for group in np.unique(groups):
        mine = groups == group
        hits.append(labels[mine][int(np.argmax(order_by[mine]))])
    return float(np.mean(hits)) if hits else 0.0


def calibration(probabilities: np.ndarray, labels: np.ndarray, bins: int = 5) -> list[tuple[str, int, float, float]]:
    """(bin, passages, mean predicted, share observed) for equal-width probability bins."""
    out = []
    edges = np.linspace(0, 1, bins + 1)
    for low, high in itertools.pairwise(edges):
        inside = (probabilities >= low) & ((probabilities < high) if high < 1 else (probabilities <= high))
        if inside.any():
            out.append(
                (f"{low:.1f}-{high:.1f}", int(inside.sum()), float(probabilities[inside].mean()), labels[inside].mean())
            )
    return out


def fit(settings: Settings, c: float = 0.1, folds: int = 5) -> tuple[dict, str]:
    """The fitted model (as qa/ranker.json holds it) and a Markdown report of its cross-validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    gold = [
        q
        for q in load_eval_gold(settings.eval.gold_file, settings.eval.blind_file)
        if q.split in DEV_SPLITS and q.answerable
    ]
    x, y, groups, hand = collect(settings, gold)
    own = np.array([gold[g].split == "dev" for g in groups])
    predicted = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(x[train]), y[train])
        predicted[test] = model.predict_proba(scaler.transform(x[test]))[:, 1]
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(x), y)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    fitted = {
        "features": list(FEATURES),
        "weights": [float(w) for w in model.coef_[0]],
        "bias": float(model.intercept_[0]),
        "mean": [float(m) for m in scaler.mean_],
        "scale": [float(s) for s in scale],
        "fitted_at": dt.datetime.now().isoformat(timespec="seconds"),
        "questions": len(gold),
        "passages": len(y),
        "c": c,
    }
    lines = [
        f"# Learned ranker, fitted {fitted['fitted_at']}",
        "",
        f"Training: {len(gold)} answerable dev questions (own dev split and blind-dev), {len(y)} leading passages, "
        f"{int(y.sum())} printing a gold page. Logistic regression, L2, C = {c}; {folds}-fold cross-validation "
        "grouped by question.",
        "",
        "| order | all | own dev | blind-dev |",
        "|---|---|---|---|",
        *(
            f"| {name} | {top_hits(groups, y, order):.0%} | {top_hits(groups[own], y[own], order[own]):.0%} "
            f"| {top_hits(groups[~own], y[~own], order[~own]):.0%} |"
            for name, order in (("hand-set weights", hand), ("learned ranker (cross-validated)", predicted))
        ),
        "",
        "Share of questions whose top passage prints a gold page. The hand-set weights were tuned on the own dev "
        "questions, so only the blind-dev column compares them fairly.",
        "",
        "Calibration (cross-validated): predicted against observed.",
        "",
        "| predicted | passages | mean predicted | observed |",
        "|---|---|---|---|",
        *(f"| {b} | {n} | {p:.2f} | {o:.2f} |" for b, n, p, o in calibration(predicted, y)),
        "",
        "Weights (standardised features):",
        "",
        *(f"- {name}: {w:+.3f}" for name, w in zip(FEATURES, model.coef_[0], strict=True)),
    ]
    return fitted, "\n".join(lines) + "\n"


FALSE_ABSTENTION = 0.04  # the threshold keeps cross-validated false abstention within this (target: 5%)


def collect_abstention(settings: Settings, gold: list[GoldQuestion]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features X (`ABSTENTION_FEATURES` of each question's search), labels y (answerable) and the hand-set evidence
    of every dev question that is answerable or off-topic (hard negatives are left out: see `AbstentionModel`)."""
    from qa.service import QAService

    service = QAService(settings)
    generation = service._current()
    rows, labels, evidence = [], [], []
    for question in gold:
        searched, _ = generation.spelling.correct(question.question)
        plan = generation.planner.plan(generation.planner.parse(searched))
        retrieval = generation.retriever.search(plan, settings.retrieval.top_k)
        features = retrieval.abstention_features()
        rows.append([features[name] for name in ABSTENTION_FEATURES])
        labels.append(question.answerable)
        evidence.append(retrieval.evidence)
    return np.array(rows, float), np.array(labels, int), np.array(evidence, float)


def fit_abstention(settings: Settings, c: float, folds: int) -> tuple[dict, list[str]]:
    """The abstention model (as qa/ranker.json holds it under "abstention") and its report lines."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    gold = [
        q
        for q in load_eval_gold(settings.eval.gold_file, settings.eval.blind_file)
        if q.split in DEV_SPLITS and not q.hard_negative
    ]
    x, y, evidence = collect_abstention(settings, gold)
    predicted = np.zeros(len(y))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(x, y):
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(x[train]), y[train])
        predicted[test] = model.predict_proba(scaler.transform(x[test]))[:, 1]
    answerable = predicted[y == 1]
    # The highest threshold whose cross-validated false abstention stays within FALSE_ABSTENTION.
    threshold = float(np.quantile(answerable, FALSE_ABSTENTION)) if len(answerable) else 0.5
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(x), y)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    fitted = {
        "features": list(ABSTENTION_FEATURES),
        "weights": [float(w) for w in model.coef_[0]],
        "bias": float(model.intercept_[0]),
        "mean": [float(m) for m in scaler.mean_],
        "scale": [float(s) for s in scale],
        "threshold": threshold,
        "questions": len(y),
    }

    def rates(abstained: np.ndarray) -> str:
        return f"{abstained[y == 0].mean():.0%} | {abstained[y == 1].mean():.0%}"

    hand = settings.answer.abstain_below
    lines = [
        "",
        "## Abstention",
        "",
        f"Training: {len(y)} dev questions (own dev split and blind-dev, hard negatives left out), "
        f"{int((y == 0).sum())} of them on topics the papers never mention. Logistic regression, L2, C = {c}; "
        f"{folds}-fold stratified cross-validation. Threshold {threshold:.3f}: cross-validated false abstention "
        f"within {FALSE_ABSTENTION:.0%}. (The ranker's probability, one of its inputs, is fitted on the same "
        "questions, so these figures flatter it a little.)",
        "",
        "| rule | abstains on unanswerable | abstains on answerable |",
        "|---|---|---|",
        f"| hand-set evidence under {hand} | {rates(evidence < hand)} |",
        f"| learned model (cross-validated) | {rates(predicted < threshold)} |",
        "",
        "Calibration (cross-validated): P(answerable) predicted against observed.",
        "",
        "| predicted | questions | mean predicted | observed |",
        "|---|---|---|---|",
        *(f"| {b} | {n} | {p:.2f} | {o:.2f} |" for b, n, p, o in calibration(predicted, y)),
        "",
        "Weights (standardised features):",
        "",
        *(f"- {name}: {w:+.3f}" for name, w in zip(ABSTENTION_FEATURES, model.coef_[0], strict=True)),
    ]
    return fitted, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RANKER_FILE)
    parser.add_argument("--c", type=float, default=0.1, help="inverse regularisation strength (smaller: stronger)")
    args = parser.parse_args()
    settings = load_settings()
    fitted, report = fit(settings, args.c)
    # The abstention model reads the ranker's probabilities: fit it with the new ranker in place.
    args.out.write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
    fitted["abstention"], lines = fit_abstention(settings.model_copy(deep=True), args.c, 5)
    report += "\n".join(lines) + "\n"
    args.out.write_text(json.dumps(fitted, indent=1) + "\n", encoding="utf-8")
    settings.eval.report_dir.mkdir(parents=True, exist_ok=True)
    path = settings.eval.report_dir / "ranker-fit.md"  # committed beside qa/ranker.json: how the model was fitted
    path.write_text(report, encoding="utf-8")
    print(report)
    print(f"model: {args.out}; report: {path}")


if __name__ == "__main__":
    main()
