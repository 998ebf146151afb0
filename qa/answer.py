"""The default answerer: picks the sentences that answer the question and cites each one verbatim, or abstains."""

from __future__ import annotations

import datetime as dt
import re

from core.lexicon import long_date
from core.records import Citation, SearchFilters
from core.settings import AnswerSettings
from core.text import same_text
from qa.citations import CitationBuilder, section_words
from qa.decisions import FoundDecision, oldest_first
from qa.query import Question
from qa.ranker import AbstentionModel
from qa.retrieve import Retrieval
from qa.sentences import Sentence, can_lead

ABSTAIN_TEXT = "The papers indexed here don't answer this question."
NO_QUESTION_TEXT = "Ask a question about the committee papers."
# How many of the papers' committees an answer lists when a committee filter named none of them.
COMMITTEES_LISTED = 8
# How an answer names a kind of paper a filter asked for.
DOC_TYPE_WORDS = {"agenda_pack": "agenda packs", "minutes": "printed minutes", "report": "standalone reports"}


def filtered_out_text(filters: SearchFilters, committees: list[str] | None = None) -> str:
    """What an answer says when the filters alone leave no indexed paper to search: which filters, and what to
    check of those given, rather than that the papers don't answer (a member who mistyped a committee would take
    that for an answer)."""
    asked, checks = [], []
    if filters.committee:
        asked.append(f'the committee "{filters.committee}"')
        checks.append("the committee's name")
    if filters.doc_type:
        asked.append(f"{DOC_TYPE_WORDS.get(filters.doc_type, filters.doc_type)} only")
        checks.append("the kind of paper")
    if filters.document:
        asked.append(f'the document "{filters.document}"')
        checks.append("the document's name")
    if filters.since:
        asked.append(f"meetings since {long_date(filters.since)}")
    if filters.until:
        asked.append(f"meetings until {long_date(filters.until)}")
    if filters.since or filters.until:
        checks.append("the dates")
    if not asked:  # no filter given: nothing was filtered out
        return ABSTAIN_TEXT
    if filters.since and filters.until and filters.since > filters.until:
        checks = ["the dates: they are the wrong way round"]
    together = "these filters together" if len(asked) > 1 else "this filter"
    named = ", ".join(asked[:-1]) + f" and {asked[-1]}" if len(asked) > 1 else asked[0]
    listed = ", ".join(checks[:-1]) + f" or {checks[-1]}" if len(checks) > 1 else checks[0]
    text = f"No indexed paper matches {together} ({named}), so nothing was searched. Check {listed}."
    if filters.committee and committees and filters.committee not in committees:
        shown = committees[:COMMITTEES_LISTED]
        more = f" and {len(committees) - len(shown)} more" if len(committees) > len(shown) else ""
        text += f" The papers name these committees: {'; '.join(shown)}{more}."
    return text


# The word a decision answer labels each status with ("referred on": sent to another body to decide).
STATUS_WORDS = {
    "resolved": "resolved",
    "not agreed": "not agreed",
    "deferred": "deferred",
    "agreed": "agreed",
    "noted": "noted",
    "referred": "referred on",
    "requested": "requested",
    "scheduled": "scheduled",
}


