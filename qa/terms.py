"""Stemmed content terms, shared by re-scoring, near-duplicate checks and sentence choice."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Collection

import numpy as np

from core.lexicon import DECISION_TOPIC_WORDS, QUESTION_WORDS, SYNONYMS
from core.records import Passage
from core.text import CONTENT_TOKEN, content_stems, english_stemmer, stop_words
from indexer.passage_table import StemTable, embedding_text

# Passages whose sets of stems are kept made, for near-duplicate checks (about 10 KB each): all of the sample, 1,165.
CACHED_PASSAGES = 2048


class Terms:
    """Turns text into lower-cased English stems without stop words.

    `question_words` are the words that shape a question rather than name its topic (the lexicon's, plus the
    council's own name from its vocabulary).
    """

    def __init__(self, question_words: frozenset[str] = QUESTION_WORDS):
        self._stem: Callable[[str], str] = english_stemmer()
        self._stop = stop_words()
        self._question_words = question_words
        self._synonyms: dict[str, frozenset[str]] = {}
        for word, others in SYNONYMS.items():
            stem = self._stem(word)
            self._synonyms[stem] = self._synonyms.get(stem, frozenset({stem})) | {self._stem(o.lower()) for o in others}

    @property
    def question_words(self) -> frozenset[str]:
        """Words that shape a question rather than name its topic."""
        return self._question_words

    @property
    def stop_words(self) -> frozenset[str]:
        return frozenset(self._stop)

    def stem(self, word: str) -> str:
        return self._stem(word.lower())

    def alternatives(self, stem: str) -> frozenset[str]:
        """The stem and the stems of what the papers call the same thing."""
        return self._synonyms.get(stem, frozenset({stem}))

    def covers(self, stem: str, stems: frozenset[str] | set[str]) -> float:
        """1 when the stem is among `stems`, half when only another word for it is: a weaker sign."""
        if stem in stems:
            return 1.0
        return 0.5 if not self._synonyms.get(stem, frozenset()).isdisjoint(stems) else 0.0

    def of(self, text: str) -> list[str]:
        """The text's content stems in order (core.text.content_stems: what the generation's stem table holds)."""
        return content_stems(text, self._stem)

    def topic_words(self, question: str, decision: bool = False) -> list[str]:
        """The words that say what a question is about, as typed (lower case), each once."""
        shape = self._question_words | DECISION_TOPIC_WORDS if decision else self._question_words
        words = [w for w in CONTENT_TOKEN.findall(question.lower()) if w not in self._stop and w not in shape]
        return list(dict.fromkeys(w for w in words if not w.isdigit()))

    def topic(self, question: str, decision: bool = False) -> list[str]:
        """The stems that say what a question is about, without its question words."""
        shape = self._question_words | DECISION_TOPIC_WORDS if decision else self._question_words
        words = [w for w in CONTENT_TOKEN.findall(question.lower()) if w not in self._stop and w not in shape]
        return list(dict.fromkeys(self._stem(w) for w in words))


class CorpusTerms:
    """The stems of one index generation's passages, and how rare each stem is among the passages a reader sees.

    The stems come from the generation's stem table (indexer.passage_table: written at publish, memory-mapped).
    Re-scoring reads which of a question's stems and phrases each candidate holds from its stem ids (`held`);
    near-duplicate checks compare sets of stems, made for the passages they reach and the last CACHED_PASSAGES of
    them kept. Holding every passage's sets of stems and stem pairs instead took about 1 GB at 64x the sample (74,623
    passages); stemming every passage when a generation was opened, 7 s.
    """

    def __init__(self, stems: StemTable, passages: int, terms: Terms, cached: int = CACHED_PASSAGES):
        """`passages`: how many passages the reader sees (all, or the unrestricted ones: `stems` counts the same)."""
        self.terms = terms
        self._stems = stems
        self._total = passages
        self._idf = stems.idf(passages)
        # A closure over the stem table, not a bound method, so that nothing here refers back to itself.
        self._of = functools.lru_cache(maxsize=cached)(lambda passage_id: frozenset(stems.of(passage_id) or []))

    def idf(self, stem: str) -> float:
        """Rarity of a stem, log((N + 1) / (n + 0.5)) for n of N passages; one never used counts as rarer than any."""
        return self._idf.get(stem, math.log((max(1, self._total) + 1) / 0.5))

    def stems(self, passage: Passage) -> frozenset[str]:
        """The passage's stems (heading context included, stop words left out)."""
        if passage.id in self._stems.rows:
            return self._of(passage.id)
        return frozenset(self.terms.of(embedding_text(passage)))  # not of this generation: made, not kept

    def held(
        self, passage: Passage, stems: Collection[str], pairs: Collection[tuple[str, str]]
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Which of `stems`, and of the stem pairs `pairs`, the passage holds (heading context included; a pair is
        held when its stems are adjacent, stop words skipped), read from the passage's stem ids without making its
        whole sets: re-scoring asks this of every candidate, most of them read for the first time at a large archive
        (making the sets of stems and pairs took about 45 us a passage, 3 ms a question at 64x the sample)."""
        run = self._stems.ids_of(passage.id)
        if run is None:  # not of this generation
            order = self.terms.of(embedding_text(passage))
            all_stems, all_pairs = frozenset(order), frozenset(itertools.pairwise(order))
            return frozenset(s for s in stems if s in all_stems), frozenset(p for p in pairs if p in all_pairs)
        ids = self._stems.word_ids
        present = set(run.tolist())
        found = frozenset(s for s in stems if ids.get(s, -1) in present)
        adjacent = frozenset(
            (a, b)
            for a, b in pairs
            if ids.get(a, -1) in present
            and ids.get(b, -1) in present
            and bool(np.any((run[:-1] == ids[a]) & (run[1:] == ids[b])))
        )
        return found, adjacent
