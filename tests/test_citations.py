"""Citations: which page a quote names when it runs over page breaks, and the link that opens that page.

The rules (qa/citations.py): a quote names the page it starts on; fewer than six words before the first page
break are a heading left at the foot of a page, so the quote starts on the next page; fewer than eight words run
on past the last break are cut off there.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.records import DocumentRecord, PageSpan, Passage
from qa.citations import CitationBuilder, page_url, section_words

DOC = DocumentRecord(
    id="d",
    file="f.pdf",
    path="/f.pdf",
    sha256="x",
    title="Annual report",
    doc_type="report",
    pages=30,
    passages=1,
    indexed_at=dt.datetime(2026, 1, 1),
)


def words(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def on_pages(*parts: str, first_page: int = 10) -> Passage:
    """A passage whose parts are printed on consecutive pages, joined by line breaks."""
    text, spans = "", []
    for i, part in enumerate(parts):
        spans.append(PageSpan(offset=len(text) + (1 if i else 0), page=first_page + i, label=str(first_page + i)))
        text = f"{text}\n{part}" if i else part
    return Passage(id="d-0001", doc_id="d", file="f.pdf", text=text, pages=spans)


def cite(passage: Passage, start: int = 0, end: int | None = None):
    return CitationBuilder({"d": DOC}).cite(1, passage, start, len(passage.text) if end is None else end)


@pytest.mark.parametrize("before, page", [(5, 11), (6, 10)])
def test_a_heading_of_under_six_words_before_a_break_moves_the_quote_to_the_next_page(before, page):
    passage = on_pages(words(before, "head"), words(20))
    citation = cite(passage)
    assert citation.page == page
    assert citation.quote.startswith("word0" if page == 11 else "head0")


@pytest.mark.parametrize("after, ends_with", [(7, "word19"), (8, "tail7")])
def test_under_eight_words_run_on_past_the_last_break_are_cut_there(after, ends_with):
    citation = cite(on_pages(words(20), words(after, "tail")))
    assert citation.page == 10 and citation.quote.endswith(ends_with)


def test_a_heading_before_the_first_break_and_a_few_words_past_the_second():
    passage = on_pages(words(3, "head"), words(30), words(4, "tail"))
    citation = cite(passage)
    assert citation.page == 11 and citation.quote == words(30)


def test_a_short_quote_ending_exactly_at_a_page_break_stays_whole():
    passage = on_pages(words(4, "short"), words(20))
    citation = cite(passage, 0, passage.pages[1].offset)
    assert (citation.page, citation.quote) == (10, words(4, "short"))


def test_the_link_opens_the_quoted_page_under_the_configured_base():
    passage = on_pages(words(3, "head"), words(20))
    assert cite(passage).url == "/documents/d/file#page=11"
    based = CitationBuilder({"d": DOC}, "https://papers.example.gov.uk/qa/").cite(1, passage, 0, len(passage.text))
    assert based.url == "https://papers.example.gov.uk/qa/documents/d/file#page=11"
    assert (
        page_url("https://papers.example.gov.uk", "abc", 3) == "https://papers.example.gov.uk/documents/abc/file#page=3"
    )


def test_a_passage_knows_the_text_and_the_page_of_every_character():
    passage = on_pages("first page text", "second page text", "third page text")
    assert [passage.page_text(p) for p in (10, 11, 12, 13)] == [
        "first page text\n",
        "second page text\n",
        "third page text",
        "",
    ]
    assert [passage.page_at(passage.text.index(w)).page for w in ("first", "second", "third")] == [10, 11, 12]


@pytest.mark.parametrize(
    ("section", "words"),
    [
        (
            "Item 8: Foster Carer Recruitment > 3. Issues, Options and Analysis",
            "the report “Foster Carer Recruitment” (item 8)",
        ),
        ("Item 8: Savings > Appendix 1: Consultation", "appendix 1 of the report “Savings” (item 8)"),
        ("Item 12: Work Programme", "the work programme (item 12)"),
        (
            "Minute 6: SEND Education and Residential Placements",
            "minute 6, “SEND Education and Residential Placements”",
        ),
        ("Minutes of the meeting held on 13 July 2021", ""),
        ("Background to Children's Services", "Background to Children's Services"),
        (None, ""),
    ],
)
def test_sections_are_told_in_words_not_paths(section, words):
    assert section_words(section) == words
