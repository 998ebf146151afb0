"""Understand a member's question: when it is about, whether it asks for a decision, which names it uses."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from core.lexicon import (
    ASKS_DATE,
    ASKS_FINDINGS,
    ASKS_LIST,
    ASKS_MEETING,
    ASKS_NEXT_MEETING,
    ASKS_NUMBER,
    ASKS_PERSON,
    ASKS_PLACE,
    ASKS_REASON,
    ASKS_RECENT,
    ASKS_YES_NO,
    DECISION_QUESTION,
    LAST_MEETING,
    MONTH_WORD_PATTERN,
    MONTHS,
    NOT_NAMES,
)

_MONTH = MONTH_WORD_PATTERN
_FULL_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+((?:19|20)\d\d)\b", re.I)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+((?:19|20)\d\d)\b", re.I)
_LAST_MONTH = re.compile(rf"\b(?:last|previous|this)\s+{_MONTH}\b", re.I)
_MONTH_MEETING = re.compile(
    rf"\b(?:the|in|at)\s+{_MONTH}(?:'s)?\s+(?:meeting|committee|minutes|papers?|agenda)\b", re.I
)
# "2016/17" or "2016-17" is a financial year the papers talk about, not a meeting date.
_YEAR = re.compile(r"(?<![/\d\-–—])\b((?:19|20)\d\d)\b(?![/\-–—]\d)")
_FIGURE = re.compile(
    r"\b(?:how (?:many|much)|number of|percentage|per ?cent|proportion|rate|cost|budget|spend|figure|total|£)", re.I
)
_PERSON = re.compile(r"\b(?:who|whom|whose|chair(?:ed|man|woman)?|officer|councillor|cllr|director|presented)\b", re.I)
_ACROSS_MEETINGS = re.compile(
    r"\b(?:over (?:the|recent) (?:years|months|meetings)|over time|each year|every year|year on year|changed?|changing|"
    r"trends?|history|so far|across (?:the )?meetings|between (?:the )?(?:years|meetings)|since \d{4}|timeline)\b",
    re.I,
)
_WHEN = re.compile(r"\bwhen\b", re.I)
_PERIOD = re.compile(r"\b(?:19|20)\d\d\s*[/\-–—]\s*\d{2,4}\b")
# A year that opens or closes a span: "since 2014", "before 2018".
_OPEN_YEAR = re.compile(
    r"\b(since|after|from|before|until|till|up to|prior to)\s+((?:19|20)\d\d)\b(?!\s*(?:to|and|-|–)\s*\d)", re.I
)
_WHY = re.compile(r"^\W*(?:why|what (?:was|were|is|are) the reasons?)\b", re.I)
# Quote marks only at word edges, so the apostrophe in "committee's" opens no quotation.
_QUOTED = re.compile(r"(?<!\w)[\"“'‘]([^\"”’]{3,}?)[\"”'’](?!\w)")


@dataclass
class Question:
    """A question with what retrieval and answering need to know about it."""

    text: str
    since: dt.date | None = None  # a date range the question names ("in 2017", "the July 2021 meeting")
    until: dt.date | None = None
    months: set[int] = field(default_factory=set)  # a month named without a year ("the December meeting")
    decision: bool = False
    figure: bool = False
    person: bool = False
    when: bool = False
    across_meetings: bool = False  # asks how something developed over several meetings
    answer_type: str = "other"  # what kind of thing it asks for: one of core.lexicon.ANSWER_TYPES
    recency: bool = False  # about now ("who is", "current", "latest", "next meeting"): the newest papers answer it
    last_meeting: bool = False  # names the newest minuted meeting ("at its last meeting")
    about_meeting: bool = False  # asks about a meeting itself (venue, time, agenda, apologies): the agenda answers
    next_meeting: bool = False  # asks when the committee meets next: the newest work programme answers
    names: list[str] = field(default_factory=list)  # places, services, people and acronyms to match exactly
    date_words: list[str] = field(default_factory=list)  # the words that gave the dates, e.g. ["December 2017"]

    @property
    def dated(self) -> bool:
        return bool(self.since or self.until or self.months)


def parse_question(
    text: str, meeting_dates: list[dt.date] | None = None, not_names: frozenset[str] = NOT_NAMES
) -> Question:
    """Read dates, intent and names out of a question; relative months resolve against the indexed meetings.

    `not_names` are the capitalised words never taken as names to match (the lexicon's, plus the council's
    and its committees' words from a CouncilVocabulary).
    """
    question = Question(text=text.strip())
    _read_dates(question, meeting_dates or [])
    question.decision = bool(DECISION_QUESTION.search(text))
    question.figure = bool(_FIGURE.search(text))
    question.person = bool(_PERSON.search(text))
    question.when = bool(_WHEN.search(text))
    question.across_meetings = bool(_ACROSS_MEETINGS.search(text))
    question.answer_type = answer_type(text, question.decision)
    question.recency = bool(ASKS_RECENT.search(text)) and not question.dated
    question.last_meeting = bool(LAST_MEETING.search(text)) and not question.dated
    question.about_meeting = bool(ASKS_MEETING.search(text))
    question.next_meeting = bool(ASKS_NEXT_MEETING.search(text))
    question.recency = question.recency or question.next_meeting
    question.names = _names(text, not_names)
    return question


def answer_type(text: str, decision: bool = False) -> str:
    """What kind of thing a question asks for (core.lexicon.ANSWER_TYPES), by its wording: the first that fits of
    a number, a person, a date, a place, a decision, a reason, findings, a list, yes or no; else "other"."""
    if _WHY.match(text):
        return "reason"
    for kind, pattern in (
        ("number", ASKS_NUMBER),
        ("person", ASKS_PERSON),
        ("date", ASKS_DATE),
        ("place", ASKS_PLACE),
    ):
        if pattern.search(text):
            return kind
    if decision:
        return "decision"
    for kind, pattern in (("reason", ASKS_REASON), ("findings", ASKS_FINDINGS), ("list", ASKS_LIST)):
        if pattern.search(text):
            return kind
    return "yes_no" if ASKS_YES_NO.search(text) else "other"


def _read_dates(question: Question, meeting_dates: list[dt.date]) -> None:
    text = question.text
    if match := _FULL_DATE.search(text):
        day = _date(int(match.group(3)), MONTHS[match.group(2).lower()[:3]], int(match.group(1)))
        if day:
            question.since = question.until = day
            question.date_words.append(match.group(0))
            return
    if match := _MONTH_YEAR.search(text):
        year, month = int(match.group(2)), MONTHS[match.group(1).lower()[:3]]
        question.since = dt.date(year, month, 1)
        question.until = dt.date(year, month, calendar.monthrange(year, month)[1])
        question.date_words.append(match.group(0))
        return
    if match := _LAST_MONTH.search(text) or _MONTH_MEETING.search(text):
        month = MONTHS[match.group(1).lower()[:3]]
        question.date_words.append(match.group(1))
        latest = max((d for d in meeting_dates if d.month == month), default=None)
        if latest and match.re is _LAST_MONTH:
            # "last October" is the most recent October meeting in the papers.
            question.since = dt.date(latest.year, month, 1)
            question.until = dt.date(latest.year, month, calendar.monthrange(latest.year, month)[1])
        else:
            question.months = {month}
        if years := _YEAR.findall(text):
            question.since, question.until = dt.date(int(min(years)), 1, 1), dt.date(int(max(years)), 12, 31)
            question.date_words += years
        return
    if years := _YEAR.findall(text):
        question.since, question.until = dt.date(int(min(years)), 1, 1), dt.date(int(max(years)), 12, 31)
        question.date_words += years
        if len(set(years)) == 1 and (match := _OPEN_YEAR.search(text)):
            # "since 2014" runs to the newest papers; "before 2018" from the oldest.
            year, word = int(match.group(2)), match.group(1).lower()
            if word in ("before", "prior to"):
                question.since, question.until = None, dt.date(year - 1, 12, 31)
            elif word in ("until", "till", "up to"):
                question.since, question.until = None, dt.date(year, 12, 31)
            else:
                question.since, question.until = dt.date(year + (word == "after"), 1, 1), None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _names(text: str, not_names: frozenset[str]) -> list[str]:
    """Quoted phrases, capitalised words not opening the question, acronyms and numbers like 'Item 7'."""
    names = [m.group(1).strip() for m in _QUOTED.finditer(text)]
    text = _PERIOD.sub(" ", text)  # "2019/20" is a period (qa.specifics checks it), not the names "2019" and "20"
    words = re.findall(r"[A-Za-z][A-Za-z'&.-]*[A-Za-z]|\d+(?:\.\d+)?%?", text)
    for i, word in enumerate(words):
        bare = word.rstrip(".").removesuffix("'s")
        if bare.lower() in not_names:
            continue
        acronym = bare.isupper() and len(bare) >= 2
        proper_noun = bare[0].isupper() and i > 0  # a capital that does not just open the question
        number = any(c.isdigit() for c in bare) and not _YEAR.fullmatch(bare)  # "Item 7", "22%"; years are dates
        if (acronym or proper_noun or number) and bare not in names:
            names.append(bare)
    return names
