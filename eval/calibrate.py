"""Calibrate the abstention threshold on the gold questions.

    python -m eval.calibrate [--config config.toml]

Asks every gold question, reads the retrieval evidence of each answer, and prints the threshold
(`answer.abstain_below`) that best separates the *dev* questions the papers answer from those they
don't: the one with the highest balanced accuracy, the middle one of those tied for best. The
held-out third is only measured with it, never used to choose it.
"""

from __future__ import annotations

import argparse
import itertools
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
    """The threshold with the best balanced accuracy; of those tied for best, the middle one."""
    answerable = [e for q, e in evidence if q.answerable]
    unanswerable = [e for q, e in evidence if not q.answerable]
    if not answerable or not unanswerable:
        raise ValueError("calibration needs both answerable and unanswerable gold questions")
    scores = sorted({round(e, 6) for _, e in evidence})
    # Candidate thresholds: midway between neighbouring scores, and just outside both ends.
    candidates = [scores[0] - 0.01, *[(a + b) / 2 for a, b in itertools.pairwise(scores)], scores[-1] + 0.01]

    measured = [measure(evidence, t) for t in candidates]
    best = max(m.balanced_accuracy for m in measured)
    tied = [m.threshold for m in measured if m.balanced_accuracy == best]
    # Prefer the middle of the best run of thresholds: the one farthest from flipping any question.
    return measure(evidence, round(tied[len(tied) // 2], 3))


def measure(evidence: list[tuple[GoldQuestion, float]], threshold: float) -> Calibration:
    """How a threshold does: the share of answerable questions answered, of the others abstained on."""
    answerable = [e for q, e in evidence if q.answerable]
    unanswerable = [e for q, e in evidence if not q.answerable]
    return Calibration(
        threshold,
        sum(e >= threshold for e in answerable) / max(1, len(answerable)),
        sum(e < threshold for e in unanswerable) / max(1, len(unanswerable)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="config file (default: $QA_CONFIG, else ./config.toml)")
    args = parser.parse_args()

    from core.settings import load_settings
    from qa.service import QAService

    settings = load_settings(args.config)
    service = QAService(settings)
    gold = load_gold(settings.eval.gold_file)
    evidence = [(q, service.ask(q.question).evidence) for q in gold]
    # Only the dev questions tune anything; the held-out third only measures.
    dev = [(q, e) for q, e in evidence if q.split == "dev"]
    result = calibrate(dev)
    held_out = measure([(q, e) for q, e in evidence if q.split == "held-out"], result.threshold)
    for name, c, n in (("dev (calibrated on)", result, len(dev)), ("held-out", held_out, len(evidence) - len(dev))):
        print(
            f"{name}: {n} questions; answered when answerable {c.answered_when_answerable:.0%}, "
            f"abstained when unanswerable {c.abstained_when_unanswerable:.0%}"
        )
    print(f"[answer]\nabstain_below = {result.threshold}")


if __name__ == "__main__":
    main()
