"""Structure from the text itself: meeting dates, minutes of an earlier meeting, items, decisions, boilerplate."""

import datetime as dt
import shutil

import pytest

from core.lexicon import parse_date
from core.settings import PassageSettings
from indexer.passages import PassageBuilder
from indexer.read import read_document
from indexer.structure import structure_document

from pdfs import FILLER, PageSpec, make_pdf, wrap


@pytest.fixture
def pack(tmp_path, sample_pack_pdf):
    misnamed = tmp_path / "Some misleading name 2019.pdf"
    shutil.copy(sample_pack_pdf, misnamed)
    return structure_document(read_document(misnamed))


@pytest.fixture
def passages(pack, fake_embedder):
    return PassageBuilder(PassageSettings(), fake_embedder.count_tokens).build(pack, "doc")


def holding(passages, text):
    found = [p for p in passages if text in " ".join(p.text.split())]
    assert found, f"no passage holds {text!r}"
    return found[0]


def test_pack_meeting_and_committee_come_from_the_text(pack):
    assert pack.doc_type == "agenda_pack"
    assert pack.meeting_date == dt.date(2023, 3, 14)
    assert pack.committee == "Children's Services Overview and Scrutiny Committee"
    assert "14 March 2023" in pack.title


def test_two_meetings_in_one_pack(passages):
    minutes = holding(passages, "41 schools had visited")
    assert minutes.meeting_date == dt.date(2023, 1, 10)  # the minuted meeting
    assert minutes.pack_date == dt.date(2023, 3, 14)
    assert minutes.part == "minutes"
    assert minutes.section == "Minute 13: Grangewaters Outdoor Education Centre"
    report = holding(passages, "extend weekend opening to 6pm")
    assert report.meeting_date == dt.date(2023, 3, 14)
    assert report.section == "Item 5: Riverside Play Centre Review > 3. Issues, Options and Analysis of Options"


def test_resolved_unresolved_and_deferred_are_decisions(passages):
    resolved = holding(passages, "agree to the proposed lease extension")
    assert (resolved.decision, resolved.decision_status) == (True, "resolved")
    assert "Members requested that Cabinet" not in resolved.text
    unresolved = holding(passages, "reviews the decision to close the boathouse")
    assert (unresolved.decision, unresolved.decision_status) == (True, "not agreed")
    deferred = holding(passages, "Item deferred to the next meeting")
    assert (deferred.decision, deferred.decision_status, deferred.minute) == (True, "deferred", "14")
    discussion = holding(passages, "41 schools had visited")
    assert not discussion.decision


def test_boilerplate_is_marked(passages):
    assert holding(passages, "Enter the password Thurrock").boilerplate
    assert holding(passages, "Approved as a true and correct record").boilerplate
    assert not holding(passages, "Riverside Play Centre opened in 2019").boilerplate


def test_items_appendices_and_work_programme(passages):
    cover = holding(passages, "Report of: Grace Hopper")
    assert (cover.item, cover.part, cover.section) == ("5", "report", "Item 5: Riverside Play Centre Review")
    appendix = holding(passages, "asked for more toddler sessions")
    assert appendix.part == "appendix"
    assert appendix.section == "Item 5: Riverside Play Centre Review > Appendix 1: Consultation responses"
    programme = holding(passages, "Fostering Recruitment")
    assert (programme.part, programme.item) == ("work_programme", "6")


def test_a_table_stays_together_with_its_heading(passages):
    table = holding(passages, "2022 15,950")
    assert table.table
    assert table.text.splitlines()[0] == "Attendance by year"
    for row in ("Year   Visits   Change", "2021   12,400", "2023   17,010   6.6%"):
        assert row in table.text


def test_minutes_headings_do_not_come_from_resolution_lists(tmp_path):
    lines = [
        "Minutes of the Meeting of the Cabinet held on 3 May 2022 at 7.00 pm",
        "7. School Transport Policy",
        *wrap(FILLER),
        "RESOLVED:",
        "1. That the policy be adopted.",
        "8. That Cabinet notes the report.",
        "9. Library Opening Hours",
        *wrap(FILLER),
    ]
    doc = structure_document(read_document(make_pdf(tmp_path / "m.pdf", [PageSpec(lines, footer="Page 1")])))
    sections = [seg.context.section_path for seg in doc.segments]
    assert ("Minute 7: School Transport Policy",) in sections
    assert ("Minute 9: Library Opening Hours",) in sections
    assert not any("That" in " ".join(path) for path in sections)
    resolved = [seg for seg in doc.segments if seg.context.decision_status == "resolved"]
    assert [line.text for line in resolved[0].lines][-1] == "8. That Cabinet notes the report."


def test_standalone_report_gets_title_period_and_sections(tmp_path):
    lines = [
        "This report gives an overview of the partnership's work for the year 2016/17 for all partners.",
        "Education and Attainment",
        "Results at the end of Key Stage 2 improved again, and the gap with national results narrowed.",
        "Children in Care",
        "There were 300 looked after children at the end of the year, slightly fewer than the year before.",
    ]
    path = make_pdf(
        tmp_path / "report.pdf", [PageSpec(lines, footer="Page 1")], title="Partnership annual report 2016/17"
    )
    doc = structure_document(read_document(path))
    assert (doc.doc_type, doc.title, doc.period, doc.meeting_date) == (
        "report",
        "Partnership annual report 2016/17",
        "2016/17",
        None,
    )
    assert [seg.context.section_path for seg in doc.segments] == [
        (),
        ("Education and Attainment",),
        ("Children in Care",),
    ]


