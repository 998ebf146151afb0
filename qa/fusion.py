"""Reciprocal rank fusion: one ranking out of several, by rank alone."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], k: int = 60
) -> dict[str, float]:
    """Fuse rankings of ids, best first, into one score per id, normalised to at most 1.

    score(id) = sum over rankings i holding it of weights[i] / (k + rank_i(id)), rank counted from 1
    (Cormack, Clarke & Büttcher, SIGIR 2009), divided by sum(weights) / (k + 1): the score of an id ranked
    first everywhere. So 1.0 means "first in every ranking", whatever the weights, and the fused score can be
    added to other evidence on a fixed scale. k (60 in the paper, and by default here) flattens the top of each
    ranking, so agreement between rankings counts for more than one ranking's first place.

    Returns ids in first-seen order (the first ranking's, then ids new in the next); an id in no ranking is
    absent. Raises ValueError when the weights do not match the rankings, or sum to nothing, or k < 0.
    """
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    if k < 0 or sum(weights) <= 0:
        raise ValueError("reciprocal rank fusion needs k >= 0 and weights summing to more than 0")
    fused: dict[str, float] = {}
    for weight, ranking in zip(weights, rankings, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    best_possible = sum(weights) / (k + 1)
    return {item: score / best_possible for item, score in fused.items()}
