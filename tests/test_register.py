"""The decision register's entries: a RESOLVED block split into its numbered points, each with its own status."""

from __future__ import annotations

import datetime as dt

import pytest

from core.records import PageSpan, Passage
from indexer.register import point_status, register_entries
from qa.decisions import MinutesIndex

from conftest import indexed_settings, papers_with_pack

MEETING = dt.date(2023, 1, 10)


def minutes(
    text: str,
    status: str | None = "resolved",
    minute: str = "13",
    pages=((0, 4, "14"),),
    title: str = "Grangewaters Outdoor Education Centre",
) -> Passage:
    return Passage(
        id=f"doc-{minute}",
        doc_id="doc",
        file="pack.pdf",
        text=text,
        pages=[PageSpan(offset=o, page=p, label=label) for o, p, label in pages],
        section=f"Minute {minute}: {title}",
        part="minutes",
        minute=minute,
        meeting_date=MEETING,
        committee="Children's Services Overview and Scrutiny Committee",
        doc_type="agenda_pack",
        decision=status is not None,
        decision_status=status,
    )


def test_a_resolved_block_is_split_into_its_numbered_points_with_the_preamble():
    passage = minutes(
        "The Committee discussed the centre at length.\n"
        "RESOLVED:\n"
        "That the Committee:\n"
        "- 1) Note the usage figures for Grangewaters.\n"
        "- 2) Agree to the proposed lease extension for a\n"
        "further 12 months.\n"
        "- 3) Recommend to Cabinet that the boathouse stays open.\n"
    )
    entries = register_entries([passage])
    assert [(e.point, e.status) for e in entries] == [("1", "noted"), ("2", "resolved"), ("3", "referred")]
    assert (
        entries[1].text == "2) Agree to the proposed lease extension for a further 12 months."
    )  # "12 months" no point
    assert all(e.preamble == "That the Committee:" for e in entries)
    first = entries[0]
    assert (first.meeting_date, first.minute, first.minute_title) == (
        MEETING,
        "13",
        "Grangewaters Outdoor Education Centre",
    )
    assert (first.page, first.page_label, first.passage_id) == (4, "14", "doc-13")


def test_the_discussion_before_the_block_is_not_a_decision():
    entries = register_entries([minutes("Members asked about the boathouse.\nRESOLVED: That the report be noted.")])
    assert [(e.point, e.text, e.status) for e in entries] == [(None, "That the report be noted.", "noted")]


def test_each_point_is_on_the_page_where_it_starts():
    text = "RESOLVED:\n1.1 That members agree the publication.\n1.2 That members receive a report back in March.\n"
    second = text.index("1.2")
    entries = register_entries([minutes(text, pages=((0, 9, "9"), (second, 10, "10")))])
    assert [(e.point, e.page, e.page_label, e.status) for e in entries] == [
        ("1.1", 9, "9", "resolved"),
        ("1.2", 10, "10", "requested"),
    ]


def test_unresolved_points_are_not_agreed_and_a_deferral_is_its_sentence():
    unresolved = minutes("UNRESOLVED:\n1.3 Members requested that Cabinet reviews the decision.", status="not agreed")
    deferred = minutes(
        "76. Ofsted Action Plan\nThe officer was unwell. Item deferred to the next meeting on 13th February 2018.",
        status="deferred",
        minute="76",
    )
    entries = register_entries([unresolved, deferred])
    assert [(e.point, e.status) for e in entries] == [("1.3", "not agreed"), (None, "deferred")]
    assert entries[1].text == "Item deferred to the next meeting on 13th February 2018."


def test_reports_discussion_and_procedural_agreements_make_no_entries():
    report = minutes("RESOLVED: That the report be noted.").model_copy(update={"part": "report"})
    discussion = minutes(
        "Members discussed the centre. Members asked for more detail on opening hours. The Chair asked for an "
        "example of block purchasing. The Chair had agreed to an item of urgent business. Members agreed to suspend "
        "standing orders until 10pm. The Committee agreed the minutes of the last meeting as a correct record.",
        status=None,
    )
    unnumbered = minutes("Members agreed to commission a review.", status=None).model_copy(update={"minute": None})
    boilerplate = minutes("Members agreed to commission a review.", status=None).model_copy(
        update={"boilerplate": True}
    )
    assert register_entries([report, discussion, unnumbered, boilerplate]) == []


