"""Hybrid retrieval: Chroma and BM25 candidates fused by reciprocal rank, then re-scored for the question."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from core.records import Passage
from core.settings import RetrievalSettings
from indexer.stores import IndexSnapshot
from qa.fusion import reciprocal_rank_fusion
from qa.plan import PassageSet, SearchPlan
from qa.query import Question
from qa.ranker import LinearRanker
from qa.sentences import Sentence, SentenceScorer, can_lead, holds_value
from qa.specifics import share_met
from qa.terms import CorpusTerms


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
    features: dict[str, float] = field(default_factory=dict)  # what the learned ranker reads (qa.ranker.FEATURES)
    probability: float | None = None  # the learned ranker's P(the answer is here), when one is fitted

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
    """The candidates for one search plan, best first."""

    plan: SearchPlan
    candidates: list[Candidate]  # best first, near-duplicates removed

    @property
    def question(self) -> Question:
        return self.plan.question

    @property
    def evidence(self) -> float:
        return max((c.evidence for c in self.candidates[:3]), default=0.0)

    def abstention_features(self) -> dict[str, float]:
        """What `qa.ranker.AbstentionModel` reads: the best passage's signals and the search's evidence (zeros when
        nothing was found)."""
        best = self.candidates[0] if self.candidates else None
        features = best.features if best else {}
        return {
            "evidence": self.evidence,
            "probability": (best.probability or 0.0) if best else 0.0,
            "dense": best.dense if best else 0.0,
            "coverage": best.coverage if best else 0.0,
            "phrases": best.phrases if best else 0.0,
            "sentence_coverage": features.get("sentence_coverage", 0.0),
            "names": best.names if best else 0.0,
            "can_lead": features.get("can_lead", 0.0),
            "specifics_met": features.get("specifics_met", 0.0),
        }

    def leading(self, n: int) -> Retrieval:
        """The same retrieval cut to its first n candidates."""
        return Retrieval(self.plan, self.candidates[:n])


# How many more passages than wanted the unfiltered Chroma query asks for (and again, once) before an exact search.
DENSE_OVERFETCH = 4
# A plan allowing at most 1/NARROW_SHARE of the passages is searched exactly over its own vectors, not by Chroma.
NARROW_SHARE = 4
# An exact search over more than 1/FULL_PASS_SHARE of the rows scores them all at once rather than gather its own.
FULL_PASS_SHARE = 8


def top_order(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, highest first, ties in index order: a selection over all n scores
    (np.argpartition, O(n)) and a sort of the k chosen, not a sort of all n (what a per-question BM25 over a whole
    archive must avoid)."""
    if k >= len(scores):
        chosen = np.arange(len(scores))
    else:
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]  # the k-th highest score
        above = np.flatnonzero(scores > kth)
        chosen = np.concatenate([above, np.flatnonzero(scores == kth)[: k - len(above)]])  # ties: lowest first
    return chosen[np.lexsort((chosen, -scores[chosen]))]


