"""The decision register's entries: a RESOLVED block split into its numbered points, each with its own status."""

from __future__ import annotations

import datetime as dt

import pytest

from core.records import PageSpan, Passage
from indexer.register import point_status, register_entries

from conftest import indexed_settings, papers_with_pack

MEETING = dt.date(2023, 1, 10)


def minutes(text: str, status: str | None = "resolved", minute: str = "13", pages=((0, 4, "14"),)) -> Passage:
    return Passage(
        id=f"doc-{minute}",
        doc_id="doc",
        file="pack.pdf",
        text=text,
        pages=[PageSpan(offset=o, page=p, label=label) for o, p, label in pages],
        section=f"Minute {minute}: Grangewaters Outdoor Education Centre",
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


def test_only_minutes_with_a_decision_make_entries():
    report = minutes("RESOLVED: That the report be noted.").model_copy(update={"part": "report"})
    discussion = minutes("Members discussed the centre.", status=None)
    assert register_entries([report, discussion]) == []


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
