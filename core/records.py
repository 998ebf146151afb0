"""Typed records that flow through the pipeline and out through the API: documents, passages, citations,
answers, decisions and indexing jobs. Every field says what it holds, so `/docs` explains the contract.

Dates are ISO dates; pages are 1-based PDF page indexes, and `page_label` is the number printed on the page.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

DocType = Literal["agenda_pack", "minutes", "report"]
Part = Literal["agenda", "front_matter", "minutes", "report", "appendix", "work_programme", "document"]
DecisionStatus = Literal["resolved", "not agreed", "deferred", "agreed"]
# A decision point's status in the register (indexer.register): what was done with it.
RegisterStatus = Literal["resolved", "not agreed", "deferred", "noted", "referred", "requested", "scheduled"]
JobStatus = Literal["queued", "running", "done", "failed"]


class PageSpan(BaseModel):
    """From `offset` in a passage's text onward, the text is printed on this page."""

    offset: int = Field(description="Character offset into the passage text where this page's text begins")
    page: int = Field(description="1-based page index in the PDF")
    label: str | None = Field(None, description="The page's printed number, e.g. '9'; null on unnumbered pages")


class Passage(BaseModel):
    """A citable run of a document's text that never crosses a section boundary."""

    id: str = Field(description="Stable id: the document id and the passage's position in it")
    doc_id: str = Field(description="Id of the document the passage comes from")
    file: str = Field(description="The document's file name")
    text: str = Field(description="Verbatim page text, line breaks kept, so any quote of it is on the page")
    pages: list[PageSpan] = Field(description="Where each page's text begins within `text`, in order")
    section: str | None = Field(
        None, description="Agenda item or minute and heading, e.g. 'Minute 48: Youth Cabinet ...'"
    )
    section_path: list[str] = Field(default_factory=list, description="The section's headings, outermost first")
    part: Part = Field("document", description="Which part of a pack or report the text is in")
    minute: str | None = Field(None, description="Minute number, for text in minutes")
    item: str | None = Field(None, description="Agenda item number, for text in a report of a pack")
    meeting_date: dt.date | None = Field(
        None, description="The meeting the text records: for minutes, the minuted meeting, not the pack's"
    )
    pack_date: dt.date | None = Field(None, description="The meeting the pack was published for")
    committee: str | None = Field(None, description="The committee, as the papers name it")
    doc_type: DocType = Field("report", description="agenda_pack, minutes (printed minutes of one meeting) or report")
    decision: bool = Field(False, description="Whether the text records a decision")
    decision_status: DecisionStatus | None = Field(None, description="What the decision was, when it records one")
    boilerplate: bool = Field(False, description="Front matter every pack repeats; never searched or quoted")
    restricted: bool = Field(False, description="From an exempt paper or report: members only")
    table: bool = Field(False, description="Rows of a table with the heading above them")
    context: str = Field("", description="Heading text prepended when embedding and searching; never quoted")

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

    def header(self) -> PassageHeader:
        """What the passage is, without its text: its fields (and properties) of PassageHeader's names."""
        return PassageHeader(**{f.name: getattr(self, f.name) for f in fields(PassageHeader)})


@dataclass(frozen=True, slots=True)
class PassageHeader:
    """What a passage is, without its text or page spans: the fields that filters, search plans, the meeting index
    and starter questions read for every passage of an index generation. Every field means what the passage's field
    of the same name does (`Passage`), so code reading only these takes either. A generation keeps a header per
    passage in memory (about 0.3 KB each) and its texts on disk (indexer.passage_table)."""

    id: str
    doc_id: str
    file: str
    part: Part
    doc_type: DocType
    section: str | None
    minute: str | None
    item: str | None
    meeting_date: dt.date | None
    pack_date: dt.date | None
    committee: str | None
    decision: bool
    decision_status: DecisionStatus | None
    boilerplate: bool
    restricted: bool
    page_start: int  # 1-based PDF page the passage starts on
    label_start: str | None  # that page's printed number

    @property
    def dated(self) -> dt.date | None:
        """The date the passage speaks for: the meeting it records, else the meeting of its pack."""
        return self.meeting_date or self.pack_date


