"""Text-layer faults of real PDFs and text files, each beside a control without the fault (issue 11).

Every input is small and invented after a public bug report of a PDF text-extraction tool: the reader must
give the same page text, label and quote for the fault as for its control.
"""

from __future__ import annotations

import datetime as dt

import pymupdf
import pytest

from core.errors import ReadError
from core.records import SearchFilters
from core.text import fold_quotes, join_broken_words, reading_form, same_text
from eval.faithful import quote_on_page
from indexer.read import read_document
from qa.service import QAService

from conftest import assert_quote_on_page, indexed_settings, papers_with_pack
from pdfs import PageSpec, make_pdf, small_pack

DEFICIT = "The finance officer confirmed a deficit of £412,000 in the fostering budget for 2023/24."
# As many Word exports store it: U+FB01 "fi" and U+FB03 "ffi" ligature characters in the text layer.
DEFICIT_LIGATURES = DEFICIT.replace("ffi", "\ufb03").replace("fi", "\ufb01")


@pytest.mark.parametrize("stored", [DEFICIT_LIGATURES, DEFICIT], ids=["ligatures", "control"])
def test_ligatures_read_as_the_letters_they_join(tmp_path, stored):
    assert "\ufb01" in DEFICIT_LIGATURES and "\ufb03" in DEFICIT_LIGATURES
    pdf = make_pdf(tmp_path / "p.pdf", [PageSpec(["Fostering budget", stored], footer="Page 7", unicode=True)])
    page = read_document(pdf).pages[0]
    assert page.lines == ["Fostering budget", DEFICIT]
    assert page.label == "7"
    assert quote_on_page("confirmed a deficit of £412,000 in the fostering budget", pdf, 1)


def test_soft_hyphens_odd_spaces_and_zero_width_marks_read_as_the_eye_sees_them():
    stored = "Members\u00a0noted the £2.1m over\u00adspend\u200b and the\u2009next\u202fsteps \u2010 agreed."
    assert reading_form(stored) == "Members noted the £2.1m overspend and the next steps - agreed."
    assert fold_quotes("Children\u2019s \u201cLocal Offer\u201d") == 'Children\'s "Local Offer"'


def _landscape_programme(rows: list[str], footer: str) -> list[str]:
    return ["Work Programme 2023/24", "Topic   Lead Officer   Meeting", *rows, footer]


@pytest.mark.parametrize("rotate", [90, 270, None], ids=["rotate-90", "rotate-270", "landscape-control"])
def test_a_landscape_page_turned_by_rotate_has_its_footer_read_as_the_label(tmp_path, rotate):
    """Landscape pages stored as portrait pages with /Rotate, their text drawn upright on screen."""
    rows = [
        ["School Places Update   Ann Other   January 2024", "Fostering Recruitment   Sam Person   March 2024"],
        ["SEND Inspection Outcome   Jo Bloggs   June 2024", "Youth Offending Service   Al Smith   March 2024"],
    ]
    if rotate is None:
        doc = pymupdf.open()
        for n, page_rows in enumerate(rows, start=17):
            page = doc.new_page(width=842, height=595)
            for i, line in enumerate(["Work Programme 2023/24", *page_rows]):
                page.insert_text((50, 60 + 12 * i), line, fontsize=10)
            page.insert_text((394, 555), f"Page {n}", fontsize=9)
        pdf = tmp_path / "landscape.pdf"
        doc.save(pdf)
    else:
        specs = [
            PageSpec(["Work Programme 2023/24", *page_rows], footer=f"Page {n}", rotate=rotate)
            for n, page_rows in enumerate(rows, start=17)
        ]
        pdf = make_pdf(tmp_path / "rotated.pdf", specs)
        assert [page.rotation for page in pymupdf.open(pdf)] == [rotate, rotate]
    pages = read_document(pdf).pages
    assert [page.label for page in pages] == ["17", "18"]
    assert pages[1].lines == ["Work Programme 2023/24", *rows[1]]
    assert not any("Page" in line for page in pages for line in page.lines)
    assert quote_on_page("Youth Offending Service Al Smith March 2024", pdf, 2)


