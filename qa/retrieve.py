"""Hybrid retrieval: Chroma and BM25 candidates fused by reciprocal rank, then re-scored for the question."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np

from indexer.embed import Embedder
from indexer.stores import IndexSnapshot, embedding_text
from qa.models import Passage, SearchFilters
from qa.query import Question
from qa.settings import RetrievalSettings
from qa.sentences import Sentence, SentenceScorer
from qa.text import Terms


@dataclass
class Candidate:
    """A passage with the evidence that it answers the question."""

    passage: Passage
    score: float = 0.0
    dense: float = 0.0  # cosine similarity of question and passage
    lexical: float = 0.0  # BM25 score
    coverage: float = 0.0  # share of the question's topic stems found in the passage
    names: float = 0.0  # share of the question's names found verbatim in the passage
    phrases: float = 0.0  # share of the question's word pairs ("family hubs") found side by side in the passage
    sentences: list[Sentence] = field(default_factory=list)  # the passage's sentences, best answer first

    @property
    def evidence(self) -> float:
        """How strongly this passage speaks to the question; what abstention is calibrated on.

        Meaning, the question's rare words in the passage and in one sentence of it, and its phrases:
        a passage that merely shares the question's subject ("family" and "hubs" apart) rarely has
        one sentence holding all its rare words, or the words side by side.
        """
        sentence = max((s.coverage for s in self.sentences), default=0.0)
        return 0.5 * (0.4 * self.dense + 0.3 * self.coverage + 0.3 * sentence) + 0.5 * self.phrases


@dataclass
class Retrieval:
    """The candidates for one question, best first."""

    question: Question
    candidates: list[Candidate]  # best first, near-duplicates removed

    @property
    def evidence(self) -> float:
        return max((c.evidence for c in self.candidates[:3]), default=0.0)


class Retriever:
    """Searches one index snapshot; built once and reused across questions."""

    def __init__(self, settings: RetrievalSettings, embedder: Embedder, snapshot: IndexSnapshot, terms: Terms | None = None):
        self.settings = settings
        self.embedder = embedder
        self.snapshot = snapshot
        self.terms = terms or Terms()
        self._stems: dict[str, tuple[frozenset[str], frozenset[tuple[str, str]]]] = {}
        self.meeting_dates = sorted({d for p in snapshot.passages.values() for d in (p.meeting_date, p.pack_date) if d})
        self.periods = {doc.id: span for doc in snapshot.manifest.documents if (span := period_span(doc.period))}
        self.committees = {p.committee.lower(): p.committee for p in snapshot.passages.values() if p.committee}
        self._idf = self._inverse_document_frequencies()
        self.sentence_scorer = SentenceScorer(self.terms, self.idf)

    def _inverse_document_frequencies(self) -> dict[str, float]:
        counts: dict[str, int] = {}
        for passage in self.snapshot.passages.values():
            for term in self.passage_terms(passage):
                counts[term] = counts.get(term, 0) + 1
        total = max(1, len(self.snapshot.passages))
        return {term: math.log((total + 1) / (n + 0.5)) for term, n in counts.items()}

    def idf(self, term: str) -> float:
        """Rarity of a stem; one the papers never use counts as rarer than any they do."""
        return self._idf.get(term, math.log((len(self.snapshot.passages) + 1) / 0.5))

    def coverage(self, topic: list[str], terms: frozenset[str] | set[str]) -> float:
        """The share of the topic's rarity found in `terms`: missing rare words weigh most."""
        weights = [self.idf(t) for t in topic]
        return sum(w * self.terms.covers(t, terms) for t, w in zip(topic, weights)) / sum(weights) if topic else 0.0

    def passage_terms(self, passage: Passage) -> frozenset[str]:
        return self._passage_stems(passage)[0]

    def passage_pairs(self, passage: Passage) -> frozenset[tuple[str, str]]:
        """Adjacent stems of the passage (stop words skipped), for matching the question's phrases."""
        return self._passage_stems(passage)[1]

    def _passage_stems(self, passage: Passage) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """The passage's stems and its adjacent pairs of them, from one pass over its text."""
        if passage.id not in self._stems:
            stems = self.terms.of(embedding_text(passage))
            self._stems[passage.id] = (frozenset(stems), frozenset(zip(stems, stems[1:])))
        return self._stems[passage.id]

    def topic_pairs(self, question: Question, topic: list[str]) -> list[tuple[str, str]]:
        """The question's adjacent topic stems: its phrases, such as ("famili", "hub")."""
        wanted = set(topic)
        stems = [t for t in self.terms.of(question.text) if t in wanted]
        return list(dict.fromkeys(zip(stems, stems[1:])))

    def phrase_coverage(self, pairs: list[tuple[str, str]], passage: Passage, coverage: float) -> float:
        """The rarity-weighted share of the question's phrases printed in the passage; its word coverage for a one-word topic."""
        if not pairs:
            return coverage
        found = self.passage_pairs(passage)
        weights = [self.idf(a) + self.idf(b) for a, b in pairs]
        return sum(w for pair, w in zip(pairs, weights) if pair in found) / sum(weights)

    def search(self, question: Question, filters: SearchFilters | None = None, top_k: int | None = None,
               decisions_only: bool = False) -> Retrieval:
        top_k = top_k or self.settings.top_k
        allowed = self._allowed(filters, question, decisions_only)
        if not allowed:
            return Retrieval(question, [])
        vector = self.embedder.embed([question.text])[0]
        dense_ids = self._dense(vector, filters, question, decisions_only, allowed)
        lexical_ids, lexical_scores = self._lexical(question.text, allowed)
        fused: dict[str, float] = {}
        for weight, ids in ((self.settings.dense_weight, dense_ids), (self.settings.lexical_weight, lexical_ids)):
            for rank, pid in enumerate(ids):
                fused[pid] = fused.get(pid, 0.0) + weight / (self.settings.rrf_k + rank + 1)
        best_possible = (self.settings.dense_weight + self.settings.lexical_weight) / (self.settings.rrf_k + 1)
        topic = self.topic(question)
        pairs = self.topic_pairs(question, topic)
        days = self._question_dates(question)[0]
        candidates = [self._rescore(pid, fused[pid] / best_possible, vector, lexical_scores.get(pid, 0.0), question, topic,
                                    pairs, days) for pid in fused]
        candidates.sort(key=lambda c: c.score, reverse=True)
        # Re-score the leaders by their single best sentence: an answer is usually one sentence, not a whole passage.
        leaders = candidates[: max(self.settings.rerank_depth, top_k)]
        for candidate in leaders:
            candidate.sentences = self.rank_sentences(candidate.passage, question, topic)
            if candidate.sentences:
                candidate.score += self.settings.sentence_weight * candidate.sentences[0].score
        leaders.sort(key=lambda c: c.score, reverse=True)
        return Retrieval(question, self._without_near_duplicates(leaders, top_k))

    def rank_sentences(self, passage: Passage, question: Question, topic: list[str] | None = None) -> list[Sentence]:
        return self.sentence_scorer.rank(passage, question, self.topic(question) if topic is None else topic)

    def topic(self, question: Question) -> list[str]:
        """The question's topic stems; its date words drop out when they already picked the meetings."""
        topic = self.terms.topic(question.text, question.decision)
        if self._question_dates(question)[0] is None:
            return topic
        date_stems = set(self.terms.of(" ".join(question.date_words)))
        # A question that is only a date ("2017") has no topic left: nothing can be evidence for it.
        return [t for t in topic if t not in date_stems]

    # ---- candidate generation
    def _allowed(self, filters: SearchFilters | None, question: Question, decisions_only: bool) -> set[str]:
        """Ids of the passages the filters and the question's dates permit (boilerplate never)."""
        days, period_docs = self._question_dates(question)
        allowed = set()
        for pid, p in self.snapshot.passages.items():
            if p.boilerplate or (decisions_only and not p.decision):
                continue
            if filters and not _passes(p, filters):
                continue
            if days is not None and not ({p.meeting_date, p.pack_date} & days or p.doc_id in period_docs):
                continue
            allowed.add(pid)
        return allowed

    def meetings_named(self, question: Question) -> set[dt.date]:
        """The indexed meeting dates that a question's dates and months pick out."""
        since, until = question.since or dt.date.min, question.until or dt.date.max
        return {d for d in self.meeting_dates if since <= d <= until and (not question.months or d.month in question.months)}

    def _question_dates(self, question: Question) -> tuple[set[dt.date] | None, set[str]]:
        """The meeting dates, and the documents whose period, a question's own date words pick out.

        (None, ...) when they pick out nothing indexed: a date the papers hold no meeting or report for is
        more likely a plan or a target year, so everything is searched.
        """
        if not question.dated:
            return None, set()
        since, until = question.since or dt.date.min, question.until or dt.date.max
        days = self.meetings_named(question)
        docs = {doc_id for doc_id, (start, end) in self.periods.items() if start <= until and since <= end}
        if question.months and not (question.since or question.until):
            docs = set()  # "the December meeting" is about meetings, not reporting periods
        return (days, docs) if days or docs else (None, set())

    def _dense(self, vector: np.ndarray, filters: SearchFilters | None, question: Question, decisions_only: bool,
               allowed: set[str]) -> list[str]:
        if filters and filters.committee:
            # Chroma matches exactly; members type committee names in any case.
            filters = filters.model_copy(update={"committee": self.committees.get(filters.committee.lower(), filters.committee)})
        where = _chroma_where(filters, *self._question_dates(question), decisions_only)
        result = self.snapshot.collection.query(query_embeddings=[vector.tolist()], n_results=self.settings.candidates,
                                                where=where, include=[])
        return [pid for pid in result["ids"][0] if pid in allowed]

    def _lexical(self, text: str, allowed: set[str]) -> tuple[list[str], dict[str, float]]:
        tokens = [alt for token in self.terms.of(text) for alt in sorted(self.terms.alternatives(token))]
        if self.snapshot.lexical is None or not tokens:
            return [], {}
        scores = self.snapshot.lexical.get_scores(tokens)
        ids = self.snapshot.lexical_ids
        order = np.argsort(-scores)
        ranked = []
        for i in order:
            if scores[i] <= 0 or len(ranked) >= self.settings.candidates:
                break
            if ids[i] in allowed:
                ranked.append(ids[i])
        return ranked, {ids[i]: float(scores[i]) for i in order[: 4 * self.settings.candidates]}

    # ---- re-scoring
    def _rescore(self, pid: str, fused: float, vector: np.ndarray, lexical: float, question: Question,
                 topic: list[str], pairs: list[tuple[str, str]], days: set[dt.date] | None) -> Candidate:
        passage = self.snapshot.passages[pid]
        dense = float(self.snapshot.vectors[self.snapshot.vector_rows[pid]] @ vector)
        terms = self.passage_terms(passage)
        coverage = self.coverage(topic, terms)
        haystack = f"{passage.context}\n{passage.text}".lower()
        names = sum(n.lower() in haystack for n in question.names) / len(question.names) if question.names else 0.0
        phrases = self.phrase_coverage(pairs, passage, coverage)
        score = (fused + self.settings.similarity_weight * dense + self.settings.coverage_weight * coverage
                 + self.settings.name_boost * names + self.settings.phrase_weight * phrases)
        if passage.part == "agenda":
            score -= self.settings.agenda_penalty  # the agenda lists topics; the answer is in the item itself
        if question.decision:
            score += self.settings.decision_boost * passage.decision + self.settings.minutes_boost * (passage.part == "minutes")
        if days and passage.meeting_date in days:
            # Dates name meetings: the minutes of an earlier meeting printed in that meeting's pack only match its pack.
            score += self.settings.meeting_date_boost
        return Candidate(passage, score, dense, lexical, coverage, names, phrases)

    def _without_near_duplicates(self, candidates: list[Candidate], top_k: int) -> list[Candidate]:
        kept: list[Candidate] = []
        for candidate in candidates:
            terms = self.passage_terms(candidate.passage)
            if any(_overlap(terms, self.passage_terms(k.passage)) > self.settings.near_duplicate for k in kept):
                continue
            kept.append(candidate)
            if len(kept) >= top_k:
                break
        return kept


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