class ExtractiveAnswerer:
    """Composes an answer from verbatim sentences of the retrieved passages; needs no LLM."""

    def __init__(self, settings: AnswerSettings, abstention: AbstentionModel | None = None):
        self.settings = settings
        self.abstention = abstention

    def abstains(self, retrieval: Retrieval) -> bool:
        """Whether to abstain: nothing retrieved, or the fitted abstention model's P(answerable) under its threshold
        (without one, evidence under `answer.abstain_below`, calibrated on dev)."""
        if not retrieval.candidates:
            return True
        if self.abstention is not None:
            return self.abstention.probability(retrieval.abstention_features()) < self.abstention.threshold
        return retrieval.evidence < self.settings.abstain_below

    def see_also(self, retrieval: Retrieval, citations: CitationBuilder) -> list[Citation]:
        """The nearest passages, each by its best sentence, for a reader to check by hand."""
        out: list[Citation] = []
        for candidate in retrieval.candidates[: self.settings.see_also]:
            if candidate.sentences:
                out.append(self._cite(len(out) + 1, candidate.sentences[0], citations))
        return out

    def answer(
        self, retrieval: Retrieval, citations: CitationBuilder, decisions: list[FoundDecision] | None = None
    ) -> tuple[str, list[Citation]]:
        """The answer text and its citations, numbered in the order the text uses them."""
        if retrieval.question.decision and decisions:
            return self._decision_answer(decisions, citations, retrieval.question.dated)
        chosen, twins = _once(self._choose(retrieval))
        if not chosen:
            return ABSTAIN_TEXT, []
        if retrieval.question.across_meetings:
            return self._timeline_answer(chosen, citations, twins)
        cited = [self._cite(i + 1, s, citations, twins) for i, s in enumerate(chosen)]
        lead = f"From {citations.describe(chosen[0].passage)}: “{cited[0].quote}” [1]"
        rest = [f"“{c.quote}” [{c.n}] ({_where(c)})" for c in cited[1:]]
        return "\n".join([lead, *(f"Also: {line}" for line in rest)]), cited

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
            if across and any(s.passage.dated == candidate.passage.dated for s in chosen):
                continue
            if chosen and _older(candidate.passage.dated, chosen[0].passage.dated) and _who_now(retrieval.question):
                continue  # who holds a post now: an older paper's holder (last year's chair) is history, not support
            best = candidate.sentences[0]
            if not chosen or best.score >= ratio * chosen[0].score:
                chosen.append(self._with_next(best, candidate.sentences))
            if rank == 0 and not across:
                # The best passage may hold the answer in two places (a question and its answer, a list).
                for other in candidate.sentences[1 : self.settings.quotes_from_best]:
                    if other.score >= ratio * best.score and not any(_overlaps(other, c) for c in chosen):
                        chosen.append(self._with_next(other, candidate.sentences))
        chosen = chosen[: self.settings.max_quotes]
        return self._lead_first(chosen, retrieval)

    def _lead_first(self, chosen: list[Sentence], retrieval: Retrieval) -> list[Sentence]:
        """The chosen quotes with one that can lead first: a sentence of the body (not a cover field, letter
        greeting or sign-off, "this report updates ...", attendance list or bare heading) holding a value of
        the kind asked. Taken from the chosen quotes, else from the leading passages' sentences scoring at least
        `answer.lead_ratio` of the best; when none can, the order stays."""
        question = retrieval.question
        if not chosen or self._can_lead(chosen[0], question):
            return chosen
        for sentence in chosen[1:]:
            if self._can_lead(sentence, question):
                return [sentence, *(s for s in chosen if s is not sentence)]
        floor = self.settings.lead_ratio * chosen[0].score
        for candidate in retrieval.candidates[: self.settings.lead_depth]:
            for sentence in candidate.sentences:
                if sentence.score < floor:
                    break
                if self._can_lead(sentence, question):
                    lead = self._with_next(sentence, candidate.sentences)
                    # A quote that only ran into it (what the report is about, then the fact) gives way to it.
                    rest = [c for c in chosen if not _overlaps(c, lead)]
                    return [lead, *rest][: self.settings.max_quotes]
        return chosen

    @staticmethod
    def _can_lead(sentence: Sentence, question: Question) -> bool:
        return can_lead(sentence, question)

    def _with_next(self, sentence: Sentence, sentences: list[Sentence]) -> Sentence:
        """The sentence and the one after it when both fit in a quote: in minutes the answer follows the question."""
        following = min((s for s in sentences if s.start >= sentence.end), key=lambda s: s.start, default=None)
        if not self.settings.quote_next_sentence or following is None:
            return sentence
        if sentence.passage.text[sentence.end : following.start].strip():
            return sentence  # the very next sentence is not quotable (an instruction to an AI): stop here
        if len(sentence.passage.text[sentence.start : following.end].split()) > self.settings.max_quote_words:
            return sentence
        return Sentence(sentence.passage, sentence.start, following.end, sentence.score, sentence.coverage)

    def _timeline_answer(
        self, chosen: list[Sentence], citations: CitationBuilder, twins: dict[int, list[Sentence]]
    ) -> tuple[str, list[Citation]]:
        """Quotes from several meetings, oldest first."""
        ordered = sorted(chosen, key=lambda s: s.passage.dated or dt.date.min)
        cited = [self._cite(i + 1, s, citations, twins) for i, s in enumerate(ordered)]
        lines = [
            f"{citations.when(s.passage)}: “{c.quote}” [{c.n}] ({_where(c)})"
            for s, c in zip(ordered, cited, strict=True)
        ]
        return "\n".join(lines), cited

    def _cite(
        self, n: int, sentence: Sentence, citations: CitationBuilder, twins: dict[int, list[Sentence]] | None = None
    ) -> Citation:
        start, end = self._window(sentence)
        citation = citations.cite(n, sentence.passage, start, end)
        for twin in (twins or {}).get(id(sentence), []):
            citation.also_printed.append(citations.printed(twin.passage, twin.start))
        return citation

    def _window(self, sentence: Sentence) -> tuple[int, int]:
        """At most max_quote_words words of the sentence, from its start: a quote stays verbatim."""
        text = sentence.text
        words = list(re.finditer(r"\S+", text))
        if len(words) <= self.settings.max_quote_words:
            return sentence.start, sentence.end
        return sentence.start, sentence.start + words[self.settings.max_quote_words - 1].end()

    def _decision_answer(
        self, decisions: list[FoundDecision], citations: CitationBuilder, dated: bool = False
    ) -> tuple[str, list[Citation]]:
        """What was decided, when and with what status: the closest decisions, told oldest first."""
        # Whole minutes, closest first: the closest always whole (a resolution is quoted with all its points), the
        # next ones while they fit in max_quotes; told oldest first.
        minutes: dict[tuple, list[FoundDecision]] = {}
        for f in sorted(decisions, key=lambda f: -(f.relevance + f.closeness)):
            minutes.setdefault((f.decision.meeting_date, f.decision.section), []).append(f)
        shown: list[FoundDecision] = []
        # A meeting asked about as a whole ("what did we decide in January?") shows as many of its minutes as fit.
        budget = _WHOLE_MINUTE_POINTS if dated else self.settings.max_quotes
        for points in minutes.values():
            if shown and len(shown) + len(points) > budget:
                break
            shown.extend(sorted(points, key=lambda f: (f.passage.id, f.start))[:_WHOLE_MINUTE_POINTS])  # printed order
        cited: list[Citation] = []
        lines: list[str] = []
        ordered = oldest_first(shown)
        # Decisions of one minute say "On 13 July 2021 (minute 6, ...)" once: the others follow as points.
        grouped = {(f.decision.meeting_date, f.decision.section) for f in ordered}
        together = len(grouped) < len(ordered)
        heading = None
        for found in ordered:
            n = len(cited) + 1
            if len(found.decision.text.split()) <= self.settings.max_quote_words or not found.sentences:
                # A short decision is quoted whole: every point of a RESOLVED block, not just the closest.
                citation = citations.cite(n, found.passage, found.start, found.end)
            else:
                citation = self._cite(n, found.sentences[0], citations)
            citation.also_printed = list(found.decision.also_printed)
            cited.append(citation)
            decision = found.decision
            when = long_date(decision.meeting_date) if decision.meeting_date else "an undated meeting"
            where = f"On {when} ({section_words(decision.section) or 'minutes'})"
            status = STATUS_WORDS[decision.status]
            # What happened next to a report requested or an item deferred, as the later papers show it.
            after = "".join(f" ({f.explanation})" for f in decision.follow_ups)
            if not together or where != heading:
                # The first line answers in one sentence (the contract); the same minute's other decisions follow it.
                lines.append(f"{where}, {status}: “{citation.quote}” [{citation.n}]{after}")
                heading = where
                continue
            lines.append(f"- {status}: “{citation.quote}” [{citation.n}]{after}")
        if len(decisions) > len(shown):
            more = len(decisions) - len(shown)
            # Said so a member can act on it in any client: narrow the question, not run a command.
            were = f"{more} more decision{'s' if more > 1 else ''} {'are' if more > 1 else 'is'} recorded"
            narrow = "ask about one of its items" if dated else "name a meeting or a year"
            lines.append(f"({were}{' at that meeting' if dated else ' on this topic'}; {narrow} to see them.)")
        return "\n".join(lines), cited


