"""Spans of text: sentences, lines and their trimmed bounds, and the cleaned text that search reads.

Offsets are always into the passage's own verbatim text, so any span cut here quotes the page exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.lexicon import ABBREVIATIONS, RESOLUTION_WORDS

# A new line that starts a list item, a numbered paragraph or a heading also starts a sentence.
_LINE_STARTS_UNIT = re.compile(
    r"^\s*(?:[-•▪ᓼ]\s|\d{1,2}(?:\.\d{1,2})*[.)]?\s|\(?[a-z]\)\s|[A-Z][A-Z ]{3,}$|" + "|".join(RESOLUTION_WORDS) + ")"
)
# Conversion markup some councils' PDFs carry: [text](#link), ^{sup}, ^[1].
_MARKUP = re.compile(r"\[([^\]]*)\]\(#?[^)]*\)|\^\{([^}]*)\}|\^\[(\d+)\]")


@dataclass
class Span:
    """text[start:end] of some text; `end` is exclusive."""

    start: int
    end: int


@lru_cache(maxsize=1)
def _sentence_tokenizer() -> Any:
    # llama-index ships NLTK's Punkt model; load it from there (no download, no llama-index import cost).
    import importlib.util

    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    core = importlib.util.find_spec("llama_index.core")
    assert core is not None and core.submodule_search_locations, "llama-index-core is a dependency"
    nltk_data = str(Path(core.submodule_search_locations[0]) / "_static" / "nltk_cache")
    if nltk_data not in nltk.data.path:
        nltk.data.path.append(nltk_data)
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(ABBREVIATIONS)
    return tokenizer


def word_count(text: str) -> int:
    return len(text.split())


def searchable_text(text: str) -> str:
    """Text for embedding and keyword search: conversion markup removed, whitespace collapsed."""
    cleaned = _MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", text)
    return " ".join(cleaned.split())


def sentence_spans(text: str) -> list[Span]:
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
    return [Span(s, e) for s, e in zip(ordered, [*ordered[1:], len(text)], strict=True)]


def line_spans(text: str) -> list[Span]:
    """One span per line, each with its line break; the last ends at the end of the text."""
    spans, offset = [], 0
    for line in text.split("\n"):
        spans.append(Span(offset, offset + len(line) + 1))
        offset += len(line) + 1
    spans[-1].end = len(text)
    return spans


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
