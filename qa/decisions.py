"""Decisions on a topic: the RESOLVED, UNRESOLVED, agreed and deferred records of the minutes that discuss it.

Decision-finding reads the index only through `MinutesIndex` (the decision passages, by minute and by meeting)
and ranks a passage's sentences through the `SentenceScorer`; it never reaches into the retriever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from core.lexicon import AGREED, DEFERRED
from core.records import Decision, FollowUp, Passage, RegisterEntry
from core.text import find_text, same_text
from qa.citations import CitationBuilder
from qa.plan import SearchPlan
from qa.retrieve import Candidate, Retrieval
from qa.sentences import Sentence, SentenceScorer

# A minute is about the topic when one of its passages names the topic or is close to it in meaning.
_MIN_COVERAGE = 0.5
_MIN_DENSE = 0.5
# Minutes scoring well below the best match are about something else that shares words with the topic.
_MINUTE_RATIO = 0.85
# Decisions answer a decision question only when their minutes score this share of the best passage found.
_LEADER_RATIO = 0.8


SEARCH_DEPTH = 15  # passages searched for minutes that discuss the topic
# Of a minute's several decision points, those at least this near the topic as its nearest point belong to the topic's
# timeline (a minute on housing for care leavers holds a point on their council tax: not every point is on topic).
_POINT_RATIO = 0.5

# (one minute's entries) -> (whether the minute as a whole is about the topic, each entry's nearness to it)
PointRelevance = Callable[[list[RegisterEntry]], tuple[bool, list[float]]]

MinuteKey = tuple[str, str]  # (document id, minute number or section): one minute of one set of minutes


@dataclass
class FoundDecision:
    """A decision with the passage that records it and how close its minute is to the question."""

    decision: Decision
    passage: Passage
    start: int  # the decision's own text within passage.text
    end: int
    sentences: list[Sentence]  # sentences of that text, the one closest to the question first
    relevance: float = 0.0
    closeness: float = 0.0  # how well its own words match the question (its best sentence's score), among points


class MinutesIndex:
    """The passages of one index generation that record decisions, by minute and by meeting date."""

    def __init__(self, passages: Iterable[Passage]):
        self._by_minute: dict[MinuteKey, list[Passage]] = {}
        self._by_day: dict[dt.date, list[tuple[int, Passage]]] = {}  # with each passage's place in index order
        for place, passage in enumerate(passages):
            if not passage.decision or passage.boilerplate:
                continue
            key = minute_key(passage)
            if key:
                self._by_minute.setdefault(key, []).append(passage)
            if passage.meeting_date:
                self._by_day.setdefault(passage.meeting_date, []).append((place, passage))
        self._newest_first = sorted(self._by_day, reverse=True)

    def in_minute(self, key: MinuteKey) -> list[Passage]:
        """The decision passages of one minute, in document order."""
        return list(self._by_minute.get(key, []))

    def latest(self, allowed: AbstractSet[str] | None = None) -> dt.date | None:
        """The newest meeting whose minutes record a decision (of the `allowed` passages, when given: a question's
        filters)."""
        return next(
            (d for d in self._newest_first if allowed is None or any(p.id in allowed for _, p in self._by_day[d])), None
        )

    def at_meetings(self, days: Iterable[dt.date], allowed: AbstractSet[str] | None = None) -> list[Passage]:
        """The decision passages recording any of these meetings (and `allowed`, when given), in index order: looked
        up by day, so a question's cost does not grow with the archive's other meetings."""
        found = sorted((e for day in set(days) for e in self._by_day.get(day, [])), key=lambda e: e[0])
        return [p for _, p in found if allowed is None or p.id in allowed]


def minute_key(passage: Passage) -> MinuteKey | None:
    """Which minute a passage of minutes belongs to; None outside minutes."""
    if passage.part != "minutes":
        return None
    return passage.doc_id, passage.minute or passage.section or ""


class DecisionFinder:
    """Finds the decisions that answer a question, as citable records, for one index generation."""

    def __init__(
        self,
        minutes: MinutesIndex,
        sentences: SentenceScorer,
        citations: CitationBuilder,
        register: list[RegisterEntry] | None = None,
        passages: Mapping[str, Passage] | None = None,
        follow: Callable[[RegisterEntry], list[FollowUp]] | None = None,
    ):
        self.minutes = minutes
        self.sentences = sentences
        self.citations = citations
        self.register = register or []
        # The register's entries by minute (document, minute, meeting), each with its place in the register.
        self._points: dict[tuple, list[tuple[int, RegisterEntry]]] = {}
        for n, entry in enumerate(self.register):
            self._points.setdefault((entry.doc_id, entry.minute, entry.meeting_date), []).append((n, entry))
        self.passages = passages or {}
        self.follow = follow  # what happened next to a point (qa.followups), told with it

    def as_points(self, found: list[FoundDecision], plan: SearchPlan) -> list[FoundDecision]:
        """The found decisions as the register's points: each numbered resolution of a block on its own, with its
        own status word, in place of the block (a minute the register holds nothing for keeps what was found)."""
        relevance: dict[tuple, float] = {}
        for f in found:
            key = (f.passage.doc_id, f.passage.minute, f.decision.meeting_date)
            relevance[key] = max(relevance.get(key, 0.0), f.relevance)
        points: list[FoundDecision] = []
        covered = set()
        # The found minutes' entries in register order (looked up by minute, not by a walk of the whole register).
        for _, entry in sorted((p for key in relevance for p in self._points.get(key, [])), key=lambda p: p[0]):
            key = (entry.doc_id, entry.minute, entry.meeting_date)
            passage = self.passages.get(entry.passage_id)
            if passage is None:
                continue
            covered.add(key)
            decision = self.citations.entry(entry, passage.section)
            if self.follow is not None:
                decision.follow_ups = self.follow(entry)
            inside = [s for s in self.sentences.rank(passage, plan) if s.start < entry.end and s.end > entry.start]
            closeness = inside[0].score if inside else 0.0
            points.append(FoundDecision(decision, passage, entry.start, entry.end, inside, relevance[key], closeness))
        rest = [f for f in found if (f.passage.doc_id, f.passage.minute, f.decision.meeting_date) not in covered]
        return self._once(oldest_first(points + rest))

    def on_topic(self, retrieval: Retrieval, answering: bool = True) -> list[FoundDecision]:
        """Every decision recorded in the minutes that discuss the retrieved topic, oldest first. `answering`: for
        an answer, none unless the minutes are nearly the best passages found (else a report answers it); for a
        list of decisions (`qa decisions`), all of them."""
        minute_scores: dict[MinuteKey, float] = {}
        for candidate in retrieval.candidates:
            key = minute_key(candidate.passage)
            if key and _about_topic(candidate):
                minute_scores[key] = max(minute_scores.get(key, 0.0), candidate.score)
        best = max(minute_scores.values(), default=0.0)
        leader = max((c.score for c in retrieval.candidates), default=0.0)
        if answering and best < _LEADER_RATIO * leader:
            return []  # the minutes only touch the topic; a report answers it better than their decisions would
        found = [
            self._found(passage, retrieval.plan, score)
            for key, score in minute_scores.items()
            if score >= _MINUTE_RATIO * best
            for passage in self.minutes.in_minute(key)
        ]
        return self._once(oldest_first(found))

    def at_meetings(self, plan: SearchPlan) -> list[FoundDecision]:
        """Every decision minuted at the meetings a question's dates name ("what did we decide in December 2017?"),
        within its filters."""
        passages = self.minutes.at_meetings(plan.named_meetings, plan.allowed)
        return self._once(oldest_first([self._found(p, plan, 0.0) for p in passages]))

    def _once(self, found: list[FoundDecision]) -> list[FoundDecision]:
        """Each decision once: the same minutes printed in two documents (in the next pack and as printed
        minutes) count once, the other place kept in `also_printed`."""
        kept: list[FoundDecision] = []
        for f in found:
            twin = next(
                (
                    k
                    for k in kept
                    if k.decision.meeting_date == f.decision.meeting_date
                    and k.passage.doc_id != f.passage.doc_id
                    and same_text(k.decision.text, f.decision.text)
                ),
                None,
            )
            if twin is None:
                kept.append(f)
            else:
                twin.decision.also_printed.append(self.citations.printed(f.passage, f.start))
        for f in kept:  # twins the search did not return, as near-duplicates of the passage it kept
            listed = {f.passage.doc_id, *(place.document.id for place in f.decision.also_printed)}
            for passage in self.minutes.at_meetings([f.decision.meeting_date] if f.decision.meeting_date else []):
                if passage.doc_id not in listed and same_text(f.decision.text, passage.text):
                    listed.add(passage.doc_id)
                    start = find_text(f.decision.text, passage.text)
                    f.decision.also_printed.append(self.citations.printed(passage, start))
        return kept

    def _found(self, passage: Passage, plan: SearchPlan, relevance: float) -> FoundDecision:
        sentences = self.sentences.rank(passage, plan)
        if _is_record(passage) or not sentences:
            start, end = 0, len(passage.text)
        else:
            # Agreed or deferred in the discussion: the first sentence that records it is the decision.
            own = min((s for s in sentences if _records_decision(s.text)), key=lambda s: s.start, default=sentences[0])
            start, end, sentences = own.start, own.end, [own]
        decision = self.citations.decision(passage, start, end, passage.decision_status or "resolved")
        return FoundDecision(decision, passage, start, end, sentences, relevance)


def oldest_first(found: list[FoundDecision]) -> list[FoundDecision]:
    """Oldest meeting first; within a meeting, the minute closest to the question, then in minute order."""
    return sorted(found, key=lambda f: (f.passage.dated or dt.date.min, -f.relevance, f.passage.id, f.start))


def points_on_topic(entries: list[RegisterEntry], relevance: PointRelevance) -> list[RegisterEntry]:
    """The register entries of the minutes found on a topic that are about it, in their order: every point of a
    minute that is wholly about the topic (its title names it), else the points nearly as near the topic as the
    minute's nearest (`_POINT_RATIO`). The same minutes printed twice are judged once, alike."""
    by_minute: dict[tuple[dt.date | None, str | None], list[RegisterEntry]] = {}
    for entry in entries:
        by_minute.setdefault((entry.meeting_date, entry.minute), []).append(entry)
    kept: set[int] = set()
    for group in by_minute.values():
        whole, nearness = relevance(group)
        best = max(nearness, default=0.0)
        kept.update(id(e) for e, near in zip(group, nearness, strict=True) if whole or near >= _POINT_RATIO * best)
    return [e for e in entries if id(e) in kept]


def _about_topic(candidate: Candidate) -> bool:
    return candidate.names >= 1.0 or candidate.coverage >= _MIN_COVERAGE or candidate.dense >= _MIN_DENSE


def _is_record(passage: Passage) -> bool:
    """A RESOLVED or UNRESOLVED block, as opposed to an agreement or deferral reported in the discussion."""
    return passage.decision_status in ("resolved", "not agreed")


def _records_decision(text: str) -> bool:
    return bool(AGREED.search(text) or DEFERRED.search(text))