STAFF_ROWS = [("Social workers", 48), ("Team managers", 9), ("Agency staff", 12)]
VACANCIES = [7, 5, 2, 4]


@pytest.mark.parametrize("layout", ["one-line", "cells", "control"])
def test_a_table_row_near_the_foot_of_the_page_is_body_text_not_a_footer(tmp_path, layout):
    """The last row of a staffing table at y=761 of 842 pt, above the real footer, on each of four pages."""
    specs = []
    for n, vacancies in enumerate(VACANCIES):
        foot_y = 761 if layout != "control" else 500
        placed = [(50, foot_y - 12 * (3 - i), f"{name}   {count + n}") for i, (name, count) in enumerate(STAFF_ROWS)]
        if layout == "cells":  # each cell drawn on its own, as Word and Excel export tables
            placed = [(50, foot_y - 12 * (3 - i), name) for i, (name, _) in enumerate(STAFF_ROWS)]
            placed += [(400, foot_y - 12 * (3 - i), str(count + n)) for i, (_, count) in enumerate(STAFF_ROWS)]
            placed += [(50, foot_y, "Vacancies"), (400, foot_y, str(vacancies))]
        else:
            placed.append((50, foot_y, f"Vacancies   {vacancies}"))
        specs.append(PageSpec([f"Staffing in team {n + 1}", "Post   Number"], placed=placed, footer=f"Page {21 + n}"))
    pages = read_document(make_pdf(tmp_path / "staffing.pdf", specs)).pages
    assert [page.label for page in pages] == ["21", "22", "23", "24"]
    for page, vacancies in zip(pages, VACANCIES, strict=True):
        text = " ".join(" ".join(page.lines).split())
        assert "Vacancies" in text and str(vacancies) in text.split(), page.lines
        assert "Page" not in text


def test_a_bare_page_number_keeps_the_sequence_when_a_table_cell_sits_in_the_footer_zone(tmp_path):
    specs = [
        PageSpec(
            [f"Placements report, sheet {n}"],
            placed=[(50, 761, "Vacancies"), (400, 761, str(vacancies)), (290, 810, str(21 + n))],
        )
        for n, vacancies in enumerate(VACANCIES)
    ]
    pages = read_document(make_pdf(tmp_path / "bare.pdf", specs)).pages
    assert [page.label for page in pages] == ["21", "22", "23", "24"]
    assert all(str(v) in page.lines for page, v in zip(pages, VACANCIES, strict=True))


MINUTES_PAGES = [
    "Minutes of the Meeting held on 10 January 2023\r\n48. Youth Cabinet\r\nRESOLVED: That the report be noted.\r\n",
    "49. Fostering\r\nThe Committee welcomed the report.\r\n",
]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-8", b""),
        ("cp1252", b""),
    ],
)
def test_text_files_in_any_common_encoding_read_alike(tmp_path, encoding, bom):
    """Minutes saved as Windows "Unicode" (UTF-16 LE, BOM FF FE, CRLF, a form feed between pages) and kin."""
    text = "\f".join(MINUTES_PAGES).replace("Fostering", "Fostering £2,000 – café")
    path = tmp_path / "minutes.txt"
    path.write_bytes(bom + text.encode(encoding))
    pages = read_document(path).pages
    assert [page.lines for page in pages] == [
        ["Minutes of the Meeting held on 10 January 2023", "48. Youth Cabinet", "RESOLVED: That the report be noted."],
        ["49. Fostering £2,000 – café", "The Committee welcomed the report."],
    ]


