"""Find the structure in a document's own text: meeting, agenda, minutes, reports, sections, decisions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from core.lexicon import (
    BOILERPLATE_START,
    DATE_PATTERN,
    MONTH_PATTERN,
    RESOLUTION_LINE,
    RESOLUTION_WORDS,
    long_date,
    parse_date,
)
from core.records import DecisionStatus, DocType, Part
from core.text import fold_quotes
from indexer.read import SourceDocument

DATE = DATE_PATTERN
_HELD_ON = re.compile(r"meeting will be held\b.*?\bon\s+" + DATE, re.I | re.S)
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+"
# How other publishing systems' front sheets date the meeting: "Date: Tuesday, 5 March 2024" (ModernGov),
# "Meeting date: 5 March 2024", or a line that starts with the weekday and date.
_MEETING_ON = re.compile(
    rf"^\s*(?:(?:Date(?: of meeting)?|Meeting date)\s*[:\-]?\s*(?:{_WEEKDAY})?|{_WEEKDAY}){DATE}", re.I | re.M
)
_AGENDA_WORD = re.compile(r"^\s*agenda\s*$", re.I | re.M)
_COVER = re.compile(r"^\s*" + DATE + r"\s+ITEM:\s*(\d{1,3})\b", re.I)
_AGENDA_ITEM_HEADER = re.compile(r"^\s*Agenda Item\s+(?:No\.?\s*)?(\d{1,3})\s*$", re.I)
# "Minutes of the Meeting of the X held on ...", "Minutes of a meeting of the X", "MINUTES of the meeting held on",
# "Minutes of the Cabinet meeting held on": group 1 is what comes before "meeting", group 2 what follows it.
_MINUTES_HEADING = re.compile(
    r"^\s*Minutes of (?:an? |the )?(?:(?:extraordinary|special|ordinary|annual|additional)\s+)?"
    r"((?:[\w'’&,-]+\s+){0,8}?)meeting\b(.*)$",
    re.I,
)
_MINUTES_HELD = re.compile(r"^(.*?)\s+held on\s+(?:" + _WEEKDAY + ")?" + DATE, re.I | re.S)
# A minute's number and title as different systems print them: "48. Youth Cabinet", "23   Apologies" (a tab
# stop), "Minute No. 45 - Revenue Budget", "45/24 Revenue Budget".
_MINUTE_FORMS = (
    re.compile(r"^\s*Minute\s+(?:No\.?\s*)?(\d{1,3})\s*[.:\-–—]?\s+([A-Z][^\n]{1,110})$", re.I),
    re.compile(r"^\s*(?:[A-Z]{2,5}\s*)?(\d{1,3})/\d{2,4}\s*[.:\-–—]?\s+([A-Z][^\n]{1,110})$"),
    re.compile(r"^\s*(\d{1,3})\.\s+([A-Z][^\n]{1,110})$"),
    re.compile(r"^\s*(\d{1,3})(?:\s{2,}|\t)([A-Z][^\n]{1,110})$"),
)
# A minute's title this long (characters) may have wrapped (bold headings wrap early): "5. Items Raised by ... - Update
# "Review Action Plan".
_WRAPS = 60
_SMALL_WORDS = frozenset({"and", "of", "the", "for", "on", "to", "in", "a", "an", "with", "&", "-", "–"})


# Lines that follow a minute's heading without being part of its title.
_NOT_A_TITLE = re.compile(
    r"^\s*(?:Councillors?|Page|Present|Presented|Presentation|Report of|Apologies|Members|Minutes|The|Officers?)\b",
    re.I,
)


def _continues_title(text: str) -> bool:
    """Whether a line reads as the rest of a wrapped title: a few words, mostly capitalised, no full stop."""
    words = text.split()
    if not 2 <= len(words) <= 8 or ":" in text or text.rstrip().endswith((".", ",")) or not words[0][:1].isupper():
        return False
    if _NOT_A_TITLE.match(text):
        return False
    if RESOLUTION_LINE.match(text) or any(form.match(text) for form in _MINUTE_FORMS):
        return False
    big = [w for w in words if w.lower() not in _SMALL_WORDS]
    return bool(big) and sum(w[:1].isupper() or w[:1].isdigit() for w in big) >= 0.75 * len(big)


_REPORT_TITLE_FIELD = re.compile(r"^\s*(?:Title|Subject|Report title)\s*:\s*(\S.{2,200})$", re.I)
_SECTION = re.compile(r"^\s*(?:[-•]\s+)?(\d{1,2})\.\s+([A-Z][^\n]{1,100})$")
_APPENDIX = re.compile(r"^\s*Appendix\s+(\d{1,2}|One|Two|Three|Four|Five|Six|[A-H])\b\s*[:\-–—]?\s*(.*)$", re.I)
_MEETING_CLOSED = re.compile(r"^\s*The meeting (?:finished|closed|ended) at\b", re.I)
_AGENDA_LINE = re.compile(r"^\s*(\d{1,2})\.?\s+(\S.*?)\s*$")
# The pages an agenda prints after an item's title, "   55 - 66", or cut short by the line's end ("   55 -").
_AGENDA_PAGES = re.compile(r"\s{2,}\d{1,4}(?:\s*-\s*\d{0,4})?\s*$")
_AGENDA_END = re.compile(r"^\s*(Queries regarding this Agenda|Agenda published on)", re.I)
_COMMITTEE = re.compile(
    r"^\s*(?=[A-Z])(.{0,90}?\b(?i:Committee|Cabinet|Council|Board|Panel|Forum|Commission|Executive))\s*$"
)
_COVER_STOP = re.compile(r"^\s*(Wards and communities affected|Report of|Key Decision|Accountable)", re.I)
_PERIOD = re.compile(r"\b(20\d\d)\s*[/-]\s*(\d{2}|20\d\d)\b")
_TABLE_GAP = re.compile(r"\S\s{3,}\S")
_NUMERIC_CELL = re.compile(r"^[-+£$]?\d[\d,.]*%?$")
# A work programme's title line: "Work Programme 2021/22", "WORK PROGRAMME", "O&S Work Programme", up to two
# capitalised words before it (not "The ..."); the keywords in any case. (A committee's whole name before it is not
# recognised yet: such a page stays with the item before it.)
_WORK_PROGRAMME = re.compile(
    r"^\s*(?!(?:The|This|That|These|Our|Its|An?)\s)(?:[A-Z][\w'’&]*\s+){0,2}(?i:work\s+programme)\b.{0,30}$"
)
_MONTH_FIRST = re.compile(rf"^(?:{MONTH_PATTERN})\b", re.I)
# "Contact officer: Jane Doe", "Date: 5 March": a cover's field and its value, never a heading.
_FIELD = re.compile(r"^[^:]{2,40}:\s+\S")
_RELATIVE_MEETING = re.compile(r"^\s*(?:last|previous|preceding|next|this|that|same|our|its)\b", re.I)
_VERB = re.compile(r"\b(?:were|was|be|are|is|been)\b", re.I)
_NUMBERED = re.compile(r"^\s*(?:[-•]\s+)?\d{1,2}\.\s")
_SENTENCE_END = re.compile(r"[.:;!?)]\s*$")

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6"}


@dataclass(frozen=True)
class Context:
    """Where a line sits in the document; a change of context is a section boundary."""

    part: Part = "document"
    section_path: tuple[str, ...] = ()
    minute: str | None = None
    item: str | None = None
    meeting_date: dt.date | None = None
    decision_status: DecisionStatus | None = None
    boilerplate: bool = False
    table: bool = False


@dataclass
class SourceLine:
    page: int
    label: str | None
    text: str


@dataclass
class Segment:
    context: Context
    lines: list[SourceLine] = field(default_factory=list)


@dataclass
class StructuredDocument:
    source: SourceDocument
    doc_type: DocType
    title: str
    committee: str | None
    meeting_date: dt.date | None
    period: str | None
    segments: list[Segment]


def structure_document(source: SourceDocument) -> StructuredDocument:
    """Split a document into segments of lines that share one structural context."""
    lines = [SourceLine(p.index, p.label, text) for p in source.pages if not p.blank for text in p.lines]
    first_page = "\n".join(source.pages[0].lines) if source.pages else ""
    opening = "\n".join(line for page in source.pages[:2] for line in page.lines)
    covers = [m for m in (_COVER.match(line.text) for line in lines) if m]
    minutes_starts = sum(1 for line in lines if _minutes_heading(line.text))
    announced = _HELD_ON.search(first_page) or (_MEETING_ON.search(first_page) and _AGENDA_WORD.search(opening))
    if announced or covers or minutes_starts:
        pack_date = _pack_date(first_page, covers)
        committee = _committee(lines)
        segments = _PackParser(pack_date, _agenda_titles(source), committee).parse(lines)
        minuted = {s.context.meeting_date for s in segments if s.context.part == "minutes" and s.context.meeting_date}
        if not announced and not covers and len(minuted) == 1:
            # Printed minutes of one meeting, published on their own: dated by the meeting they record.
            (meeting,) = minuted
            title = f"Minutes of the meeting of {committee or 'the committee'} held on {long_date(meeting)}"
            doc = StructuredDocument(source, "minutes", title, committee, meeting, None, segments)
        else:
            title = ", ".join(x for x in (committee, pack_date and long_date(pack_date), "agenda pack") if x)
            doc = StructuredDocument(source, "agenda_pack", title, committee, pack_date, None, segments)
    else:
        title = _report_title(source, lines)
        period_match = _PERIOD.search(title) or _PERIOD.search(first_page)
        period = f"{period_match.group(1)}/{period_match.group(2)[-2:]}" if period_match else None
        segments = _ReportParser().parse(lines)
        doc = StructuredDocument(source, "report", title, None, None, period, segments)
    doc.segments = _split_tables(doc.segments)
    return doc


def _minutes_heading(text: str) -> re.Match | None:
    """A heading that starts minutes: "Minutes of [a|the] [X] meeting ..." naming a meeting, not a sentence
    that mentions minutes ("Minutes of the meeting held on 8 November were approved.")."""
    match = _MINUTES_HEADING.match(text)
    if not match or (_SENTENCE_END.search(text) and not text.rstrip().endswith(")")) or _VERB.search(text):
        return None
    if _RELATIVE_MEETING.match(match.group(1)):
        return None  # "Minutes of the last meeting": an agenda item's title, not the minutes themselves
    return match


def _pack_date(first_page: str, covers: list[re.Match]) -> dt.date | None:
    announced = _HELD_ON.search(first_page) or _MEETING_ON.search(first_page)
    if announced:
        return parse_date(announced.group(0))
    dates = [parse_date(m.group(0)) for m in covers]
    dates = [d for d in dates if d]
    return max(set(dates), key=dates.count) if dates else None


def _committee(lines: list[SourceLine]) -> str | None:
    """The committee's name as the pack prints it, with straight apostrophes (packs type it either way) and in
    its own letter case when a heading prints it in capitals. A line naming a council is the committee only
    when no other line names a committee, panel, board or the like (front sheets print the council first)."""
    named = [
        m.group(1) for m in (_COMMITTEE.match(line.text) for line in lines[:40] if not _minutes_heading(line.text)) if m
    ]
    named = [name for name in named if "held" not in name.lower() and not name.lower().startswith("report to")]
    for i, line in enumerate(lines):
        heading = _minutes_heading(line.text)
        if heading:
            whole = " ".join(x.text.strip() for x in lines[i : i + 3])
            match = _minutes_heading(whole) or heading
            before, after = match.group(1).strip(), re.sub(r"^\s*of\s+(?:the\s+)?", "", match.group(2), flags=re.I)
            held = _MINUTES_HELD.match(after)
            if held and held.group(1).strip():
                named.append(held.group(1))
            elif before:
                named.append(before)
            break
    committees = [n for n in named if not n.lower().endswith("council")] or named
    if not committees:
        return None
    name = " ".join(fold_quotes(committees[0]).split())
    if name.isupper():  # "CABINET", "ADULT SOCIAL CARE PANEL": the same name in its own case, if printed so
        name = next((" ".join(n.split()) for n in named if n.lower() == name.lower() and not n.isupper()), name)
        name = name if not name.isupper() else _title_case(name)
    return name


_SMALL_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "to", "a", "an"})


def _title_case(name: str) -> str:
    words = name.lower().split()
    return " ".join(w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _agenda_titles(source: SourceDocument) -> dict[str, str]:
    """Item number -> title, from the agenda list on the first pages (a front sheet may put it on a contents
    page of its own), up to where the minutes or the first report begin."""
    titles: dict[str, str] = {}
    in_agenda = False
    for page in source.pages[:3]:
        for text in page.lines:
            if _minutes_heading(text) or _COVER.match(text) or _AGENDA_ITEM_HEADER.match(text):
                return titles
            if text.strip().lower() == "agenda":
                in_agenda = True
                continue
            if not in_agenda:
                continue
            if _AGENDA_END.match(text):
                return titles
            match = _AGENDA_LINE.match(text)
            title = _AGENDA_PAGES.sub("", match.group(2)) if match else ""
            if match and title[:1].isalnum() and re.search(r"[A-Za-z]{3}", title):  # not "5 - 10", a page range
                titles.setdefault(match.group(1), _undouble(" ".join(title.split())))
    return titles


def _undouble(title: str) -> str:
    """'X X' -> 'X': some agendas print a title twice."""
    words = title.split()
    half = len(words) // 2
    return " ".join(words[:half]) if len(words) % 2 == 0 and half and words[:half] == words[half:] else title


def _report_title(source: SourceDocument, lines: list[SourceLine]) -> str:
    if source.title:
        return " ".join(source.title.split())
    for line in lines[:5]:
        words = line.text.split()
        if 2 <= len(words) <= 15 and not _SENTENCE_END.search(line.text):
            return " ".join(words)
    return source.path.stem


def _is_table_row(text: str) -> bool:
    cells = re.split(r"\s{3,}", text.strip())
    if len(cells) >= 3:
        return True
    return len(cells) == 2 and len(text.split()) <= 12 and any(_NUMERIC_CELL.match(cell) for cell in cells)


class _PackParser:
    """A state machine over an agenda pack's lines."""

    def __init__(self, pack_date: dt.date | None, agenda_titles: dict[str, str], committee: str | None):
        self.pack_date = pack_date
        self.agenda_titles = agenda_titles
        self.committee = committee
        self.context = Context(part="agenda", section_path=("Agenda",), meeting_date=pack_date)
        self.last_minute = 0
        self.last_section = 0
        self.minutes_closed = False
        self.item_title: str | None = None
        self.appendix: str | None = None
        self.title_open = False  # the last line was a minute's title long enough to wrap onto the next
        self.retitled = False

    def parse(self, lines: list[SourceLine]) -> list[Segment]:
        segments: list[Segment] = []
        for i, line in enumerate(lines):
            keep = self._advance(line, lines, i)
            if self.retitled and segments:  # the title's second line names the minute its heading began
                segments[-1].context = self.context
                self.retitled = False
            if keep:
                if not segments or segments[-1].context != self.context:
                    segments.append(Segment(self.context))
                segments[-1].lines.append(line)
        return segments

    def _set(self, **changes: Any) -> None:
        self.context = replace(self.context, **changes)

    def _start_item(self, number: str, title: str | None) -> None:
        if self.context.item == number and self.context.part in ("report", "work_programme", "appendix"):
            return  # "Agenda Item 4" printed again atop the item's next page
        self.item_title = title or self.agenda_titles.get(number)
        label = f"Item {number}: {self.item_title}" if self.item_title else f"Item {number}"
        part: Part = "work_programme" if self.item_title and "work programme" in self.item_title.lower() else "report"
        self.last_section = 0
        self.appendix = None
        self.minutes_closed = False
        self._set(
            part=part,
            section_path=(label,),
            item=number,
            minute=None,
            meeting_date=self.pack_date,
            decision_status=None,
            boilerplate=False,
        )

    def _advance(self, line: SourceLine, lines: list[SourceLine], i: int) -> bool:
        """Update the context for this line; False when the line is a marker that is not text."""
        text = line.text.strip()
        lowered = text.lower()
        ctx = self.context

        header = _AGENDA_ITEM_HEADER.match(text)
        if header:
            self._start_item(header.group(1), _title_field(lines, i))
            return False
        cover = _COVER.match(text)
        if cover:
            number = cover.group(4)
            self._start_item(number, self.agenda_titles.get(number) or _cover_title(lines, i) or None)
            return True
        if _minutes_heading(text):
            heading = " ".join(x.text.strip() for x in lines[i : i + 3])
            date = parse_date(heading)
            self.last_minute = 0
            self.minutes_closed = False
            label = f"Minutes of the meeting held on {long_date(date)}" if date else "Minutes"
            self._set(
                part="minutes",
                section_path=(label,),
                minute=None,
                item=None,
                meeting_date=date or ctx.meeting_date,
                decision_status=None,
                boilerplate=False,
            )
            return True
        if ctx.part in ("agenda", "front_matter") or ctx.boilerplate:
            if BOILERPLATE_START.match(lowered):
                self._set(part="front_matter", section_path=("Front matter",), boilerplate=True)
            return True
        if ctx.part == "minutes":
            return self._advance_minutes(text)
        return self._advance_report(line, text, lines, i)

    def _advance_minutes(self, text: str) -> bool:
        if self.title_open:
            self.title_open = False
            if _continues_title(text) and self.context.minute:
                self._set(section_path=(f"{self.context.section_path[0]} {' '.join(text.split())}",))
                self.retitled = True
                return True
        if self.minutes_closed:
            self._set(boilerplate=True, section_path=("Minutes", "Signature"), minute=None)
            return True
        minute = next((m for m in (form.match(text) for form in _MINUTE_FORMS) if m), None)
        if (
            minute
            and self._next_minute(int(minute.group(1)))
            and _looks_like_title(minute.group(2))
            and not _MONTH_FIRST.match(minute.group(2))  # "16   January 2024" is a date
        ):
            self.last_minute = int(minute.group(1))
            title = " ".join(minute.group(2).split())
            self.title_open = len(text.strip()) >= _WRAPS
            self._set(
                section_path=(f"Minute {minute.group(1)}: {title}",), minute=minute.group(1), decision_status=None
            )
            return True
        decision = RESOLUTION_LINE.match(text)
        if decision and self.context.minute:
            self._set(decision_status=RESOLUTION_WORDS[decision.group(1)])
            return True
        if _MEETING_CLOSED.match(text):
            self.minutes_closed = True
            self._set(decision_status=None)
            return True
        return True

    def _next_minute(self, number: int) -> bool:
        # Minutes continue the committee's numbering, so the first may be any number; then they rise.
        return 0 < number < 1000 if self.last_minute == 0 else self.last_minute < number <= self.last_minute + 15

    def _advance_report(self, line: SourceLine, text: str, lines: list[SourceLine], i: int) -> bool:
        previous = lines[i - 1] if i else None
        starts_page = previous is None or previous.page != line.page
        appendix = _APPENDIX.match(text)
        if starts_page and _WORK_PROGRAMME.match(text) and self.context.part != "work_programme":
            # A work programme printed without a cover sheet still starts its own part.
            title = " ".join(text.split())
            in_item = bool(self.item_title and "work programme" in self.item_title.lower())
            path = self.context.section_path[:1] if in_item else (title,)
            self._set(part="work_programme", section_path=path, item=self.context.item if in_item else None)
            return True
        if appendix and not text.startswith(("-", "•")) and (starts_page or _ends_block(previous)):
            number = _NUMBER_WORDS.get(appendix.group(1).lower(), appendix.group(1).upper())
            if number == self.appendix and starts_page:
                return False  # the appendix's running header, repeated on its pages
            self.appendix = number
            self.last_section = 0
            title = " ".join(appendix.group(2).split())
            label = f"Appendix {number}: {title}" if title else f"Appendix {number}"
            self._set(
                part="appendix" if self.context.part != "work_programme" else "work_programme",
                section_path=(*self.context.section_path[:1], label),
            )
            return True
        section = _SECTION.match(text)
        if section and _looks_like_title(section.group(2)) and len(section.group(2).split()) <= 12:
            number = int(section.group(1))
            if self.last_section < number <= self.last_section + 2 and (
                not _in_numbered_list(lines, i, number) or _heads_paragraphs(lines, i, number)
            ):
                self.last_section = number
                base = self.context.section_path[: 2 if self.appendix else 1]
                self._set(section_path=(*base, f"{number}. {' '.join(section.group(2).split())}"))
        return True


