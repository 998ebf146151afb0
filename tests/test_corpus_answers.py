"""Answers on the sample corpus: decisions, figures, people, dates, several meetings, and questions the papers
don't answer. Expected pages and facts were read off the PDFs themselves."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from eval.decisions import load_decision_gold, same_words
from eval.gold import first_citation_on_expected_page, load_gold
from qa.service import QAService

from conftest import CORPUS, assert_quote_on_page

pytestmark = pytest.mark.corpus

OCT_2017 = "Agenda reports pack 10th-Oct-2017 Childrens Services Overview and Scrutiny Committee.pdf"
FEB_2018 = "Agenda reports pack 13th-Feb-2018 Childrens Services Overview and Scrutiny Committee.pdf"
OCT_2021 = "Agenda reports pack 12th-Oct-2021 Childrens Services Overview and Scrutiny Committee.pdf"
REPORT_2015 = "Children and Young People Partnership Annual Report 2014-15.pdf"
NOV_2014 = "Agenda reports pack 11th-Nov-2014 Childrens Services Overview and Scrutiny Committee.pdf"


@pytest.fixture(scope="module")
def service(corpus_settings, embedder) -> QAService:
    return QAService(corpus_settings, embedder=embedder)


def assert_all_quotes_verbatim(answer) -> None:
    for citation in answer.citations + answer.see_also:
        assert_quote_on_page(citation, CORPUS / citation.document.file)


def test_decision_on_grangewaters_comes_from_the_july_2021_minutes(service):
    answer = service.ask("What did we decide about Grangewaters?")
    first = answer.citations[0]
    assert (first.document.file, first.meeting_date, first.document.meeting_date) == (
        OCT_2021,
        dt.date(2021, 7, 13),
        dt.date(2021, 10, 12),
    )
    assert first.section.startswith("Minute 6: SEND Education and Residential Placements")
    assert {c.page for c in answer.citations} <= {8, 9, 10}
    assert "not agreed" in answer.answer
    assert any("Grangewaters" in c.quote for c in answer.citations)
    assert_all_quotes_verbatim(answer)


def test_members_paraphrase_still_lands_on_grangewaters(service):
    answer = service.ask("What did we decide about the outdoor education centre?")
    assert answer.citations[0].document.file == OCT_2021
    assert answer.citations[0].section.startswith("Minute 6:")
    assert any("Grangewaters" in c.quote for c in answer.citations)


def test_decisions_command_lists_grangewaters_with_status(service):
    """Only the point about Grangewaters (1.3, unresolved, page 10); the same minute's 1.1 and 1.2 (the SEND
    assessment and procurement) are about something else, and the SEND placements topic lists all three."""
    found = service.decisions("Grangewaters")
    assert [(d.meeting_date, d.point, d.status, d.page, d.page_label) for d in found] == [
        (dt.date(2021, 7, 13), "1.3", "not agreed", 10, "10")
    ]
    assert "Grangewaters" in found[0].text
    minute = service.decisions("SEND education and residential placements")
    assert [(d.point, d.status) for d in minute if d.minute == "6"] == [
        ("1.1", "resolved"),
        ("1.2", "referred"),
        ("1.3", "not agreed"),
    ]


def test_decisions_across_meetings_are_listed_oldest_first(service):
    found = service.decisions("work programme")
    dates = [d.meeting_date for d in found]
    assert len(set(dates)) >= 2
    assert dates == sorted(dates)


def test_figure_question_quotes_the_figure_on_its_page(service):
    answer = service.ask("How many approved foster carers did we have in 2017?")
    first = answer.citations[0]
    assert (first.document.file, first.page) == (OCT_2017, 79)
    assert "92" in first.quote
    assert_all_quotes_verbatim(answer)


def test_person_question_names_the_chair(service):
    answer = service.ask("Who chaired the July 2021 meeting?")
    first = answer.citations[0]
    assert (first.document.file, first.page) == (OCT_2021, 5)
    assert "Sara Muldowney (Chair)" in first.quote


def test_date_words_pick_the_meeting(service):
    answer = service.ask("What did the committee resolve about adoption at the December 2017 meeting?")
    assert answer.citations and all(c.meeting_date == dt.date(2017, 12, 12) for c in answer.citations)
    assert answer.citations[0].document.file == FEB_2018
    # Minute 72 (page 13): the committee noted the adoption service's difficulties.
    assert any("difficulties and challenges the adoption service is facing" in c.quote for c in answer.citations)


def test_standalone_report_answers_with_its_title_and_no_meeting(service):
    answer = service.ask("How many looked after children were there at the end of March 2015?")
    first = answer.citations[0]
    assert first.document.file == REPORT_2015 and first.meeting_date is None
    # Page 16: "There were 277 looked after children in Thurrock as of 31.3.15".
    assert any("277 looked after children" in c.quote and c.page == 16 for c in answer.citations)
    assert_all_quotes_verbatim(answer)


@pytest.mark.parametrize(
    "question",
    [
        "What is the council's position on the Thames Freeport?",
        "How many Ukrainian refugee children have we found school places for?",
        "Are we bringing in 20mph limits outside schools?",
    ],
)
def test_questions_the_papers_do_not_answer_abstain(service, question):
    answer = service.ask(question)
    assert answer.abstained and answer.citations == []
    assert answer.see_also
    assert_all_quotes_verbatim(answer)


def test_front_matter_is_never_cited(service):
    answer = service.ask("What is the Wi-Fi password at the civic offices?")
    assert all("password" not in c.quote.lower() for c in answer.citations + answer.see_also)


def test_gold_questions_first_citation_share_does_not_regress(service):
    """A floor well under the measured share (bench/results/answers.md), so a real regression fails here."""
    gold = load_gold()
    answers = {q.id: service.ask(q.question) for q in gold}
    answerable = [q for q in gold if q.answerable]
    on_page = sum(first_citation_on_expected_page(q, answers[q.id]) for q in answerable) / len(answerable)
    abstained = [answers[q.id].abstained for q in gold if not q.answerable]
    assert on_page >= 0.55
    assert sum(abstained) / len(abstained) >= 0.75
    for answer in answers.values():
        for citation in answer.citations:
            assert_quote_on_page(citation, CORPUS / citation.document.file)


def test_question_across_meetings_quotes_several_meetings_oldest_first(service):
    answer = service.ask("What have our meetings said about Grangewaters over the years?")
    dates = [c.meeting_date or c.document.meeting_date for c in answer.citations]
    assert len(set(dates)) >= 2 and dates == sorted(dates)
    assert all("Grangewaters" in c.quote for c in answer.citations)
    assert_all_quotes_verbatim(answer)


# ---- issue 12: the questions its review found failing, with the right values read off the PDFs.
NOV_2014 = "Agenda reports pack 11th-Nov-2014 Childrens Services Overview and Scrutiny Committee.pdf"


def test_who_chairs_the_committee_is_answered_from_the_newest_papers(service):
    answer = service.ask("Who chairs the committee?")
    first = answer.citations[0]
    assert first.document.file == OCT_2021 and "Sara Muldowney (Chair)" in first.quote
    assert_all_quotes_verbatim(answer)


@pytest.mark.parametrize(
    ("typed", "searched", "file", "page"),
    [
        ("grangewatres", "grangewaters", OCT_2021, 10),
        ("misssing eduction", "missing education", FEB_2018, 106),
    ],
)
def test_a_typo_in_the_key_word_still_finds_the_page(service, typed, searched, file, page):
    answer = service.ask(typed)
    assert not answer.abstained and answer.searched_for == searched
    assert (answer.citations[0].document.file, answer.citations[0].page) == (file, page)


def test_the_last_meeting_is_the_newest_minuted_one(service):
    answer = service.ask("What did the committee decide at its last meeting?")
    assert not answer.abstained
    assert {c.meeting_date for c in answer.citations} == {dt.date(2021, 7, 13)}
    assert all(c.document.file == OCT_2021 for c in answer.citations)


def test_the_latest_agenda_is_the_newest_packs(service):
    answer = service.ask("What was on the agenda at the latest meeting?")
    assert (answer.citations[0].document.file, answer.citations[0].page) == (OCT_2021, 1)


def test_a_key_stage_the_quote_does_not_name_is_said_to_be_missing(service):
    """Answered from Key Stage 4 pages, the answer at least says Key Stage 2 is not what it quotes."""
    answer = service.ask("What were the Key Stage 2 results in 2017?")
    first = answer.citations[0]
    if not ("Key Stage 2" in first.quote or "KS2" in first.quote):
        assert answer.partial and "Key Stage 2" in answer.missing


def test_the_next_meeting_is_read_from_the_newest_work_programme(service):
    """Older packs' "next meeting" has passed: the meetings ahead are those the newest papers list."""
    answer = service.ask("When is the next meeting?")
    first = answer.citations[0]
    assert (first.document.file, first.page) == (OCT_2021, 109)
    assert "1 December 2021" in first.quote and "12 October 2021" in answer.answer
    assert_all_quotes_verbatim(answer)


