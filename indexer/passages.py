"""Cut structured segments into sentence-aware, citation-tracked passages sized for the embedder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.structure import Segment, StructuredDocument
from qa.models import PageSpan, Passage
from qa.settings import PassageSettings

TokenCounter = Callable[[list[str]], list[int]]  # word-pieces of each text

# A new line that starts a list item, a numbered paragraph or a heading also starts a sentence.
_LINE_STARTS_UNIT = re.compile(r"^\s*(?:[-•▪ᓼ]\s|\d{1,2}(?:\.\d{1,2})*[.)]?\s|\(?[a-z]\)\s|[A-Z][A-Z ]{3,}$|RESOLVED|UNRESOLVED)")
DEFERRED = re.compile(r"\b(?:deferred|postponed)\b", re.I)
AGREED = re.compile(r"\b(?:agreed|approved)\b[^.]*\brecommendations?\b|\brecommendations?\b[^.]*\b(?:were|was) (?:agreed|approved)\b", re.I)
_MARKUP = re.compile(r"\[([^\]]*)\]\(#?[^)]*\)|\^\{([^}]*)\}|\^\[(\d+)\]")
_ABBREVIATIONS = {"cllr", "cllrs", "no", "nos", "e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "st", "approx", "para", "paras",
                  "ref", "vs", "cf", "fig", "dept", "govt", "p", "pp", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
                  "sep", "sept", "oct", "nov", "dec", "incl", "est", "ltd", "co", "op"}


@lru_cache(maxsize=1)
def _sentence_tokenizer():
    # llama-index ships NLTK's Punkt model; load it from there (no download, no llama-index import cost).
    import importlib.util

    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    core = importlib.util.find_spec("llama_index.core")
    nltk_data = str(Path(core.submodule_search_locations[0]) / "_static" / "nltk_cache")
    if nltk_data not in nltk.data.path:
        nltk.data.path.append(nltk_data)
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(_ABBREVIATIONS)
    return tokenizer


def word_count(text: str) -> int:
    return len(text.split())


def searchable_text(text: str) -> str:
    """Text for embedding and keyword search: conversion markup removed, whitespace collapsed."""
    cleaned = _MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", text)
    return " ".join(cleaned.split())


@dataclass
class _Span:
    start: int
    end: int


def sentence_spans(text: str) -> list[_Span]:
    """Sentence boundaries in a block of wrapped lines, also breaking where a list item or heading starts."""
    flat = text.replace("\n", " ")
    starts = {start for start, _ in _sentence_tokenizer().span_tokenize(flat)}
    offset = 0
    for line in text.split("\n"):
        if offset and _LINE_STARTS_UNIT.match(line):
            starts.add(offset)
        offset += len(line) + 1
    starts.add(0)
    ordered = sorted(s for s in starts if s < len(text))
    return [_Span(s, e) for s, e in zip(ordered, ordered[1:] + [len(text)])]


def line_spans(text: str) -> list[_Span]:
    spans, offset = [], 0
    for line in text.split("\n"):
        spans.append(_Span(offset, offset + len(line) + 1))
        offset += len(line) + 1
    spans[-1].end = len(text)
    return spans


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
        if len(groups) > 1 and totals[-1][0] < self.settings.min_words:
            if self._fits(totals[-2][0] + totals[-1][0], totals[-2][1] + totals[-1][1], budget):
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

    def _sized(self, text: str, units: list[_Span], budget: int) -> list[tuple[_Span, int, int]]:
        """Each unit with its words and word-pieces; one too long for a passage is split at lines, then words."""
        pieces = [text[u.start : u.end] for u in units]
        sized: list[tuple[_Span, int, int]] = []
        for unit, piece, tokens in zip(units, pieces, self.count_tokens([searchable_text(p) for p in pieces])):
            words = word_count(piece)
            if self._fits(words, tokens, budget):
                sized.append((unit, words, tokens))
                continue
            lines = line_spans(piece)
            if len(lines) > 1:
                sized.extend(self._sized(text, [_Span(unit.start + s.start, unit.start + s.end) for s in lines], budget))
            else:
                sized.extend(self._split_words(text, unit, budget))
        return sized

    def _split_words(self, text: str, unit: _Span, budget: int) -> list[tuple[_Span, int, int]]:
        pieces: list[tuple[_Span, int, int]] = []
        start, words, tokens = unit.start, 0, 0
        matches = list(re.finditer(r"\S+\s*", text[unit.start : unit.end]))
        for match, word_tokens in zip(matches, self.count_tokens([searchable_text(m.group()) for m in matches])):
            if words and not self._fits(words + 1, tokens + word_tokens, budget):
                pieces.append((_Span(start, unit.start + match.start()), words, tokens))
                start, words, tokens = unit.start + match.start(), 0, 0
            words += 1
            tokens += word_tokens
        pieces.append((_Span(start, unit.end), words, tokens))
        return pieces

    def _passage(self, doc: StructuredDocument, doc_id: str, segment: Segment, text: str, pages: list[PageSpan], n: int) -> Passage:
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
        parts.append({"resolved": "RESOLVED", "not agreed": "UNRESOLVED"}.get(ctx.decision_status, ctx.decision_status))
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


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pages_between(pages: list[PageSpan], start: int, end: int) -> list[PageSpan]:
    """The page spans of text[start:end], with offsets relative to start."""
    result = []
    for i, span in enumerate(pages):
        span_end = pages[i + 1].offset if i + 1 < len(pages) else float("inf")
        if span_end <= start or span.offset >= end:
            continue
        result.append(PageSpan(offset=max(0, span.offset - start), page=span.page, label=span.label))
    return result
