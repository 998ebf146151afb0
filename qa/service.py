"""The question-answering service the CLI and the API share: retrieve, answer, check, time."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from indexer.embed import Embedder
from indexer.stores import IndexSnapshot, IndexStore, open_snapshot
from qa.answer import ABSTAIN_TEXT, NO_QUESTION_TEXT, ExtractiveAnswerer
from qa.decisions import SEARCH_DEPTH, FoundDecision, decisions_between, find_decisions
from qa.models import Answer, Citation, Decision, DocumentRecord, SearchFilters, Timings
from qa.query import parse_question
from qa.retrieve import Retrieval, Retriever
from qa.settings import Settings
from qa.text import Terms

log = logging.getLogger(__name__)


class NotIndexedError(Exception):
    """Nothing has been indexed in this data directory yet."""


@dataclass
class _Loaded:
    snapshot: IndexSnapshot
    retriever: Retriever


class Answerer(Protocol):
    """An answerer that may replace the extractive answer: text and checked citations, or None to keep it."""

    def answer(self, retrieval: Retrieval, documents: dict[str, DocumentRecord]) -> tuple[str, list[Citation]] | None: ...


class QAService:
    """Answers questions from the current index generation; models are loaded once and reused."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, llm_answerer: Answerer | None = None):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.embedding)
        self.terms = Terms()
        self.extractive = ExtractiveAnswerer(settings.answer)
        self.llm_answerer = llm_answerer if llm_answerer is not None else _llm_answerer(settings)
        self._store = IndexStore(settings)
        self._loaded: _Loaded | None = None

    def warm_up(self) -> None:
        """Load the model and the current index now, so the first question is as fast as the rest."""
        self.embedder.embed(["warm up"])
        if self._store.current_generation() is not None:
            self._current()

    def _current(self) -> _Loaded:
        """The retriever over the published generation, reopened when a new one is published."""
        generation = self._store.current_generation()
        if generation is None:
            raise NotIndexedError(f"nothing is indexed in {self.settings.data_dir}; run `qa index` first")
        if self._loaded is None or self._loaded.snapshot.generation != generation:
            snapshot = open_snapshot(self.settings)
            self._loaded = _Loaded(snapshot, Retriever(self.settings.retrieval, self.embedder, snapshot, self.terms))
        return self._loaded

    def snapshot(self) -> IndexSnapshot:
        """The published index generation answers come from (reopened when a newer one is published)."""
        return self._current().snapshot

    def indexed_files(self) -> dict[str, Path]:
        """Where each indexed document's file is, by file name."""
        return {doc.file: Path(doc.path) for doc in self._current().snapshot.manifest.documents}

    def ask(self, question: str, filters: SearchFilters | None = None, top_k: int | None = None) -> Answer:
        """Answer one question from the papers, or abstain; timed."""
        return self.answer_with_retrieval(question, filters, top_k)[0]

    def answer_with_retrieval(self, question: str, filters: SearchFilters | None = None, top_k: int | None = None,
                              depth: int = 0) -> tuple[Answer, Retrieval]:
        """The answer, and the passages searched for it (at least `depth` of them), for evaluation."""
        started = time.perf_counter()
        if not question.strip():
            return Answer(question=question, answer=NO_QUESTION_TEXT, abstained=True), Retrieval(parse_question(""), [])
        loaded = self._current()
        retriever = loaded.retriever
        documents = loaded.snapshot.documents()
        parsed = parse_question(question, retriever.meeting_dates)
        top_k = top_k or self.settings.retrieval.top_k
        # One search, deep enough for every use: the answer, the minutes on a decision topic, the LLM's passages.
        depth = max(depth, top_k, SEARCH_DEPTH if parsed.decision else 0, self.settings.llm.passages if self.llm_answerer else 0)
        searched = retriever.search(parsed, filters, depth)
        retrieval = Retrieval(parsed, searched.candidates[:top_k])
        abstains = self.extractive.abstains(retrieval)
        decisions: list[FoundDecision] = []
        if parsed.decision and not retriever.topic(parsed) and parsed.dated:
            # "What did we decide in December 2017?": every decision of the meetings named.
            decisions = decisions_between(retriever, parsed, documents, self.settings.answer.url_base)
        elif parsed.decision and not abstains:
            decisions = find_decisions(retriever, searched, documents, self.settings.answer.url_base)
        retrieved = time.perf_counter()
        answer = Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, evidence=retrieval.evidence)
        if decisions or not abstains:
            text, citations = self.extractive.answer(retrieval, documents, decisions)
            answer.answer, answer.citations, answer.abstained = text, citations, not citations
        if answer.abstained:
            answer.answer = ABSTAIN_TEXT
            answer.see_also = self.extractive.see_also(retrieval, documents)
        elif self.llm_answerer is not None:
            generated = self.llm_answerer.answer(Retrieval(parsed, searched.candidates[: self.settings.llm.passages]), documents)
            if generated is not None:
                answer.answer, answer.citations, answer.answerer = generated[0], generated[1], "llm"
        done = time.perf_counter()
        answer.timings_ms = Timings(retrieve=(retrieved - started) * 1000, answer=(done - retrieved) * 1000,
                                    total=(done - started) * 1000)
        return answer, searched

    def decisions(self, topic: str, filters: SearchFilters | None = None) -> list[Decision]:
        """Every decision the minutes record on a topic, oldest first."""
        loaded = self._current()
        question = parse_question(topic, loaded.retriever.meeting_dates)
        question.decision = True
        retrieval = loaded.retriever.search(question, filters, SEARCH_DEPTH)
        found = find_decisions(loaded.retriever, retrieval, loaded.snapshot.documents(), self.settings.answer.url_base)
        return [f.decision for f in found]


def _llm_answerer(settings: Settings) -> Answerer | None:
    if settings.llm.backend == "none":
        return None
    from qa.llm import LLMAnswerer

    return LLMAnswerer(settings.llm, settings.answer)
