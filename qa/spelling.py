"""A question's words the papers never use, matched to the nearest words they do ("inspction" -> "inspection").

The vocabulary is the index generation's own words, so corrections follow the papers, whatever the council.
Matching is rapidfuzz's optimal-string-alignment distance (a swap of two letters counts as one edit).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from core.records import SpellingFix
from core.text import SPELLING_WORD, spelling_words

# Shorter words are left alone: too many real words lie one edit from another ("care", "core", "cars").
MIN_LENGTH = 4


def max_edits(word: str) -> int:
    """Edits allowed for a word this long: one up to six letters, two from seven."""
    return 1 if len(word) <= 6 else 2


class SpellingCorrector:
    """Corrects the words of a question that no passage contains to the nearest word passages do contain.

    A correction keeps the typed word's first letter (typos rarely change it), needs a candidate within
    `max_edits`, and takes the most frequent of the nearest. `keep` are words never corrected (question
    words, stop words): they shape the question, and the papers need not use them. `stem` gives a word's
    stem, so another form of a word the papers use is no typo.
    """

    def __init__(
        self,
        texts: Iterable[str] = (),
        keep: frozenset[str] = frozenset(),
        stem: Callable[[str], str] = lambda w: w,
        counts: Mapping[str, int] | None = None,
    ):
        """The vocabulary is the words of `texts`, or `counts` (word -> uses: an index generation's, counted when
        it was published, indexer.passage_table)."""
        if counts is None:
            found: Counter[str] = Counter()
            for text in texts:
                found.update(spelling_words(text))
            counts = found
        self.counts = counts
        self.keep = keep
        self.stem = stem
        self._stems = {stem(word) for word in counts}
        self._by_initial: dict[str, list[str]] = {}
        for word in counts:
            self._by_initial.setdefault(word[0], []).append(word)

    def correct(self, question: str) -> tuple[str, list[SpellingFix]]:
        """The question with unknown words replaced (their capital kept), and the replacements made."""
        fixes: list[SpellingFix] = []

        def replace(match: re.Match) -> str:
            typed = match.group(0)
            word = typed.lower()
            if len(word) < MIN_LENGTH or word in self.keep or "'" in word or "’" in word or self.known(word):
                return typed
            found = self.nearest(word)
            if found is None:
                return typed
            searched = found[0].upper() + found[1:] if typed[0].isupper() else found
            fixes.append(SpellingFix(typed=typed, searched=searched))
            return searched

        return SPELLING_WORD.sub(replace, question), fixes

    def unknown(self, words: list[str], besides: Sequence[str] = ()) -> list[str]:
        """The words no paper uses in any form (after correction): what the question asks that the papers lack.
        Words of the names in `besides` (already named as missing) are left out."""
        named = {w.lower() for name in besides for w in SPELLING_WORD.findall(name)}
        return [
            w
            for w in words
            if len(w) >= MIN_LENGTH
            and w.lower() not in self.keep
            and w.lower() not in named
            and not self.known(w.lower())
        ]

    def prints(self, name: str) -> bool:
        """Whether the papers print every word of a name (in any case)."""
        return all(word.lower() in self.counts for word in SPELLING_WORD.findall(name))

    def known(self, word: str) -> bool:
        """Whether the papers use the word, or another form of it ("centres" where they say "centre")."""
        return word in self.counts or self.stem(word) in self._stems

    def nearest(self, word: str) -> str | None:
        """The most frequent indexed word within `max_edits` of `word` with its first letter, or None."""
        limit = max_edits(word)
        candidates = process.extract(
            word, self._by_initial.get(word[0], []), scorer=OSA.distance, score_cutoff=limit, limit=20
        )
        if not candidates:
            return None
        best = min(distance for _, distance, _ in candidates)
        nearest = [found for found, distance, _ in candidates if distance == best]
        return max(nearest, key=lambda found: (self.counts[found], found))
