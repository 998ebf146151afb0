"""Another council's papers in other publishing systems' styles (tests/other_council.py), read with no setting
that names that council: meetings, committees, minutes, decisions, pages and sections, as for the sample pack."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core.records import SearchFilters
from indexer.read import read_document
from indexer.structure import structure_document
from qa.service import QAService

from conftest import assert_quote_on_page, indexed_settings
from other_council import PANEL, cmis_minutes, moderngov_pack
from pdfs import PageSpec, make_pdf

MARCH, JANUARY, FEBRUARY = dt.date(2024, 3, 5), dt.date(2024, 1, 16), dt.date(2024, 2, 7)


@pytest.fixture(scope="module")
def papers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other-council")
    moderngov_pack(folder / "asch-2024-03-05.pdf")
    cmis_minutes(folder / "cabinet-2024-02-07.txt", "Minute No. {n} -")
    return folder


@pytest.fixture(scope="module")
def service(tmp_path_factory, papers, embedder):
    settings = indexed_settings(tmp_path_factory.mktemp("other-real"), [papers], embedder)
    return QAService(settings, embedder=embedder)


@pytest.fixture(scope="module")
def fake_service(tmp_path_factory, papers, fake_embedder):
    settings = indexed_settings(tmp_path_factory.mktemp("other-data"), [papers], fake_embedder)
    return QAService(settings, embedder=fake_embedder)


def test_a_moderngov_pack_is_a_pack_of_its_committee_and_meeting(papers):
    doc = structure_document(read_document(papers / "asch-2024-03-05.pdf"))
    assert (doc.doc_type, doc.committee, doc.meeting_date) == ("agenda_pack", PANEL, MARCH)
    assert doc.title == f"{PANEL}, 5 March 2024, agenda pack"
    assert [page.label for page in doc.source.pages] == [None, None, "1", "2", "3", "4", "5"]


@pytest.mark.parametrize("numbering", ["Minute No. {n} -", "{n}/24", "{n}."])
def test_printed_minutes_in_any_numbering_are_minutes_of_their_meeting(tmp_path, numbering):
    doc = structure_document(read_document(cmis_minutes(tmp_path / "cabinet.txt", numbering)))
    assert (doc.doc_type, doc.committee, doc.meeting_date) == ("minutes", "Cabinet", FEBRUARY)
    sections = {segment.context.section_path[0] for segment in doc.segments if segment.context.minute}
    assert sections == {"Minute 45: Revenue Budget 2024/25", "Minute 46: Libraries Strategy"}
    decided = [s for s in doc.segments if s.context.decision_status == "resolved"]
    assert [s.context.minute for s in decided] == ["45", "46"]


# (sentence, file, pdf page, printed label, section, meeting date, decision status)
SENTENCES = [
    (
        "Councillor Patel asked how many people attended the Meadow Lane day centre each week",
        "asch-2024-03-05.pdf",
        3,
        "1",
        "Minute 26: Day Opportunities Review",
        JANUARY,
        None,
    ),
    (
        "the consultation on the future of the Meadow Lane day centre be extended to 29 February 2024",
        "asch-2024-03-05.pdf",
        3,
        "1",
        "Minute 26: Day Opportunities Review",
        JANUARY,
        "resolved",
    ),
    (
        "RESOLVED that the Carers Strategy update be noted.",
        "asch-2024-03-05.pdf",
        4,
        "2",
        "Minute 27: Carers Strategy",
        JANUARY,
        "resolved",
    ),
    (
        "The council commissions 9,800 hours of home care each week from 14 providers.",
        "asch-2024-03-05.pdf",
        5,
        "3",
        "Item 4: Home Care Market Sustainability > 3. Background",
        MARCH,
        None,
    ),
    (
        "The proposed uplift for 2024/25 is 6.5 per cent, at a cost of £1.9 million in a full year.",
        "asch-2024-03-05.pdf",
        6,
        "4",
        "Item 4: Home Care Market Sustainability > 4. Proposed Fee Uplift",
        MARCH,
        None,
    ),
    (
        "The Panel is asked to note the outcome of the tender for residential care beds.",
        "asch-2024-03-05.pdf",
        7,
        "5",
        "Item 6: Care Home Contract Award > 1. Summary",
        MARCH,
        None,
    ),
    (
        "That consideration of the Libraries Strategy be deferred to the next meeting.",
        "cabinet-2024-02-07.txt",
        2,
        None,
        "Minute 46: Libraries Strategy",
        FEBRUARY,
        "resolved",
    ),
]


@pytest.mark.parametrize(
    ("sentence", "file", "page", "label", "section", "meeting", "status"), SENTENCES, ids=[s[0][:40] for s in SENTENCES]
)
def test_sentence_is_on_the_right_page_section_and_meeting(
    fake_service, sentence, file, page, label, section, meeting, status
):
    snapshot = fake_service.snapshot()
    passage = next(p for p in snapshot.passages.values() if p.file == file and sentence in " ".join(p.text.split()))
    offset = " ".join(passage.text.split()).index(sentence)
    span = passage.page_at(_raw_offset(passage.text, offset))
    assert (span.page, span.label) == (page, label)
    assert passage.section == section
    assert passage.meeting_date == meeting
    assert passage.decision_status == status


def _raw_offset(raw: str, flat_offset: int) -> int:
    """The offset in raw text of an offset in its whitespace-collapsed form."""
    words_before = len(" ".join(raw.split())[:flat_offset].split())
    return [m.start() for m in re.finditer(r"\S+", raw)][words_before]


def test_the_documents_list_names_each_committee_and_meeting(fake_service):
    docs = {d.file: d for d in fake_service.snapshot().manifest.documents}
    assert (docs["asch-2024-03-05.pdf"].committee, docs["asch-2024-03-05.pdf"].meeting_date) == (PANEL, MARCH)
    assert (docs["cabinet-2024-02-07.txt"].committee, docs["cabinet-2024-02-07.txt"].doc_type) == ("Cabinet", "minutes")


def test_decisions_are_found_by_topic_with_the_meeting_that_took_them(fake_service):
    decisions = fake_service.decisions("Meadow Lane day centre")
    assert decisions and all(d.meeting_date == JANUARY for d in decisions)
    assert "extended to 29 February 2024" in " ".join(d.text for d in decisions)
    # The minute's title names this topic: every point of its resolution is on it.
    review = fake_service.decisions("day opportunities review")
    assert [d.text.split(" ", 1)[0] for d in review] == ["(1)", "(2)"]
    assert "brought to the Panel in June 2024" in review[1].text
    assert decisions[0].document.file == "asch-2024-03-05.pdf" and decisions[0].page_label == "1"
    cabinet = fake_service.decisions("Libraries Strategy", SearchFilters(committee="cabinet"))
    assert [d.meeting_date for d in cabinet] == [FEBRUARY]


@pytest.mark.parametrize(
    ("question", "fact", "page", "meeting"),
    [
        ("What fee uplift is proposed for home care providers in 2024/25?", "6.5 per cent", 6, MARCH),
        ("How many hours of home care does the council commission each week?", "9,800 hours", 5, MARCH),
        ("How many unpaid carers were registered with the carers' support service?", "1,240 unpaid carers", 4, JANUARY),
    ],
)
def test_questions_on_another_councils_papers_are_answered_on_the_right_page(
    service, papers, question, fact, page, meeting
):
    answer = service.ask(question)
    assert not answer.abstained
    first = answer.citations[0]
    assert fact in first.quote and first.page == page
    assert first.meeting_date == meeting
    assert_quote_on_page(first, papers / first.document.file)


def test_a_standalone_reports_contact_line_is_no_section_heading(tmp_path):
    lines = [
        "Home Care Annual Review",
        "This review covers the year to March 2024.",
        "Contact officer: Jane Doe",
        "The review found that most people receiving home care were satisfied with their carers.",
        "Provider Quality",
        "Eleven of the fourteen providers were rated good or outstanding by the regulator this year.",
    ]
    doc = structure_document(read_document(make_pdf(tmp_path / "review.pdf", [PageSpec(lines, footer="Page 1")])))
    sections = [segment.context.section_path for segment in doc.segments]
    assert ("Contact officer: Jane Doe",) not in sections
    assert ("Provider Quality",) in sections
