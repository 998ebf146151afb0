"""Decisions on a topic: the RESOLVED, UNRESOLVED, agreed and deferred records of the minutes that discuss it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from indexer.passages import AGREED, DEFERRED
from qa.citations import document_ref, page_url
from qa.models import Decision, DocumentRecord, Passage
from qa.query import Question
from qa.retrieve import Candidate, Retrieval, Retriever
from qa.sentences import Sentence

# A minute is about the topic when one of its passages names the topic or is close to it in meaning.
_MIN_COVERAGE = 0.5
_MIN_DENSE = 0.5
# Minutes scoring well below the best match are about something else that shares words with the topic.
_MINUTE_RATIO = 0.85


SEARCH_DEPTH = 15  # passages searched for minutes that discuss the topic


@dataclass
class FoundDecision:
    """A decision with the passage that records it and how close its minute is to the question."""

    decision: Decision
    passage: Passage
    start: int  # the decision's own text within passage.text
    end: int
    sentences: list[Sentence]  # sentences of that text, the one closest to the question first
    relevance: float = 0.0


def find_decisions(retriever: Retriever, retrieval: Retrieval, documents: dict[str, DocumentRecord],
                   url_base: str) -> list[FoundDecision]:
    """Every decision recorded in the minutes that discuss the retrieved topic, oldest first."""
    question = retrieval.question
    minute_scores: dict[tuple[str, str], float] = {}
    for candidate in retrieval.candidates:
        key = _minute_key(candidate.passage)
        if key and _about_topic(candidate):
            minute_scores[key] = max(minute_scores.get(key, 0.0), candidate.score)
    best = max(minute_scores.values(), default=0.0)
    found = [_found(retriever, passage, question, documents, url_base, score)
             for key, score in minute_scores.items() if score >= _MINUTE_RATIO * best
             for passage in _decisions_in(retriever, key)]
    return oldest_first(found)


def decisions_between(retriever: Retriever, question: Question, documents: dict[str, DocumentRecord],
                      url_base: str) -> list[FoundDecision]:
    """Every decision minuted at the meetings a question's dates name ("what did we decide in December 2017?")."""
    days = retriever.meetings_named(question)
    passages = [p for p in retriever.snapshot.passages.values() if p.decision and not p.boilerplate and p.meeting_date in days]
    return oldest_first([_found(retriever, p, question, documents, url_base, 0.0) for p in passages])


def oldest_first(found: list[FoundDecision]) -> list[FoundDecision]:
    """Oldest meeting first; within a meeting, the minute closest to the question, then in minute order."""
    return sorted(found, key=lambda f: (f.passage.dated or dt.date.min, -f.relevance, f.passage.id))


def _found(retriever: Retriever, passage: Passage, question: Question, documents: dict[str, DocumentRecord],
           url_base: str, relevance: float) -> FoundDecision:
    sentences = retriever.rank_sentences(passage, question)
    if _is_record(passage) or not sentences:
        start, end = 0, len(passage.text)
    else:
        # Agreed or deferred in the discussion: the first sentence that records it is the decision.
        own = min((s for s in sentences if _records_decision(s.text)), key=lambda s: s.start, default=sentences[0])
        start, end, sentences = own.start, own.end, [own]
    page = passage.page_at(start)
    decision = Decision(
        meeting_date=passage.meeting_date, committee=passage.committee, minute=passage.minute,
        status=passage.decision_status or "resolved", text=" ".join(passage.text[start:end].split()), page=page.page,
        page_label=page.label, section=passage.section, url=page_url(url_base, passage.doc_id, page.page),
        document=document_ref(documents[passage.doc_id]), passage_id=passage.id,
    )
    return FoundDecision(decision, passage, start, end, sentences, relevance)


def _about_topic(candidate: Candidate) -> bool:
    return candidate.names > 0 or candidate.coverage >= _MIN_COVERAGE or candidate.dense >= _MIN_DENSE


def _minute_key(passage: Passage) -> tuple[str, str] | None:
    if passage.part != "minutes":
        return None
    return passage.doc_id, passage.minute or passage.section or ""


def _decisions_in(retriever: Retriever, key: tuple[str, str]) -> list[Passage]:
    return [p for p in retriever.snapshot.passages.values() if p.decision and not p.boilerplate and _minute_key(p) == key]


def _is_record(passage: Passage) -> bool:
    """A RESOLVED or UNRESOLVED block, as opposed to an agreement or deferral reported in the discussion."""
    return passage.decision_status in ("resolved", "not agreed")


def _records_decision(text: str) -> bool:
    return bool(AGREED.search(text) or DEFERRED.search(text))
