"""Cut structured segments into sentence-aware, citation-tracked passages sized for the embedder."""

from __future__ import annotations

import re
from collections.abc import Callable

from core.lexicon import AGREED, DEFERRED, RESOLUTION_WORDS
from core.records import PageSpan, Passage
from core.settings import PassageSettings
from core.text import Span, line_spans, searchable_text, sentence_spans, strip_span, word_count
from indexer.structure import Segment, StructuredDocument

TokenCounter = Callable[[list[str]], list[int]]  # word-pieces of each text
# What the embedder reads of a decision passage's context: RESOLVED or UNRESOLVED as the minutes print it.
_STATUS_MARKERS: dict[str, str] = {}
for _word, _status in RESOLUTION_WORDS.items():
    _STATUS_MARKERS.setdefault(_status, _word)


class PassageBuilder:
    """Packs sentences (or table rows) into passages within word and word-piece budgets."""

    def __init__(self, settings: PassageSettings, count_tokens: TokenCounter, model_max_tokens: int = 256):
        self.settings = settings
        self.count_tokens = count_tokens
        self.model_max_tokens = model_max_tokens

    def build(self, doc: StructuredDocument, doc_id: str) -> list[Passage]:
        passages: list[Passage] = []
        for segment in doc.segments:
            for text, pages in self._chunks(segment, doc):
                passages.append(self._passage(doc, doc_id, segment, text, pages, len(passages)))
        return passages

    def _chunks(self, segment: Segment, doc: StructuredDocument) -> list[tuple[str, list[PageSpan]]]:
        text, pages = _join_lines(segment)
        if not text.strip():
            return []
        context = _context(segment, doc)
        budget = min(self.settings.max_tokens, self.model_max_tokens - self.count_tokens([context])[0] - 4)
        units = line_spans(text) if segment.context.table else sentence_spans(text)
        sized = self._sized(text, units, budget)
        # Word-pieces never span whitespace, so a run's count is the sum of its units' counts.
        groups: list[list[int]] = []
        totals: list[list[int]] = []
        for index, (_, words, tokens) in enumerate(sized):
            if groups and self._fits(totals[-1][0] + words, totals[-1][1] + tokens, budget):
                groups[-1].append(index)
                totals[-1][0] += words
                totals[-1][1] += tokens
            else:
                groups.append([index])
                totals.append([words, tokens])
        # A short tail joins the passage before it when the two still fit.
        if (
            len(groups) > 1
            and totals[-1][0] < self.settings.min_words
            and self._fits(totals[-2][0] + totals[-1][0], totals[-2][1] + totals[-1][1], budget)
        ):
            groups[-2].extend(groups.pop())
            totals.pop()
        chunks = []
        for group in groups:
            start, end = strip_span(text, sized[group[0]][0].start, sized[group[-1]][0].end)
            if start < end:
                chunks.append((text[start:end], _pages_between(pages, start, end)))
        return chunks

    def _fits(self, words: int, tokens: int, budget: int) -> bool:
        return words <= self.settings.max_words and tokens <= budget

    def _sized(self, text: str, units: list[Span], budget: int) -> list[tuple[Span, int, int]]:
        """Each unit with its words and word-pieces; one too long for a passage is split at lines, then words."""
        pieces = [text[u.start : u.end] for u in units]
        sized: list[tuple[Span, int, int]] = []
        counts = self.count_tokens([searchable_text(p) for p in pieces])
        for unit, piece, tokens in zip(units, pieces, counts, strict=True):
            words = word_count(piece)
            if self._fits(words, tokens, budget):
                sized.append((unit, words, tokens))
                continue
            lines = line_spans(piece)
            if len(lines) > 1:
                sized.extend(self._sized(text, [Span(unit.start + s.start, unit.start + s.end) for s in lines], budget))
            else:
                sized.extend(self._split_words(text, unit, budget))
        return sized

    def _split_words(self, text: str, unit: Span, budget: int) -> list[tuple[Span, int, int]]:
        pieces: list[tuple[Span, int, int]] = []
        start, words, tokens = unit.start, 0, 0
        matches = list(re.finditer(r"\S+\s*", text[unit.start : unit.end]))
        counts = self.count_tokens([searchable_text(m.group()) for m in matches])
        for match, word_tokens in zip(matches, counts, strict=True):
            if words and not self._fits(words + 1, tokens + word_tokens, budget):
                pieces.append((Span(start, unit.start + match.start()), words, tokens))
                start, words, tokens = unit.start + match.start(), 0, 0
            words += 1
            tokens += word_tokens
        pieces.append((Span(start, unit.end), words, tokens))
        return pieces

    def _passage(
        self, doc: StructuredDocument, doc_id: str, segment: Segment, text: str, pages: list[PageSpan], n: int
    ) -> Passage:
        ctx = segment.context
        decision, status = ctx.decision_status is not None, ctx.decision_status
        if ctx.part == "minutes" and not decision and not ctx.boilerplate:
            if DEFERRED.search(text):
                decision, status = True, "deferred"
            elif AGREED.search(text):
                decision, status = True, "agreed"
        return Passage(
            id=f"{doc_id}-{n:04d}",
            doc_id=doc_id,
            file=doc.source.file,
            text=text,
            pages=pages,
            section=" > ".join(ctx.section_path) or None,
            section_path=list(ctx.section_path),
            part=ctx.part,
            minute=ctx.minute,
            item=ctx.item,
            meeting_date=ctx.meeting_date,
            pack_date=doc.meeting_date,
            committee=doc.committee,
            doc_type=doc.doc_type,
            decision=decision,
            decision_status=status,
            boilerplate=ctx.boilerplate,
            table=ctx.table,
            context=_context(segment, doc),
        )


def _context(segment: Segment, doc: StructuredDocument) -> str:
    ctx = segment.context
    parts = [" > ".join(ctx.section_path[-2:]) or doc.title]
    if ctx.decision_status:
        parts.append(_STATUS_MARKERS.get(ctx.decision_status, ctx.decision_status))
    return ". ".join(parts)


def _join_lines(segment: Segment) -> tuple[str, list[PageSpan]]:
    text_parts: list[str] = []
    pages: list[PageSpan] = []
    offset = 0
    for line in segment.lines:
        if not pages or pages[-1].page != line.page:
            pages.append(PageSpan(offset=offset, page=line.page, label=line.label))
        text_parts.append(line.text)
        offset += len(line.text) + 1
    return "\n".join(text_parts), pages


def _pages_between(pages: list[PageSpan], start: int, end: int) -> list[PageSpan]:
    """The page spans of text[start:end], with offsets relative to start."""
    result = []
    for i, span in enumerate(pages):
        span_end = pages[i + 1].offset if i + 1 < len(pages) else float("inf")
        if span_end <= start or span.offset >= end:
            continue
        result.append(PageSpan(offset=max(0, span.offset - start), page=span.page, label=span.label))
    return result
