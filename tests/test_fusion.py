"""Reciprocal rank fusion, on its own: the arithmetic, the normalisation, the order, the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from qa.fusion import reciprocal_rank_fusion


def test_scores_are_summed_reciprocal_ranks_normalised_by_first_place_everywhere():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], [1.0, 1.0], k=60)
    best = 2 / 61
    assert fused["a"] == pytest.approx((1 / 61) / best)
    assert fused["b"] == pytest.approx((1 / 62 + 1 / 61) / best)
    assert fused["c"] == pytest.approx((1 / 63) / best)
    assert fused["d"] == pytest.approx((1 / 62) / best)
    assert reciprocal_rank_fusion([["x"], ["x"]], [1.0, 1.0])["x"] == pytest.approx(1.0)  # first everywhere


def test_agreement_beats_one_rankings_first_place():
    fused = reciprocal_rank_fusion([["solo", "shared"], ["other", "shared"]], [1.0, 1.0])
    assert fused["shared"] > fused["solo"] and fused["shared"] > fused["other"]


def test_weights_tilt_the_fusion_and_the_scale_stays_fixed():
    fused = reciprocal_rank_fusion([["dense"], ["lexical"]], [3.0, 1.0], k=10)
    assert fused["dense"] == pytest.approx(0.75) and fused["lexical"] == pytest.approx(0.25)
    assert max(reciprocal_rank_fusion([["a", "b"], ["a"]], [0.2, 5.0]).values()) == pytest.approx(1.0)


def test_k_sets_how_fast_rank_matters_less():
    steep = reciprocal_rank_fusion([["a", "b"]], [1.0], k=0)
    flat = reciprocal_rank_fusion([["a", "b"]], [1.0], k=1000)
    assert steep["b"] == pytest.approx(0.5) and flat["b"] > 0.99


def test_ids_come_in_first_seen_order_and_absent_ones_are_absent():
    fused = reciprocal_rank_fusion([["c", "a"], ["b", "a", "d"]], [1.0, 1.0])
    assert list(fused) == ["c", "a", "b", "d"]
    assert reciprocal_rank_fusion([[], []], [1.0, 1.0]) == {}


@pytest.mark.parametrize(
    "rankings, weights, k", [([["a"]], [1.0, 1.0], 60), ([["a"]], [0.0], 60), ([["a"]], [1.0], -1)]
)
def test_bad_arguments_are_refused(rankings, weights, k):
    with pytest.raises(ValueError):
        reciprocal_rank_fusion(rankings, weights, k)


@pytest.mark.parametrize("k", [1, 5, 37, 200, 1000])
def test_top_order_is_the_head_of_a_full_stable_sort(k):
    """BM25's top-k without sorting every passage: the same indices, in the same order (ties by index), as the
    head of a full stable sort, whatever k (more than there are scores included)."""
    from qa.retrieve import top_order

    rng = np.random.default_rng(16)
    scores = np.round(rng.exponential(2.0, 500), 1)  # rounded: many ties
    scores[rng.choice(500, 150, replace=False)] = 0.0
    full = np.lexsort((np.arange(500), -scores))
    assert top_order(scores, k).tolist() == full[:k].tolist()
    assert top_order(np.zeros(0), 4).tolist() == []
