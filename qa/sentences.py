"""Quotable sentences of a passage and how well each one answers a question."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from indexer.passages import sentence_spans, strip_span
from qa.models import Passage
from qa.query import Question
from qa.text import Terms

_HEADING_ONLY = re.compile(r"^\W*(?:UN)?RESOLVED\W*$|^[^.!?]{0,40}:\s*$", re.S)
_DIGIT = re.compile(r"\d")
_DATE_WORDS = re.compile(r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}|(?:January|February|March|April|May|June|July|"
                         r"August|September|October|November|December)\s+\d{4}|(?:19|20)\d\d|by the end of|deadline)\b")
_PERSON_WORDS = re.compile(r"\b(?:Councillor|Cllr|Chair|Mr|Mrs|Ms|Dr|Director|Head of|Manager|Officer|Lead|presented|introduced)\b")
# A named person: a councillor or titled name, a role in brackets, or "Name Surname, ... Director".
_PERSON_NAME = re.compile(r"\b(?:Councillors?|Cllr|Mr|Mrs|Ms|Dr|Miss)\.? [A-Z][a-z]+|\([^)]*(?:Chair|Director|Manager|Officer|Lead)[^)]*\)|"
                          r"\b[A-Z][a-z]+ [A-Z][a-z'-]+,? (?:[A-Z][a-z]+ )*(?:Director|Manager|Head|Officer|Chair|Lead)")
# A figure worth quoting: money, a percentage, thousands, or a count next to a word ("22 posts"), not a date or a list number.
_FIGURE = re.compile(r"£\s?\d|\d\s?%|\d{1,3},\d{3}|\b\d+(?:\.\d+)?\s+(?!(?:January|February|March|April|May|June|July|August|"
                     r"September|October|November|December)\b)[a-z]{3,}")
# Two capitalised words that are not the names of institutions: most likely a person ("Margaret Burke").
_INSTITUTION_WORDS = {
    "Children", "Children's", "Childrens", "Services", "Service", "Council", "Committee", "Local", "Authority", "Social", "Care",
    "Thurrock", "Education", "Health", "Board", "Scrutiny", "Overview", "Majesty's", "Chief", "Inspector", "Her", "His", "The",
    "Young", "People", "People's", "Ofsted", "Family", "Families", "Safeguarding", "Partnership", "Corporate", "Assistant",
    "Team", "Plan", "Report", "Review", "School", "Schools", "Academy", "Centre", "Group", "Unit", "Trust", "Youth", "Cabinet",
    "Annual", "Strategic", "Early", "Help", "Special", "Educational", "Needs", "Executive", "Summary", "Appendix", "Item",
    "Agenda", "Page", "Key", "Stage", "Public", "County", "National", "England", "Borough", "Head", "Director", "Manager",
    "Officer", "Lead", "Adult", "Adults", "Mental", "Police", "Essex", "Work", "Programme", "Development", "Improvement",
}
_CAPITALISED_PAIR = re.compile(r"\b([A-Z][a-z'’]+) ([A-Z][a-z'’-]+)\b")
_DECISION_WORDS = re.compile(r"\b(?:RESOLVED|agreed|approved|noted|deferred|recommend\w*|endorsed|requested)\b", re.I)
# Text that addresses the reader as a model or gives it orders: an injection attempt, never evidence, never quoted.
INSTRUCTION_LIKE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:instructions?|rules|prompt|above|previous)\b|\bsystem prompt\b|"
    r"\byou are (?:now )?(?:an?|the) (?:ai|assistant|model|chatbot|language model)\b|\bnew instructions\b|\bas instructed\b|"
    r"\b(?:ai|assistant|chatbot|llm|language model)s?\b[^.]{0,40}\b(?:must|should|will|please) (?:say|reply|answer|respond|state|tell)\b|"
    # A directive to the reader ("..., state that ...", "please say that ..."), not a report of what someone said.
    r"(?:^|[,;:]\s*|\b(?:please|must|should)\s+)(?:state|say|reply|respond|answer|write|tell \w+)\s+that\b",
    re.I | re.M)
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
        return bool(INSTRUCTION_LIKE.search(self.text))

    @property
    def text(self) -> str:
        return self.passage.text[self.start : self.end]


def split_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences; a bare heading such as 'RESOLVED:' joins the sentence after it."""
    out: list[Sentence] = []
    pending: int | None = None
    for span in sentence_spans(passage.text):
        start, end = strip_span(passage.text, span.start, span.end)
        if start >= end:
            continue
        if _HEADING_ONLY.match(passage.text[start:end]):
            pending = start if pending is None else pending
            continue
        out.extend(_pieces(passage, pending if pending is not None else start, end))
        pending = None
    if pending is not None:
        out.append(Sentence(passage, *strip_span(passage.text, pending, len(passage.text))))
    return out


