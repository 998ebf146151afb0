"""The gold questions themselves: well formed, and each evidence phrase printed on the page it points to."""

from __future__ import annotations

import pymupdf
import pytest

from conftest import CORPUS
from eval.calibrate import calibrate, cross_check
from eval.gold import GoldQuestion, load_gold

pytestmark = pytest.mark.corpus


def test_gold_questions_are_well_formed_and_their_evidence_is_on_the_expected_page():
    gold = load_gold()
    assert len(gold) >= 30
    assert len({q.id for q in gold}) == len(gold)
    assert any(not q.answerable for q in gold)
    for q in gold:
        if not q.answerable:
            assert q.expected == [] and q.evidence is None, q.id
            continue
        first = q.expected[0]
        with pymupdf.open(CORPUS / first.file) as pdf:
            assert all(1 <= page <= len(pdf) for e in q.expected if e.file == first.file for page in e.pages), q.id
            text = " ".join(pdf[first.pages[0] - 1].get_text().split())
        assert q.evidence in text, f"{q.id}: evidence not on {first.file} page {first.pages[0]}"


def test_calibration_picks_the_threshold_that_separates_best():
    def q(answerable: bool) -> GoldQuestion:
        return GoldQuestion(id="x", question="?", answerable=answerable, kind="k")

    evidence = [(q(True), 0.8), (q(True), 0.6), (q(True), 0.45), (q(False), 0.3), (q(False), 0.5), (q(False), 0.2)]
    result = calibrate(evidence)
    assert result.balanced_accuracy == pytest.approx(5 / 6)
    assert 0.3 < result.threshold <= 0.45 or 0.5 < result.threshold <= 0.6
    with pytest.raises(ValueError):
        calibrate([(q(True), 0.5)])


def test_cross_check_measures_on_questions_left_out():
    def q(answerable: bool) -> GoldQuestion:
        return GoldQuestion(id="x", question="?", answerable=answerable, kind="k")

    separable = [(q(True), 0.9), (q(True), 0.8), (q(False), 0.1), (q(False), 0.2), (q(True), 0.7), (q(False), 0.3)]
    held_out = cross_check(separable)
    assert (held_out.answered_when_answerable, held_out.abstained_when_unanswerable) == (1.0, 1.0)
