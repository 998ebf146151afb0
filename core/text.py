"""Spans of text: sentences, lines and their trimmed bounds, and the cleaned text that search reads.

Offsets are always into the passage's own verbatim text, so any span cut here quotes the page exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.lexicon import ABBREVIATIONS, HYPHEN_PREFIXES, RESOLUTION_WORDS

# The words that BM25 and the stems of re-scoring read: runs of two or more word characters (scikit-learn's
# pattern, which bm25s uses), lower-cased, without bm25s's English stop words.
CONTENT_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# The words that spelling correction knows: letters, with apostrophes inside ("member's").
SPELLING_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]")

# A new line that starts a list item, a numbered paragraph or a heading also starts a sentence.
_LINE_STARTS_UNIT = re.compile(
    r"^\s*(?:[-•▪ᓼ]\s|\d{1,2}(?:\.\d{1,2})*[.)]?\s|\(?[a-z]\)\s|[A-Z][A-Z ]{3,}$|" + "|".join(RESOLUTION_WORDS) + ")"
)
# Conversion markup some councils' PDFs carry: [text](#link), ^{sup}, ^[1].
_MARKUP = re.compile(r"\[([^\]]*)\]\(#?[^)]*\)|\^\{([^}]*)\}|\^\[(\d+)\]")


# Characters a text layer stores that a reader sees as something plainer (after the public reports of PDF
# text-extraction tools: ligatures from Word exports, soft hyphens, the many spaces, zero-width marks, the
# Unicode hyphens). Curly quotes are kept for display; `fold_quotes` matches them with straight ones.
_READING_FORM = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
        "\u00ad": "",  # soft hyphen: shown only where a line breaks, and never part of the word
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\u2060": "",
        "\ufeff": "",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u3000": " ",
        **{chr(c): " " for c in range(0x2000, 0x200B)},
        "\u2010": "-",
        "\u2011": "-",
        "\ufffd": " ",  # a glyph with no Unicode mapping
    }
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
# A word broken over a line: "restora-" at a line's end, "tive ..." on the next.
_BROKEN_WORD = re.compile(r"(?<![\w-])([A-Za-z]*[a-z])-$")
_WORD_START = re.compile(r"^([a-z][\w'’]*)([,.;:)]*)(?:\s+|$)")
_HYPHENS_IN_WORDS = re.compile(r"(?<=[A-Za-z])-\s*(?=[a-z])")


def reading_form(text: str) -> str:
    """Text as the reader sees it: ligatures spelled out, soft hyphens and zero-width marks dropped, every
    kind of space a space. Letters, punctuation and line breaks are otherwise untouched, so a quote of the
    result is the page's own text under this same mapping (see `eval.faithful`)."""
    return text.translate(_READING_FORM)


def fold_quotes(text: str) -> str:
    """Curly quotes and apostrophes as straight ones, for matching names typed either way."""
    return text.translate(_QUOTES)


def name_key(name: str) -> str:
    """A committee's name for matching: case ignored, apostrophes (straight or curly) left out, "&" read as "and",
    spaces collapsed, so a name typed without its apostrophe or with "&" for "and" matches the papers' spelling."""
    folded = fold_quotes(name).casefold().replace("'", "").replace("&", " and ")
    return " ".join(folded.split())


_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Texts this long (in key characters) that one holds the other are the same text cut at different places.
_SAME_TEXT_MIN = 40


@lru_cache(maxsize=16384)  # the same candidates' sentences are compared question after question
def text_key(text: str) -> str:
    """Text for telling duplicates apart: words and numbers only, lower case, quotes and breaks ignored."""
    return _NOT_WORD.sub(" ", unhyphenated(reading_form(fold_quotes(text))).casefold()).strip()


