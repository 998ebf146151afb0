"""The specifics a question asks for (a year, a period, a place, a named body) and whether an answer's passages
meet them: when the papers hold the topic but not the specific, the answer says so (`partial`, `missing`).

A specific is met when the quoted passage or its heading prints it, or, for a year, when the passage records a
meeting of that year or its report covers that period. Only what the question itself names is checked; a
question's topic words are retrieval's business.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.lexicon import COVER_FIELD, MONTH_PATTERN
from core.records import Passage
from qa.query import Question

# "2018/19", "2018-19", "2018/2019": a financial or school year.
_PERIOD = re.compile(r"\b((?:19|20)\d\d)\s*[/\-–—]\s*(\d{2}|(?:19|20)\d\d)\b")
_YEAR = re.compile(r"(?<![/\d\-–—])\b((?:19|20)\d\d)\b(?!\s*[/\-–—]\s*\d)")
_MONTH_YEAR = re.compile(rf"\b({MONTH_PATTERN})\s+((?:19|20)\d\d)\b", re.I)
_OPENS_SPAN = re.compile(r"\b(?:since|after|from|before|until|till|up to|prior to)\s*$", re.I)
# A stage of schooling: "Key Stage 2", "KS4".
_STAGE = re.compile(r"\b(?:key stage|KS)\s*(\d)\b", re.I)
# A breakdown asked for: "by gender", "an ethnic breakdown", "broken down by ward", "split by age".
_BREAKDOWN = re.compile(
    r"\b(?!(?:a|an|the|any|full|further|detailed)\b)(\w{3,}) breakdown\b"
    r"|\bbreak(?:down|s? down|ing down|en down)\b[\w'’/ -]{0,60}? by (?:the )?(\w{3,})"
    r"|\b(?:broken|split)(?: down)? by (?:the )?(\w{3,})",
    re.I,
)


@dataclass(frozen=True)
class Specific:
    """One thing a question names that an answer must speak to."""

    text: str  # as the question gives it, e.g. "2018/19", "Aveley"
    kind: str  # "period", "year", "month", "name", "stage", "breakdown" (the dimension: "gender", "ward")
    start: int = 0  # first year of a period or the year; 0 for a name
    end: int = 0  # last year of a period (2019 for 2018/19)


def specifics(question: Question) -> list[Specific]:
    """The periods, years, months of a year and names the question asks about, in order, each once."""
    text = question.text
    found: list[Specific] = []
    taken: list[tuple[int, int]] = []
    for match in _PERIOD.finditer(text):
        first, second = int(match.group(1)), match.group(2)
        last = int(second) if len(second) == 4 else first + 1 if int(second) == (first + 1) % 100 else -1
        if last in (first + 1, first):
            found.append(Specific(f"{first}/{str(last)[-2:]}", "period", first, last))
            taken.append(match.span())
    for match in _MONTH_YEAR.finditer(text):
        if not any(a <= match.start() < b for a, b in taken):
            year = int(match.group(2))
            found.append(Specific(f"{match.group(1).title()} {year}", "month", year, year))
            taken.append(match.span())
    for match in _YEAR.finditer(text):
        # "since 2014" bounds the search (Question.since); any newer paper meets it.
        opens = _OPENS_SPAN.search(text[: match.start()])
        if not any(a <= match.start() < b for a, b in taken) and not opens:
            year = int(match.group(1))
            found.append(Specific(match.group(1), "year", year, year))
    stages = list(_STAGE.finditer(text))
    for name in question.names:
        # "Key" and "Stage" of "Key Stage 2" are the stage's words, checked as a stage, not names.
        inside_stage = any(name.lower() in match.group(0).lower().split() for match in stages)
        if not any(ch.isdigit() for ch in name) and len(name) >= 3 and not inside_stage:
            found.append(Specific(name, "name"))
    for match in stages:
        found.append(Specific(f"Key Stage {match.group(1)}", "stage", int(match.group(1))))
    for match in _BREAKDOWN.finditer(text):
        by = next(g for g in match.groups() if g)
        found.append(Specific(by.lower(), "breakdown"))
    return list(dict.fromkeys(found))


def met(specific: Specific, passage: Passage, quote: str, period: tuple[dt.date, dt.date] | None = None) -> bool:
    """Whether a cited quote speaks to the specific. A period or year must be printed in the quote or its passage's
    heading, or be the year of the meeting the passage records, or the period of its report; a name may be
    anywhere in the passage."""
    if specific.kind == "name":
        return specific.text.lower() in f"{passage.context}\n{passage.text}".lower()
    if specific.kind == "stage":  # "Key Stage 2" or "KS2" in the quote or its heading
        return bool(re.search(rf"\b(?:key stage|KS)\s*{specific.start}\b", f"{passage.context}\n{quote}", re.I))
    if specific.kind == "breakdown":  # the dimension named in the passage's text, in any form ("ethnic", "ethnicity")
        body = "\n".join(line for line in passage.text.split("\n") if not COVER_FIELD.search(line))
        stem = re.sub(r"(?:icity|ity|ic|s)$", "", specific.text) or specific.text
        return bool(re.search(rf"\b{re.escape(stem)}(?:s|es|d|ed|ing|ic|ity|icity|al)?\b", body, re.I))
    haystack = f"{passage.context}\n{quote}"
    if specific.kind == "period":
        short = str(specific.end)[-2:]
        spellings = (
            rf"{specific.start}\s*[/\-–—]\s*(?:{short}|{specific.end})\b",
            rf"{specific.start}\s+to\s+{specific.end}",
        )
        if any(re.search(p, haystack) for p in spellings):
            return True
        return period is not None and period[0].year == specific.start and period[1].year == specific.end
    years = range(specific.start, specific.end + 1)
    if any(re.search(rf"(?<!\d){year}(?!\d)", haystack) for year in years) and (
        specific.kind == "year" or re.search(rf"\b{specific.text.split()[0]}\b", haystack, re.I)
    ):
        return True
    dated = passage.dated
    if specific.kind == "month":
        return dated is not None and (dated.year, dated.strftime("%B")) == (specific.start, specific.text.split()[0])
    return (dated is not None and dated.year in years) or (period is not None and period[1].year in years)


def unmet(
    asked: list[Specific],
    cited: list[tuple[Passage, str]],
    periods: dict[str, tuple[dt.date, dt.date]],
    dates: bool = True,
) -> list[str]:
    """The periods, stages, breakdowns (and months and years when `dates`) of a question's specifics (`asked`,
    from `specifics`) that none of the answer's quotes, with their passages, meets, as the question gives them.
    Names are not checked here: whether the papers print a name at all is the index vocabulary's question
    (`SpellingCorrector.prints`)."""
    if not cited:
        return []
    checked = [
        s for s in asked if s.kind in ("period", "breakdown", "stage") or (dates and s.kind in ("year", "month"))
    ]
    return [
        s.text
        for s in checked
        if not any(met(s, passage, quote, periods.get(passage.doc_id)) for passage, quote in cited)
    ]


def not_given(missing: list[str]) -> str:
    """'The papers don't give 2018/19' (and 'X or Y' for two or more)."""
    named = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + f" or {missing[-1]}"
    return f"The papers don't give {named}"


def share_met(question_specifics: list[Specific], passage: Passage, quote: str) -> float:
    """The share of a question's specifics (not its names) that a passage's sentence meets; 1.0 when it asks none:
    a ranking signal, so that a Key Stage 4 page does not answer a Key Stage 2 question."""
    checked = [s for s in question_specifics if s.kind != "name"]
    if not checked:
        return 1.0
    return sum(met(s, passage, quote) for s in checked) / len(checked)
