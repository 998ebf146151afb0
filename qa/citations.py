"""Citations: a verbatim quote of a passage, the page it is printed on, and a link that opens that page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.lexicon import long_date
from core.records import (
    Citation,
    Decision,
    DecisionStatus,
    DocumentRecord,
    DocumentRef,
    Passage,
    Printed,
    RegisterEntry,
)
from core.text import strip_span

# Fewer words than this before a page break inside a quote are a heading left at the foot of the page.
_HEADING_WORDS = 6


def page_url(url_base: str, doc_id: str, page: int) -> str:
    """`<url_base>/documents/<id>/file#page=N`: the PDF opened at a 1-based page."""
    return f"{url_base.rstrip('/')}/documents/{doc_id}/file#page={page}"


def quote_bounds(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """passage.text[start:end] trimmed, and moved off a page break that only a heading or a few words cross.

    A quote names the page it starts on, so a heading left at the foot of one page moves the quote to the next;
    a few words run on past the last break (often the next page's heading) are cut.
    """
    start, end = strip_span(passage.text, start, end)
    breaks = [s.offset for s in passage.pages if start < s.offset < end]
    if breaks and len(passage.text[start : breaks[0]].split()) < _HEADING_WORDS:
        # Only a heading sits before the page break: the quote, and the link, belong to the next page.
        start, end = strip_span(passage.text, breaks[0], end)
        breaks = breaks[1:]
    if breaks and len(passage.text[breaks[-1] : end].split()) < _HEADING_WORDS + 2:
        # Only a few words run on past the last page break (often the next page's heading): end at the break.
        start, end = strip_span(passage.text, start, breaks[-1])
    return start, end


class CitationBuilder:
    """Makes citations and decision records for one index generation: it holds that generation's documents
    (for each citation's document reference and the words describing where a passage comes from) and the
    base of citation links (`answer.url_base`)."""

    def __init__(self, documents: Mapping[str, DocumentRecord], url_base: str = ""):
        self.documents = documents
        self.url_base = url_base

    def document(self, doc_id: str) -> DocumentRef:
        doc = self.documents[doc_id]
        return DocumentRef(
            id=doc.id,
            file=doc.file,
            title=doc.title,
            committee=doc.committee,
            meeting_date=doc.meeting_date,
            pages=doc.pages,
        )

    def url(self, doc_id: str, page: int) -> str:
        return page_url(self.url_base, doc_id, page)

    def cite(self, n: int, passage: Passage, start: int, end: int) -> Citation:
        """Citation [n] of passage.text[start:end]: verbatim, with the page the quote starts on."""
        start, end = quote_bounds(passage, start, end)
        return Citation(
            n=n,
            quote=" ".join(passage.text[start:end].split()),
            section_words=section_words(passage.section) or None,
            restricted=passage.restricted,
            **self._place(passage, start),
        )

    def decision(self, passage: Passage, start: int, end: int, status: DecisionStatus) -> Decision:
        """The decision recorded in passage.text[start:end], on the page where it starts."""
        return Decision(
            committee=passage.committee,
            minute=passage.minute,
            status=status,
            text=" ".join(passage.text[start:end].split()),
            **self._place(passage, start),
        )

    def entry(self, entry: RegisterEntry, section: str | None) -> Decision:
        """A register entry as a citable decision (`section`: its minute's section path, for `section_words`)."""
        return Decision(
            meeting_date=entry.meeting_date,
            committee=entry.committee,
            minute=entry.minute,
            status=entry.status,
            text=entry.text,
            page=entry.page,
            page_label=entry.page_label,
            section=section,
            point=entry.point,
            preamble=entry.preamble,
            url=self.url(entry.doc_id, entry.page),
            document=self.document(entry.doc_id),
            passage_id=entry.passage_id,
        )

    def entry_printed(self, entry: RegisterEntry) -> Printed:
        """Where else a register entry is printed (the same minutes in another document)."""
        return Printed(
            page=entry.page,
            page_label=entry.page_label,
            url=self.url(entry.doc_id, entry.page),
            document=self.document(entry.doc_id),
            passage_id=entry.passage_id,
        )

    def printed(self, passage: Passage, start: int) -> Printed:
        """Where else passage.text[start:] is printed, for a citation or decision that quotes a twin of it."""
        place = self._place(passage, start)
        return Printed(**{k: place[k] for k in ("page", "page_label", "url", "document", "passage_id")})

    def _place(self, passage: Passage, start: int) -> dict[str, Any]:
        """Where passage.text[start:] is printed, as a citation and a decision both give it."""
        span = passage.page_at(start)
        return {
            "page": span.page,
            "page_label": span.label,
            "section": passage.section,
            "meeting_date": passage.meeting_date,
            "url": self.url(passage.doc_id, span.page),
            "document": self.document(passage.doc_id),
            "passage_id": passage.id,
        }

    def describe(self, passage: Passage) -> str:
        """Where a passage comes from, in words a member would use: "the report “Foster Carer Recruitment” (item 8)
        for the meeting of 12 October 2021", "the minutes of the meeting of 13 July 2021 (minute 6, “SEND ...”)"."""
        where = section_words(passage.section)
        if passage.part == "minutes" and passage.meeting_date:
            return f"the minutes of the meeting of {long_date(passage.meeting_date)}{f' ({where})' if where else ''}"
        if passage.doc_type == "agenda_pack" and passage.pack_date:
            meeting = f"the meeting of {long_date(passage.pack_date)}"
            return f"{where} for {meeting}" if where else f"the papers for {meeting}"
        title = self.documents[passage.doc_id].title
        return f"{title} ({where})" if where else title

    def when(self, passage: Passage) -> str:
        """The date a passage speaks for, or its report's period or title."""
        if passage.dated:
            return long_date(passage.dated)
        doc = self.documents[passage.doc_id]
        return doc.period or doc.title


_ITEM = re.compile(r"^Item (\d+)(?::\s*(.+))?$")
_MINUTE = re.compile(r"^Minute (\S+?)(?::\s*(.+))?$")
_APPENDIX = re.compile(r"^Appendix (\S+?)(?::\s*(.+))?$")


def section_words(section: str | None) -> str:
    """A section path in words: "Item 8: Savings > 3. Issues" -> "the report “Savings” (item 8)"; "Minute 6: Title"
    -> "minute 6, “Title”"; an appendix -> "appendix 1 of the report “Savings” (item 8)"; a work programme -> "the
    work programme (item 12)"; other headings as printed. Numbered subsections are left out."""
    if not section:
        return ""
    parts = [part.strip() for part in section.split(" > ")]
    head = parts[0]
    appendix = next((m for m in (_APPENDIX.match(p) for p in parts[1:]) if m), None)
    if item := _ITEM.match(head):
        number, title = item.group(1), item.group(2)
        if title and "work programme" in title.lower():
            words = f"the work programme (item {number})"
        else:
            words = f"the report “{title}” (item {number})" if title else f"item {number}"
        return f"appendix {appendix.group(1)} of {words}" if appendix else words
    if minute := _MINUTE.match(head):
        return f"minute {minute.group(1)}, “{minute.group(2)}”" if minute.group(2) else f"minute {minute.group(1)}"
    if head.startswith("Minutes of the meeting"):
        return ""
    return head
