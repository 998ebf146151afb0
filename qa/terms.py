"""Stemmed content terms, shared by re-scoring, near-duplicate checks and sentence choice."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping

from bm25s.stopwords import STOPWORDS_EN

from core.lexicon import DECISION_TOPIC_WORDS, QUESTION_WORDS, SYNONYMS
from core.records import Passage
from indexer.stores import embedding_text

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


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

    Computed once per generation (every passage is stemmed here, up front), then shared by retrieval,
    near-duplicate checks and sentence scoring.
    """

    def __init__(self, passages: Mapping[str, Passage], terms: Terms):
        self.terms = terms
        self._stems: dict[str, tuple[frozenset[str], frozenset[tuple[str, str]]]] = {}
        counts: dict[str, int] = {}
        for passage in passages.values():
            for term in self.stems(passage):
                counts[term] = counts.get(term, 0) + 1
        self._total = len(passages)
        total = max(1, self._total)
        self._idf = {term: math.log((total + 1) / (n + 0.5)) for term, n in counts.items()}

    def idf(self, stem: str) -> float:
        """Rarity of a stem, log((N + 1) / (n + 0.5)) for n of N passages; one never used counts as rarer than any."""
        return self._idf.get(stem, math.log((self._total + 1) / 0.5))

    def stems(self, passage: Passage) -> frozenset[str]:
        """The passage's stems (heading context included, stop words left out)."""
        return self._of(passage)[0]

    def pairs(self, passage: Passage) -> frozenset[tuple[str, str]]:
        """Adjacent stems of the passage (stop words skipped), for matching the question's phrases."""
        return self._of(passage)[1]

    def _of(self, passage: Passage) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        if passage.id not in self._stems:
            stems = self.terms.of(embedding_text(passage))
            self._stems[passage.id] = (frozenset(stems), frozenset(itertools.pairwise(stems)))
        return self._stems[passage.id]
