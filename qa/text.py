"""Stemmed content terms, shared by re-scoring, near-duplicate checks and sentence choice."""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# Words that carry the shape of a question, not its topic.
_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do", "done", "was", "were", "we",
    "our", "us", "about", "tell", "me", "any", "there", "has", "have", "had", "been", "say", "said", "says", "papers",
    "meeting", "meetings", "committee", "council", "councillors", "members", "happened", "happen", "discussed", "discuss",
    "many", "much", "number", "latest", "last", "year", "years", "its", "it", "can", "could", "would", "should", "will",
    "please", "know", "get", "got", "give", "going", "from", "this", "that", "these", "those", "thurrock",
}


# Words that make a question a decision question; when one is not, they can be its topic ("approved foster carers").
_DECISION_WORDS = {"decide", "decided", "decision", "decisions", "agree", "agreed", "approve", "approved", "resolve", "resolved"}


# Members' words for what the papers call something else; each also matches the words after it.
# Keys and words are stemmed, so "jobs" and "posts" are covered by "job" and "post".
SYNONYMS = {
    "job": ["post", "role", "staff"], "cut": ["saving", "reduction"], "kid": ["child", "children"],
    "money": ["budget", "funding", "grant"], "funding": ["budget", "grant"], "spend": ["expenditure", "cost"],
    "nursery": ["childcare"], "club": ["centre", "hub"], "complaint": ["representation"],
    "truancy": ["attendance", "absence"], "disabled": ["disabilities", "SEND"],
    "staff": ["workforce"], "workers": ["workforce"],
}


class Terms:
    """Turns text into lower-cased English stems without stop words."""

    def __init__(self):
        import Stemmer

        self._stem = Stemmer.Stemmer("english").stemWord
        self._stop = set(STOPWORDS_EN)
        self._synonyms: dict[str, frozenset[str]] = {}
        for word, others in SYNONYMS.items():
            stem = self._stem(word)
            self._synonyms[stem] = self._synonyms.get(stem, frozenset({stem})) | {self._stem(o.lower()) for o in others}

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

    def topic(self, question: str, decision: bool = False) -> list[str]:
        """The stems that say what a question is about, without its question words."""
        shape = _QUESTION_WORDS | _DECISION_WORDS if decision else _QUESTION_WORDS
        words = [w for w in _TOKEN.findall(question.lower()) if w not in self._stop and w not in shape]
        return list(dict.fromkeys(self._stem(w) for w in words))
