"""A deterministic stand-in for the embedding model, for tests that are not about retrieval quality.

Like the tiny embedding model in the test conftest of the `llm` command-line tool: a bag of hashed words,
L2-normalised, so texts that share words are near each other. It loads nothing, so the fast test lane never
waits for MiniLM.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

_WORD = re.compile(r"\w+")
_PIECE = re.compile(r"\w+|[^\w\s]")


class HashEmbedder:
    """Implements indexer.embed.TextEmbedder: hashed word counts in `dimension` slots, normalised to length 1."""

    name = "hash-embedder-256"
    max_tokens = 256
    dimension = 256

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Words and punctuation marks: a word-piece count that real tokenisers only ever exceed."""
        return [len(_PIECE.findall(text)) for text in texts]

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                slot = int.from_bytes(digest[:3], "little") % self.dimension
                vectors[row, slot] += 1.0 if digest[3] & 1 else -1.0
            norm = float(np.linalg.norm(vectors[row]))
            if norm:
                vectors[row] /= norm
            else:
                vectors[row, 0] = 1.0  # a text with no words still gets a unit vector (cosine needs one)
        return vectors


class GateFileEmbedder(HashEmbedder):
    """The hash embedder, except that embedding a paper's passages (more than one text) first creates `waiting`,
    then waits until `gate` exists. Plain data, so it crosses to the service's indexing process: the test there
    knows when the job is mid-embedding, and decides when it may go on (or kills the process first)."""

    def __init__(self, waiting: str, gate: str):
        self.waiting, self.gate = waiting, gate

    def embed(self, texts: list[str]) -> np.ndarray:
        import pathlib
        import time

        if len(texts) > 1:
            pathlib.Path(self.waiting).touch()
            deadline = time.monotonic() + 60
            while not pathlib.Path(self.gate).exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return super().embed(texts)
