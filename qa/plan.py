"""A search plan: what one question implies for the search, worked out once and read by every later stage.

`Planner.plan` reads the question's dates against the indexed meetings and report periods, applies the
filters, and fixes the question's vector, topic stems and phrases and the passages it may use (a `PassageSet`).
Retrieval, sentence scoring, decisions and answering read the plan; none of them works these out again.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.lexicon import CouncilVocabulary
from core.records import DocumentRecord, PassageLike, SearchFilters
from core.text import name_key
from indexer.embed import TextEmbedder
from qa.query import Question, parse_question
from qa.specifics import Specific, specifics
from qa.terms import Terms


@dataclass(frozen=True)
class SearchPlan:
    """Everything a question implies for the search; made once per question by `Planner.plan`."""

    question: Question
    filters: SearchFilters | None  # as asked, with the committee spelt as the papers spell it
    decisions_only: bool  # only passages that record a decision
    vector: np.ndarray  # (dimension,) float32: the question's normalised embedding ((0,) when there is none)
    stems: list[str]  # every content stem of the question, in order: what BM25 searches for
    topic: list[str]  # the stems naming what it asks about, without question words or the date words used
    pairs: list[tuple[str, str]]  # adjacent topic stems: its phrases, such as ("famili", "hub")
    named_meetings: frozenset[dt.date]  # indexed meetings the question's dates and months name
    date_limit: frozenset[dt.date] | None  # the meetings the search is limited to; None when the dates limit nothing
    period_docs: frozenset[str]  # reports whose period the question's dates fall in (searched with those meetings)
    allowed: AbstractSet[str]  # ids of the passages the filters, the dates and decisions_only permit (a PassageSet)
    specifics: list[Specific] = field(default_factory=list)  # the periods, years, stages, names it asks about

    @classmethod
    def nothing(cls, question: Question) -> SearchPlan:
        """The plan of a question with nothing to search for (a blank one): it allows no passage."""
        return cls(
            question, None, False, np.zeros(0, np.float32), [], [], [], frozenset(), None, frozenset(), frozenset()
        )


NEXT_MEETING_WORDS = "dates of meetings work programme"


class PassageSet(AbstractSet[str]):
    """A set of one generation's passage ids held as a mask over its vector rows (`IndexSnapshot.vector_rows`).

    Membership and size cost the same at any size of archive, and `rows` hands numpy the rows themselves: the
    exact dense search and BM25's candidates read the mask, where a set of id strings had to be walked in Python
    (at 64x the sample, about 10 ms for a filter allowing 18,000 passages). Immutable; set operations with other
    sets give frozensets.
    """

    __slots__ = ("_ids", "_mask", "_rows_of", "_size")

    def __init__(self, mask: np.ndarray, rows_of: Mapping[str, int], ids: Sequence[str]):
        """`mask`: (rows,) bool; `rows_of`: passage id -> row; `ids`: row -> passage id ("" for a row of none)."""
        self._mask = mask
        self._mask.flags.writeable = False
        self._rows_of = rows_of
        self._ids = ids
        self._size = int(np.count_nonzero(mask))

    def __contains__(self, passage_id: object) -> bool:
        row = self._rows_of.get(passage_id) if isinstance(passage_id, str) else None
        return row is not None and bool(self._mask[row])

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        return (self._ids[row] for row in np.flatnonzero(self._mask).tolist())

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> AbstractSet[Any]:
        return frozenset(it)  # `&`, `|` and `-` with another set: a plain frozenset

    @property
    def mask(self) -> np.ndarray:
        """(rows,) bool, read-only: True at the rows of the set's passages."""
        return self._mask

    @property
    def rows(self) -> np.ndarray:
        """(len,) int64: the set's rows, ascending (the generation's order)."""
        return np.flatnonzero(self._mask)