def test_what_the_discussion_decides_beside_a_block_is_an_entry_unless_the_block_says_it():
    """A request for something to come back, an item put on the work programme, agreement outside any block; not
    "Members agreed the recommendations" or a request the block's point repeats."""
    text = (
        "12. Work Programme\n"
        "Members agreed for briefing notes to be sent in between meetings.\n"
        "The Chair noted that little was listed and asked for officers to circulate an updated draft.\n"
        "The work programme was updated as follows:\n"
        "- Ofsted Inspection Outcome – TBC for 12 October 2021.\n"
        "- Update on School Grades Data (from the Education Landscape report) – TBC for 12\n"
        "October 2021.\n"
        "- Health and Wellbeing Strategy Refresh – moved to 1 December 2021.\n"
    )
    entries = register_entries([minutes(text, status=None, minute="12", title="Work Programme")])
    # A sentence running on to a dated line is no work-programme line; a title wrapped in the text is not quoted.
    prose = "The report was presented. The Ofsted item – moved to 1 December 2021.\n"
    assert all(e.status != "scheduled" for e in register_entries([minutes(prose, status=None, minute="12")]))
    wrapped = minutes(
        "5. Items Raised by the Partnership - Update on the Peer\nReview Action Plan\nMembers requested a further "
        "update in March.",
        status=None,
        minute="5",
        title="Items Raised by the Partnership - Update on the Peer Review Action Plan",
    )
    assert [e.text for e in register_entries([wrapped])] == ["Members requested a further update in March."]
    assert [(e.status, e.text, e.preamble) for e in entries] == [
        ("resolved", "Members agreed for briefing notes to be sent in between meetings.", None),
        (
            "requested",
            "The Chair noted that little was listed and asked for officers to circulate an updated draft.",
            None,
        ),
        (
            "scheduled",
            "Ofsted Inspection Outcome – TBC for 12 October 2021.",
            "The work programme was updated as follows:",
        ),
        (
            "scheduled",
            "Update on School Grades Data (from the Education Landscape report) – TBC for 12 October 2021.",
            "The work programme was updated as follows:",
        ),
        (
            "scheduled",
            "Health and Wellbeing Strategy Refresh – moved to 1 December 2021.",
            "The work programme was updated as follows:",
        ),
    ]
    block = minutes(
        "There was a brief discussion on work placements, following which Members requested that an item on work "
        "placements be added to the work programme for October. Members agreed the recommendations. The Committee "
        "requested that a bi-monthly update be provided by briefing note.\n"
        "RESOLVED:\n"
        "1. That an additional item on work placements be added to the work programme for October.\n"
        "2. That the work programme be noted. Councillor Halden left the meeting at 8.17pm. Councillor Morris-Cook "
        "took the position of Chair for the remainder of the meeting.\n"
    )
    assert [(e.point, e.status, e.text) for e in register_entries([block])] == [
        (None, "requested", "The Committee requested that a bi-monthly update be provided by briefing note."),
        ("1", "scheduled", "1. That an additional item on work placements be added to the work programme for October."),
        ("2", "noted", "2. That the work programme be noted."),  # the clerk's note after it is not the point's
    ]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("That the contents of the report be noted.", "noted"),
        ("That the Committee noted the Action Plan and progress to date.", "noted"),
        ("Note the work of the Youth Cabinet.", "noted"),
        ("That members recommended to cabinet the commissioning of a framework.", "referred"),
        ("Members recommended that Cabinet investigate opportunities to invest in housing.", "referred"),
        ("That the Director refer back to the Committee a full options analysis.", "requested"),
        ("That the Committee agree to receive a report at a later date on the consultation.", "requested"),
        ("That an additional item on work placements be added to the work programme.", "scheduled"),
        ("That members give approval for the next stage of the procurement process.", "resolved"),
        # Considering, reviewing or commenting only is noting; noting and supporting commits to something.
        ("That the Committee consider the current progress and direction of travel.", "noted"),
        ("That members reviewed the areas of improvement in social care.", "noted"),
        ("That the Committee comment on the proposals being considered.", "noted"),
        ("Children's O&S to note the support provided to vulnerable children.", "noted"),
        ("That the Committee note and provide comments on the pilot and support the ongoing development.", "resolved"),
        ("That members reviewed the assessment and agree the publication of the document.", "resolved"),
        ("That Members agree to officers proceeding to gain Cabinet approval for a procurement.", "referred"),
        ("That the Committee note the proposal and receive additional information regarding options.", "requested"),
        ("That the comments be noted and that a further update to be provided on the reserves.", "requested"),
        # Noting beside a decision in the passive, or considering before deciding, is still the decision.
        ("That the scheme be approved, having considered the consultation responses.", "resolved"),
        ("That the policy be adopted, as considered by the working group.", "resolved"),
        ("That the work programme be agreed.", "resolved"),
        ("Members agreed the work programme.", "resolved"),
        ("Members discussed the work programme and agreed to move the performance item up the agenda.", "scheduled"),
    ],
)
def test_a_points_status_is_read_from_its_words(text, status):
    assert point_status(text, "resolved") == status