def _pieces(passage: Passage, start: int, end: int) -> list[Sentence]:
    """A long run cut at line ends into pieces of about _PIECE_WORDS words."""
    text = passage.text
    if len(text[start:end].split()) <= _PIECE_WORDS:
        return [Sentence(passage, start, end)]
    pieces, piece_start, offset = [], start, start
    for line in text[start:end].split("\n"):
        offset += len(line) + 1
        if len(text[piece_start:offset].split()) >= _PIECE_WORDS // 2:
            pieces.append(Sentence(passage, *strip_span(text, piece_start, min(offset, end))))
            piece_start = min(offset, end)
    if piece_start < end and text[piece_start:end].strip():
        pieces.append(Sentence(passage, *strip_span(text, piece_start, end)))
    return [p for p in pieces if p.start < p.end]


FIGURE_BONUS, WHEN_BONUS, PERSON_BONUS = 0.4, 0.5, 0.4


def _has_name(text: str) -> bool:
    return any(a not in _INSTITUTION_WORDS and b not in _INSTITUTION_WORDS for a, b in _CAPITALISED_PAIR.findall(text))


class SentenceScorer:
    """Scores sentences for a question by the rare topic words and names they contain and the kind of fact asked."""

    def __init__(self, terms: Terms, idf: Callable[[str], float]):
        self.terms = terms
        self.idf = idf
        self._sentences: dict[str, list[Sentence]] = {}
        self._stems: dict[tuple[str, int], frozenset[str]] = {}

    def sentences(self, passage: Passage) -> list[Sentence]:
        """The passage's quotable sentences: split once, injection attempts left out."""
        if passage.id not in self._sentences:
            self._sentences[passage.id] = [s for s in split_sentences(passage) if not s.instruction]
        return self._sentences[passage.id]

    def rank(self, passage: Passage, question: Question, topic: list[str]) -> list[Sentence]:
        """The passage's sentences, best answer first (fresh objects, so scores never leak between questions)."""
        weights = {t: self.idf(t) for t in topic}
        total = sum(weights.values())
        ranked = []
        for cached in self.sentences(passage):
            sentence = Sentence(passage, cached.start, cached.end)
            key = (passage.id, sentence.start)
            if key not in self._stems:
                self._stems[key] = frozenset(self.terms.of(sentence.text))
            stems = self._stems[key]
            text = sentence.text
            sentence.coverage = score = sum(w * self.terms.covers(t, stems) for t, w in weights.items()) / total if total else 0.0
            if question.names:
                score += 0.5 * sum(n.lower() in text.lower() for n in question.names) / len(question.names)
            if question.figure:
                score += FIGURE_BONUS * bool(_FIGURE.search(text)) or 0.1 * bool(_DIGIT.search(text))
            if question.when and _DATE_WORDS.search(text):
                score += WHEN_BONUS
            if question.person:
                score += 0.2 * bool(_PERSON_WORDS.search(text)) + PERSON_BONUS * (bool(_PERSON_NAME.search(text)) or _has_name(text))
            if question.decision and _DECISION_WORDS.search(text):
                score += 0.2
            if len(text.split()) < 5:
                score -= 0.3
            sentence.score = score
            ranked.append(sentence)
        ranked.sort(key=lambda s: s.score, reverse=True)
        return ranked