def test_findings_are_not_led_by_the_letters_sign_off(service):
    answer = service.ask("What did Ofsted find in the focused visit on extra-familial harm?")
    first = answer.citations[0]
    assert (first.document.file, first.page) in {(OCT_2021, 56), (OCT_2021, 62), (OCT_2021, 63)}
    assert "sincerely" not in first.quote


def test_a_trend_since_a_year_quotes_figures_from_the_later_packs(service):
    """'Since 2014' runs to the newest papers: the answer quotes counts from meetings after 2014."""
    answer = service.ask("Has the number on child protection plans gone up or down since 2014?")
    assert not answer.partial
    later = [c for c in answer.citations if c.meeting_date and c.meeting_date.year > 2014]
    assert any(c.document.file == FEB_2018 and re.search(r"\d{2,}", c.quote) for c in later)
    assert all("child protection plan" in c.quote.lower() or "cpp" in c.quote.lower() for c in answer.citations)


@pytest.mark.xfail(strict=True, reason="issue 12, not yet: the right page is not found first")
@pytest.mark.parametrize(
    ("question", "places"),
    [
        # Found instead: the Key Stage 2 results of children looked after (pages 35-36).
        ("What were the Key Stage 2 results in 2017?", {(OCT_2017, 31), (OCT_2017, 32)}),
        # "fostering households" by "a net of 15 each year" shares no word with "recruit ... foster carers".
        ("How many foster carers do we need to recruit?", {(OCT_2021, 50), (FEB_2018, 64), (FEB_2018, 65)}),
    ],
)
def test_questions_still_answered_from_the_wrong_page(service, question, places):
    first = service.ask(question).citations[0]
    assert (first.document.file, first.page) in places


