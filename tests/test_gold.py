"""The gold questions themselves: well formed, every gold quote printed on its gold page, a fixed held-out third."""

from __future__ import annotations

from collections import Counter

import pytest

from core.text import fold_quotes
from eval.calibrate import calibrate, measure
from eval.faithful import flat, page_text
from eval.gold import GOLD_FILE, GoldQuestion, load_gold

from conftest import CORPUS

pytestmark = pytest.mark.corpus

REQUIRED_KINDS = ("decision", "figure", "person", "date", "cross", "unanswerable")


def test_gold_set_size_and_mix():
    gold = load_gold()
    assert len(gold) >= 100
    assert len({q.id for q in gold}) == len(gold)
    kinds = Counter(q.kind for q in gold)
    assert all(kinds[k] >= 10 for k in REQUIRED_KINDS), kinds
    files = {e.file for q in gold for e in q.expected}
    assert files == {p.name for p in CORPUS.glob("*.pdf")}
    held_out = [q for q in gold if q.split == "held-out"]
    assert 0.28 <= len(held_out) / len(gold) <= 0.38  # about a third
    assert sum(not q.answerable for q in held_out) >= 6


def test_every_gold_quote_is_on_its_gold_page():
    for q in load_gold():
        if not q.answerable:
            assert not (q.expected or q.quotes or q.must_contain), q.id
            continue
        assert q.quotes and q.must_contain, q.id
        for quote in q.quotes:
            assert q.expects(quote.file, quote.page), f"{q.id}: quote page {quote.page} is not an expected page"
            assert flat(quote.text) in flat(page_text(CORPUS / quote.file, quote.page)), (
                f"{q.id}: quote not on {quote.file} page {quote.page}: {quote.text[:80]!r}"
            )
        # An answer quoting the gold text counts as correct: the required terms are in the quotes.
        assert q.is_correct(" ".join(quote.text for quote in q.quotes)), q.id


def test_calibration_picks_the_threshold_that_separates_best():
    def q(answerable: bool) -> GoldQuestion:
        return GoldQuestion(
            id="x", question="?", answerable=answerable, kind="general" if answerable else "unanswerable"
        )

    evidence = [(q(True), 0.8), (q(True), 0.6), (q(True), 0.45), (q(False), 0.3), (q(False), 0.5), (q(False), 0.2)]
    result = calibrate(evidence)
    assert result.balanced_accuracy == pytest.approx(5 / 6)
    assert 0.3 < result.threshold <= 0.45 or 0.5 < result.threshold <= 0.6
    with pytest.raises(ValueError):
        calibrate([(q(True), 0.5)])
    assert measure(evidence, 0.55).answered_when_answerable == pytest.approx(2 / 3)
    assert measure(evidence, 0.55).abstained_when_unanswerable == 1.0


def test_required_terms_are_not_given_away_by_the_question():
    from eval.gold import _term

    for q in load_gold():
        for group in q.must_contain:
            assert not any(_term(term).search(q.question) for term in group), f"{q.id}: {group} is in the question"


BLIND = load_gold(GOLD_FILE.parent / "blind.jsonl")


def test_the_blind_set_size_mix_and_split():
    assert len(BLIND) >= 150 and len({q.id for q in BLIND}) == len(BLIND)
    hard = [q for q in BLIND if q.hard_negative]
    assert len(hard) >= 40 and all(not q.answerable and q.missing and q.nearest for q in hard)
    assert sum(q.recency for q in BLIND) >= 15
    files = {e.file for q in BLIND for e in q.expected}
    assert files == {p.name for p in CORPUS.glob("*.pdf")}
    splits = Counter(q.split for q in BLIND)
    assert set(splits) == {"blind-dev", "blind-test"} and abs(splits["blind-dev"] - splits["blind-test"]) <= 2
    for flag in ("hard_negative", "recency"):
        halves = Counter(q.split for q in BLIND if getattr(q, flag))
        assert abs(halves["blind-dev"] - halves["blind-test"]) <= 2, flag


def test_every_blind_quote_is_on_its_page_and_every_missing_specific_is_absent():
    everything = " ".join(
        flat(page_text(pdf, n)).lower() for pdf in sorted(CORPUS.glob("*.pdf")) for n in range(1, 200)
    )
    for q in BLIND:
        for quote in [*q.quotes, *q.nearest]:  # the helpers typed straight quotes for the papers' curly ones
            assert fold_quotes(flat(quote.text)) in fold_quotes(flat(page_text(CORPUS / quote.file, quote.page))), (
                f"{q.id}: quote not on {quote.file} page {quote.page}: {quote.text[:80]!r}"
            )
        for specific in q.missing:
            assert flat(specific).lower() not in everything, f"{q.id}: {specific!r} is printed in the papers"