def _in_numbered_list(lines: list[SourceLine], i: int, number: int) -> bool:
    """'1. Neglect' / '2. Violence ...' on consecutive lines are a list, not section headings."""
    for j, expected in ((i - 1, number - 1), (i + 1, number + 1)):
        if 0 <= j < len(lines):
            match = _SECTION.match(lines[j].text)
            if match and int(match.group(1)) == expected:
                return True
    return False


def _heads_paragraphs(lines: list[SourceLine], i: int, number: int) -> bool:
    """A report's section heading with its paragraphs numbered under it ("8. GCSE results" then "8.1 ..."), or
    one with nothing under it right above such a heading ("7. Two year trends" over a chart)."""
    following = lines[i + 1].text if i + 1 < len(lines) else ""
    return _paragraphs_follow(lines, i, number) or (
        bool(re.match(rf"^\s*{number + 1}\.\s", following)) and _paragraphs_follow(lines, i + 1, number + 1)
    )


def _paragraphs_follow(lines: list[SourceLine], i: int, number: int) -> bool:
    """Paragraph N.1 comes within a few lines after line i, before any other numbered heading or item."""
    paragraph = re.compile(rf"^\s*(?:[-•]\s+)?{number}\.1\b")
    for line in lines[i + 1 : i + 8]:
        if paragraph.match(line.text):
            return True
        if _NUMBERED.match(line.text):
            return False
    return False


