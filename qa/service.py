"""The question-answering service the CLI and the API share: plan, retrieve, answer, check, time.

`QAService` loads the model once and opens the published index generation on first use, reopening it when a
newer one is published; everything built on a generation (planner, retriever, citations, decisions) is built
once per generation, in `Generation.open`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.errors import NotFound, NotIndexedError, StoreError
from core.lexicon import CouncilVocabulary
from core.records import (
    Answer,
    Citation,
    Decision,
    DocumentRecord,
    Meeting,
    MeetingDetail,
    Passage,
    PassageHeader,
    RegisterEntry,
    SearchFilters,
    TimelineEntry,
    Timings,
)
from core.settings import DEFAULT_CONFIG_NAME, Settings
from indexer.embed import Embedder, TextEmbedder, model_exports
from indexer.stores import IndexSnapshot, IndexStore, open_snapshot
from qa.answer import ABSTAIN_TEXT, NO_QUESTION_TEXT, ExtractiveAnswerer, filtered_out_text
from qa.citations import CitationBuilder, section_words
from qa.decisions import SEARCH_DEPTH, DecisionFinder, FoundDecision, MinutesIndex, PointRelevance, points_on_topic
from qa.followups import FollowUpFinder
from qa.meetings import MeetingIndex, as_decisions
from qa.pages import PageImage, page_png, redacted_copy
from qa.plan import Planner, SearchPlan, passes
from qa.query import Question, parse_question
from qa.ranker import AbstentionModel, LinearRanker
from qa.retrieve import Retrieval, Retriever
from qa.sentences import SentenceScorer
from qa.specifics import not_given, unmet
from qa.spelling import SpellingCorrector
from qa.terms import CorpusTerms, Terms

log = logging.getLogger(__name__)

_TITLE_NAMES_TOPIC = 0.7  # rarity-weighted share of the topic's words in a minute's title for the whole minute to count
# The rarity-weighted share of a topic's words a minute's title and one of its points must hold between them for the
# register alone to put the minute on the topic (when the search found only reports).
_REGISTER_COVERS = 0.7


class Answerer(Protocol):
    """An answerer that may replace the extractive answer: text and checked citations, or None to keep it."""

    def answer(
        self, retrieval: Retrieval, citations: CitationBuilder, missing: Sequence[str] = ()
    ) -> tuple[str, list[Citation]] | None: ...


@dataclass
class Generation:
    """One published index generation opened for answering, with everything built on it."""

    snapshot: IndexSnapshot
    planner: Planner
    retriever: Retriever
    citations: CitationBuilder
    decisions: DecisionFinder
    spelling: SpellingCorrector
    meetings: MeetingIndex
    committees: re.Pattern[str] | None = None  # the committees' names as printed, any apostrophe, any case

    def topic_words(self, text: str) -> str:
        """`text` without the committees' own names: "That the Health and Wellbeing Scrutiny Committee note ..." says
        nothing about health as a topic."""
        return self.committees.sub(" ", text) if self.committees else text

    @classmethod
    def open(cls, settings: Settings, snapshot: IndexSnapshot, embedder: TextEmbedder, terms: Terms) -> Generation:
        committees = {doc.committee for doc in snapshot.manifest.documents if doc.committee}
        vocabulary = CouncilVocabulary.build(settings.council.names, settings.council.places, committees)
        headers = snapshot.passages.headers
        corpus = CorpusTerms(snapshot.stems, len(snapshot.passages), terms)
        sentences = SentenceScorer(terms, corpus.idf, vocabulary.institution_words)
        citations = CitationBuilder(snapshot.documents(), settings.answer.url_base)
        meetings = MeetingIndex(snapshot, citations)
        names = sorted(committees, key=len, reverse=True)
        pattern = "|".join(r"\s+".join(re.sub(r"['’]", "['’]?", re.escape(w)) for w in n.split()) for n in names)
        return cls(
            committees=re.compile(rf"\b(?:the\s+)?(?:{pattern})", re.I) if names else None,
            snapshot=snapshot,
            planner=Planner(
                headers,
                snapshot.manifest.documents,
                embedder,
                terms,
                vocabulary,
                snapshot.vector_rows,
                snapshot.row_ids,
            ),
            retriever=Retriever(
                settings.retrieval,
                snapshot,
                corpus,
                sentences,
                LinearRanker.load(settings.retrieval.ranker_file) if settings.retrieval.ranker_file else None,
            ),
            citations=citations,
            meetings=meetings,
            decisions=DecisionFinder(
                # The decisions' records are read now (a small share of the passages), the rest when a question
                # reaches them.
                MinutesIndex(snapshot.passages[pid] for pid, h in headers.items() if h.decision and not h.boilerplate),
                sentences,
                citations,
                snapshot.register,
                snapshot.passages,
                FollowUpFinder(meetings, terms).of,
            ),
            spelling=SpellingCorrector(
                keep=terms.question_words | terms.stop_words, stem=terms.stem, counts=snapshot.spelling
            ),
        )


class QAService:
    """Answers questions from the current index generation; models are loaded once and reused."""

    def __init__(self, settings: Settings, embedder: TextEmbedder | None = None, llm_answerer: Answerer | None = None):
        self.settings = settings
        # Questions in float32 whatever the passages' precision: one short text costs little either way.
        self.embedder: TextEmbedder = embedder or Embedder(
            settings.embedding, export_dir=model_exports(settings), precision="float32"
        )
        if isinstance(self.embedder, Embedder):
            self.embedder.use_threads(settings.embedding.answer_threads, concurrent=True)
        # The council's own name never makes a question's topic; its committees come with each generation.
        self.terms = Terms(CouncilVocabulary.build(settings.council.names).question_words)
        ranker_file = settings.retrieval.ranker_file
        learned = AbstentionModel.load(ranker_file) if ranker_file and settings.answer.learned_abstention else None
        self.extractive = ExtractiveAnswerer(settings.answer, learned)
        self.llm_answerer = llm_answerer if llm_answerer is not None else _llm_answerer(settings)
        self._store = IndexStore(settings)
        self._loaded: tuple[Generation, Generation] | None = None
        self._retired: list[tuple[Generation, Generation]] = []
        self._opening = threading.Lock()

    def warm_up(self) -> None:
        """Load the model and the current index now, so the first question is as fast as the rest."""
        self.embedder.embed(["warm up"])
        if self._store.current_generation() is not None:
            self._current()

    def _current(self, members: bool = True) -> Generation:
        """The published generation, opened for answering; reopened when a newer one is published. Without
        `members`, its public view: restricted papers are not in it at all (IndexSnapshot.public)."""
        generation = self._store.current_generation()
        if generation is None:
            raise self._not_indexed()
        loaded = self._loaded  # (members', public) of one generation, replaced together
        if loaded is None or loaded[0].snapshot.generation != generation:
            with self._opening:  # one thread opens it; the others wait and use it
                loaded = self._loaded
                if loaded is None or loaded[0].snapshot.generation != generation:
                    try:
                        snapshot = open_snapshot(self.settings)
                    except StoreError as exc:
                        if self._loaded is None:
                            raise
                        # A newer generation that cannot be read: the last good one is still served.
                        log.error("%s; still answering from %s", exc, self._loaded[0].snapshot.generation)
                        return self._loaded[0] if members else self._loaded[1]
                    if snapshot is None:  # unpublished between the two reads: nothing to answer from
                        raise self._not_indexed()
                    full = Generation.open(self.settings, snapshot, self.embedder, self.terms)
                    view = snapshot.public()
                    public = (
                        full if view is snapshot else Generation.open(self.settings, view, self.embedder, self.terms)
                    )
                    if self._loaded is not None:
                        self._retire(self._loaded)
                    loaded = self._loaded = (full, public)
        return loaded[0] if members else loaded[1]

    def _not_indexed(self) -> NotIndexedError:
        found = (
            ""
            if self.settings.config_file
            else f" (no {DEFAULT_CONFIG_NAME} was found in {Path.cwd()}: pass --config or set QA_CONFIG if the papers"
            " are configured elsewhere)"
        )
        return NotIndexedError(f"nothing is indexed in {self.settings.data_dir}; run `qa index` first{found}")

    def _retire(self, replaced: tuple[Generation, Generation]) -> None:
        """Close generations no request can still be using: the one just replaced stays open for requests under
        way (they finish within an answer's time), the one before it is released: its Chroma threads and its table
        now, and the files it maps as soon as it is dropped (nothing in a generation refers back to itself, so no
        cyclic collection is waited for). They would otherwise pile up with every upload. `replaced`: the members'
        generation and its public view."""
        self._retired.append(replaced)
        while len(self._retired) > 1:
            full, public = self._retired.pop(0)
            full.snapshot.close()
            if public is not full:
                public.snapshot.close()

    # ---- the papers
    def snapshot(self, members: bool = True) -> IndexSnapshot:
        """The published index generation answers come from (reopened when a newer one is published); without
        `members`, its public view."""
        return self._current(members).snapshot

    def indexed_files(self) -> dict[str, Path]:
        """Where each indexed document's file is, by file name."""
        return {doc.file: Path(doc.path) for doc in self._current().snapshot.manifest.documents}

    def document(self, doc_id: str, members: bool = True) -> DocumentRecord:
        """An indexed document by id; NotFound if the published index has none (or, without `members`, it is
        restricted: the same answer, so its existence is not told)."""
        found = self._current(members).snapshot.documents().get(doc_id)
        if found is None:
            raise NotFound(f"no indexed document {doc_id}")
        return found

    def document_file(self, doc_id: str, members: bool = True) -> DocumentRecord:
        """An indexed document whose file is still on disk; NotFound if not."""
        doc = self.document(doc_id, members)
        if not Path(doc.path).is_file():  # removed from disk, and the index without it not yet published
            raise NotFound(f"{doc.file} is no longer on disk; run `qa index` to drop it from the index")
        return doc

    def readable_file(self, doc_id: str, members: bool = True) -> tuple[DocumentRecord, Path]:
        """The document and the file a caller may read: the paper itself, or without `members`, a copy with its
        exempt reports' pages emptied (qa.pages.redacted_copy). NotFound as `document_file`."""
        doc = self.document_file(doc_id, members)
        if members or not doc.restricted_pages:
            return doc, Path(doc.path)
        key = f"{doc.sha256[:16]}-" + "-".join(str(p) for p in doc.restricted_pages)
        return doc, redacted_copy(Path(doc.path), doc.restricted_pages, self.settings.data_dir / "redacted", key)

    def page_label(self, doc_id: str, page: int, members: bool = True) -> str | None:
        """The number printed on a page of an indexed document, as the index read it; None if it has none."""
        return self._current(members).snapshot.passages.page_label(doc_id, page)

    def page_image(self, doc_id: str, page: int, quote: str | None = None, members: bool = True) -> PageImage:
        """One page of an indexed document as a PNG with `quote` highlighted; NotFound for a page it lacks.
        Without `members`, from the copy a reader may read (an exempt report's pages are empty)."""
        _, path = self.readable_file(doc_id, members)
        return page_png(path, page, quote)

    def passage(self, passage_id: str, members: bool = True) -> Passage:
        """An indexed passage by id; NotFound if the published index has none (or, without `members`, it is
        restricted)."""
        found = self._current(members).snapshot.passages.get(passage_id)
        if found is None:
            raise NotFound(f"no passage {passage_id}")
        return found

    # ---- questions
    def ask(
        self, question: str, filters: SearchFilters | None = None, top_k: int | None = None, members: bool = True
    ) -> Answer:
        """Answer one question from the papers, or abstain; timed. NotIndexedError before anything is indexed.
        Without `members`, from the public papers only, as if the restricted ones were not indexed."""
        return self.answer_with_retrieval(question, filters, top_k, members=members)[0]

    def answer_with_retrieval(
        self,
        question: str,
        filters: SearchFilters | None = None,
        top_k: int | None = None,
        depth: int = 0,
        members: bool = True,
    ) -> tuple[Answer, Retrieval]:
        """The answer, and the passages searched for it (at least `depth` of them), for evaluation."""
        started = time.perf_counter()
        if not question.strip():
            return (
                Answer(question=question, answer=NO_QUESTION_TEXT, abstained=True),
                Retrieval(SearchPlan.nothing(parse_question("")), []),
            )
        generation = self._current(members)
        searched_text, fixes = generation.spelling.correct(question)
        parsed = generation.planner.parse(searched_text)
        top_k = top_k or self.settings.retrieval.top_k
        # One search, deep enough for every use: the answer, the minutes on a decision topic, the LLM's passages.
        depth = max(
            depth, top_k, SEARCH_DEPTH if parsed.decision else 0, self.settings.llm.passages if self.llm_answerer else 0
        )
        plan = generation.planner.plan(parsed, filters)
        searched = generation.retriever.search(plan, depth)
        if parsed.next_meeting and not parsed.dated and not plan.specifics and generation.planner.meeting_dates:
            # The meetings ahead are those the newest meeting's papers list; older papers' "next meeting" has passed.
            newest = dataclasses.replace(parsed, since=generation.planner.meeting_dates[-1])
            newest_plan = generation.planner.plan(newest, filters)
            found = generation.retriever.search(newest_plan, depth)
            if not self.extractive.abstains(found.leading(top_k)):
                plan, searched = newest_plan, found
        retrieval = searched.leading(top_k)
        abstains = self.extractive.abstains(retrieval)
        undated: list[str] = []  # the question's dates, when no meeting of theirs answers it
        if abstains and plan.date_limit is not None and parsed.date_words and plan.topic and not parsed.decision:
            # The papers may hold the topic for other meetings: answer from the nearest, saying the dates are missing.
            nearest_plan = generation.planner.plan(
                dataclasses.replace(parsed, since=None, until=None, months=set()), filters
            )
            nearest = generation.retriever.search(nearest_plan, depth)
            if not self.extractive.abstains(nearest.leading(top_k)):
                plan, searched, retrieval, abstains = nearest_plan, nearest, nearest.leading(top_k), False
                undated = list(parsed.date_words)
        decisions: list[FoundDecision] = []
        if parsed.decision and not plan.topic and parsed.last_meeting:
            # "What did the committee decide at its last meeting?": every decision of the newest minuted meeting.
            latest = generation.decisions.minutes.latest(plan.allowed)  # the filters' committee's last meeting
            if latest:
                decisions = generation.decisions.at_meetings(
                    dataclasses.replace(plan, named_meetings=frozenset({latest}))
                )
        elif parsed.decision and not plan.topic and parsed.dated:
            # "What did we decide in December 2017?": every decision of the meetings named.
            decisions = generation.decisions.at_meetings(plan)
        elif parsed.decision and not abstains:
            decisions = generation.decisions.on_topic(searched)
        elif parsed.decision and parsed.names and parsed.answer_type in ("decision", "yes_no"):
            # A decision about something the question names ("Grangewaters"): the minutes whose decision names it
            # answer, though the question's other words ("look again at") leave the search's evidence thin.
            names = parsed.names
            decisions = [
                f
                for f in generation.decisions.on_topic(searched)
                if any(re.search(rf"\b{re.escape(n)}\b", f.passage.text, re.I) for n in names)
            ]
        if decisions:
            # Told by the register's points: each numbered resolution whole, with its own status word.
            decisions = generation.decisions.as_points(decisions, plan)
        retrieved = time.perf_counter()
        answer = Answer(question=question, answer=ABSTAIN_TEXT, abstained=True, evidence=retrieval.evidence)
        if fixes:
            answer.searched_for, answer.spelling = searched_text, fixes
        if decisions or not abstains:
            text, citations = self.extractive.answer(retrieval, generation.citations, decisions)
            answer.answer, answer.citations, answer.abstained = text, citations, not citations
            if parsed.decision and decisions:
                answer.timeline = _timeline(citations, decisions)
        # A decision asked of a meeting whose minutes the papers don't hold: what they give of it is plans, not
        # decisions (a work programme, the pack's reports), and the answer says so first.
        unminuted = self._unminuted(generation, parsed) if parsed.decision and parsed.dated else []
        if answer.abstained:
            answer.answer = ABSTAIN_TEXT
            answer.see_also = self.extractive.see_also(retrieval, generation.citations)
            # Name what the papers lack when the question names it: dates no meeting has, names no paper prints.
            dates = list(parsed.date_words) if plan.date_limit is not None and not plan.allowed else []
            answer.missing = list(dict.fromkeys([*unminuted, *dates, *self._not_printed(generation, plan)]))
            if answer.missing:
                answer.answer = f"{not_given(answer.missing)}. {ABSTAIN_TEXT}"
            if plan.filters is not None and not generation.planner.allowed(plan.filters, None, frozenset()):
                # Not the papers' silence: the filters left nothing to search (a mistyped committee, dates too narrow).
                committees = sorted(set(generation.planner.committees.values()))
                text = filtered_out_text(plan.filters, committees)
                answer.answer, answer.missing, answer.filtered_out = text, [], True
        else:
            missing = unminuted + self._missing(generation, plan, answer.citations, undated)
            if self.llm_answerer is not None:
                llm_passages = searched.leading(self.settings.llm.passages)
                generated = self.llm_answerer.answer(llm_passages, generation.citations, missing)
                if generated is not None:
                    answer.answer, answer.citations, answer.answerer = generated[0], generated[1], "llm"
                    answer.timeline = []  # the model's claims are not the decision lines the timeline was read from
                    missing = unminuted + self._missing(generation, plan, answer.citations, undated)
            if missing:
                answer.partial, answer.missing = True, missing
                answer.answer = f"{not_given(missing)}; the nearest they give:\n{answer.answer}"
        done = time.perf_counter()
        answer.timings_ms = Timings(
            retrieve=(retrieved - started) * 1000, answer=(done - retrieved) * 1000, total=(done - started) * 1000
        )
        return answer, searched

    def _missing(
        self, generation: Generation, plan: SearchPlan, citations: list[Citation], undated: list[str]
    ) -> list[str]:
        """What an answer's quotes do not give of what the question asks: its dates no meeting had (`undated`),
        periods, stages and breakdowns the lead quote does not meet (every quote, for a question across meetings),
        and names no paper prints."""
        # The lead quote states the answer, so it must meet the question's specifics: a supporting quote that prints
        # "2019/20" in a table of something else does not make an answer for 2019/20.
        lead = citations if plan.question.across_meetings else citations[:1]
        cited = [(generation.snapshot.passages[c.passage_id], c.quote) for c in lead]
        # Dates that limited the search are met by every passage it could find.
        dates_checked = plan.date_limit is None or bool(undated)
        dated = unmet(plan.specifics, cited, generation.planner.periods, dates=dates_checked)
        return list(dict.fromkeys([*undated, *dated, *self._not_printed(generation, plan)]))

    def _unminuted(self, generation: Generation, question: Question) -> list[str]:
        """["the minutes of the meeting of 1 December 2021"] when no meeting within the question's dates has its
        minutes in the papers (a meeting still to come, or one whose minutes the next pack will print); else []."""
        since, until = question.since or dt.date.min, question.until or dt.date.max
        minuted = [
            m.date
            for m in generation.meetings.all
            if m.minutes_in_papers
            and since <= m.date <= until
            and (not question.months or m.date.month in question.months)
        ]
        if minuted or not question.date_words:
            return []
        words = question.date_words[0]
        named = f"the meeting of {words}" if any(ch.isdigit() for ch in words.split()[0]) else f"the {words} meeting"
        return [f"the minutes of {named}"]

    def _not_printed(self, generation: Generation, plan: SearchPlan) -> list[str]:
        """The names and topic words of the question that no paper prints in any form: what the papers lack."""
        question, spelling = plan.question, generation.spelling
        names = [x.text for x in plan.specifics if x.kind == "name" and not spelling.prints(x.text)]
        return names + spelling.unknown(self.terms.topic_words(question.text, question.decision), names)

    def suggestions(self, limit: int = 4, members: bool = True) -> list[str]:
        """Starter questions drawn from the indexed papers, for a member who does not know what to ask: the last
        meeting's decisions, the next meeting, a decision and a report of the newest papers. At most `limit`."""
        generation = self._current(members)
        passages = list(generation.snapshot.passages.headers.values())
        out: list[str] = []
        latest = generation.decisions.minutes.latest()
        if latest:
            out.append("What did the committee decide at its last meeting?")
        if any(p.part == "work_programme" for p in passages):
            out.append("When is the next meeting?")
        minutes = [p for p in passages if latest and p.meeting_date == latest and p.part == "minutes" and p.decision]
        newest = max(generation.planner.meeting_dates, default=None)
        reports = [p for p in passages if p.part == "report" and newest and p.pack_date == newest]
        templates = ((minutes, "What did we decide about {}?"), (reports, "What does the report on {} say?"))
        for found, template in templates:
            titles = [t for t in dict.fromkeys(_section_title(p.section) for p in found) if t and len(t) <= 70]
            if titles:
                title = titles[0]
                if template.startswith("What does") and title.lower().startswith("report"):
                    template, title = "What does the {} say?", title[0].lower() + title[1:]  # "the report from ..."
                out.append(template.format(title))
        return out[:limit]

    def decisions(
        self, topic: str, filters: SearchFilters | None = None, status: str | None = None, members: bool = True
    ) -> list[Decision]:
        """The decision register's entries on a topic, oldest first: the decision points about it (each numbered
        resolution on its own) of the minutes that discuss it or whose title and points name it (`points_on_topic`),
        within the filters, of one `status` if given. The
        same minutes printed in two documents count once, the other place kept in `also_printed`. A blank topic
        gives every entry within the dates."""
        generation = self._current(members)
        filters = generation.planner.as_papers_name(filters)
        if topic.strip():
            question = generation.planner.parse(generation.spelling.correct(topic)[0])
            question.decision = True
            retrieval = generation.retriever.search(generation.planner.plan(question, filters), SEARCH_DEPTH)
            found = generation.decisions.on_topic(retrieval, answering=False)
            minutes = {(f.decision.meeting_date, f.passage.minute) for f in found}
            # The register is searched too: a minute's title or a point's own words may name the topic when the
            # passages the search found were reports.
            minutes |= self._register_minutes(generation, retrieval.plan)
            sections = generation.meetings.sections
            in_minutes = [
                e
                for e in generation.snapshot.register
                if (e.meeting_date, e.minute) in minutes and _within(e, filters, generation.snapshot.passages.headers)
            ]
            on_topic = points_on_topic(in_minutes, self._point_relevance(generation, retrieval.plan))
        else:  # no topic: the whole register within the dates (a clerk's "everything deferred since May")
            on_topic = [
                e
                for e in generation.snapshot.register
                if e.meeting_date and _within(e, filters, generation.snapshot.passages.headers)
            ]
            sections = generation.meetings.sections
        entries = [e for e in on_topic if not status or e.status == status]
        # The generation's follow-up finder, built once when it was opened.
        return as_decisions(entries, generation.citations, sections, generation.decisions.follow)

    def _register_minutes(self, generation: Generation, plan: SearchPlan) -> set[tuple[dt.date | None, str | None]]:
        """The minutes whose title and point together name the topic: most of its words, weighted by rarity
        (`_REGISTER_COVERS`), the committee's own name aside."""
        hits = set()
        for entry in generation.snapshot.register if plan.topic else []:
            words = self._words(generation, f"{entry.minute_title or ''} {entry.text}")
            if generation.retriever.coverage(plan.topic, words) >= _REGISTER_COVERS:
                hits.add((entry.meeting_date, entry.minute))
        return hits

    def _words(self, generation: Generation, text: str) -> frozenset[str]:
        return frozenset(self.terms.of(generation.topic_words(text)))

    def _point_relevance(self, generation: Generation, plan: SearchPlan) -> PointRelevance:
        """How near each of a minute's points is to the topic: the rarity-weighted share of the topic's words in its
        text, and the closeness of its text to the topic in meaning (MiniLM cosine), averaged. A minute whose title
        names the topic counts as wholly about it."""

        def score(entries: list[RegisterEntry]) -> tuple[bool, list[float]]:
            title = entries[0].minute_title or ""
            whole = generation.retriever.coverage(plan.topic, self._words(generation, title)) >= _TITLE_NAMES_TOPIC
            lexical = [generation.retriever.coverage(plan.topic, self._words(generation, e.text)) for e in entries]
            dense = [0.0] * len(entries)
            if plan.vector.size:
                vectors = self.embedder.embed([e.text for e in entries])
                dense = [max(0.0, float(v @ plan.vector)) for v in vectors]
            return whole, [(a + b) / 2 for a, b in zip(lexical, dense, strict=True)]

        return score

    def register(self, members: bool = True) -> list[RegisterEntry]:
        """The current generation's decision register: every decision point, in document order (indexer.register)."""
        return self._current(members).snapshot.register

    def meetings(self, members: bool = True) -> list[Meeting]:
        """Every meeting the papers publish a pack for or minute, oldest first (qa.meetings)."""
        return self._current(members).meetings.all

    def meeting(self, day: dt.date, members: bool = True) -> MeetingDetail:
        """One meeting with its agenda items and decisions; NotFound for a date with no meeting in the papers."""
        generation = self._current(members)
        return generation.meetings.detail(day, generation.decisions.follow)


def _within(entry: RegisterEntry, filters: SearchFilters | None, passages: Mapping[str, PassageHeader]) -> bool:
    """Whether a register entry meets the filters, as the passage recording it does (qa.plan.passes)."""
    if filters is None:
        return True
    passage = passages.get(entry.passage_id)
    return passage is not None and passes(passage, filters)


def _timeline(citations: list[Citation], decisions: list[FoundDecision]) -> list[TimelineEntry]:
    """The decisions a decision answer quotes, by the citation that quotes each (its passage, within its text)."""
    out = []
    for citation in citations:
        found = next(
            (
                f
                for f in decisions
                if f.passage.id == citation.passage_id
                and " ".join(citation.quote.split()) in " ".join(f.passage.text[f.start : f.end].split())
            ),
            None,
        )
        if found is not None:
            decision = found.decision
            out.append(
                TimelineEntry(
                    n=citation.n,
                    meeting_date=decision.meeting_date,
                    status=decision.status,
                    where=section_words(decision.section) or None,
                    point=decision.point,
                )
            )
    return out


def _section_title(section: str | None) -> str | None:
    """The title of a section path's head: "Minute 6: SEND Placements > ..." -> "SEND Placements"."""
    head = (section or "").split(" > ")[0]
    match = re.match(r"^(?:Item|Minute) \S+?:\s*(.+)$", head)
    return match.group(1).strip() if match else None


def _llm_answerer(settings: Settings) -> Answerer | None:
    if settings.llm.backend == "none":
        return None
    from qa.llm import LLMAnswerer

    return LLMAnswerer(settings.llm)