def test_a_text_file_with_a_broken_encoding_mark_names_the_encoding(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(b"\xff\xfe" + "Minutes".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate
    with pytest.raises(ReadError, match="not valid UTF-16-LE text"):
        read_document(path)


LAST_WORDS = ["re-", "offending among young people fell, and restora-", "tive justice was offered to all victims."]


def test_words_hyphenated_over_a_line_break_are_joined(tmp_path):
    lines = ["The panel reported that the risk of", *LAST_WORDS, "The well-", "being survey follows."]
    pdf = make_pdf(tmp_path / "yos.pdf", [PageSpec(lines, footer="Page 4")])
    page = read_document(pdf).pages[0]
    text = " ".join(page.lines)
    assert "risk of re-offending among young people fell, and restorative justice was offered" in text
    assert "The well-being survey follows." in text
    assert quote_on_page("the risk of re-offending among young people fell, and restorative justice", pdf, 1)
    assert not quote_on_page("the risk of re-offending among old people fell", pdf, 1)


@pytest.mark.parametrize(
    ("vocabulary", "expected"),
    [
        (set(), "restorative"),  # "restora" is no word of the document: a broken word
        ({"restorative"}, "restorative"),
        ({"restora-tive"}, "restora-tive"),  # the document spells it with the hyphen elsewhere
    ],
)
def test_a_broken_word_loses_its_hyphen_only_when_it_is_no_compound(vocabulary, expected):
    assert join_broken_words(["of restora-", "tive justice"], vocabulary) == [f"of {expected}", "justice"]
    assert join_broken_words(["a well-", "being survey"], {"well"}) == ["a well-being", "survey"]
    assert join_broken_words(["Item 5 -", "deferred"], set()) == ["Item 5 -", "deferred"]


# --- The same faults through the whole pipeline: index, ask, cite. ---

COMMITTEE = "Children's Services Overview and Scrutiny Committee"
FOSTERING = [
    "1.1 This report sets out the position of the fostering budget at the end of the second quarter.",
    DEFICIT_LIGATURES,
    "1.2 Recruitment of in-house foster carers continues, with eleven households approved since April.",
]


@pytest.fixture(scope="module")
def curly_papers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("curly")
    # One pack types the committee with U+2019, the other with the keyboard apostrophe.
    small_pack(
        folder / "march.pdf",
        COMMITTEE.replace("'", "\u2019"),
        "14 March 2023",
        "Fostering Budget",
        FOSTERING,
        unicode=True,
    )
    small_pack(
        folder / "june.pdf",
        COMMITTEE,
        "13 June 2023",
        "Youth Offending Service",
        ["1.1 The risk of re-offending among young people fell by a fifth over the year to March."],
    )
    return folder


@pytest.fixture(scope="module")
def curly_index(tmp_path_factory, curly_papers, fake_embedder):
    return indexed_settings(tmp_path_factory.mktemp("curly-data"), [curly_papers], fake_embedder)


def test_one_committee_however_its_apostrophe_is_typed(curly_index, fake_embedder):
    service = QAService(curly_index, embedder=fake_embedder)
    documents = service.snapshot().manifest.documents
    assert {doc.committee for doc in documents} == {COMMITTEE}
    for typed in (COMMITTEE, COMMITTEE.replace("'", "\u2019"), COMMITTEE.lower()):
        answer = service.ask("What deficit did the finance officer confirm?", SearchFilters(committee=typed))
        assert not answer.abstained, typed
        assert answer.citations[0].document.file == "march.pdf"
        assert "£412,000" in answer.citations[0].quote


@pytest.mark.parametrize("ligatures", [True, False], ids=["ligatures", "control"])
def test_a_pack_with_ligatures_answers_on_the_page_that_states_the_fact(tmp_path, embedder, ligatures):
    body = FOSTERING if ligatures else [DEFICIT if line == DEFICIT_LIGATURES else line for line in FOSTERING]
    pdf = small_pack(
        tmp_path / "papers" / "pack.pdf", COMMITTEE, "14 March 2023", "Fostering Budget", body, unicode=True
    )
    service = QAService(indexed_settings(tmp_path / "data", [pdf.parent], embedder), embedder=embedder)
    answer = service.ask("What deficit did the finance officer confirm for the fostering budget?")
    assert not answer.abstained
    first = answer.citations[0]
    assert (first.page, first.page_label) == (2, "5")
    assert first.section == "Item 5: Fostering Budget > 1. Introduction and Background"
    assert first.meeting_date == dt.date(2023, 3, 14)
    assert "deficit of £412,000" in first.quote
    assert_quote_on_page(first, pdf)


@pytest.fixture(scope="module")
def minutes_twice(tmp_path_factory, sample_pack_pdf, fake_embedder):
    """The sample pack, whose minutes of 10 January 2023 are printed for approval, and the same minutes
    published again on their own as "printed minutes" (other bytes, other page breaks, no agenda)."""
    folder = papers_with_pack(tmp_path_factory.mktemp("twice"), sample_pack_pdf)
    pages = read_document(sample_pack_pdf).pages
    minutes = [line for page in pages[2:4] for line in page.lines]
    half = len(minutes) // 2 + 3
    make_pdf(
        folder / "printed-minutes.pdf",
        [PageSpec(minutes[:half], footer="Page 1"), PageSpec(minutes[half:], footer="Page 2")],
    )
    settings = indexed_settings(tmp_path_factory.mktemp("twice-data"), [folder], fake_embedder)
    return QAService(settings, embedder=fake_embedder)


def test_printed_minutes_are_minutes_of_the_meeting_they_record(minutes_twice):
    docs = {doc.file: doc for doc in minutes_twice.snapshot().manifest.documents}
    printed = docs["printed-minutes.pdf"]
    assert printed.doc_type == "minutes"
    assert printed.meeting_date == dt.date(2023, 1, 10)
    assert printed.committee == COMMITTEE
    assert docs["pack.pdf"].doc_type == "agenda_pack"


def test_the_same_minutes_in_two_files_are_quoted_and_counted_once(minutes_twice):
    decisions = minutes_twice.decisions("Grangewaters")
    texts = [d.text for d in decisions]
    assert sum("agree to the proposed lease extension" in t for t in texts) == 1
    assert sum("Cabinet reviews the decision to close the boathouse" in t for t in texts) == 1
    lease = next(d for d in decisions if "lease extension" in d.text)
    assert {d.document.file for d in [lease, *lease.also_printed]} == {"pack.pdf", "printed-minutes.pdf"}
    assert all(d.meeting_date == dt.date(2023, 1, 10) for d in decisions)

    answer = minutes_twice.ask("What did we decide about Grangewaters?")
    quotes = [c.quote for c in answer.citations]
    for i, a in enumerate(quotes):
        assert not any(same_text(a, b) for b in quotes[i + 1 :]), quotes
    assert any(c.also_printed for c in answer.citations)
    for citation in answer.citations:
        for place in citation.also_printed:
            assert place.document.file != citation.document.file


def test_text_overprinted_to_look_bold_is_read_once(tmp_path):
    """Some generators fake bold by drawing the same line again a fraction of a point to the right."""
    doc = pymupdf.open()
    page = doc.new_page()
    for x in (50, 50.4):
        page.insert_text((x, 100), "RESOLVED: That the report be noted.", fontsize=10)
    page.insert_text((50, 120), "Members thanked the officers.", fontsize=10)
    page.insert_text((50, 200), "RESOLVED: That the report be noted.", fontsize=10)  # said again, elsewhere
    doc.save(tmp_path / "bold.pdf")
    lines = read_document(tmp_path / "bold.pdf").pages[0].lines
    assert lines == [
        "RESOLVED: That the report be noted.",
        "Members thanked the officers.",
        "RESOLVED: That the report be noted.",
    ]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Cost £5m", "cp1252"),  # short Windows-1252: too short for a detector to tell apart
        ("The café – agreed.", "cp1252"),
        ("Agenda item 5", "utf-16-le"),  # UTF-16 without a byte-order mark
        ("Agenda item 5 – £5m", "utf-16-be"),
    ],
)
def test_short_and_unmarked_text_files_decode_right(text, encoding):
    from indexer.read import decode_text

    assert decode_text(text.encode(encoding)) == text