def test_the_register_is_published_with_each_generation_and_read_back(tmp_path, sample_pack_pdf, fake_embedder):
    """Indexing writes register.sqlite3 into the generation; opening it reads the same entries back."""
    from core.errors import StoreError
    from indexer.register import REGISTER_FILE, read_register
    from indexer.stores import IndexStore, open_snapshot

    settings = indexed_settings(
        tmp_path / "data", [papers_with_pack(tmp_path / "papers", sample_pack_pdf)], fake_embedder
    )
    snapshot = open_snapshot(settings)
    assert snapshot is not None and snapshot.register
    path = IndexStore(settings).generation_path(snapshot.generation) / REGISTER_FILE
    assert read_register(path) == snapshot.register == register_entries(snapshot.passages.values())
    grangewaters = [e for e in snapshot.register if e.minute_title and "Grangewaters" in e.minute_title]
    assert [(e.point, e.status) for e in grangewaters] == [("1", "noted"), ("2", "resolved"), ("3", "not agreed")]
    assert grangewaters[1].text == "2) That the Committee agree to the proposed lease extension."
    path.write_bytes(b"not a database")  # a corrupted register: a clear error naming the generation
    with pytest.raises(StoreError, match=snapshot.generation):
        open_snapshot(settings)


def test_what_happened_next_to_a_report_requested_is_linked_or_marked_not_seen(tmp_path, fake_embedder):
    """A report requested in January is on March's agenda (linked, and the link names the item); one that no later
    pack lists is 'not seen', saying how far the papers run."""
    from qa.service import QAService

    from pdfs import PageSpec, make_pdf, small_pack

    committee = "Children's Services Overview and Scrutiny Committee"
    papers = tmp_path / "papers"
    papers.mkdir()
    make_pdf(
        papers / "minutes.pdf",
        [
            PageSpec(
                [
                    f"Minutes of the Meeting of the {committee} held on 10 January 2023",
                    "15. School Transport",
                    "RESOLVED: 1. That a report on the School Transport Review be brought back to the Committee.",
                    "16. Library Hours",
                    "RESOLVED: 1. That the Committee receive a report on library opening hours at a future meeting.",
                ],
                footer="Page 3",
            )
        ],
    )
    small_pack(
        papers / "march.pdf",
        committee,
        "14 March 2023",
        "School Transport Review",
        ["The review of school transport is complete and its findings are set out below."],
    )
    settings = indexed_settings(tmp_path / "data", [papers], fake_embedder)
    service = QAService(settings, embedder=fake_embedder)
    transport = service.decisions("school transport")
    assert [(d.status, d.follow_ups[0].seen) for d in transport] == [("requested", True)]
    follow = transport[0].follow_ups[0]
    assert follow.meeting_date == dt.date(2023, 3, 14) and follow.item is not None and follow.item.number == "5"
    assert follow.explanation == "on the agenda of 14 March 2023 as item 5, “School Transport Review”"
    library = service.decisions("library opening hours")
    assert [(d.status, d.follow_ups[0].seen) for d in library] == [("requested", False)]
    assert library[0].follow_ups[0].explanation == (
        "not seen in the papers indexed here, up to the meeting of 14 March 2023"
    )
    # And the answer tells what happened next with the decision.
    answer = service.ask("What did we decide about the school transport review?")
    assert "(on the agenda of 14 March 2023 as item 5, “School Transport Review”)" in answer.answer