# What filters and plans read of a passage: the whole record, or its header.
PassageLike = Passage | PassageHeader


class DocumentRecord(BaseModel):
    """One indexed file, as the manifest and `qa docs` describe it."""

    id: str = Field(description="Document id: the first 16 hex digits of the file's SHA-256")
    file: str = Field(description="File name, without its folder")
    path: str = Field(description="Where the file is on the indexing machine")
    sha256: str = Field(description="SHA-256 of the file's bytes")
    title: str = Field(description="Title read from the paper itself")
    doc_type: DocType = Field(description="agenda_pack, minutes (printed minutes of one meeting) or report")
    committee: str | None = Field(None, description="The committee whose pack it is, as the papers name it")
    meeting_date: dt.date | None = Field(None, description="The meeting the pack was published for")
    period: str | None = Field(None, description="The period a standalone report covers, e.g. '2014/15'")
    pages: int = Field(description="Pages in the file")
    passages: int = Field(description="Passages indexed from it")
    no_text_pages: list[int] = Field(default_factory=list, description="Pages with no text layer (scanned?)")
    indexed_at: dt.datetime = Field(description="When it was indexed (UTC)")
    restricted: bool = Field(False, description="The whole paper is exempt: members only")
    restricted_items: list[str] = Field(
        default_factory=list, description="Agenda items of a public pack whose reports are exempt: members only"
    )
    restricted_pages: list[int] = Field(default_factory=list, description="The pages those exempt reports cover")
    access_rules: str | None = Field(
        None, description="Fingerprint of the [access] settings the restriction was worked out under"
    )


def _iso_date(value: object) -> object:
    """Only a date or "YYYY-MM-DD": pydantic would otherwise read 0 or "0" as a Unix time (1970-01-01)."""
    if isinstance(value, dt.date) or (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())):
        return value
    raise ValueError("a date as YYYY-MM-DD")


def _iso_time(value: object) -> object:
    """Only a date-time or an ISO date or time ("2026-11-29", "2026-11-29T10:00:00+00:00"), never a Unix time."""
    if isinstance(value, dt.datetime) or (
        isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]\S.*)?", value.strip())
    ):
        return value
    raise ValueError("a date or time as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]")


# A date given by a caller: YYYY-MM-DD, nothing else (no Unix times).
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# A time given by a caller: an ISO date or date-time, nothing else (no Unix times).
IsoTime = Annotated[dt.datetime, BeforeValidator(_iso_time)]


class SearchFilters(BaseModel):
    """Hard limits on what an answer may come from; dates are of the meeting a passage records, inclusive."""

    # Real values for /docs (not "string" or today's date, which leave nothing to answer from); no committee is
    # named here, since committee names come from the papers.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"since": "2021-01-01", "until": "2023-12-31"}, {"doc_type": "minutes"}]},
    )

    since: IsoDate | None = Field(None, description="Only meetings on or after this date")
    until: IsoDate | None = Field(None, description="Only meetings on or before this date")
    committee: str | None = Field(None, description="Only this committee's papers (any letter case)")
    doc_type: DocType | None = Field(None, description="Only agenda packs, printed minutes or standalone reports")
    document: str | None = Field(None, description="Only this document: its id or its file name")


class DocumentRef(BaseModel):
    """The document a citation comes from, as the contract names it."""

    id: str = Field(description="Document id, for /documents/{id}/file")
    file: str = Field(description="File name, without its folder")
    title: str = Field(description="Title read from the paper")
    committee: str | None = Field(None, description="The committee, as the papers name it")
    meeting_date: dt.date | None = Field(None, description="The meeting the pack was published for")
    pages: int | None = Field(None, description="Pages in the file, for paging through it")