def same_text(a: str, b: str) -> bool:
    """Whether two texts are the same text printed twice: equal, or cut at different places so that three fifths
    of the shorter one's runs of six words (and at least one) are also the other's (words and numbers only).
    Linear in the texts' length."""
    ka, kb = text_key(a), text_key(b)
    if ka == kb:
        return bool(ka)
    if min(len(ka), len(kb)) < _SAME_TEXT_MIN:
        return False
    sa, sb = _shingles(ka), _shingles(kb)
    shorter = min(len(sa), len(sb))
    return shorter > 0 and len(sa & sb) >= 0.6 * shorter


@lru_cache(maxsize=4096)
def _shingles(key: str, size: int = 6) -> frozenset[tuple[str, ...]]:
    words = key.split()
    return frozenset(tuple(words[i : i + size]) for i in range(max(0, len(words) - size + 1)))


def find_text(needle: str, haystack: str) -> int:
    """Where `needle`'s first words start in `haystack`, whatever the spacing between them; 0 if nowhere."""
    words = needle.split()[:6]
    match = re.search(r"\s+".join(re.escape(w) for w in words), haystack) if words else None
    return match.start() if match else 0


def unhyphenated(text: str) -> str:
    """Hyphens inside words removed and a hyphen before a line break joined: the form in which a quote is
    compared with the page, since the reader joins words hyphenated over a line break."""
    return _HYPHENS_IN_WORDS.sub("", text)


def join_broken_words(lines: list[str], vocabulary: set[str]) -> list[str]:
    """Words hyphenated over a line break joined onto the first line ("restora-" + "tive was ..." ->
    "restorative" + "was ...").

    Word processors rarely hyphenate on their own, so most hyphens at a line's end belong to the word
    ("well-detailed", "re-offending"). The hyphen goes only when the document spells the joined word
    without it elsewhere, or when the first part is no word of the document and no prefix that takes a
    hyphen. `vocabulary` is the document's words in lower case (see `document_words`)."""
    out = list(lines)
    for i in range(len(out) - 1):
        broken = _BROKEN_WORD.search(out[i])
        following = _WORD_START.match(out[i + 1]) if broken else None
        if not broken or not following:
            continue
        head, tail = broken.group(1), following.group(1)
        joined, hyphenated = head + tail, f"{head}-{tail}"
        if hyphenated.lower() in vocabulary:
            keep = True
        elif joined.lower() in vocabulary:
            keep = False
        else:
            keep = head.lower() in vocabulary or head.lower() in HYPHEN_PREFIXES
        word = (hyphenated if keep else joined) + following.group(2)
        out[i] = out[i][: broken.start()] + word
        out[i + 1] = out[i + 1][following.end() :]
    return [line for line in out if line.strip()]


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


def document_words(lines: list[str]) -> set[str]:
    """The words of a document's lines in lower case, hyphenated ones whole, leaving out the parts of a
    word broken over a line (the last word of a line ending in a hyphen and the first of the next)."""
    words: set[str] = set()
    after_break = False
    for line in lines:
        found = _WORD.findall(line)
        if after_break and found:
            found = found[1:]
        after_break = bool(_BROKEN_WORD.search(line))
        if after_break and found:
            found = found[:-1]
        words.update(word.lower() for word in found)
    return words


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
    if not text:
        return []
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


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """bm25s's English stop words: never a passage's stem nor a question's topic."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def english_stemmer() -> Callable[[str], str]:
    """A new Snowball English stemmer's stemWord (PyStemmer). One per owner: a Stemmer object is not thread safe."""
    import Stemmer

    return Stemmer.Stemmer("english").stemWord


def content_stems(text: str, stem: Callable[[str], str]) -> list[str]:
    """The stems of a text's content words, in text order: what a passage is about, as re-scoring compares it."""
    stop = stop_words()
    return [stem(w) for w in CONTENT_TOKEN.findall(text.lower()) if w not in stop]


def spelling_words(text: str) -> list[str]:
    """A text's words as spelling correction counts them, lower-cased."""
    return [w.lower() for w in SPELLING_WORD.findall(text)]
