"""Reading dates, intent and names out of members' questions."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.plan import period_span
from qa.query import parse_question

MEETINGS = [
    dt.date(2014, 11, 11),
    dt.date(2017, 7, 11),
    dt.date(2017, 10, 10),
    dt.date(2017, 12, 12),
    dt.date(2021, 7, 13),
    dt.date(2021, 10, 12),
]


@pytest.mark.parametrize(
    "text, since, until",
    [
        ("what did we decide in 2017?", dt.date(2017, 1, 1), dt.date(2017, 12, 31)),
        ("anything on fostering between 2014 and 2017", dt.date(2014, 1, 1), dt.date(2017, 12, 31)),
        ("what happened at the July 2021 meeting", dt.date(2021, 7, 1), dt.date(2021, 7, 31)),
        ("minutes of 13 July 2021", dt.date(2021, 7, 13), dt.date(2021, 7, 13)),
        (
            "what did we say last October?",
            dt.date(2021, 10, 1),
            dt.date(2021, 10, 31),
        ),  # the latest October meeting held
        ("complaints in 2016/17", None, None),  # a financial year the papers report on, not a meeting date
        ("has it gone up since 2014?", dt.date(2014, 1, 1), None),  # open-ended: to the newest papers
        ("what changed after 2014", dt.date(2015, 1, 1), None),
        ("what did we decide before 2018?", None, dt.date(2017, 12, 31)),
        ("anything up to 2017", None, dt.date(2017, 12, 31)),
        ("from 2014 to 2017", dt.date(2014, 1, 1), dt.date(2017, 12, 31)),  # two years: a closed span
        ("how are schools doing?", None, None),
    ],
)
def test_dates(text, since, until):
    question = parse_question(text, MEETINGS)
    assert (question.since, question.until) == (since, until)


def test_a_month_without_a_year_names_meetings_in_that_month():
    question = parse_question("what did the December meeting decide about adoption?", MEETINGS)
    assert question.months == {12} and question.since is None and question.dated


@pytest.mark.parametrize(
    "text, decision",
    [
        ("What did we decide about Grangewaters?", True),
        ("was the housing pilot approved?", True),
        ("did members agree the recommendations", True),
        ("what was resolved on adoption", True),
        ("How many approved foster carers do we have?", False),
        ("how many complaints were there", False),
    ],
)
def test_decision_questions(text, decision):
    assert parse_question(text).decision is decision


def test_kinds_of_fact_asked():
    assert parse_question("How many children are looked after?").figure
    assert parse_question("Who chaired the meeting?").person
    assert parse_question("When did the inspection take place?").when


def test_names_are_proper_nouns_acronyms_and_quoted_phrases():
    names = parse_question('What did Ofsted say about the MASH and "staying put" in South Ockendon?').names
    assert {"Ofsted", "MASH", "staying put", "South", "Ockendon"} <= set(names)
    assert "What" not in names
    assert parse_question("what did we decide about grangewaters").names == []


def test_reporting_periods():
    assert period_span("2014/15") == (dt.date(2014, 4, 1), dt.date(2015, 3, 31))
    assert period_span("2019") == (dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    assert period_span(None) is None and period_span("spring") is None


def test_questions_about_change_over_time():
    assert parse_question("How have complaint numbers changed over the years?").across_meetings
    assert parse_question("What have we said about Grangewaters over time?").across_meetings
    assert not parse_question("How many complaints were there in 2016/17?").across_meetings


def test_apostrophes_open_no_quotation():
    assert parse_question("what does the committee's report say about the council's budget?").names == []
    assert "Early Help" in parse_question("What did Ofsted say about ‘Early Help’?").names


def test_a_month_with_years_names_that_month_in_those_years():
    question = parse_question("what did the December meeting in 2017 decide?", MEETINGS)
    assert question.months == {12} and (question.since, question.until) == (dt.date(2017, 1, 1), dt.date(2017, 12, 31))
    assert question.date_words == ["December", "2017"]  # the words that chose the meetings, dropped from the topic
    spread = parse_question("what did the December meetings of 2014 and 2017 say?", MEETINGS)
    assert (spread.since, spread.until) == (dt.date(2014, 1, 1), dt.date(2017, 12, 31))


def test_the_words_that_gave_a_date_are_kept_whole():
    assert parse_question("what was in the minutes of 13 July 2021?").date_words == ["13 July 2021"]
    assert parse_question("what happened in July 2021?").date_words == ["July 2021"]


@pytest.mark.parametrize(
    "text, since",
    [
        ("what did we say last November?", dt.date(2014, 11, 1)),  # the latest November meeting was in 2014
        ("what did we say last October?", dt.date(2021, 10, 1)),
    ],
)
def test_last_month_is_that_month_of_the_latest_year_with_a_meeting_in_it(text, since):
    assert parse_question(text, MEETINGS).since == since


def test_last_month_with_no_meeting_in_that_month_names_the_month_only():
    question = parse_question("what did we say last August?", MEETINGS)
    assert question.months == {8} and question.since is None and question.dated
