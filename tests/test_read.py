"""Reading pages: printed labels, footers kept out of the text, text files, missing text layers."""

import pytest

from core.errors import ReadError
from indexer.read import page_ranges, read_document

from pdfs import PageSpec, make_pdf


def test_printed_labels_come_from_footers_not_the_page_index(sample_pack_pdf):
    source = read_document(sample_pack_pdf)
    labels = [(page.index, page.label) for page in source.pages]
    assert labels[:4] == [(1, None), (2, None), (3, "13"), (4, "14")]
    assert labels[-1] == (8, "18")


def test_footers_and_running_headers_do_not_leak_into_text(tmp_path):
    pages = [
        PageSpec(
            [f"Body text on sheet {i} about school places."],
            footer=f"Page {i + 20}",
            header="Children's Services O&S - Draft",
        )
        for i in range(1, 6)
    ]
    source = read_document(make_pdf(tmp_path / "r.pdf", pages))
    for page in source.pages:
        assert page.lines == [f"Body text on sheet {page.index} about school places."]
        assert page.label == str(page.index + 20)


def test_pdf_page_labels_are_used_when_there_is_no_footer(tmp_path):
    pages = [PageSpec(["Cover"]), PageSpec(["Contents"]), PageSpec(["Chapter one text."]), PageSpec(["More text."])]
    labels = [
        {"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
        {"startpage": 2, "prefix": "", "style": "D", "firstpagenum": 1},
    ]
    source = read_document(make_pdf(tmp_path / "l.pdf", pages, page_labels=labels))
    assert [p.label for p in source.pages] == ["i", "ii", "1", "2"]


def test_the_printed_page_number_wins_over_the_pdfs_own_labels(tmp_path):
    """A pack cut from a longer run keeps PDF labels 1, 2, 3 while its pages print 13, 14, 15: members quote
    the printed number, so the footer decides; the PDF's label serves only a page that prints none."""
    pages = [
        PageSpec(["Agenda"]),
        PageSpec(["Minutes text."], footer="Page 13"),
        PageSpec(["Report text."], footer="Page 14"),
    ]
    labels = [{"startpage": 0, "prefix": "", "style": "D", "firstpagenum": 1}]
    source = read_document(make_pdf(tmp_path / "cut.pdf", pages, page_labels=labels))
    assert [p.label for p in source.pages] == ["1", "13", "14"]


def test_blank_pages_are_marked_and_carry_no_text(sample_pack_pdf):
    source = read_document(sample_pack_pdf)
    assert source.pages[-1].blank and source.pages[-1].lines == []


def test_pages_without_text_layer_are_reported_by_number(tmp_path):
    pages = [PageSpec(["Report text."], footer="Page 1")] + [PageSpec(image_only=True) for _ in range(3)]
    pages += [PageSpec(["Closing text."], footer="Page 5"), PageSpec(image_only=True)]
    source = read_document(make_pdf(tmp_path / "scan.pdf", pages))
    assert source.no_text_pages == [2, 3, 4, 6]
    assert page_ranges(source.no_text_pages) == "2-4, 6"


def test_a_fully_scanned_pdf_fails_with_the_pages_named(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [PageSpec(image_only=True) for _ in range(3)])
    with pytest.raises(ReadError, match="no text layer on pages 1-3"):
        read_document(path)


def test_text_and_markdown_files_split_pages_on_form_feeds(tmp_path):
    path = tmp_path / "minutes.md"
    path.write_text("# Minutes\nFirst page text.\nPage 1\n\f## Second\nSecond page text.\nPage 2\n\f")
    source = read_document(path)
    assert [p.lines for p in source.pages] == [["# Minutes", "First page text."], ["## Second", "Second page text."]]
    assert [p.label for p in source.pages] == ["1", "2"]
    plain = tmp_path / "notes.txt"
    plain.write_text("One page only, no footer.")
    assert [p.label for p in read_document(plain).pages] == [None]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.pdf", b"", "empty file"),
        ("fake.pdf", b"<html><body>not a pdf</body></html>", "not a PDF"),
        ("binary.txt", b"\x00\x01\x02 text", "not a text file"),
        ("sheet.xlsx", b"PK\x03\x04 zip", "unsupported file type '.xlsx'"),
        ("garbage.pdf", b"%PDF-1.7\n" + b"\x8f\x13garbage" * 50, "PDF"),
    ],
)
def test_bad_files_raise_a_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError) as error:
        read_document(path)
    assert reason in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(ReadError, match="file not found"):
        read_document(tmp_path / "nowhere.pdf")


def test_a_page_without_text_is_kept_as_a_blank_page_in_its_place(tmp_path):
    pages = [
        PageSpec(["Report text."], footer="Page 1"),
        PageSpec(image_only=True),
        PageSpec(["More."], footer="Page 3"),
    ]
    source = read_document(make_pdf(tmp_path / "scan.pdf", pages))
    scanned = source.pages[1]
    assert (scanned.index, scanned.label, scanned.lines, scanned.blank, scanned.has_text) == (2, None, [], True, False)
    assert [p.has_text for p in source.pages] == [True, False, True]


def test_a_page_number_printed_at_the_top_is_the_label_and_the_text_under_it_is_kept(tmp_path):
    source = read_document(make_pdf(tmp_path / "top.pdf", [PageSpec(["First line.", "Second line."], header="Page 7")]))
    assert source.pages[0].label == "7" and source.pages[0].lines == ["First line.", "Second line."]


def test_a_bare_number_is_a_label_only_in_the_footer(tmp_path):
    source = read_document(make_pdf(tmp_path / "bare.pdf", [PageSpec(["Places offered", "42"], footer="12")]))
    assert source.pages[0].label == "12" and source.pages[0].lines == ["Places offered", "42"]


@pytest.mark.parametrize("pages, repeated, removed", [(5, 3, True), (10, 3, False), (10, 4, True)])
def test_a_header_is_running_when_it_repeats_on_two_fifths_of_the_pages_and_at_least_three(
    tmp_path, pages, repeated, removed
):
    specs = [
        PageSpec(
            [f"Body of sheet {i}."], footer=f"Page {i}", header="Draft for consultation" if i <= repeated else None
        )
        for i in range(1, pages + 1)
    ]
    source = read_document(make_pdf(tmp_path / "h.pdf", specs))
    assert ("Draft for consultation" in source.pages[0].lines) is not removed


def test_a_line_set_in_several_fonts_reads_as_one_line(tmp_path):
    """Bold or italic words make several spans of one line; the text is theirs, joined as printed."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_htmlbox(pymupdf.Rect(50, 100, 550, 140), "The budget was <b>£4.2m</b> in total this year.")
    doc.save(tmp_path / "fonts.pdf")
    assert read_document(tmp_path / "fonts.pdf").pages[0].lines == ["The budget was £4.2m in total this year."]


def test_a_scanned_page_keeps_the_pdfs_own_label(tmp_path):
    pages = [PageSpec(["Cover text."]), PageSpec(image_only=True), PageSpec(["Text."])]
    labels = [{"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1}]
    source = read_document(make_pdf(tmp_path / "l.pdf", pages, page_labels=labels))
    assert [p.label for p in source.pages] == ["i", "ii", "iii"] and source.no_text_pages == [2]