class Planner:
    """Makes search plans against one index generation: its meetings, report periods and committees.

    `vocabulary` holds the council's words and its committees' (see `CouncilVocabulary`).
    """

    def __init__(
        self,
        passages: Mapping[str, PassageLike],
        documents: Iterable[DocumentRecord],
        embedder: TextEmbedder,
        terms: Terms,
        vocabulary: CouncilVocabulary,
        rows: Mapping[str, int],
        ids: Sequence[str],
    ):
        """`rows`: each passage's row in the generation's vectors (`IndexSnapshot.vector_rows`), which the plans'
        `PassageSet`s are masks over (a passage without a row is never allowed: it has no vector to rank); `ids`: the
        same the other way, row -> passage id, "" for a row of none (`IndexSnapshot.row_ids`)."""
        self.embedder = embedder
        self.terms = terms
        self.meeting_dates = sorted({d for p in passages.values() for d in (p.meeting_date, p.pack_date) if d})
        self.periods = {doc.id: span for doc in documents if (span := period_span(doc.period))}
        self.committees = {name_key(p.committee): p.committee for p in passages.values() if p.committee}
        self.vocabulary = vocabulary
        # Made once a generation, so no question costs a walk over every passage: the searchable rows, the decisions
        # among them, and the rows of each meeting and each document, over the generation's vector rows (`rows`).
        self._rows_of, self._ids = rows, ids
        size = len(ids)
        self._searchable = np.zeros(size, bool)
        self._decisions = np.zeros(size, bool)
        by_meeting: dict[dt.date, list[int]] = {}
        by_document: dict[str, list[int]] = {}  # by document id and by file name (a filter names either)
        # And for filters (SearchFilters): the rows of each committee (name_key), of each kind of paper, and the
        # searchable rows by the meeting they record, in date order.
        by_committee: dict[str, list[int]] = {}
        by_doc_type: dict[str, list[int]] = {}
        recorded: list[tuple[dt.date, int]] = []
        for pid, p in passages.items():
            found = self._rows_of.get(pid)
            if p.boilerplate or found is None:
                continue
            row = found
            self._searchable[row] = True
            self._decisions[row] = bool(p.decision)
            for day in (p.meeting_date, p.pack_date):
                if day:
                    by_meeting.setdefault(day, []).append(row)
            by_document.setdefault(p.doc_id, []).append(row)
            by_document.setdefault(p.file, []).append(row)
            by_committee.setdefault(name_key(p.committee or ""), []).append(row)
            by_doc_type.setdefault(p.doc_type, []).append(row)
            if p.meeting_date:
                recorded.append((p.meeting_date, row))
        self.by_meeting = {day: np.array(rows, np.int64) for day, rows in by_meeting.items()}
        self.by_document = {key: np.array(rows, np.int64) for key, rows in by_document.items()}
        self.by_committee = {key: np.array(rows, np.int64) for key, rows in by_committee.items()}
        self.by_doc_type = {key: np.array(rows, np.int64) for key, rows in by_doc_type.items()}
        recorded.sort()
        self._recorded_days = [day for day, _ in recorded]
        self._recorded_rows = np.array([row for _, row in recorded], np.int64)

    def parse(self, text: str) -> Question:
        """Read a question against the indexed meetings ("last October") and this council's words."""
        return parse_question(text, self.meeting_dates, self.vocabulary.not_names)

    def plan(
        self, question: Question, filters: SearchFilters | None = None, decisions_only: bool = False
    ) -> SearchPlan:
        """Work out what the question implies for the search, once."""
        filters = self.as_papers_name(filters)
        named = frozenset(self.meetings_named(question)) if question.dated else frozenset()
        date_limit, period_docs = self._limits(question, named)
        stems = self.terms.of(question.text)
        if question.next_meeting:
            # The meetings ahead are listed in the work programme, as dates of meetings: search for those words too.
            stems += [t for t in self.terms.of(NEXT_MEETING_WORDS) if t not in stems]
        topic = self._topic(question, date_limit is not None)
        wanted = set(topic)
        in_topic = [t for t in stems if t in wanted]
        pairs = list(dict.fromkeys(itertools.pairwise(in_topic)))
        allowed = self.allowed(filters, date_limit, period_docs, decisions_only)
        return SearchPlan(
            question,
            filters,
            decisions_only,
            self.embedder.embed([question.text])[0],
            stems,
            topic,
            pairs,
            named,
            date_limit,
            period_docs,
            allowed,
            specifics(question),
        )

    def as_papers_name(self, filters: SearchFilters | None) -> SearchFilters | None:
        """The filters with their committee as the papers spell it. Members type committee names in any case, with
        or without the apostrophe, "&" for "and" (`name_key`), or leave words off the end or the start ("... Overview
        and Scrutiny" for "... Overview and Scrutiny Committee"): a name that is part of exactly one committee's name
        is that committee. Unchanged when no committee matches (then nothing is allowed)."""
        if not filters or not filters.committee:
            return filters
        key = name_key(filters.committee)
        named = self.committees.get(key)
        if named is None:
            holding = {name for other, name in self.committees.items() if f" {key} " in f" {other} "}
            named = holding.pop() if len(holding) == 1 else None
        return filters.model_copy(update={"committee": named}) if named else filters

    def allowed(
        self,
        filters: SearchFilters | None,
        date_limit: frozenset[dt.date] | None,
        period_docs: frozenset[str],
        decisions_only: bool = False,
    ) -> PassageSet:
        """The ids `permitted` admits, from the row indexes made once a generation: masks and-ed in numpy, so the cost
        per question is that of a few passes over a bool per passage (at 64x the sample, testing each passage took
        about 30 ms a filtered question, intersecting sets of ids up to 10 ms)."""
        mask = (self._searchable & self._decisions) if decisions_only else self._searchable.copy()
        if filters is not None:
            if filters.committee:
                mask &= self._mask_of(self.by_committee.get(name_key(filters.committee)))
            if filters.doc_type:
                mask &= self._mask_of(self.by_doc_type.get(filters.doc_type))
            if filters.document:
                mask &= self._mask_of(self.by_document.get(filters.document))
            if filters.since or filters.until:
                mask &= self._mask_of(
                    self._recorded_between(filters.since or dt.date.min, filters.until or dt.date.max)
                )
        if date_limit is not None:
            mask &= self._mask_of(
                *(self.by_meeting.get(day) for day in date_limit), *(self.by_document.get(d) for d in period_docs)
            )
        return self._passage_set(mask)

    def _mask_of(self, *rows: np.ndarray | None) -> np.ndarray:
        """(rows,) bool: True at any of these rows."""
        mask = np.zeros(len(self._searchable), bool)
        for some in rows:
            if some is not None:
                mask[some] = True
        return mask

    def _passage_set(self, mask: np.ndarray) -> PassageSet:
        return PassageSet(mask, self._rows_of, self._ids)

    def _recorded_between(self, since: dt.date, until: dt.date) -> np.ndarray:
        """The searchable rows of passages recording a meeting from `since` to `until`, inclusive."""
        start = bisect.bisect_left(self._recorded_days, since)
        end = bisect.bisect_right(self._recorded_days, until)
        return self._recorded_rows[start:end]

    def meetings_named(self, question: Question) -> set[dt.date]:
        """The indexed meeting dates that a question's dates and months pick out."""
        since, until = question.since or dt.date.min, question.until or dt.date.max
        return {
            d for d in self.meeting_dates if since <= d <= until and (not question.months or d.month in question.months)
        }

    def _limits(
        self, question: Question, named: frozenset[dt.date]
    ) -> tuple[frozenset[dt.date] | None, frozenset[str]]:
        """The meetings, and the reports by period, that a question's own dates limit the search to.

        (None, empty) when they pick out nothing indexed: a date the papers hold no meeting or report for is more
        likely a plan or a target year, so everything is searched.
        """
        if not question.dated:
            return None, frozenset()
        since, until = question.since or dt.date.min, question.until or dt.date.max
        docs = frozenset(doc_id for doc_id, (start, end) in self.periods.items() if start <= until and since <= end)
        if question.months and not (question.since or question.until):
            docs = frozenset()  # "the December meeting" is about meetings, not reporting periods
        return (named, docs) if named or docs else (None, frozenset())

    def _topic(self, question: Question, dates_used: bool) -> list[str]:
        """The question's topic stems; its date words drop out when they already picked the meetings."""
        topic = self.terms.topic(question.text, question.decision)
        if not dates_used:
            return topic
        date_stems = set(self.terms.of(" ".join(question.date_words)))
        # A question that is only a date ("2017") has no topic left: nothing can be evidence for it.
        return [t for t in topic if t not in date_stems]


