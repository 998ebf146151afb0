"""Typed records that flow through the pipeline: documents, passages and their page spans."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal["agenda_pack", "report"]
Part = Literal["agenda", "front_matter", "minutes", "report", "appendix", "work_programme", "document"]
DecisionStatus = Literal["resolved", "not agreed", "deferred", "agreed"]


def long_date(day: dt.date) -> str:
    """'13 July 2021', the way the papers write dates."""
    return f"{day.day} {day:%B %Y}"


class PageSpan(BaseModel):
    """From `offset` in a passage's text onward, the text is on this page."""

    offset: int
    page: int  # 1-based page index in the PDF
    label: str | None = None  # the printed page number, None on unnumbered pages


class Passage(BaseModel):
    """A citable run of text that never crosses a section boundary."""

    id: str
    doc_id: str
    file: str
    text: str  # verbatim page text (line breaks kept), so quotes from it are on the page
    pages: list[PageSpan]
    section: str | None = None  # e.g. "Minute 48: Youth Cabinet ..." or "Item 7: ... > 3. Issues ..."
    section_path: list[str] = Field(default_factory=list)
    part: Part = "document"
    minute: str | None = None
    item: str | None = None
    meeting_date: dt.date | None = None  # the meeting the text records (minutes: the minuted meeting)
    pack_date: dt.date | None = None  # the meeting the pack was published for
    committee: str | None = None
    doc_type: DocType = "report"
    decision: bool = False
    decision_status: DecisionStatus | None = None
    boilerplate: bool = False
    table: bool = False
    context: str = ""  # heading text prepended when embedding and searching, never quoted

    @property
    def page_start(self) -> int:
        return self.pages[0].page

    @property
    def page_end(self) -> int:
        return self.pages[-1].page

    @property
    def label_start(self) -> str | None:
        return self.pages[0].label

    @property
    def dated(self) -> dt.date | None:
        """The date the passage speaks for: the meeting it records, else the meeting of its pack."""
        return self.meeting_date or self.pack_date

    def page_at(self, offset: int) -> PageSpan:
        """The page that the character at `offset` of the text is printed on."""
        current = self.pages[0]
        for span in self.pages:
            if span.offset > offset:
                break
            current = span
        return current

    def page_text(self, page: int) -> str:
        """The part of the text that lies on one page."""
        for i, span in enumerate(self.pages):
            if span.page == page:
                end = self.pages[i + 1].offset if i + 1 < len(self.pages) else len(self.text)
                return self.text[span.offset : end]
        return ""


class DocumentRecord(BaseModel):
    """One indexed file, as the manifest and `qa docs` describe it."""

    id: str
    file: str
    path: str
    sha256: str
    title: str
    doc_type: DocType
    committee: str | None = None
    meeting_date: dt.date | None = None
    period: str | None = None
    pages: int
    passages: int
    no_text_pages: list[int] = Field(default_factory=list)
    indexed_at: dt.datetime


class SearchFilters(BaseModel):
    """Hard limits on what retrieval may return; dates are of the meeting a passage records."""

    model_config = ConfigDict(extra="forbid")

    since: dt.date | None = None
    until: dt.date | None = None
    committee: str | None = None
    doc_type: DocType | None = None
    document: str | None = None  # a document id or file name


class DocumentRef(BaseModel):
    """The document a citation comes from, as the contract names it."""

    id: str
    file: str
    title: str
    committee: str | None = None
    meeting_date: dt.date | None = None  # the meeting the pack was published for


class _OnAPage:
    """For records with `page` and `page_label` fields."""

    @property
    def page_words(self) -> str:
        """'page 9' by the printed number, or 'PDF page 3' on a page without one."""
        return f"page {self.page_label}" if self.page_label else f"PDF page {self.page}"


class Citation(_OnAPage, BaseModel):
    """One verbatim quote and exactly where it is printed."""

    n: int
    quote: str
    page: int
    page_label: str | None = None
    section: str | None = None
    meeting_date: dt.date | None = None  # the meeting the quoted text records
    url: str
    document: DocumentRef
    passage_id: str


class Timings(BaseModel):
    """Milliseconds spent finding passages, composing the answer, and in all."""

    retrieve: float = 0.0
    answer: float = 0.0
    total: float = 0.0


class Answer(BaseModel):
    """A short answer whose every claim cites a quote, or an abstention with passages to see."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    see_also: list[Citation] = Field(default_factory=list)
    answerer: Literal["extractive", "llm"] = "extractive"
    evidence: float = 0.0  # the retrieval strength the abstention threshold is compared against
    timings_ms: Timings = Field(default_factory=Timings)


class Decision(_OnAPage, BaseModel):
    """What a meeting decided on a topic, as recorded in its minutes."""

    meeting_date: dt.date | None
    committee: str | None
    minute: str | None
    status: DecisionStatus
    text: str
    page: int
    page_label: str | None
    section: str | None = None
    url: str
    document: DocumentRef
    passage_id: str