def test_a_decision_carried_over_two_meetings_is_one_timeline_with_what_happened_next(tmp_path, fake_embedder):
    """Deferred in January, back on March's agenda, decided in March (whose minutes are printed in June's pack): the
    timeline holds both, oldest first, the deferral linked to the March item that shows it came back."""
    from qa.service import QAService

    from pdfs import minutes_pack

    committee = "Children's Services Overview and Scrutiny Committee"
    papers = tmp_path / "papers"
    papers.mkdir()
    review = ["The review of the youth service is complete; its findings are set out below for the Committee."]
    minutes_pack(
        papers / "march.pdf",
        committee,
        "14 March 2023",
        "10 January 2023",
        ["14. Youth Service Review", "The item was deferred to the next meeting of the Committee."],
        [("5", "Youth Service Review", review)],
    )
    minutes_pack(
        papers / "june.pdf",
        committee,
        "13 June 2023",
        "14 March 2023",
        [
            "5. Youth Service Review",
            "Members welcomed the review.",
            "RESOLVED:",
            "1. That the Committee note the findings of the Youth Service Review.",
            "2. That the Committee support the proposed youth hubs.",
        ],
        [("5", "School Places Update", ["Places for September are set out below for the Committee."])],
    )
    settings = indexed_settings(tmp_path / "data", [papers], fake_embedder)
    service = QAService(settings, embedder=fake_embedder)
    timeline = service.decisions("youth service review")
    assert [(d.meeting_date, d.status, d.page_label) for d in timeline] == [
        (dt.date(2023, 1, 10), "deferred", "3"),
        (dt.date(2023, 3, 14), "noted", "3"),
        (dt.date(2023, 3, 14), "resolved", "3"),
    ]
    came_back = timeline[0].follow_ups[0]
    assert came_back.seen and came_back.meeting_date == dt.date(2023, 3, 14)
    assert came_back.explanation == "on the agenda of 14 March 2023 as item 5, “Youth Service Review”"
    assert [d.document.file for d in timeline] == ["march.pdf", "june.pdf", "june.pdf"]
    # The meetings know which minutes are in the papers: June's are not.
    assert [(m.date, m.minutes_in_papers) for m in service.meetings()] == [
        (dt.date(2023, 1, 10), True),
        (dt.date(2023, 3, 14), True),
        (dt.date(2023, 6, 13), False),
    ]
    answer = service.ask("What did we decide about the youth service review?")
    assert [(t.meeting_date, t.status) for t in answer.timeline] == [
        (dt.date(2023, 1, 10), "deferred"),
        (dt.date(2023, 3, 14), "noted"),
        (dt.date(2023, 3, 14), "resolved"),
    ]
    assert "(on the agenda of 14 March 2023 as item 5, “Youth Service Review”)" in answer.answer
    assert timeline[0].text == "The item was deferred to the next meeting of the Committee."


def test_the_minutes_index_finds_a_meetings_decisions_by_day_in_index_order():
    """MinutesIndex looks meetings up by day (a question's cost does not grow with the archive's other meetings):
    the same decision passages, in the same order, as a walk over all of them."""
    days = [dt.date(2023, 1, 10), dt.date(2023, 3, 14), dt.date(2022, 12, 1)]
    passages = [
        Passage(
            id=f"m{n % 2}-{n:04d}",
            doc_id=f"m{n % 2}",
            file=f"m{n % 2}.pdf",
            text=f"RESOLVED: point {n}.",
            pages=[PageSpan(offset=0, page=1)],
            part="minutes",
            minute=str(n),
            meeting_date=days[n % 3],
            decision=n != 4,
            boilerplate=n == 5,
        )
        for n in range(10)
    ]
    index = MinutesIndex(passages)
    walked = [p.id for p in passages if p.meeting_date in {days[0], days[2]} and p.decision and not p.boilerplate]
    assert [p.id for p in index.at_meetings([days[2], days[0], days[2]])] == walked
    assert index.latest() == days[1]
    assert index.at_meetings([]) == index.at_meetings([dt.date(1999, 1, 1)]) == []
    # Within a question's filters: the newest meeting of the allowed passages, and only their decisions.
    allowed = {p.id for p in passages if p.doc_id == "m0" and p.meeting_date != days[1]}
    assert index.latest(allowed) == days[0]
    assert {p.id for p in index.at_meetings(days, allowed)} == allowed
    assert index.latest(set()) is None