def test_files_past_the_reading_limits_are_refused_naming_the_limit_and_the_run_goes_on(tmp_path, fake_embedder):
    """A 3,000-page file, one enormous page, a file that takes too long to read: each refused with its reason;
    text full of control characters is indexed without them; the good paper beside them is indexed."""
    from pathlib import Path

    import pymupdf

    from indexer.pipeline import Indexer
    from indexer.stores import open_snapshot

    from conftest import make_settings
    from pdfs import sample_pack

    papers = tmp_path / "papers"
    papers.mkdir()
    sample_pack(papers / "good.pdf")
    huge = pymupdf.open()
    for n in range(3000):
        huge.new_page(width=200, height=200).insert_text((20, 40), f"Page {n + 1} of the long appendix")
    huge.save(papers / "appendix-3000.pdf")
    (papers / "enormous-page.txt").write_text("The budget line repeats. " * 8000)
    (papers / "controls.txt").write_text(
        "Minutes\x07 of the\x1b[31m meeting\x00\n"
        if False
        else "Minutes\x07 of the\x1b meeting.\x0e\nThe Committee noted\x08 the report on the Wellbrook\x1f centre.\n"
    )
    settings = make_settings(tmp_path / "data", [papers])
    report = Indexer(settings, embedder=fake_embedder).run()
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert reasons == {
        "appendix-3000.pdf": "3000 pages: more than index.max_pages (2000); refused",
        "enormous-page.txt": "page 1 holds 199,999 characters of text, more than index.max_page_chars (100,000); "
        "refused",
    }
    indexed = {d.file for d in report.indexed}
    assert indexed == {"good.pdf", "controls.txt"}
    snapshot = open_snapshot(settings)
    assert snapshot is not None
    controls = " ".join(p.text for p in snapshot.passages.values() if p.file == "controls.txt")
    assert "Wellbrook" in controls and not any(ord(ch) < 32 and ch not in "\n\t" for ch in controls)
    # Reading slower than the limit allows (here a limit no file can meet) refuses the file and names the page.
    settings.index.max_read_seconds = 1e-9
    slow = Indexer(settings, embedder=fake_embedder).run([papers / "good.pdf"], rebuild=True)
    assert [f.reason for f in slow.failed] == [
        "reading took more than index.max_read_seconds (1e-09 s), at page 1 of 8; refused"
    ]