class _OnAPage:
    """For records with `page` and `page_label` fields."""

    if TYPE_CHECKING:  # declared for type checkers only: the records themselves define the fields
        page: int
        page_label: str | None

    @property
    def page_words(self) -> str:
        """'page 9' by the printed number, or 'PDF page 3' on a page without one."""
        return f"page {self.page_label}" if self.page_label else f"PDF page {self.page}"


class Printed(_OnAPage, BaseModel):
    """Another place the same text is printed: minutes in the next meeting's pack and again as printed minutes."""

    page: int = Field(description="1-based page index within that PDF")
    page_label: str | None = Field(None, description="The page's printed number; null if it has none")
    url: str = Field(description="Opens that PDF at that page")
    document: DocumentRef = Field(description="The document that prints it there")
    passage_id: str = Field(description="The indexed passage there")


class Citation(_OnAPage, BaseModel):
    """One verbatim quote and exactly where it is printed."""

    n: int = Field(description="The number the answer cites it by, as [n]")
    quote: str = Field(description="Verbatim from that page's text (whitespace may differ)")
    page: int = Field(description="1-based page index within the PDF where the quote starts")
    page_label: str | None = Field(None, description="The page's printed number, e.g. '9'; null if it has none")
    section: str | None = Field(None, description="Agenda item or minute, e.g. 'Minute 6: SEND Sufficiency ...'")
    section_words: str | None = Field(
        None, description="The section as a member would say it, e.g. 'the report “Savings” (item 8)'"
    )
    meeting_date: dt.date | None = Field(
        None, description="The meeting the quoted text records (for minutes, the minuted meeting)"
    )
    url: str = Field(description="Opens the PDF at that page")
    document: DocumentRef = Field(description="The document the quote comes from")
    passage_id: str = Field(description="The indexed passage quoted, for /passages/{id}")
    also_printed: list[Printed] = Field(
        default_factory=list, description="The same text printed in other documents, quoted once here"
    )
    restricted: bool = Field(False, description="Quoted from an exempt paper or report: for members only")


class Timings(BaseModel):
    """Milliseconds spent finding passages, composing the answer, and in all."""

    retrieve: float = Field(0.0, description="Milliseconds finding and ranking passages")
    answer: float = Field(0.0, description="Milliseconds composing the answer")
    total: float = Field(0.0, description="Milliseconds in all")


class SpellingFix(BaseModel):
    """A word of the question that no paper uses, searched for as the nearest word the papers do use."""

    typed: str = Field(description="The word as typed, e.g. 'inspction'")
    searched: str = Field(description="The word searched for instead, e.g. 'inspection'")


class TimelineEntry(BaseModel):
    """One decision an answer quotes, for a timeline: when, what was done with it, and which citation holds it."""

    n: int = Field(description="The citation [n] that quotes it")
    meeting_date: dt.date | None = Field(None, description="The meeting that took it")
    status: str = Field(description="resolved, not agreed, deferred, noted, referred, requested or scheduled")
    where: str | None = Field(None, description="The minute in words, e.g. 'minute 6, “SEND Placements”'")
    point: str | None = Field(None, description="The resolution's own number, e.g. '1.2'")


class Answer(BaseModel):
    """A short answer whose every claim cites a quote, or an abstention with passages to see."""

    question: str = Field(description="The question as asked")
    answer: str = Field(description="Plain text citing as [1], [2] ...; its first line answers in one sentence")
    abstained: bool = Field(description="True when the papers don't answer the question")
    citations: list[Citation] = Field(default_factory=list, description="The quotes the answer cites, by n")
    see_also: list[Citation] = Field(
        default_factory=list, description="When abstaining: the nearest passages, which do not answer it"
    )
    partial: bool = Field(
        False, description="True when the papers hold the topic but not all the question asks (see missing)"
    )
    missing: list[str] = Field(
        default_factory=list, description="What the question asks that the papers don't give, e.g. ['2018/19']"
    )
    filtered_out: bool = Field(
        False, description="True when the filters alone left no indexed paper to search: nothing was searched"
    )
    searched_for: str | None = Field(
        None, description="The question as searched when words were corrected to the papers' own, else null"
    )
    spelling: list[SpellingFix] = Field(default_factory=list, description="The words corrected, as typed and searched")
    timeline: list[TimelineEntry] = Field(
        default_factory=list,
        description="For an answer told by decisions: each quoted decision's meeting, status and citation, in order",
    )
    answerer: Literal["extractive", "llm"] = Field("extractive", description="Which answerer wrote the text")
    evidence: float = Field(0.0, description="Retrieval strength, compared with answer.abstain_below")
    timings_ms: Timings = Field(default_factory=Timings, description="Where the time went")


