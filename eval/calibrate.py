"""Calibrate the abstention threshold on the gold questions.

    python -m eval.calibrate [--config config.toml]

Asks every gold question, reads the retrieval evidence of each answer, and prints the threshold
(`answer.abstain_below`) that best separates questions the papers answer from those they don't:
the one with the highest balanced accuracy, in the middle of the widest best interval.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from eval.gold import GoldQuestion, load_gold


@dataclass
class Calibration:
    threshold: float
    answered_when_answerable: float
    abstained_when_unanswerable: float

    @property
    def balanced_accuracy(self) -> float:
        return (self.answered_when_answerable + self.abstained_when_unanswerable) / 2


def calibrate(evidence: list[tuple[GoldQuestion, float]]) -> Calibration:
    """The threshold with the best balanced accuracy; ties go to the midpoint of the widest gap between scores."""
    answerable = [e for q, e in evidence if q.answerable]
    unanswerable = [e for q, e in evidence if not q.answerable]
    if not answerable or not unanswerable:
        raise ValueError("calibration needs both answerable and unanswerable gold questions")
    scores = sorted({round(e, 6) for _, e in evidence})
    # Candidate thresholds: midway between neighbouring scores, and just outside both ends.
    candidates = [scores[0] - 0.01, *[(a + b) / 2 for a, b in zip(scores, scores[1:])], scores[-1] + 0.01]

    def measure(t: float) -> Calibration:
        return Calibration(t, sum(e >= t for e in answerable) / len(answerable),
                           sum(e < t for e in unanswerable) / len(unanswerable))

    measured = [measure(t) for t in candidates]
    best = max(m.balanced_accuracy for m in measured)
    tied = [m.threshold for m in measured if m.balanced_accuracy == best]
    # Prefer the middle of the best run of thresholds: the one farthest from flipping any question.
    return measure(round(tied[len(tied) // 2], 3))


def cross_check(evidence: list[tuple[GoldQuestion, float]], folds: int = 2) -> Calibration:
    """How the threshold does on questions it was not calibrated on: calibrate on all folds but one, measure on it."""
    parts = [evidence[i::folds] for i in range(folds)]
    answered, abstained = [], []
    for i, held_out in enumerate(parts):
        threshold = calibrate([e for j, part in enumerate(parts) if j != i for e in part]).threshold
        answered += [e >= threshold for q, e in held_out if q.answerable]
        abstained += [e < threshold for q, e in held_out if not q.answerable]
    return Calibration(float("nan"), sum(answered) / len(answered), sum(abstained) / len(abstained))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="config file (default: $QA_CONFIG, else ./config.toml)")
    args = parser.parse_args()

    from qa.service import QAService
    from qa.settings import load_settings

    service = QAService(load_settings(args.config))
    gold = load_gold()
    evidence = [(q, service.ask(q.question).evidence) for q in gold]
    result = calibrate(evidence)
    print(f"questions: {len(gold)} ({sum(q.answerable for q in gold)} answerable)")
    print(f"answered when answerable: {result.answered_when_answerable:.0%}; "
          f"abstained when unanswerable: {result.abstained_when_unanswerable:.0%}")
    held_out = cross_check(evidence)
    print(f"on questions held out of calibration (2-fold): answered when answerable {held_out.answered_when_answerable:.0%}; "
          f"abstained when unanswerable {held_out.abstained_when_unanswerable:.0%}")
    print(f"[answer]\nabstain_below = {result.threshold}")


if __name__ == "__main__":
    main()