@pytest.mark.slow  # lays out a page until the memory limit stops it, and inflates a stream until time runs out
def test_pdf_bombs_are_refused_within_the_memory_and_time_limits_and_the_run_goes_on(tmp_path, fake_embedder):
    """Each file is read in a child process held to index.max_read_mib and index.max_read_seconds: a 100 KB page
    that takes 3 GB to lay out, a stream that inflates to 256 MiB of operators, graphics states nested 200,000
    deep. Each is refused naming its cause, the indexing process itself never grows by the bomb, and the good
    pack beside them is indexed."""
    import resource
    import time
    from pathlib import Path

    from indexer.pipeline import Indexer
    from indexer.stores import open_snapshot

    from conftest import make_settings
    from pdfs import inflating_pdf, nested_pdf, sample_pack, text_bomb_pdf

    papers = tmp_path / "papers"
    papers.mkdir()
    sample_pack(papers / "good.pdf")
    text_bomb_pdf(papers / "a-million-lines.pdf")
    inflating_pdf(papers / "inflates.pdf")
    nested_pdf(papers / "nested.pdf")
    settings = make_settings(tmp_path / "data", [papers])
    settings.index.max_read_mib = 1024
    settings.index.max_read_seconds = 1.0
    grown_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    report = Indexer(settings, embedder=fake_embedder).run()
    took = time.monotonic() - started
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert reasons == {
        "a-million-lines.pdf": "reading needed more than index.max_read_mib (1024 MiB) of memory, at page 1; refused",
        "inflates.pdf": "reading took more than index.max_read_seconds (1 s) and was stopped; refused",
        "nested.pdf": "corrupt PDF: page 1 cannot be read (code=5: too many nested graphics states)",
    }
    assert [d.file for d in report.indexed] == ["good.pdf"]
    snapshot = open_snapshot(settings)
    assert snapshot is not None and {d.file for d in snapshot.manifest.documents} == {"good.pdf"}
    # The inflating stream is stopped at its time limit plus the grace (3 s), not read to the end (7 s).
    assert took < 20
    # The 3 GB of layout happened in the child: this process's peak is what it was, give or take 200 MB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - grown_before < 200 * 1024