class AgendaItem(BaseModel):
    """One item on a meeting's agenda, as its pack prints it."""

    number: str = Field(description="The item's number, e.g. '8'")
    title: str = Field(description="The item's title, e.g. 'Children's Services Savings'")
    page: int = Field(description="1-based PDF page where the item's report starts")
    page_label: str | None = Field(None, description="The number printed on that page; null if it has none")
    document: DocumentRef = Field(description="The pack that prints it")


class FollowUp(BaseModel):
    """What happened next to a decision that asked for something later (a report back, an item deferred or added to
    the work programme), as the papers show it."""

    seen: bool = Field(description="Whether a later pack shows it (an agenda item), or it is not seen in the papers")
    meeting_date: dt.date | None = Field(None, description="The later meeting whose agenda shows it")
    explanation: str = Field(description="Which item shows it, e.g. 'on the agenda of 11 November 2014 as item 7'")
    item: AgendaItem | None = Field(None, description="That agenda item, with its pack and page")


class Decision(_OnAPage, BaseModel):
    """What a meeting decided on a topic, as recorded in its minutes."""

    meeting_date: dt.date | None = Field(description="The meeting that took the decision (not the pack's)")
    committee: str | None = Field(description="The committee, as the papers name it")
    minute: str | None = Field(description="Minute number")
    status: DecisionStatus | RegisterStatus = Field(
        description="resolved, not agreed, deferred or agreed; from the register also noted, referred, requested or "
        "scheduled"
    )
    text: str = Field(description="The decision, verbatim")
    page: int = Field(description="1-based page index within the PDF where it starts")
    page_label: str | None = Field(description="The page's printed number; null if it has none")
    section: str | None = Field(None, description="The minute's number and title")
    point: str | None = Field(None, description="The resolution's own number within its block, e.g. '1.2'")
    preamble: str | None = Field(None, description="The words before the numbered points, e.g. 'That the Committee:'")
    url: str = Field(description="Opens the PDF at that page")
    document: DocumentRef = Field(description="The document that prints the minutes")
    passage_id: str = Field(description="The indexed passage that records it")
    also_printed: list[Printed] = Field(
        default_factory=list, description="The same decision printed in other documents, counted once here"
    )
    follow_ups: list[FollowUp] = Field(
        default_factory=list, description="For a report requested, an item deferred or scheduled: what happened next"
    )


class Job(BaseModel):
    """One background indexing run (an upload or a removal) and how it ended."""

    id: str = Field(description="Job id, for /jobs/{id}")
    action: Literal["add", "remove"] = Field(description="add: index an upload; remove: drop a document")
    file: str = Field(description="The file concerned, without its folder")
    status: JobStatus = Field("queued", description="queued, running, done or failed")
    stage: str | None = Field(
        None, description="What a running job is doing now, e.g. 'embedding 72 passages of x.pdf (24 pages)'"
    )
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC), description="When it was queued")
    finished_at: dt.datetime | None = Field(None, description="When it finished")
    document_id: str | None = Field(None, description="The document added or removed")
    pages: int = Field(0, description="Pages indexed")
    passages: int = Field(0, description="Passages indexed")
    error: str | None = Field(None, description="Why it failed, naming the file")
    restricted: bool = Field(False, description="The paper is members only (an upload marked so, or exempt)")