_WHOLE_MINUTE_POINTS = 12  # a minute's points quoted at most in one answer (a work programme can list many)


def _once(chosen: list[Sentence]) -> tuple[list[Sentence], dict[int, list[Sentence]]]:
    """Each quote once: a sentence printed in two documents (minutes in the next pack and as printed minutes)
    is quoted from the first; the others are returned by id() of the sentence kept, to cite as also printed."""
    kept: list[Sentence] = []
    twins: dict[int, list[Sentence]] = {}
    for sentence in chosen:
        twin = next(
            (
                k
                for k in kept
                if k.passage.doc_id != sentence.passage.doc_id
                and k.passage.dated == sentence.passage.dated  # the same words at two meetings are two records
                and same_text(k.text, sentence.text)
            ),
            None,
        )
        if twin is None:
            kept.append(sentence)
        else:
            twins.setdefault(id(twin), []).append(sentence)
    return kept, twins


def _who_now(question: Question) -> bool:
    return question.recency and question.answer_type == "person"


def _older(day: dt.date | None, than: dt.date | None) -> bool:
    return than is not None and (day is None or day < than)


def _overlaps(a: Sentence, b: Sentence) -> bool:
    return a.passage.id == b.passage.id and a.start < b.end and b.start < a.end


def _where(c: Citation) -> str:
    where = section_words(c.section)
    return f"{where + ', ' if where else ''}{c.page_words}"
