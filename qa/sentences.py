"""Quotable sentences of a passage and how well each one answers a question."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from core.lexicon import (
    ATTENDANCE,
    COVER_FIELD,
    DECISION_SENTENCE,
    INSTITUTION_WORDS,
    INSTRUCTION_LIKE,
    MONTH_PATTERN,
    REPORT_ABOUT,
    RESOLUTION_WORDS,
    SALUTATION,
    SIGN_OFF,
)
from core.records import Passage
from core.text import sentence_spans, strip_span
from qa.terms import Terms

if TYPE_CHECKING:
    from qa.plan import SearchPlan
    from qa.query import Question

_HEADING_ONLY = re.compile(rf"^\W*(?:{'|'.join(RESOLUTION_WORDS)})\W*$|^[^.!?]{{0,40}}:\s*$", re.S)
_DIGIT = re.compile(r"\d")
_FULL_DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTH_PATTERN})\b|\b(?:{MONTH_PATTERN})\s+\d{{4}}\b")
_DATE_WORDS = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{{4}}|(?:{MONTH_PATTERN})\s+\d{{4}}|"
    r"(?:19|20)\d\d|by the end of|deadline)\b"
)
_PERSON_WORDS = re.compile(
    r"\b(?:Councillor|Cllr|Chair|Mr|Mrs|Ms|Dr|Director|Head of|Manager|Officer|Lead|presented|introduced)\b"
)
# A named person: a councillor or titled name, a role in brackets, or "Name Surname, ... Director".
_PERSON_NAME = re.compile(
    r"\b(?:Councillors?|Cllr|Mr|Mrs|Ms|Dr|Miss)\.? [A-Z][a-z]+|\([^)]*(?:Chair|Director|Manager|Officer|Lead)[^)]*\)|"
    r"\b[A-Z][a-z]+ [A-Z][a-z'-]+,? (?:[A-Z][a-z]+ )*(?:Director|Manager|Head|Officer|Chair|Lead)"
)
# A figure worth quoting: money, a percentage, thousands, or a count next to a word ("22 posts"),
# not a date or a list number.
_FIGURE = re.compile(rf"£\s?\d|\d\s?%|\d{{1,3}},\d{{3}}|\b\d+(?:\.\d+)?\s+(?!(?:{MONTH_PATTERN})\b)[a-z]{{3,}}")
# Digits that are no count: dates, years and periods, list and paragraph numbers, references to a table or item.
_NOT_COUNTS = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTH_PATTERN})(?:\s+\d{{4}})?\b|\b(?:{MONTH_PATTERN})\s+\d{{4}}\b"
    r"|\b(?:19|20)\d\d(?:\s*[/\-–—]\s*\d{2,4})?\b"
    r"|(?:^|\n)\s*\(?\d+(?:\.\d+)+\)?\s|(?:^|\n)\s*\d+[.)]\s"
    r"|\b(?:table|fig(?:ure)?|item|appendix|section|paragraph|para|page|minute|key stage|ks|year|tier|level|stage)"
    r"\.?\s*\d+(?:\.\d+)*",
    re.I,
)
# Two capitalised words that are not the names of institutions: most likely a person ("Margaret Burke").
_CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z'’]+) ([A-Z][a-z'’-]+)\b")
# A "sentence" longer than this (a cover block or a table row run) is cut at line ends into quotable pieces.
_PIECE_WORDS = 40


@dataclass
class Sentence:
    """A span of a passage's text, in that text's own characters."""

    passage: Passage
    start: int
    end: int
    score: float = 0.0
    coverage: float = 0.0  # share of the question's topic rarity in this sentence

    @property
    def instruction(self) -> bool:
        """Whether the sentence addresses an AI (an injection attempt carried in a document)."""
        return addresses_an_ai(self.text)

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def kind(self) -> str:
        """What the sentence is: "body" (it can answer), or one that may support but never leads an answer
        (see `sentence_kind`)."""
        return sentence_kind(self.text, self.passage)


@lru_cache(maxsize=16384)  # asked of the same candidates' sentences question after question
def addresses_an_ai(text: str) -> bool:
    """Whether `text` addresses an AI or gives the reader orders (core.lexicon.INSTRUCTION_LIKE)."""
    return bool(INSTRUCTION_LIKE.search(text))


def sentence_kind(text: str, passage: Passage | None = None) -> str:
    """ "body", or what keeps a sentence from leading an answer, by its structure: "agenda" (a line of the
    agenda), "cover" (a report's cover-block field), "salutation" or "sign-off" (of a letter), "about" (what a
    report is for: "This report updates members on ..."), "attendance" (who was present), "heading" (a short
    title with no figure and no sentence end)."""
    if passage is not None and passage.part in ("agenda", "front_matter"):
        return "agenda"
    if COVER_FIELD.search(text):
        return "cover"
    if SALUTATION.search(text):
        return "salutation"
    if SIGN_OFF.search(text):
        return "sign-off"
    if REPORT_ABOUT.search(text):
        return "about"
    if ATTENDANCE.search(text):
        return "attendance"
    words = text.split()
    # Numbers in a title ("6. Key Stage 2 (age 11)", "Results 2017") do not make it a fact: a figure or a date does.
    if (
        len(words) <= 10
        and "   " not in text  # cells set apart by wide gaps: a table row, which may hold the answer
        and not _FIGURE.search(text)
        and not _FULL_DATE.search(text)
        and not re.search(r"[.!?:;]\W*$", text)
    ):
        return "heading"
    return "body"


_ASKS_ATTENDANCE = re.compile(r"\b(?:attend\w*|present|apologies|absent)\b", re.I)


def can_lead(sentence: Sentence, question: Question) -> bool:
    """Whether a sentence may lead an answer: a sentence of the body holding a value of the kind asked. An
    attendance list may lead a question about people or attendance, an agenda line one about the meeting itself."""
    kind = sentence.kind
    if (kind == "attendance" and (question.answer_type == "person" or _ASKS_ATTENDANCE.search(question.text))) or (
        kind == "agenda" and question.about_meeting
    ):
        kind = "body"
    return kind == "body" and holds_value(sentence.text, question.answer_type)


def holds_value(text: str, answer_type: str) -> bool:
    """Whether a sentence holds a value of the kind asked for: a figure for a number, a name or role for a
    person, a date for a date, a decision word for a decision. Other kinds are not checked (True)."""
    if answer_type == "number":
        return bool(_DIGIT.search(_NOT_COUNTS.sub(" ", text)))
    if answer_type == "person":
        return bool(_PERSON_NAME.search(text) or _PERSON_WORDS.search(text))
    if answer_type == "date":
        return bool(_DATE_WORDS.search(text))
    if answer_type == "decision":
        return bool(DECISION_SENTENCE.search(text))
    return True


def split_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences; a bare heading such as 'RESOLVED:' joins the sentence after it."""
    return [Sentence(passage, start, end) for start, end in sentence_bounds(passage.text)]