class PaperStatus(BaseModel):
    """One paper as GET /documents shows it: indexed, or being indexed or removed by a job (no server paths)."""

    id: str | None = Field(None, description="Document id; null until an upload's first index is published")
    file: str = Field(description="File name, without its folder")
    title: str | None = Field(None, description="Title read from the paper")
    doc_type: str | None = Field(None, description="agenda_pack, minutes (printed minutes of one meeting) or report")
    committee: str | None = Field(None, description="The committee, as the papers name it")
    meeting_date: dt.date | None = Field(None, description="The meeting the pack was published for")
    period: str | None = Field(None, description="The period a standalone report covers")
    pages: int = Field(0, description="Pages in the file")
    passages: int = Field(0, description="Passages indexed from it")
    no_text_pages: list[int] = Field(default_factory=list, description="Pages with no text layer")
    indexed_at: dt.datetime | None = Field(None, description="When it was indexed (UTC)")
    source: Literal["papers folder", "upload"] = Field(description="A configured papers folder, or an upload")
    status: Literal["indexed", "indexing", "removing"] = Field(
        description="indexed, or a job is indexing or removing it"
    )
    job_id: str | None = Field(None, description="The job indexing or removing it, if any")
    restricted: bool = Field(False, description="The whole paper is exempt: members only (listed to members only)")
    restricted_items: list[str] = Field(
        default_factory=list, description="Agenda items of the pack whose reports are exempt (shown to members only)"
    )


class RegisterEntry(BaseModel):
    """One decision point of the minutes: a numbered resolution, an unresolved point or a deferral."""

    meeting_date: dt.date | None = Field(None, description="The meeting that took it (not the pack that prints it)")
    committee: str | None = Field(None, description="The committee, as the papers name it")
    minute: str | None = Field(None, description="Minute number, e.g. '6'")
    minute_title: str | None = Field(None, description="The minute's title, e.g. 'SEND Education and Placements'")
    point: str | None = Field(None, description="The resolution's own number, e.g. '1.2'; null for a single one")
    preamble: str | None = Field(None, description="The words before the numbered points, e.g. 'That the Committee:'")
    text: str = Field(description="The point, verbatim (whitespace joined)")
    status: RegisterStatus = Field(
        description="resolved, not agreed, deferred, noted, referred (to Cabinet or another body), requested (a "
        "report back) or scheduled (added to the work programme)"
    )
    doc_id: str = Field(description="The document that prints it")
    file: str = Field(description="That document's file name")
    page: int = Field(description="1-based PDF page where the point starts")
    page_label: str | None = Field(None, description="The number printed on that page; null if it has none")
    passage_id: str = Field(description="The indexed passage holding it, for /passages/{id}")
    start: int = Field(0, description="Where the point's text starts in that passage's text (characters)")
    end: int = Field(0, description="Where it ends")


class Meeting(BaseModel):
    """A meeting the papers know of: a pack was published for it, or minutes record it."""

    date: dt.date = Field(description="The meeting's date")
    committee: str | None = Field(None, description="The committee, as the papers name it")
    packs: list[DocumentRef] = Field(default_factory=list, description="The agenda packs published for it")
    minutes_in_papers: bool = Field(False, description="Whether its minutes are in the indexed papers")
    minutes_printed_in: list[DocumentRef] = Field(
        default_factory=list, description="The documents that print its minutes (usually the next meeting's pack)"
    )
    decisions: int = Field(0, description="Decision points its minutes record (the register's entries)")


class MeetingDetail(Meeting):
    """GET /meetings/{date}: a meeting with its agenda items and its decisions."""

    items: list[AgendaItem] = Field(default_factory=list, description="Its agenda items with reports, in order")
    decision_list: list[Decision] = Field(
        default_factory=list, description="The decisions its minutes record, each numbered resolution on its own"
    )
