"""Decisions on a topic: the RESOLVED, UNRESOLVED, agreed and deferred records of the minutes that discuss it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from indexer.passages import AGREED, DEFERRED
from qa.citations import document_ref, page_url
from qa.models import Decision, DocumentRecord, Passage
from qa.retrieve import Candidate, Retrieval, Retriever
from qa.sentences import Sentence

# A minute is about the topic when one of its passages names the topic or is close to it in meaning.
_MIN_COVERAGE = 0.5
_MIN_DENSE = 0.5
# Minutes scoring well below the best match are about something else that shares words with the topic.
_MINUTE_RATIO = 0.85


@dataclass
class FoundDecision:
    decision: Decision
    passage: Passage
    sentences: list[Sentence]  # the record's sentences, the one closest to the question first


SEARCH_DEPTH = 15  # passages searched for minutes that discuss the topic


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
    found: list[tuple[float, FoundDecision]] = []
    for key, score in minute_scores.items():
        if score < _MINUTE_RATIO * best:
            continue
        for passage in _decisions_in(retriever, key):
            sentences = retriever.rank_sentences(passage, question)
            if not _is_record(passage):
                sentences = [s for s in sentences if _records_decision(s.text)] or sentences
            decision = _decision(passage, documents, url_base, sentences)
            found.append((score, FoundDecision(decision, passage, sentences)))
    # Oldest meeting first; within a meeting, the minute closest to the question first.
    found.sort(key=lambda sf: (sf[1].decision.meeting_date or sf[1].passage.pack_date or dt.date.min, -sf[0], sf[1].passage.id))
    return [f for _, f in found]


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


def _decision(passage: Passage, documents: dict[str, DocumentRecord], url_base: str, sentences: list[Sentence]) -> Decision:
    """The whole block for a RESOLVED record; only the sentences that record it for one reported in discussion."""
    if _is_record(passage) or not sentences:
        text, page = passage.text, passage.pages[0]
    else:
        own = sorted((s for s in sentences if _records_decision(s.text)), key=lambda s: s.start) or sentences[:1]
        text, page = "\n".join(s.text for s in own), passage.page_at(own[0].start)
    return Decision(
        meeting_date=passage.meeting_date, committee=passage.committee, minute=passage.minute,
        status=passage.decision_status or "resolved", text=" ".join(text.split()), page=page.page,
        page_label=page.label, section=passage.section, url=page_url(url_base, passage.doc_id, page.page),
        document=document_ref(documents[passage.doc_id]), passage_id=passage.id,
    )
