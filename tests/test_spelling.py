"""Words the papers never use, searched for as the nearest words they do."""

from __future__ import annotations

import pytest

from core.records import SpellingFix
from qa.service import QAService
from qa.spelling import SpellingCorrector
from qa.terms import Terms

PAPERS = [
    "The Grangewaters outdoor education centre was inspected; the inspection found approved foster carers.",
    "Children missing education were tracked by the inspection team. Inspection, inspection.",
]


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector(PAPERS, keep=frozenset({"what", "about", "were", "which"}), stem=Terms().stem)


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("what about grangewatres?", "what about grangewaters?"),  # two letters swapped: one edit
        ("Inspction outcome", "Inspection outcome"),  # the capital kept
        ("misssing eduction", "missing education"),
        ("aproved fostr carers", "approved foster carers"),
    ],
)
def test_a_misspelt_word_is_searched_as_the_papers_word(corrector, typed, searched):
    corrected, fixes = corrector.correct(typed)
    assert corrected == searched
    assert fixes and all(fix.typed in typed and fix.searched in searched for fix in fixes)


@pytest.mark.parametrize(
    "question",
    [
        "dental care",  # a real word the papers don't use, nearest words start with another letter
        "astronaut training",  # nothing near it
        "what about the zoo",  # short words are left alone
        "Children's centres",  # apostrophes are left alone; "centres" is another form of "centre"
        "inspecting centres",
    ],
)
def test_words_with_no_near_paper_word_are_left_alone(corrector, question):
    assert corrector.correct(question) == (question, [])


def test_the_most_frequent_of_the_nearest_words_wins():
    corrector = SpellingCorrector(["carers carers carers", "career"])
    assert corrector.nearest("carees") == "carers"


def test_an_answer_says_what_it_searched_for(pack_index, fake_embedder):
    answer = QAService(pack_index, embedder=fake_embedder).ask("What did we decide about Grangewatres?")
    assert not answer.abstained
    assert answer.searched_for == "What did we decide about Grangewaters?"
    assert answer.spelling == [SpellingFix(typed="Grangewatres", searched="Grangewaters")]
    assert any("lease extension" in c.quote for c in answer.citations)
    plain = QAService(pack_index, embedder=fake_embedder).ask("What did we decide about Grangewaters?")
    assert plain.searched_for is None and plain.spelling == []
