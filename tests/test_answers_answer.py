"""Answers that answer (issue 12): a lead that can lead, the question's specifics checked, the newest papers for
questions about now, the last meeting's decisions. Fixture packs with the fake embedder: these are rules, not
retrieval quality."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.query import parse_question
from qa.sentences import holds_value, sentence_kind
from qa.service import QAService
from qa.specifics import specifics

from conftest import indexed_settings
from pdfs import PageSpec, make_pdf, small_pack

COMMITTEE = "Children's Services Overview and Scrutiny Committee"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Wards and communities affected: All   Key Decision: Non-key", "cover"),
        ("Report of: Jane Doe, Head of Fostering", "cover"),
        ("Dear Ms Okafor,", "salutation"),
        ("Yours sincerely, Yvette Brown, His Majesty's Inspector", "sign-off"),
        ("We will take this into account. Your sincerely Yvette Brown", "sign-off"),  # as misprinted
        ("6. Key Stage 2 (age 11, year 6)", "heading"),  # numbers in a title are no figure
        ("Thurrock Key Stage 4 Results 2017", "heading"),
        ("Child Poverty Review   Jo Broadbent   Chair", "body"),  # a table row, not a heading
        ("This report updates members on the recruitment of foster carers.", "about"),
        ("The purpose of this report is to set out the options.", "about"),
        ("Present: Councillors Lovelace (Chair), Keys and Okafor", "attendance"),
        ("Introduction and Background", "heading"),
        ("Fourteen households were approved as foster carers in the year.", "body"),
        ("School Places   2023   1,240", "body"),  # a table row holds a figure: it may answer
    ],
)
def test_sentence_kinds_by_structure(text, kind):
    assert sentence_kind(text) == kind


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("How many foster carers were approved?", "number"),
        ("what was the budget for youth services", "number"),
        ("Who chairs the committee?", "person"),
        ("When will the new school open?", "date"),
        ("Where is the family hub?", "place"),
        ("What did we decide about Grangewaters?", "decision"),
        ("Why did the number of complaints rise?", "reason"),
        ("What did Ofsted find?", "findings"),
        ("Is the outdoor centre still open?", "yes_no"),
        ("Tell me about the youth cabinet", "other"),
    ],
)
def test_what_a_question_asks_for(question, answer_type):
    assert parse_question(question).answer_type == answer_type


@pytest.fixture(scope="module")
def papers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answers")
    small_pack(
        folder / "march-2023.pdf",
        COMMITTEE,
        "14 March 2023",
        "Foster Carer Approvals",
        [
            "This report updates members on foster carer approvals and the panel's work.",
            "Foster carer approvals rose sharply in 2022/23 because of the new recruitment campaign.",
            "Councillor Ada Lovelace chairs the Committee.",
        ],
    )
    small_pack(
        folder / "june-2023.pdf",
        COMMITTEE,
        "13 June 2023",
        "Committee Membership",
        ["Councillor Brian Keys chairs the Committee from the start of the 2023/24 municipal year."],
    )
    make_pdf(
        folder / "minutes.pdf",
        [
            PageSpec(
                [
                    f"Minutes of the Meeting of the {COMMITTEE} held on 13 June 2023",
                    "21. Youth Cabinet",
                    "RESOLVED: That the Youth Cabinet's report be noted.",
                    "22. School Transport",
                    "RESOLVED: That the school transport policy be sent to Cabinet.",
                ],
                footer="Page 3",
            ),
            PageSpec(
                [
                    f"Minutes of the Meeting of the {COMMITTEE} held on 14 March 2023",
                    "15. Library Services",
                    "RESOLVED: That the library opening hours be extended.",
                ],
                footer="Page 4",
            ),
        ],
    )
    return folder


@pytest.fixture(scope="module")
def service(tmp_path_factory, papers, fake_embedder):
    settings = indexed_settings(tmp_path_factory.mktemp("answers-data"), [papers], fake_embedder)
    return QAService(settings, embedder=fake_embedder)


def test_what_a_report_is_about_never_leads_the_answer(service):
    answer = service.ask("What happened with foster carer approvals?")
    assert not answer.abstained
    assert "rose sharply" in answer.citations[0].quote
    assert "updates members" not in answer.citations[0].quote


def test_a_period_the_papers_do_not_give_is_said_first_with_the_nearest(service):
    answer = service.ask("How much did foster carer approvals rise in 2019/20?")
    assert answer.partial and answer.missing == ["2019/20"]
    assert answer.answer.startswith("The papers don't give 2019/20; the nearest they give:")
    assert "2022/23" in answer.citations[0].quote
    given = service.ask("How much did foster carer approvals rise in 2022/23?")
    assert not given.partial and given.missing == []


def test_a_year_with_no_meeting_is_missing_and_the_nearest_answers(service):
    answer = service.ask("What happened with foster carer approvals in 2019?")
    assert not answer.abstained and answer.partial and answer.missing == ["2019"]
    assert "rose sharply" in answer.citations[0].quote


def test_who_is_now_is_answered_from_the_newest_papers(service):
    answer = service.ask("Who chairs the committee now?")
    assert answer.citations[0].document.file == "june-2023.pdf"
    assert "Brian Keys" in answer.citations[0].quote
    then = service.ask("Who chaired the committee in March 2023?")
    assert "Ada Lovelace" in then.citations[0].quote


def test_the_last_meeting_means_the_newest_minuted_meeting(service):
    answer = service.ask("What did the committee decide at its last meeting?")
    assert not answer.abstained
    assert {c.meeting_date for c in answer.citations} == {dt.date(2023, 6, 13)}
    quotes = " ".join(c.quote for c in answer.citations)
    assert "Youth Cabinet" in quotes and "school transport" in quotes and "library" not in quotes


def test_a_question_about_the_meeting_itself_is_answered_from_the_agenda(pack_index, fake_embedder):
    answer = QAService(pack_index, embedder=fake_embedder).ask("Where is the committee meeting held?")
    assert not answer.abstained
    assert answer.citations[0].page == 1 and "Committee Room 1" in answer.answer
    topic = QAService(pack_index, embedder=fake_embedder).ask("What is the preferred option for weekend opening?")
    assert topic.citations[0].page != 1  # a topic the agenda only lists is answered from its report


def test_a_breakdown_the_papers_do_not_give_is_named(service):
    answer = service.ask("Can you break down the foster carer approvals by ward?")
    assert answer.partial and answer.missing == ["ward"]
    assert answer.answer.startswith("The papers don't give ward; the nearest they give:")


def test_a_name_the_papers_print_elsewhere_is_not_reported_missing(service):
    """The search found what it could; only names no paper prints are missing."""
    answer = service.ask("What happened with foster carer approvals according to Councillor Keys?")
    assert "Keys" not in answer.missing


@pytest.mark.parametrize(
    ("question", "recency", "last_meeting", "next_meeting", "about_meeting"),
    [
        ("Who chairs the committee now?", True, False, False, True),
        ("When is the next meeting?", True, False, True, False),
        ("What did the committee decide at its last meeting?", True, True, False, False),
        ("What is the latest figure for foster carers?", True, False, False, False),
        ("Where is the meeting held?", False, False, False, True),
        ("How many foster carers were approved in March 2023?", False, False, False, False),
    ],
)
def test_questions_about_now_and_about_meetings(question, recency, last_meeting, next_meeting, about_meeting):
    parsed = parse_question(question)
    assert (parsed.recency, parsed.last_meeting, parsed.next_meeting, parsed.about_meeting) == (
        recency,
        last_meeting,
        next_meeting,
        about_meeting,
    )


def test_specifics_in_their_typeset_forms():
    import datetime as dt_

    from core.records import PageSpan, Passage
    from qa.specifics import met, specifics

    def passage(text: str, day: dt_.date | None = None) -> Passage:
        return Passage(
            id="p", doc_id="d", file="f.pdf", text=text, pages=[PageSpan(offset=0, page=1, label="1")], meeting_date=day
        )

    period = specifics(parse_question("What was the budget for 2018/19?"))[0]
    assert met(period, passage("The budget for 2018–19 was £5m."), "The budget for 2018–19 was £5m.")
    assert [s.text for s in specifics(parse_question("budget for 2018–19?"))] == ["2018/19"]
    assert [s.text for s in specifics(parse_question("exclusions in 1999/00"))] == ["1999/00"]
    month = specifics(parse_question("What was agreed in March 2019?"))[0]
    assert met(month, passage("The 2019 budget was agreed.", dt_.date(2019, 3, 12)), "The 2019 budget was agreed.")
    age = next(s for s in specifics(parse_question("Is there a breakdown by age?")) if s.kind == "breakdown")
    assert not met(age, passage("The agenda was published."), "")
    assert met(age, passage("Children by age band: 0-4, 5-10."), "")
    ethnic = next(s for s in specifics(parse_question("What is the ethnic breakdown?")) if s.kind == "breakdown")
    assert met(ethnic, passage("Ethnicity of children on plans"), "")


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("A net increase of 45 new fostering households is needed.", True),
        ("- 62 Stage 1 complaints received", True),  # a bullet's count is a count
        ("Placements cost £1.2m a year.", True),
        ("The exemption came into force in April 2021 and recruiting takes a while.", False),  # a date, no count
        ("3.5 More needed to be done (see table 2) in 2017/18.", False),  # a paragraph number, a reference, a period
        ("Key Stage 2 results are no longer reported as levels.", False),
    ],
)
def test_a_number_is_a_count_not_a_date_or_a_reference(text, holds):
    assert holds_value(text, "number") is holds


def test_the_words_of_a_stage_are_not_names_and_an_open_year_is_no_specific():
    asked = specifics(parse_question("What were the Key Stage 2 results in 2017?"))
    assert [(s.kind, s.text) for s in asked] == [("year", "2017"), ("stage", "Key Stage 2")]
    assert specifics(parse_question("Have child protection plans gone up since 2014?")) == []


def test_a_period_printed_only_in_a_supporting_quote_does_not_meet_the_question(tmp_path_factory, fake_embedder):
    """The lead states the answer: a table of something else printing "2019/20" below it makes no 2019/20 answer."""
    folder = tmp_path_factory.mktemp("lead-specifics")
    small_pack(
        folder / "pack.pdf",
        COMMITTEE,
        "14 March 2023",
        "Adoption Performance",
        [
            "In the year 11 looked after children were adopted, against a forecast of 12 adoptions.",
            "The adoption panel met monthly throughout the year.",
            "Complaints volume 2019/20 for the adoption team was 1.",
        ],
    )
    settings = indexed_settings(tmp_path_factory.mktemp("lead-specifics-data"), [folder], fake_embedder)
    service = QAService(settings, embedder=fake_embedder)
    question = "How many looked after children were adopted in 2019/20?"
    answer = service.ask(question)
    assert "11 looked after children were adopted" in answer.citations[0].quote
    assert answer.partial and answer.missing == ["2019/20"]
    table = service.ask("What was the complaints volume 2019/20 for the adoption team?").citations[0]
    assert "2019/20" in table.quote
    generation = service._current()
    plan = generation.planner.plan(generation.planner.parse(question))
    assert service._missing(generation, plan, [answer.citations[0], table], []) == ["2019/20"]
    assert service._missing(generation, plan, [table, answer.citations[0]], []) == []


def test_minutes_that_only_touch_the_topic_do_not_displace_the_report_that_answers(tmp_path_factory, fake_embedder):
    """'Signed off' makes a decision question, but the minutes found only mention school transport in passing: the
    report that gives the date answers, not their resolution."""
    folder = tmp_path_factory.mktemp("leader")
    small_pack(
        folder / "report.pdf",
        COMMITTEE,
        "12 September 2023",
        "Home to School Transport Review",
        [
            "The home to school transport recovery plan will be signed off by Schools Forum on 28 September 2023.",
            "The recovery plan sets out how the high needs deficit will be reduced over three years.",
        ],
    )
    make_pdf(
        folder / "minutes.pdf",
        [
            PageSpec(
                [
                    f"Minutes of the Meeting of the {COMMITTEE} held on 13 June 2023",
                    "22. School Transport",
                    "RESOLVED: That the school transport policy be sent to Cabinet.",
                ],
                footer="Page 3",
            )
        ],
    )
    settings = indexed_settings(tmp_path_factory.mktemp("leader-data"), [folder], fake_embedder)
    service = QAService(settings, embedder=fake_embedder)
    answer = service.ask("When will the home to school transport recovery plan be signed off by Schools Forum?")
    assert "28 September 2023" in answer.citations[0].quote
    # Listing decisions is not answering: the minute's resolution is still listed on the topic.
    assert [(d.text, d.status) for d in service.decisions("school transport")] == [
        ("That the school transport policy be sent to Cabinet.", "resolved")
    ]