# The decision points of every set of minutes in the papers, read by hand by a helper who saw only the PDFs
# (eval/decisions/points.jsonl and README.helper.md: 58 points; 15 July 2014: 12, 11 July 2017: 11, 12 December 2017:
# 16, 13 July 2021: 19, each with its printed page and status).
DECISION_GOLD = load_decision_gold(Path(__file__).resolve().parent.parent / "eval" / "decisions")
# Where the register and the hand reading part, each for a reason the hand reading gives:
KNOWN_EXTRA = {
    # "Members requested that the two parent governor vacancies be filled": a request, but for nothing to come back.
    (dt.date(2014, 7, 15), "7", "Members requested that the two parent governor"),
}
# Points read by hand that the register records in other pieces: (meeting, minute, the point's first words).
KNOWN_PIECES = {
    # Minute 75's request to move the item up and its deferral: one point by hand, two sentences here.
    (dt.date(2017, 12, 12), "75", "Members felt they needed more time"),
    # One sentence adds the Ofsted update to the work programme "and two reports ... would be deferred": two points
    # by hand, one entry here.
    (dt.date(2017, 12, 12), "77", "The Ofsted Action Plan Update was added"),
    (dt.date(2017, 12, 12), "77", "two reports"),
    # "The Chair had requested for a Child Poverty Refresh Review to be undertaken. Officers would look into this":
    # the register's entry is the request, without the officers' reply.
    (dt.date(2021, 7, 13), "12", "The Chair had requested for a Child Poverty"),
}
KNOWN_STATUS = {
    (dt.date(2021, 7, 13), "12"): ("resolved", "requested"),  # "agreed for briefing notes ... could request a report"
}


def _pieces(point_text: str, entries: list) -> list:
    """The register entries whose words are all within a point read by hand (it records them in other pieces)."""
    words = " ".join(point_text.split()).lower()
    return [e for e in entries if " ".join(e.text.split()).lower()[:60] in words or words in e.text.lower()]