def _looks_like_title(title: str) -> bool:
    words = title.split()
    return (
        bool(words)
        and words[0] not in {"That", "The", "To", "Members", "It"}
        and not title.rstrip().endswith((",", ";"))
    )


def _ends_block(previous: SourceLine | None) -> bool:
    return previous is None or bool(_SENTENCE_END.search(previous.text)) or len(previous.text.strip()) < 60


def _title_field(lines: list[SourceLine], i: int) -> str | None:
    """A report's title from a "Title:" or "Subject:" line of its cover, when the agenda gives none."""
    for line in lines[i + 1 : i + 12]:
        if line.page != lines[i].page:
            break
        match = _REPORT_TITLE_FIELD.match(line.text)
        if match:
            return " ".join(match.group(1).split())
    return None


def _cover_title(lines: list[SourceLine], i: int) -> str:
    """The report title inside a cover block: the lines after the committee line, before 'Wards ...'."""
    page = lines[i].page
    title: list[str] = []
    for line in lines[i + 1 : i + 8]:
        if line.page != page or _COVER_STOP.match(line.text):
            break
        text = " ".join(line.text.split())
        if not title and re.search(r"\b(Committee|Scrutiny|Cabinet)\b", text) and len(text) < 90:
            continue
        title.append(text)
    return " ".join(title)[:200]