@lru_cache(maxsize=16384)  # a text printed in many packs (and asked about again) is split once
def sentence_bounds(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each of `split_sentences`' sentences of `text`."""
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for span in sentence_spans(text):
        start, end = strip_span(text, span.start, span.end)
        if start >= end:
            continue
        if _HEADING_ONLY.match(text[start:end]):
            pending = start if pending is None else pending
            continue
        out.extend(_pieces(text, pending if pending is not None else start, end))
        pending = None
    if pending is not None:
        out.append(strip_span(text, pending, len(text)))
    return tuple(out)


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A long run cut at line ends into pieces of about _PIECE_WORDS words."""
    if len(text[start:end].split()) <= _PIECE_WORDS:
        return [(start, end)]
    pieces, piece_start, offset = [], start, start
    for line in text[start:end].split("\n"):
        offset += len(line) + 1
        if len(text[piece_start:offset].split()) >= _PIECE_WORDS // 2:
            pieces.append(strip_span(text, piece_start, min(offset, end)))
            piece_start = min(offset, end)
    if piece_start < end and text[piece_start:end].strip():
        pieces.append(strip_span(text, piece_start, end))
    return [(a, b) for a, b in pieces if a < b]


FIGURE_BONUS, WHEN_BONUS, PERSON_BONUS = 0.4, 0.5, 0.4


def _has_name(text: str, institutions: frozenset[str]) -> bool:
    return any(a not in institutions and b not in institutions for a, b in _CAPITALISED_PAIR.findall(text))


class SentenceScorer:
    """Scores sentences for a question by the rare topic words and names they contain and the kind of fact asked.

    `institutions` are the capitalised words that never make a person's name (the lexicon's and the council's).
    """

    def __init__(self, terms: Terms, idf: Callable[[str], float], institutions: frozenset[str] = INSTITUTION_WORDS):
        self.terms = terms
        self.idf = idf
        self.institutions = institutions
        self._sentences: dict[str, list[Sentence]] = {}
        self._stems: dict[tuple[str, int], frozenset[str]] = {}

    def sentences(self, passage: Passage) -> list[Sentence]:
        """The passage's quotable sentences: split once, injection attempts left out."""
        if passage.id not in self._sentences:
            self._sentences[passage.id] = [s for s in split_sentences(passage) if not s.instruction]
        return self._sentences[passage.id]

    def rank(self, passage: Passage, plan: SearchPlan) -> list[Sentence]:
        """The passage's sentences, best answer first (fresh objects, so scores never leak between questions)."""
        question = plan.question
        weights = {t: self.idf(t) for t in plan.topic}
        total = sum(weights.values())
        ranked = []
        for cached in self.sentences(passage):
            sentence = Sentence(passage, cached.start, cached.end)
            key = (passage.id, sentence.start)
            if key not in self._stems:
                self._stems[key] = frozenset(self.terms.of(sentence.text))
            stems = self._stems[key]
            text = sentence.text
            sentence.coverage = score = (
                sum(w * self.terms.covers(t, stems) for t, w in weights.items()) / total if total else 0.0
            )
            if question.names:
                score += 0.5 * sum(n.lower() in text.lower() for n in question.names) / len(question.names)
            if question.figure:
                score += FIGURE_BONUS * bool(_FIGURE.search(text)) or 0.1 * bool(_DIGIT.search(text))
            if question.when and _DATE_WORDS.search(text):
                score += WHEN_BONUS
            if question.person:
                score += 0.2 * bool(_PERSON_WORDS.search(text)) + PERSON_BONUS * (
                    bool(_PERSON_NAME.search(text)) or _has_name(text, self.institutions)
                )
            if question.decision and DECISION_SENTENCE.search(text):
                score += 0.2
            if len(text.split()) < 5:
                score -= 0.3
            sentence.score = score
            ranked.append(sentence)
        ranked.sort(key=lambda s: s.score, reverse=True)
        return ranked