@pytest.mark.parametrize("day", sorted({p.meeting_date for p in DECISION_GOLD.points}))
def test_the_registers_decision_points_match_the_minutes_read_by_hand(service, day):
    """Per meeting: every point read by hand is in the register, on its printed page, with its status; the register
    holds nothing else but the known differences above."""
    gold = [p for p in DECISION_GOLD.points if p.meeting_date == day]
    entries = [e for e in service.snapshot().register if e.meeting_date == day and e.file == gold[0].pack]
    unmatched = list(entries)
    for point in gold:
        if any(k == (day, point.minute, point.text[: len(k[2])]) for k in KNOWN_PIECES):
            same_minute = [e for e in entries if e.minute == point.minute]
            pieces = _pieces(point.text, same_minute)
            assert pieces, f"minute {point.minute}: {point.text[:60]}"
            unmatched = [e for e in unmatched if e not in pieces]
            continue
        match = next((e for e in unmatched if e.minute == point.minute and same_words(e.text, point.text)), None)
        assert match is not None, f"minute {point.minute} {point.point}: {point.text[:60]}"
        unmatched.remove(match)
        assert match.page_label == point.printed_page, f"minute {point.minute} {point.point}"
        if match.status != point.status:
            assert KNOWN_STATUS.get((day, point.minute)) == (point.status, match.status), f"minute {point.minute}"
    extra = {(day, e.minute, e.text) for e in unmatched}
    assert all(any(k[:2] == x[:2] and x[2].startswith(k[2]) for k in KNOWN_EXTRA) for x in extra), extra
    assert len(extra) == sum(1 for k in KNOWN_EXTRA if k[0] == day)


# Topics whose timelines are asserted entry by entry: (meeting, minute, status, printed page), oldest first.
# Ours (written alongside the work; checked against the points read by hand above):
OWN_TIMELINES = {
    "Grangewaters": [(dt.date(2021, 7, 13), "6", "not agreed", "10")],
    "supported accommodation": [
        (dt.date(2021, 7, 13), "7", "noted", "11"),
        (dt.date(2021, 7, 13), "7", "referred", "11"),
        (dt.date(2021, 7, 13), "7", "referred", "12"),
    ],
    "troubled families": [(dt.date(2014, 7, 15), "6", "requested", "12"), (dt.date(2014, 7, 15), "6", "noted", "13")],
    "education commission": [
        (dt.date(2014, 7, 15), "5", "noted", "12"),
        (dt.date(2014, 7, 15), "5", "requested", "12"),
    ],
    "inclusion units": [(dt.date(2017, 12, 12), "73", "noted", "13")],
    "placement commissioning": [
        (dt.date(2017, 7, 11), "51", "noted", "10"),
        (dt.date(2017, 7, 11), "51", "referred", "10"),
    ],
}


def timeline(service: QAService, topic: str) -> list[tuple]:
    return [(d.meeting_date, d.minute, d.status, d.page_label) for d in service.decisions(topic)]


@pytest.mark.parametrize("topic", list(OWN_TIMELINES))
def test_a_topics_timeline_entry_by_entry(service, topic):
    assert timeline(service, topic) == OWN_TIMELINES[topic]


# The blind topics' dev half (eval/decisions/topics.jsonl; the test half is scored by `qa eval`, never read here).
# Those still wrong are strict xfails, each with what is wrong.
STILL_WRONG = {
    "dt03": "1.2 of the SEND placements minute (procurement) is kept beside 1.3 (Grangewaters) for 'outdoor education'",
    "dt09": "minute 77's sentence adding the Ofsted update and deferring two reports is one entry, status deferred",
    "dt10": "minute 75's request to move the item up is an entry of its own",
    "dt15": "'briefing notes' does not find the Troubled Families request or the 2021 work programme's agreement",
    "dt16": "'local safeguarding children board' does not find the 2021 minute on the Partnership's action plan",
    "dt18": "'work experience for teenagers' does not find 'work placements ... for Young People'",
    "dt20": "'how lockdown affected children' does not find the Covid-19 update added to the work programme",
    "dt31": "the Covid-19 minute's 'other areas of support' is kept for 'covid vaccinations'",
}


@pytest.mark.parametrize(
    "topic",
    [
        pytest.param(
            t, id=t.id, marks=[pytest.mark.xfail(strict=True, reason=STILL_WRONG[t.id])] if t.id in STILL_WRONG else []
        )
        for t in DECISION_GOLD.topics
        if t.split == "dev"
    ],
)
def test_a_blind_topics_timeline_entry_by_entry(service, topic):
    expected = sorted((e.meeting_date, e.minute, e.status, e.printed_page) for e in topic.entries)
    assert sorted(timeline(service, topic.topic)) == expected
