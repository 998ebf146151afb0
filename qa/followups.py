"""What happened next to a decision that asked for something later: a report requested back, an item added to the
work programme, an item deferred. Linked to the later agenda item that shows it, or marked not seen.

A link is made only when a later pack's agenda item (after the meeting that took the decision) is plainly the same
thing: for a deferral, the item's title and the deferred minute's title share nearly all their words; for a request
or a scheduled item, most of the item title's words are in the decision's own words. Each link says which item shows
it; nothing is guessed silently, and "not seen" says how far the papers run.
"""

from __future__ import annotations

import datetime as dt

from core.lexicon import long_date
from core.records import AgendaItem, FollowUp, RegisterEntry
from core.text import fold_quotes
from qa.meetings import MeetingIndex
from qa.terms import Terms

FOLLOWED = ("requested", "scheduled", "deferred")
_SAME_TITLE = 0.8  # a deferral: shared words over the words of both titles
_ITEM_IN_WORDS = 0.6  # a request: the share of the item title's words in the decision's words (at least two)


class FollowUpFinder:
    """The later agenda items of one index generation, to follow decisions up with."""

    def __init__(self, meetings: MeetingIndex, terms: Terms):
        self.terms = terms
        self.items: list[tuple[dt.date, AgendaItem, frozenset[str]]] = []
        self.last: dt.date | None = None
        for meeting in meetings.all:
            if meeting.packs:
                self.last = meeting.date
                for item in meetings.items(meeting.date):
                    self.items.append((meeting.date, item, self._stems(item.title)))

    def _stems(self, text: str) -> frozenset[str]:
        return frozenset(self.terms.of(fold_quotes(text)))

    def of(self, entry: RegisterEntry) -> list[FollowUp]:
        """What happened next to a requested, scheduled or deferred decision ([] for other statuses)."""
        if entry.status not in FOLLOWED or entry.meeting_date is None:
            return []
        wanted = self._stems(entry.minute_title or "") if entry.status == "deferred" else self._stems(entry.text)
        for day, item, stems in self.items:
            if day <= entry.meeting_date or not stems:
                continue
            shared = stems & wanted
            if entry.status == "deferred":
                close = len(shared) / len(stems | wanted) >= _SAME_TITLE
            else:
                close = len(shared) >= 2 and len(shared) / len(stems) >= _ITEM_IN_WORDS
            if close:
                return [
                    FollowUp(
                        seen=True,
                        meeting_date=day,
                        explanation=f"on the agenda of {long_date(day)} as item {item.number}, “{item.title}”",
                        item=item,
                    )
                ]
        if self.last is None or self.last <= entry.meeting_date:
            return [FollowUp(seen=False, explanation="no papers after this meeting are indexed yet")]
        return [
            FollowUp(
                seen=False,
                explanation=f"not seen in the papers indexed here, up to the meeting of {long_date(self.last)}",
            )
        ]
