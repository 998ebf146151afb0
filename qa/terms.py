"""Stemmed content terms, shared by re-scoring, near-duplicate checks and sentence choice."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Mapping

import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from core.lexicon import DECISION_TOPIC_WORDS, QUESTION_WORDS, SYNONYMS
from core.records import Passage
from indexer.stores import embedding_text

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# Passages whose sets of stems and stem pairs are kept made (about 27 KB each): all of the sample, 1,165.
CACHED_PASSAGES = 2048


class Terms:
    """Turns text into lower-cased English stems without stop words.

    `question_words` are the words that shape a question rather than name its topic (the lexicon's, plus the
    council's own name from its vocabulary).
    """

    def __init__(self, question_words: frozenset[str] = QUESTION_WORDS):
        import Stemmer

        self._stem: Callable[[str], str] = Stemmer.Stemmer("english").stemWord
        self._stop = set(STOPWORDS_EN)
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
        return [self._stem(w) for w in _TOKEN.findall(text.lower()) if w not in self._stop]

    def topic_words(self, question: str, decision: bool = False) -> list[str]:
        """The words that say what a question is about, as typed (lower case), each once."""
        shape = self._question_words | DECISION_TOPIC_WORDS if decision else self._question_words
        words = [w for w in _TOKEN.findall(question.lower()) if w not in self._stop and w not in shape]
        return list(dict.fromkeys(w for w in words if not w.isdigit()))

    def topic(self, question: str, decision: bool = False) -> list[str]:
        """The stems that say what a question is about, without its question words."""
        shape = self._question_words | DECISION_TOPIC_WORDS if decision else self._question_words
        words = [w for w in _TOKEN.findall(question.lower()) if w not in self._stop and w not in shape]
        return list(dict.fromkeys(self._stem(w) for w in words))


class CorpusTerms:
    """The stems of one index generation's passages, and how rare each stem is among them.

    Every passage is stemmed once, up front (for the rarities), and kept as an int32 array of stem ids in text order
    (about 0.8 KB a passage); the sets that re-scoring and near-duplicate checks compare are made from it for the
    passages a question reaches, and the last CACHED_PASSAGES of them kept. Holding every passage's sets of stems and
    stem pairs instead took about 1 GB at 64x the sample (74,623 passages).
    """

    def __init__(self, passages: Mapping[str, Passage], terms: Terms, cached: int = CACHED_PASSAGES):
        self.terms = terms
        self._ids: dict[str, int] = {}
        self._words: list[str] = []
        self._sequences: dict[str, np.ndarray] = {}
        counts: list[int] = []
        for passage in passages.values():
            sequence = np.fromiter((self._id(stem) for stem in terms.of(embedding_text(passage))), np.int32)
            self._sequences[passage.id] = sequence
            counts.extend([0] * (len(self._words) - len(counts)))
            for stem_id in np.unique(sequence).tolist():
                counts[stem_id] += 1
        self._total = len(passages)
        total = max(1, self._total)
        self._idf = {self._words[i]: math.log((total + 1) / (n + 0.5)) for i, n in enumerate(counts) if n}
        self._of = functools.lru_cache(maxsize=cached)(self._made)

    def _id(self, stem: str) -> int:
        found = self._ids.get(stem)
        if found is None:
            found = self._ids[stem] = len(self._words)
            self._words.append(stem)
        return found

    def idf(self, stem: str) -> float:
        """Rarity of a stem, log((N + 1) / (n + 0.5)) for n of N passages; one never used counts as rarer than any."""
        return self._idf.get(stem, math.log((self._total + 1) / 0.5))

    def stems(self, passage: Passage) -> frozenset[str]:
        """The passage's stems (heading context included, stop words left out)."""
        return self._sets(passage)[0]

    def pairs(self, passage: Passage) -> frozenset[tuple[str, str]]:
        """Adjacent stems of the passage (stop words skipped), for matching the question's phrases."""
        return self._sets(passage)[1]

    def _sets(self, passage: Passage) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        if passage.id in self._sequences:
            return self._of(passage.id)
        return _as_sets(self.terms.of(embedding_text(passage)))  # not of this generation: made, not kept

    def _made(self, passage_id: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        words = self._words
        return _as_sets([words[i] for i in self._sequences[passage_id].tolist()])


def _as_sets(stems: list[str]) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    return frozenset(stems), frozenset(itertools.pairwise(stems))