class Retriever:
    """Searches one index snapshot by search plans; built once per index generation and reused across questions."""

    def __init__(
        self,
        settings: RetrievalSettings,
        snapshot: IndexSnapshot,
        corpus: CorpusTerms,
        sentences: SentenceScorer,
        ranker: LinearRanker | None = None,
    ):
        self.settings = settings
        self.ranker = ranker
        self.snapshot = snapshot
        self.corpus = corpus
        self.terms = corpus.terms
        self.sentences = sentences
        self.newness = newness(snapshot)
        # The vector row of each BM25 index (len(vectors) for a passage without one).
        self._lexical_rows = np.array(
            [snapshot.vector_rows.get(pid, len(snapshot.vectors)) for pid in snapshot.lexical_ids], np.int64
        )

    def search(self, plan: SearchPlan, top_k: int | None = None) -> Retrieval:
        """The plan's best passages: at most top_k (default retrieval.top_k), best first, near-duplicates dropped."""
        top_k = top_k or self.settings.top_k
        if not plan.allowed:
            return Retrieval(plan, [])
        dense_ids = self.dense_candidates(plan)
        lexical_ids, lexical_scores = self.lexical_candidates(plan)
        fused = reciprocal_rank_fusion(
            [dense_ids, lexical_ids], [self.settings.dense_weight, self.settings.lexical_weight], self.settings.rrf_k
        )
        # The topic's stems and the other words for them: all that re-scoring asks of a candidate's stems.
        wanted = frozenset(alt for stem in plan.topic for alt in self.terms.alternatives(stem))
        candidates = [self._rescore(plan, pid, fused[pid], lexical_scores.get(pid, 0.0), wanted) for pid in fused]
        candidates.sort(key=lambda c: c.score, reverse=True)
        # Re-score the leaders by their single best sentence: an answer is usually one sentence, not a whole passage.
        leaders = candidates[: max(self.settings.rerank_depth, top_k)]
        for candidate in leaders:
            candidate.sentences = self.sentences.rank(candidate.passage, plan)
            if candidate.sentences:
                candidate.score += self.settings.sentence_weight * candidate.sentences[0].score
        best = max((c.score for c in leaders), default=0.0)
        for rank, candidate in enumerate(sorted(leaders, key=lambda c: c.score, reverse=True)):
            candidate.features = self.features(candidate, plan) | {
                "score_gap": candidate.score - best,
                "score_rank": rank,
            }
            if self.ranker is not None:
                candidate.probability = self.ranker.probability(candidate.features)
        if self.ranker is not None:
            leaders.sort(key=lambda c: c.probability or 0.0, reverse=True)
        else:
            leaders.sort(key=lambda c: c.score, reverse=True)
        if any(s.kind in ("stage", "breakdown") for s in plan.specifics):
            # A Key Stage 4 page does not answer a Key Stage 2 question, however well it matches the words. (Periods
            # and years are not ruled so: tables print them in passing, and the date filters have done that work.)
            leaders = _close_first(leaders, self.settings.close_ratio, lambda c: c.features["specifics_met"])
        if plan.question.recency:
            leaders = _close_first(
                leaders, self.settings.recency_ratio, lambda c: self.newness.get(c.passage.doc_id, 0.0)
            )
        return Retrieval(plan, self._without_near_duplicates(leaders, top_k))

    def features(self, candidate: Candidate, plan: SearchPlan) -> dict[str, float]:
        """The signals the learned ranker weighs (qa.ranker.FEATURES), for a candidate whose sentences are ranked."""
        passage, question = candidate.passage, plan.question
        best = candidate.sentences[0] if candidate.sentences else None
        return {
            "score": candidate.score,
            "dense": candidate.dense,
            "lexical": math.log1p(candidate.lexical),
            "coverage": candidate.coverage,
            "names": candidate.names,
            "phrases": candidate.phrases,
            "sentence": best.score if best else 0.0,
            "sentence_coverage": best.coverage if best else 0.0,
            "can_lead": float(best is not None and can_lead(best, question)),
            "holds_type": float(best is not None and holds_value(best.text, question.answer_type)),
            "minutes": float(passage.part == "minutes"),
            "report": float(passage.part in ("report", "document")),
            "appendix": float(passage.part == "appendix"),
            "work_programme": float(passage.part == "work_programme"),
            "agenda": float(passage.part == "agenda") * (1.0 if question.about_meeting else -1.0),
            "table": float(_is_table(passage)),
            "decision_asked": float(question.decision and passage.decision),
            "meeting_asked": float(question.about_meeting and passage.part == "agenda"),
            "date_named": float(bool(plan.date_limit) and passage.meeting_date in (plan.date_limit or ())),
            "specifics_met": share_met(plan.specifics, passage, best.text if best else ""),
            "next_meeting": float(question.next_meeting and passage.part == "work_programme"),
        }

    # ---- candidate generation
    def dense_candidates(self, plan: SearchPlan) -> list[str]:
        """The passages nearest the question's vector within the plan's limits, best first (StoreError when the
        store does not answer). An archive of at most `retrieval.exact_search_up_to` passages is searched exactly
        (`nearest_allowed`), without Chroma: its approximate index is rebuilt as each process opens it, and the same
        question could find a slightly different list in another process or replica.

        The plan's limits are applied here, not by Chroma: a filtered Chroma query tests its metadata for every
        passage first (at 64x the sample, 357 ms a question against 2.5 ms unfiltered, bench/results/dense-query.md).
        So Chroma is asked without a filter for DENSE_OVERFETCH times the passages wanted (then that again) and the
        allowed ones kept; a plan allowing few passages (a meeting, a committee, a document), or one whose allowed
        passages are too far down Chroma's list, is searched exactly over its own passages' vectors
        (`nearest_allowed`)."""
        wanted = self.settings.candidates
        if len(self.snapshot.vectors) <= self.settings.exact_search_up_to:
            return self.nearest_allowed(plan, wanted)  # exact, the same in every process, and quicker at this size
        if len(plan.allowed) * NARROW_SHARE <= len(self.snapshot.vector_rows):
            return self.nearest_allowed(plan, wanted)
        asked = DENSE_OVERFETCH * wanted
        for _ in range(2):
            nearest = self.snapshot.nearest(plan.vector, asked, None)
            found = [pid for pid in nearest if pid in plan.allowed]
            if len(found) >= wanted or len(nearest) < asked:  # enough, or the whole store was searched
                return found[:wanted]
            asked *= DENSE_OVERFETCH
        return self.nearest_allowed(plan, wanted)

    def nearest_allowed(self, plan: SearchPlan, n: int) -> list[str]:
        """The n allowed passages nearest the question's vector by exact cosine (the vectors are normalised), ties
        in the generation's order. A plan allowing more than 1/FULL_PASS_SHARE of the rows is scored over all of them
        in one pass and the allowed picked after: at 64x the sample, gathering 18,000 rows of the memory-mapped
        vectors took 7-9 ms, one product over all 74,696 about 5 ms."""
        picked = self._allowed_rows(plan.allowed)
        if not picked.size or not plan.vector.size:
            return []
        vectors = self.snapshot.vectors
        if picked.size * FULL_PASS_SHARE > len(vectors):
            similarity = (vectors @ plan.vector)[picked]
        else:
            similarity = vectors[picked] @ plan.vector
        return [self.snapshot.row_ids[row] for row in picked[top_order(similarity, n)]]

    def lexical_candidates(self, plan: SearchPlan) -> tuple[list[str], dict[str, float]]:
        """BM25's best passages for the question's stems (and their synonyms) within the plan's limits, with scores:
        the `retrieval.candidates` best allowed ones with a positive score, best first (ties in BM25's order), and the
        scores of the 4 x that many best of all (the re-scoring reads a candidate's BM25 score from them)."""
        tokens = [alt for token in plan.stems for alt in sorted(self.terms.alternatives(token))]
        if self.snapshot.lexical is None or not tokens:
            return [], {}
        scores = self.snapshot.lexical.get_scores(tokens)
        ids = self.snapshot.lexical_ids
        wanted = self.settings.candidates
        # Only the passages holding a word of the question score above 0: select among those, not all passages.
        positive = np.flatnonzero(scores > 0)
        allowed = positive[self._lexical_allowed(plan.allowed, positive)]
        ranked = [ids[i] for i in allowed[top_order(scores[allowed], wanted)]]
        best = positive[top_order(scores[positive], 4 * wanted)]
        return ranked, {ids[i]: float(scores[i]) for i in best}

    def _allowed_rows(self, allowed: AbstractSet[str]) -> np.ndarray:
        """(n,) int64, ascending: the vector rows of the allowed passages."""
        if isinstance(allowed, PassageSet):
            return allowed.rows
        rows = self.snapshot.vector_rows
        picked = np.fromiter((rows[pid] for pid in allowed if pid in rows), np.int64)
        picked.sort()
        return picked

    def _lexical_allowed(self, allowed: AbstractSet[str], indices: np.ndarray) -> np.ndarray:
        """(len(indices),) bool: whether each of these BM25 indices is an allowed passage."""
        if isinstance(allowed, PassageSet):
            # A row past the mask's end (a passage without a vector row, or after a view's last shown row): not allowed.
            rows = self._lexical_rows[indices]
            inside = rows < len(allowed.mask)
            found = np.zeros(len(indices), bool)
            found[inside] = allowed.mask[rows[inside]]
            return found
        ids = self.snapshot.lexical_ids
        return np.fromiter((ids[i] in allowed for i in indices), bool, len(indices))

    # ---- re-scoring
    def _rescore(self, plan: SearchPlan, pid: str, fused: float, lexical: float, wanted: frozenset[str]) -> Candidate:
        passage = self.snapshot.passages[pid]
        question = plan.question
        dense = float(self.snapshot.vectors[self.snapshot.vector_rows[pid]] @ plan.vector)
        held, pairs_held = self.corpus.held(passage, wanted, plan.pairs)
        coverage = self.coverage(plan.topic, held)
        haystack = f"{passage.context}\n{passage.text}".lower()
        names = sum(n.lower() in haystack for n in question.names) / len(question.names) if question.names else 0.0
        phrases = self._phrase_coverage(plan.pairs, pairs_held, coverage)
        score = (
            fused
            + self.settings.similarity_weight * dense
            + self.settings.coverage_weight * coverage
            + self.settings.name_boost * names
            + self.settings.phrase_weight * phrases
        )
        if passage.part == "agenda":
            # The agenda lists topics and the answer is in the item itself, unless the question is about the meeting.
            score += self.settings.agenda_penalty * (1 if question.about_meeting else -1)
        if question.decision:
            score += self.settings.decision_boost * passage.decision + self.settings.minutes_boost * (
                passage.part == "minutes"
            )
        if question.recency:
            score += self.settings.recency_boost * self.newness.get(passage.doc_id, 0.0)
        if question.next_meeting and passage.part == "work_programme":
            score += self.settings.agenda_penalty  # the work programme lists the meetings ahead
        if plan.date_limit and passage.meeting_date in plan.date_limit:
            # Dates name meetings: the minutes of an earlier meeting printed in that meeting's pack only match its pack.
            score += self.settings.meeting_date_boost
        return Candidate(passage, score, dense, lexical, coverage, names, phrases)

    def coverage(self, topic: list[str], terms: frozenset[str] | set[str]) -> float:
        """The share of the topic's rarity found in `terms`: missing rare words weigh most."""
        weights = [self.corpus.idf(t) for t in topic]
        return (
            sum(w * self.terms.covers(t, terms) for t, w in zip(topic, weights, strict=True)) / sum(weights)
            if topic
            else 0.0
        )

    def _phrase_coverage(
        self, pairs: list[tuple[str, str]], found: frozenset[tuple[str, str]], coverage: float
    ) -> float:
        """The rarity-weighted share of the question's phrases printed in the passage (for a one-word topic, which
        has no phrases, its word coverage)."""
        if not pairs:
            return coverage
        weights = [self.corpus.idf(a) + self.corpus.idf(b) for a, b in pairs]
        return sum(w for pair, w in zip(pairs, weights, strict=True) if pair in found) / sum(weights)

    def _without_near_duplicates(self, candidates: list[Candidate], top_k: int) -> list[Candidate]:
        kept: list[Candidate] = []
        for candidate in candidates:
            terms = self.corpus.stems(candidate.passage)
            if any(_overlap(terms, self.corpus.stems(k.passage)) > self.settings.near_duplicate for k in kept):
                continue
            kept.append(candidate)
            if len(kept) >= top_k:
                break
        return kept