def test_parse_date():
    assert parse_date("held on 11 July 2017 at 7pm") == dt.date(2017, 7, 11)
    assert parse_date("on 13th February 2018") == dt.date(2018, 2, 13)
    assert parse_date("31 February 2018") is None


def test_another_councils_front_matter_and_work_programme_are_found_without_its_names_in_code(tmp_path, fake_embedder):
    """No council's or committee's name is written into the rules: another council's pack reads the same way."""
    agenda = [
        "Planning and Transport Committee",
        "The meeting will be held at 6.30 pm on 2 June 2026",
        "Agenda",
        "1   Apologies",
        "2   Bus Lanes Review   3 - 4",
        "Queries regarding this Agenda: Democratic Services",
    ]
    front = [
        "Eastshire County Council Wi-Fi",
        "Connect to the network called Guest; no password is needed.",
        "Evacuation Procedures",
        "Leave by the nearest exit.",
    ]
    report = [
        "2 June 2026   ITEM: 2",
        "Planning and Transport Committee",
        "Bus Lanes Review",
        "Report of: Head of Highways",
        *wrap("2.1 The bus lane on the High Street will be extended to the station by autumn. " + FILLER),
    ]
    programme = [
        "Planning Scrutiny Work Programme 2026/27",
        "Topic   Lead Officer   Meeting",
        "Parking Charges   A. Officer   July 2026",
        "Cycle Routes   B. Officer   July 2026",
    ]
    path = make_pdf(
        tmp_path / "eastshire.pdf",
        [PageSpec(agenda), PageSpec(front), PageSpec(report, footer="Page 3"), PageSpec(programme, footer="Page 4")],
    )
    passages = PassageBuilder(PassageSettings(), fake_embedder.count_tokens).build(
        structure_document(read_document(path)), "d"
    )
    assert holding(passages, "Connect to the network called Guest").boilerplate
    assert not holding(passages, "bus lane on the High Street").boilerplate
    assert holding(passages, "Parking Charges").part == "work_programme"
    assert holding(passages, "bus lane on the High Street").committee == "Planning and Transport Committee"


def test_an_item_called_minutes_of_the_last_meeting_does_not_make_a_report_a_pack(tmp_path):
    lines = [
        "Annual Report of the Virtual School 2022/23",
        "1. Introduction",
        "This report sets out outcomes for children in care.",
        "2. Governance",
        "Minutes of the last meeting",
        "The governing body reviewed the minutes of its last meeting in full.",
    ]
    doc = structure_document(read_document(make_pdf(tmp_path / "r.pdf", [PageSpec(lines, footer="Page 1")])))
    assert doc.doc_type == "report" and doc.committee is None


def test_a_minutes_heading_ending_in_board_is_not_the_committees_name(tmp_path):
    lines = [
        "Minutes of the Meeting of the Health and Wellbeing Board",
        "held on 5 March 2024 at 7pm",
        "12. Joint Strategy",
        "RESOLVED: That the strategy be agreed.",
    ]
    doc = structure_document(read_document(make_pdf(tmp_path / "m.pdf", [PageSpec(lines, footer="Page 3")])))
    assert doc.committee == "Health and Wellbeing Board"


def test_a_minutes_title_wrapped_onto_a_second_line_is_whole(tmp_path):
    """A long title runs on to the next line; a sentence after a short title does not join it."""
    lines = [
        "Minutes of the Meeting of the Cabinet held on 3 May 2022 at 7.00 pm",
        "5. Items Raised by the Local Safeguarding Children Partnership - Update on the Peer",
        "Review Action Plan",
        "The report was presented by the Business Manager.",
        "6. School Transport Policy",
        "The Committee Noted The Report",
        "7. Update on the Pilot Development of Housing for Care Leavers & Vulnerable Young",
        "The report was presented by the Strategic Lead.",
    ]
    doc = structure_document(read_document(make_pdf(tmp_path / "m.pdf", [PageSpec(lines, footer="Page 1")])))
    sections = list(dict.fromkeys(seg.context.section_path for seg in doc.segments))
    assert sections[1:] == [
        (
            "Minute 5: Items Raised by the Local Safeguarding Children Partnership - Update on the Peer Review Action "
            "Plan",
        ),
        ("Minute 6: School Transport Policy",),
        ("Minute 7: Update on the Pilot Development of Housing for Care Leavers & Vulnerable Young",),
    ]
    for after in ("Presentation", "Councillor Smith", "Report of the Corporate Director", "Present: Councillors"):
        other = [
            "Minutes of the Meeting of the Cabinet held on 3 May 2022 at 7.00 pm",
            "8. Update on the Pilot Development of Housing for Care Leavers and Young People",
            after,
        ]
        doc2 = structure_document(read_document(make_pdf(tmp_path / "o.pdf", [PageSpec(other, footer="Page 1")])))
        titles = {seg.context.section_path for seg in doc2.segments if seg.context.minute == "8"}
        assert titles == {("Minute 8: Update on the Pilot Development of Housing for Care Leavers and Young People",)}
    first = next(seg for seg in doc.segments if seg.context.minute == "5")
    assert first.lines[0].text.startswith("5. Items Raised")  # the heading line is in the retitled minute
