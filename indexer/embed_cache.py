"""Embeddings kept by the exact text they embed, so a text embedded once is not embedded again.

A pack published again with a new cover page, papers read again under new reading rules (`PIPELINE_VERSION`), a
file renamed and touched: most of their passages give the model the same text as before, and embedding is most
of what indexing costs. Here each vector is kept under sha256(model name, text), in SQLite at
`<data_dir>/embeddings.sqlite3`, so another model or any changed character is a miss and is embedded.

A killed run keeps what it committed (one transaction a batch). A cache that cannot be read or written (a full
disk, a damaged file) is passed over with a warning in the log: the texts are embedded as if it were empty, and
indexing goes on.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import numpy as np

from indexer.embed import TextEmbedder

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite3"
_BATCH = 500  # texts looked up, or stored, per statement


def text_key(model: str, text: str) -> bytes:
    """The cache key: sha256 over the model's name and the text, with a separator neither can hold."""
    return hashlib.sha256(model.encode() + b"\x00" + text.encode()).digest()


class EmbeddingCache:
    """`embed(embedder, texts)` -> (vectors, embedded): (len(texts), dim) float32 rows in the order of `texts`,
    and how many of them the model had to embed (the rest came from the cache)."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / CACHE_FILE
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def embed(self, embedder: TextEmbedder, texts: list[str]) -> tuple[np.ndarray, int]:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        keys = [text_key(embedder.name, text) for text in texts]
        found = self._lookup(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = np.asarray(embedder.embed([texts[i] for i in missing]), dtype=np.float32)
            rows = [(keys[i], fresh[row]) for row, i in enumerate(missing)]
            found.update(rows)
            self._store(rows)
        return np.vstack([found[key] for key in keys]), len(missing)

    def _connection(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                self._give_up(exc)
        return self._db

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        db = self._connection()
        found: dict[bytes, np.ndarray] = {}
        if db is None:
            return found
        try:
            for start in range(0, len(keys), _BATCH):
                chunk = keys[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                for key, vector in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(vector, dtype=np.float32)
        except (OSError, sqlite3.Error) as exc:
            self._give_up(exc)
            return {}
        return found

    def _store(self, rows: list[tuple[bytes, np.ndarray]]) -> None:
        db = self._connection()
        if db is None:
            return
        try:
            for start in range(0, len(rows), _BATCH):
                with db:  # one transaction a batch: a killed run keeps the batches it committed
                    db.executemany(
                        "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                        [(key, vector.tobytes()) for key, vector in rows[start : start + _BATCH]],
                    )
        except (OSError, sqlite3.Error) as exc:
            self._give_up(exc)

    def _give_up(self, exc: BaseException) -> None:
        log.warning("the embedding cache %s is passed over for this run (%s): every text is embedded", self.path, exc)
        self._broken = True
        self.close()

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None