def _close_first(leaders: list[Candidate], ratio: float, key: Callable[[Candidate], float]) -> list[Candidate]:
    """Of the leaders nearly as good as the best (`ratio` of its probability, or of its score without a ranker),
    those with the highest `key` first, keeping their order otherwise; the rest after them, as they were.

    How rules the ranker has too few questions to learn (newest papers for a question about now, the specifics a
    question names) act: they choose between passages the ranker finds close, never raise a poor one.
    """
    if not leaders:
        return leaders

    def strength(c: Candidate) -> float:
        return c.probability if c.probability is not None else c.score

    floor = ratio * strength(leaders[0])
    close = [c for c in leaders if strength(c) >= floor]
    rest = [c for c in leaders if strength(c) < floor]
    close.sort(key=key, reverse=True)  # stable: the ranker's order kept within each value
    return close + rest


def _is_table(passage: Passage) -> bool:
    """A passage of table rows: most of its lines have cells set apart by wide gaps."""
    lines = [line for line in passage.text.split("\n") if line.strip()]
    return bool(lines) and sum("   " in line.strip() for line in lines) >= 0.6 * len(lines)


def newness(snapshot: IndexSnapshot) -> dict[str, float]:
    """Document id -> how new its papers are among the indexed ones: 0 for the oldest date, 1 for the newest
    (a pack by its meeting, a report by the end of its period; undated documents count as the oldest)."""
    from qa.plan import period_span

    dates: dict[str, dt.date] = {}
    for doc in snapshot.manifest.documents:
        span = period_span(doc.period)
        day = doc.meeting_date or (span[1] if span else None)
        if day:
            dates[doc.id] = day
    ordered = sorted(set(dates.values()))
    if len(ordered) < 2:
        return dict.fromkeys(dates, 1.0)
    rank = {day: i / (len(ordered) - 1) for i, day in enumerate(ordered)}
    return {doc_id: rank[day] for doc_id, day in dates.items()}


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))