def period_span(period: str | None) -> tuple[dt.date, dt.date] | None:
    """'2014/15' is the financial year April 2014 to March 2015; '2014' the calendar year."""
    if not period:
        return None
    if match := re.fullmatch(r"((?:19|20)\d\d)(?:[/-](\d{2,4}))?", period.strip()):
        year = int(match.group(1))
        if match.group(2):
            return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return None


def permitted(
    passage: PassageLike,
    filters: SearchFilters | None,
    meetings: frozenset[dt.date] | None,
    period_docs: frozenset[str],
    decisions_only: bool = False,
) -> bool:
    """Whether a search may return the passage: never boilerplate, and only what the limits allow.

    `meetings` (when not None) admits passages recording or printed for one of those meetings, and any passage
    of the `period_docs`. Filter dates are inclusive and apply to the meeting a passage records.
    """
    if passage.boilerplate or (decisions_only and not passage.decision):
        return False
    if filters and not passes(passage, filters):
        return False
    return (
        meetings is None or bool({passage.meeting_date, passage.pack_date} & meetings) or passage.doc_id in period_docs
    )


def passes(p: PassageLike, filters: SearchFilters) -> bool:
    """Whether a passage meets the filters (committee as `name_key` matches names; dates of the meeting it records,
    inclusive)."""
    if filters.since and (not p.meeting_date or p.meeting_date < filters.since):
        return False
    if filters.until and (not p.meeting_date or p.meeting_date > filters.until):
        return False
    if filters.committee and name_key(p.committee or "") != name_key(filters.committee):
        return False
    if filters.doc_type and p.doc_type != filters.doc_type:
        return False
    return not filters.document or filters.document in (p.doc_id, p.file)