def _passes(p: Passage, filters: SearchFilters) -> bool:
    if filters.since and (not p.meeting_date or p.meeting_date < filters.since):
        return False
    if filters.until and (not p.meeting_date or p.meeting_date > filters.until):
        return False
    if filters.committee and (p.committee or "").lower() != filters.committee.lower():
        return False
    if filters.doc_type and p.doc_type != filters.doc_type:
        return False
    return not filters.document or filters.document in (p.doc_id, p.file)


def _day(d: dt.date) -> int:
    return int(d.strftime("%Y%m%d"))


def _chroma_where(filters: SearchFilters | None, days: set[dt.date] | None, period_docs: set[str],
                  decisions_only: bool) -> dict:
    """The same limits as `_allowed`, in Chroma's filter language, so its top results are all usable."""
    clauses: list[dict] = [{"boilerplate": False}]
    if decisions_only:
        clauses.append({"decision": True})
    if filters:
        if filters.since:
            clauses.append({"meeting_day": {"$gte": _day(filters.since)}})
        if filters.until:
            clauses.append({"meeting_day": {"$lte": _day(filters.until)}})
        if filters.committee:
            clauses.append({"committee": filters.committee})
        if filters.doc_type:
            clauses.append({"doc_type": filters.doc_type})
        if filters.document:
            clauses.append({"$or": [{"doc_id": filters.document}, {"file": filters.document}]})
    if days is not None:
        wanted = sorted(_day(d) for d in days) or [0]
        clauses.append({"$or": [{"meeting_day": {"$in": wanted}}, {"pack_day": {"$in": wanted}},
                                {"doc_id": {"$in": sorted(period_docs) or [""]}}]})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))
