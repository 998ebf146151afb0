"""The default answerer: picks the sentences that answer the question and cites each one verbatim, or abstains."""

from __future__ import annotations

import datetime as dt
import re

from qa.citations import cite
from qa.decisions import FoundDecision
from qa.models import Citation, DocumentRecord, Passage
from qa.query import Question
from qa.retrieve import Retrieval
from qa.sentences import Sentence
from qa.settings import AnswerSettings

ABSTAIN_TEXT = "The papers indexed here don't answer this question."
_STATUS_WORDS = {"resolved": "resolved", "not agreed": "not agreed (unresolved)", "deferred": "deferred", "agreed": "agreed"}


def describe(passage: Passage, documents: dict[str, DocumentRecord]) -> str:
    """Where a passage comes from, in words a member would use."""
    section = f" ({passage.section})" if passage.section else ""
    if passage.part == "minutes" and passage.meeting_date:
        return f"The minutes of the meeting of {_long(passage.meeting_date)}{section}"
    if passage.doc_type == "agenda_pack" and passage.pack_date:
        return f"The papers for the meeting of {_long(passage.pack_date)}{section}"
    return f"{documents[passage.doc_id].title}{section}"


def _long(day) -> str:
    return f"{day.day} {day:%B %Y}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text.startswith("The ") else text


def _meeting(passage: Passage) -> dt.date:
    """The date a passage speaks for: the meeting it records, else its pack's, else none (sorted first)."""
    return passage.meeting_date or passage.pack_date or dt.date.min


def _when(passage: Passage, documents: dict[str, DocumentRecord]) -> str:
    if passage.meeting_date or passage.pack_date:
        return _long(_meeting(passage))
    doc = documents[passage.doc_id]
    return doc.period or doc.title


class ExtractiveAnswerer:
    """Composes an answer from verbatim sentences of the retrieved passages; needs no LLM."""

    def __init__(self, settings: AnswerSettings):
        self.settings = settings

    def abstains(self, retrieval: Retrieval) -> bool:
        return not retrieval.candidates or retrieval.evidence < self.settings.abstain_below

    def see_also(self, retrieval: Retrieval, documents: dict[str, DocumentRecord]) -> list[Citation]:
        """The nearest passages, each by its best sentence, for a reader to check by hand."""
        out = []
        for candidate in retrieval.candidates[: self.settings.see_also]:
            if candidate.sentences:
                out.append(self._cite(len(out) + 1, candidate.sentences[0], documents))
        return out

    def answer(self, retrieval: Retrieval, documents: dict[str, DocumentRecord],
               decisions: list[FoundDecision] | None = None) -> tuple[str, list[Citation]]:
        """The answer text and its citations, numbered in the order the text uses them."""
        if retrieval.question.decision and decisions:
            return self._decision_answer(decisions, retrieval.question, documents)
        chosen = self._choose(retrieval)
        if not chosen:
            return ABSTAIN_TEXT, []
        if retrieval.question.across_meetings:
            return self._timeline_answer(chosen, documents)
        citations = [self._cite(i + 1, s, documents) for i, s in enumerate(chosen)]
        lead = f"From {_lower_first(describe(chosen[0].passage, documents))}: “{citations[0].quote}” [1]"
        rest = [f"“{c.quote}” [{c.n}] ({_where(c)})" for c in citations[1:]]
        return "\n".join([lead, *(f"Also: {line}" for line in rest)]), citations

    def _choose(self, retrieval: Retrieval) -> list[Sentence]:
        """The best sentence of each leading passage; for a question across meetings, one passage per meeting."""
        across = retrieval.question.across_meetings
        # Later passages only support the answer when they are nearly as good as the best one;
        # a question about change over time looks further down for the other meetings.
        ratio = self.settings.support_ratio * (0.8 if across else 1.0)
        best_score = retrieval.candidates[0].score
        chosen: list[Sentence] = []
        for rank, candidate in enumerate(retrieval.candidates):
            if len(chosen) >= self.settings.max_quotes or not candidate.sentences:
                continue
            if rank and candidate.score < ratio * best_score:
                break
            if across and any(_meeting(s.passage) == _meeting(candidate.passage) for s in chosen):
                continue
            best = candidate.sentences[0]
            if not chosen or best.score >= ratio * chosen[0].score:
                chosen.append(best)
        return chosen

    def _timeline_answer(self, chosen: list[Sentence], documents: dict[str, DocumentRecord]) -> tuple[str, list[Citation]]:
        """Quotes from several meetings, oldest first."""
        ordered = sorted(chosen, key=lambda s: _meeting(s.passage))
        citations = [self._cite(i + 1, s, documents) for i, s in enumerate(ordered)]
        lines = [f"{_when(s.passage, documents)}: “{c.quote}” [{c.n}] ({_where(c)})" for s, c in zip(ordered, citations)]
        return "\n".join(lines), citations

    def _cite(self, n: int, sentence: Sentence, documents: dict[str, DocumentRecord]) -> Citation:
        start, end = self._window(sentence)
        return cite(n, sentence.passage, start, end, documents, self.settings.url_base)

    def _window(self, sentence: Sentence) -> tuple[int, int]:
        """At most max_quote_words words of the sentence, from its start: a quote stays verbatim."""
        text = sentence.text
        words = list(re.finditer(r"\S+", text))
        if len(words) <= self.settings.max_quote_words:
            return sentence.start, sentence.end
        return sentence.start, sentence.start + words[self.settings.max_quote_words - 1].end()

    def _decision_answer(self, decisions: list[FoundDecision], question: Question,
                         documents: dict[str, DocumentRecord]) -> tuple[str, list[Citation]]:
        """What was decided, when and with what status, oldest first."""
        citations, lines = [], []
        for found in [f for f in decisions if f.sentences][: self.settings.max_quotes]:
            passage = found.passage
            if found.decision.status in ("resolved", "not agreed") and len(passage.text.split()) <= self.settings.max_quote_words:
                # A short RESOLVED block is quoted whole: every point of the decision, not just the closest.
                citation = cite(len(citations) + 1, passage, 0, len(passage.text), documents, self.settings.url_base)
            else:
                citation = self._cite(len(citations) + 1, found.sentences[0], documents)
            citations.append(citation)
            decision = found.decision
            when = _long(decision.meeting_date) if decision.meeting_date else "an undated meeting"
            lines.append(f"On {when} ({decision.section or 'minutes'}), {_STATUS_WORDS[decision.status]}: "
                         f"“{citation.quote}” [{citation.n}]")
        return "\n".join(lines), citations


def _where(c: Citation) -> str:
    label = f"page {c.page_label}" if c.page_label else f"PDF page {c.page}"
    return f"{c.section + ', ' if c.section else ''}{label}"
