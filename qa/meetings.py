"""The meetings the papers know of: each with its pack, whether its minutes are in the papers, its agenda items and
the decisions the register holds for it.

A meeting is a date (and committee) that a pack was published for, or that minutes record (the minutes of an
earlier meeting printed inside a later pack count: that is where most minutes are).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from core.errors import NotFound
from core.records import AgendaItem, Decision, FollowUp, Meeting, MeetingDetail, RegisterEntry
from indexer.stores import IndexSnapshot
from qa.citations import CitationBuilder

_ITEM = re.compile(r"^Item (\d+):\s*(.+)$")


def meetings(snapshot: IndexSnapshot, citations: CitationBuilder) -> list[Meeting]:
    """Every meeting the indexed papers publish a pack for or minute, oldest first."""
    days: dict[dt.date, Meeting] = {}

    def meeting(day: dt.date, committee: str | None) -> Meeting:
        if day not in days:
            days[day] = Meeting(date=day, committee=committee)
        elif committee and not days[day].committee:
            days[day].committee = committee
        return days[day]

    for doc in snapshot.manifest.documents:
        if doc.meeting_date:
            meeting(doc.meeting_date, doc.committee).packs.append(citations.document(doc.id))
    for passage in snapshot.passages.headers.values():
        if passage.part == "minutes" and passage.meeting_date:
            found = meeting(passage.meeting_date, passage.committee)
            found.minutes_in_papers = True
            if all(ref.id != passage.doc_id for ref in found.minutes_printed_in):
                found.minutes_printed_in.append(citations.document(passage.doc_id))
    counted = set()  # the same minutes printed in two documents count once
    for entry in snapshot.register:
        key = twin_key(entry)
        if entry.meeting_date in days and key not in counted:
            counted.add(key)
            days[entry.meeting_date].decisions += 1
    return [days[day] for day in sorted(days)]


class MeetingIndex:
    """The meetings of one index generation, worked out once when it is opened (qa.service.Generation): what
    `meetings` gives and each meeting's detail, without walking every passage for each request or each meeting (at 64x
    the sample, following decisions up walked the archive once per meeting: 40 s at start-up)."""

    def __init__(self, snapshot: IndexSnapshot, citations: CitationBuilder):
        self.citations = citations
        self.all = meetings(snapshot, citations)
        self.sections = minute_sections(snapshot)
        self._by_day = {m.date: m for m in self.all}
        self._items: dict[str, dict[str, AgendaItem]] = {}  # doc id -> item number -> where the item starts
        for passage in snapshot.passages.headers.values():
            head = (passage.section or "").split(" > ")[0]
            match = _ITEM.match(head)
            found = self._items.setdefault(passage.doc_id, {})
            if passage.part == "minutes" or not match or match.group(1) in found:
                continue
            found[match.group(1)] = AgendaItem(
                number=match.group(1),
                title=match.group(2).strip(),
                page=passage.page_start,
                page_label=passage.label_start,
                document=citations.document(passage.doc_id),
            )
        self._order = {doc.id: i for i, doc in enumerate(snapshot.manifest.documents)}
        self._entries: dict[dt.date, list[RegisterEntry]] = {}
        for entry in snapshot.register:
            if entry.meeting_date:
                self._entries.setdefault(entry.meeting_date, []).append(entry)

    def items(self, day: dt.date) -> list[AgendaItem]:
        """The agenda items of the meeting on `day` (its packs' reports), in item order; the first pack in the
        generation's order that has an item gives it."""
        summary = self._by_day.get(day)
        items: dict[str, AgendaItem] = {}
        packs = sorted((ref.id for ref in summary.packs), key=lambda i: self._order.get(i, 0)) if summary else []
        for doc_id in packs:
            for number, item in self._items.get(doc_id, {}).items():
                items.setdefault(number, item)
        return sorted(items.values(), key=lambda item: int(item.number))

    def detail(self, day: dt.date, follow: Callable[[RegisterEntry], list[FollowUp]] | None = None) -> MeetingDetail:
        """One meeting: its agenda items (from its pack's reports, in item order, each where it starts) and the
        decisions its minutes record, each with what happened next when `follow` is given. NotFound for a date the
        papers hold no meeting of."""
        summary = self._by_day.get(day)
        if summary is None:
            raise NotFound(f"the papers hold no meeting on {day.isoformat()}")
        decisions = as_decisions(self._entries.get(day, []), self.citations, self.sections, follow)
        return MeetingDetail(**summary.model_dump(), items=self.items(day), decision_list=decisions)


def minute_sections(snapshot: IndexSnapshot) -> dict[tuple[dt.date | None, str | None], str | None]:
    """Each minuted (meeting, minute)'s section path ("Minute 6: SEND Education ..."), for its title in words."""
    return {
        (p.meeting_date, p.minute): p.section
        for p in snapshot.passages.headers.values()
        if p.part == "minutes" and p.minute
    }


def twin_key(entry: RegisterEntry) -> tuple:
    """What the same decision point shares wherever its minutes are printed (the next pack, the printed minutes)."""
    return (entry.meeting_date, entry.minute, entry.point, " ".join(entry.text.split()).lower())


def as_decisions(
    entries: list[RegisterEntry],
    citations: CitationBuilder,
    sections: dict[tuple[dt.date | None, str | None], str | None],
    follow: Callable[[RegisterEntry], list[FollowUp]] | None = None,
) -> list[Decision]:
    """Register entries as citable decisions, oldest meeting first (minute order kept within one), each once: the
    same minutes printed in two documents give one decision, the other place kept in `also_printed`. `sections`
    gives each (meeting, minute) its section path, for the minute's title in words."""
    kept: dict[tuple, Decision] = {}
    for entry in entries:
        key = twin_key(entry)
        if key in kept:
            kept[key].also_printed.append(citations.entry_printed(entry))
        else:
            kept[key] = citations.entry(entry, sections.get((entry.meeting_date, entry.minute)))
            if follow is not None:
                kept[key].follow_ups = follow(entry)
    return sorted(kept.values(), key=lambda d: d.meeting_date or dt.date.min)