class _ReportParser:
    """Standalone reports: headings are short title lines that introduce longer text."""

    def parse(self, lines: list[SourceLine]) -> list[Segment]:
        context = Context(part="document")
        segments: list[Segment] = []
        for i, line in enumerate(lines):
            if _is_heading(lines, i):
                context = replace(context, section_path=(" ".join(line.text.split()),))
            if not segments or segments[-1].context != context:
                segments.append(Segment(context))
            segments[-1].lines.append(line)
        return segments


def _is_heading(lines: list[SourceLine], i: int) -> bool:
    text = lines[i].text.strip()
    words = text.split()
    if not (1 <= len(words) <= 8) or len(text) > 60 or not text[0].isupper() or _SENTENCE_END.search(text):
        return False
    if _TABLE_GAP.search(text) or any(ch.isdigit() for ch in words[0]) or _FIELD.match(text):
        return False
    if text.lower().startswith("strategic aim"):
        return True
    previous_ok = i == 0 or lines[i - 1].page != lines[i].page or bool(_SENTENCE_END.search(lines[i - 1].text))
    following = lines[i + 1].text.strip() if i + 1 < len(lines) else ""
    return previous_ok and len(following) > 40 and following[:1].isupper()


def _split_tables(segments: list[Segment]) -> list[Segment]:
    """Give each table (its rows with the heading line above them) a segment of its own."""
    result: list[Segment] = []
    for segment in segments:
        rows = [_is_table_row(line.text) for line in segment.lines]
        in_table = _table_runs(rows)
        # The heading just above a table belongs with its rows.
        for j in range(1, len(in_table)):
            if in_table[j] and not in_table[j - 1]:
                heading = segment.lines[j - 1].text.strip()
                if len(heading) < 100 and not heading.endswith("."):
                    in_table[j - 1] = True
        current: Segment | None = None
        for line, flag in zip(segment.lines, in_table, strict=True):
            context = replace(segment.context, table=flag)
            if current is None or current.context != context:
                current = Segment(context)
                result.append(current)
            current.lines.append(line)
    return result


def _table_runs(rows: list[bool]) -> list[bool]:
    """Runs of at least two table rows, bridging up to two wrapped continuation lines between rows."""
    flags = [False] * len(rows)
    indices = [i for i, row in enumerate(rows) if row]
    run: list[int] = []
    for index in [*indices, None]:
        if index is not None and run and index - run[-1] <= 3:
            run.append(index)
            continue
        if len(run) >= 2:
            for k in range(run[0], run[-1] + 1):
                flags[k] = True
        run = [index] if index is not None else []
    return flags
