"""A generation's passages on disk, read by id: what lets every process answer from an archive without holding it.

`write_passage_table` writes, beside a generation's manifest (indexer.stores publishes it), the folder's files:

    passages.sqlite3   a row per passage, in the generation's order: its header (`PassageHeader`), its page spans
                       and the whole record as JSON, read by id when a question reaches the passage
    vectors.npy        (passages, dimension) float32, a row per passage in the same order; memory-mapped
    stems/             the content stems of every passage (core.text.content_stems of `embedding_text`):
                       words.json (the stems, by id), sequences.npy (int32 stem ids of all passages, in text order,
                       one after another), offsets.npy (int64, passages + 1: where each passage's run starts),
                       df.npy and df_public.npy (int32 per stem: how many passages, or unrestricted passages,
                       hold it); the sequences are memory-mapped
    spelling.json      {"all": {word: count}, "public": {word: count}}: the words spelling correction knows, of
                       all passages and of the unrestricted ones (so a correction never reveals an exempt word)

A process reading the generation keeps in memory the headers, the stems' words and rarities and the spelling counts
(at 64x the sample, 74,623 passages: about 60 MB against about 700 MB for every record, vector and stem set), the
last CACHED_PASSAGES records it read, and the decision passages' records (qa.decisions.MinutesIndex, about a tenth).

The files are never written again once published (indexer.stores): a process maps them, and a file truncated under
it ends that process (SIGBUS). Copy a data directory to a new place, never over one a service is answering from.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.records import Passage, PassageHeader
from core.text import content_stems, english_stemmer, searchable_text, spelling_words

TABLE_FILE = "passages.sqlite3"
VECTORS_FILE = "vectors.npy"
STEMS_DIR = "stems"
SPELLING_FILE = "spelling.json"
# Every file of the table, relative to the generation's folder (what IndexStore.damage checks are there).
TABLE_PARTS = (
    TABLE_FILE,
    VECTORS_FILE,
    SPELLING_FILE,
    *(f"{STEMS_DIR}/{name}" for name in ("words.json", "sequences.npy", "offsets.npy", "df.npy", "df_public.npy")),
)
# Passage records kept parsed per reader (about 5 KB each): all of the sample, 1,165; a question reaches 100-200.
CACHED_PASSAGES = 4096

_HEADER_COLUMNS = tuple(f.name for f in dataclasses.fields(PassageHeader))

_INTEGER_COLUMNS = frozenset({"decision", "boilerplate", "restricted", "page_start"})


def embedding_text(passage: Passage) -> str:
    """What the embedder and BM25 see: the heading context, then the cleaned passage text."""
    return f"{passage.context}\n{searchable_text(passage.text)}"


@dataclass(frozen=True)
class DocumentStems:
    """The content stems of one document's passages: its distinct stems, each passage's run of their ids (int32, one
    run after another, in passage order) and where each run starts (int64, passages + 1). Made once a document
    (`document_stems`, cached beside its artifacts by indexer.stores), so a publish stems only new documents."""

    words: list[str]
    sequences: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, passages: list[Passage]) -> DocumentStems:
        stem = english_stemmer()
        ids: dict[str, int] = {}
        runs = [[ids.setdefault(s, len(ids)) for s in content_stems(embedding_text(p), stem)] for p in passages]
        offsets = np.zeros(len(passages) + 1, np.int64)
        np.cumsum([len(r) for r in runs], out=offsets[1:])
        sequences = np.fromiter((i for run in runs for i in run), np.int32, int(offsets[-1]))
        return cls(list(ids), sequences, offsets)

    def save(self, path: Path) -> None:
        """Write to `path` (an .npz), atomically: a reader finds the whole file or none."""
        staging = path.with_name(f".{path.name}")
        with open(staging, "wb") as handle:
            np.savez(handle, words=np.array(self.words, dtype=str), sequences=self.sequences, offsets=self.offsets)
        os.replace(staging, path)

    @classmethod
    def load(cls, path: Path) -> DocumentStems:
        with np.load(path) as found:
            return cls(found["words"].tolist(), found["sequences"], found["offsets"])


def write_passage_table(
    folder: Path, passages: list[Passage], embeddings: np.ndarray, stems: list[DocumentStems] | None = None
) -> None:
    """Write the passages' table, vectors, stems and spelling counts into `folder` (created); `embeddings` holds a
    row per passage, in order; `stems`, the documents' stems whose passages, one document after another, are
    `passages` (made here when None). Raises OSError or sqlite3.Error when the folder cannot be written."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_table(folder / TABLE_FILE, passages)
    dimension = embeddings.shape[1] if embeddings.ndim == 2 else 0
    np.save(folder / VECTORS_FILE, np.asarray(embeddings, np.float32).reshape(len(passages), dimension))
    _write_stems(folder / STEMS_DIR, passages, [DocumentStems.of(passages)] if stems is None else stems)
    public: Counter[str] = Counter()
    restricted: Counter[str] = Counter()
    for passage in passages:
        (restricted if passage.restricted else public).update(spelling_words(f"{passage.context}\n{passage.text}"))
    counts = {"all": dict(public + restricted), "public": dict(public)}
    (folder / SPELLING_FILE).write_text(json.dumps(counts), encoding="utf-8")


def _write_table(path: Path, passages: list[Passage]) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        columns = ", ".join(f"{name} {'INTEGER' if name in _INTEGER_COLUMNS else 'TEXT'}" for name in _HEADER_COLUMNS)
        db.execute(f"CREATE TABLE passages (row INTEGER PRIMARY KEY, {columns}, pages TEXT, record TEXT)")
        db.executemany(
            f"INSERT INTO passages VALUES (?, {', '.join('?' for _ in _HEADER_COLUMNS)}, ?, ?)",
            (
                (
                    row,
                    *(_column(getattr(p, name)) for name in _HEADER_COLUMNS),
                    json.dumps([[s.offset, s.page, s.label] for s in p.pages]),
                    p.model_dump_json(),
                )
                for row, p in enumerate(passages)
            ),
        )
        db.execute("CREATE UNIQUE INDEX passage_id ON passages (id)")
        db.execute("CREATE INDEX passage_doc ON passages (doc_id)")
        db.commit()
    finally:
        db.close()


def _column(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _write_stems(folder: Path, passages: list[Passage], parts: list[DocumentStems]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ids: dict[str, int] = {}
    runs: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for part in parts:  # each document's stem ids become the generation's
        mapping = np.fromiter((ids.setdefault(w, len(ids)) for w in part.words), np.int32, len(part.words))
        runs.append(mapping[part.sequences])
        lengths.append(np.diff(part.offsets))
    sizes = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    if len(sizes) != len(passages):
        raise ValueError(f"stems of {len(sizes)} passages given for {len(passages)}")
    sequences = np.concatenate(runs) if runs else np.zeros(0, np.int32)
    offsets = np.zeros(len(passages) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    # Which passages hold each stem: the distinct (passage, stem) pairs, counted by stem.
    pairs = np.unique(np.repeat(np.arange(len(passages), dtype=np.int64), sizes) * max(1, len(ids)) + sequences)
    stem_of, row_of = pairs % max(1, len(ids)), pairs // max(1, len(ids))
    restricted = np.fromiter((p.restricted for p in passages), bool, len(passages))
    np.save(folder / "sequences.npy", sequences)
    np.save(folder / "offsets.npy", offsets)
    np.save(folder / "df.npy", np.bincount(stem_of, minlength=len(ids)).astype(np.int32))
    np.save(folder / "df_public.npy", np.bincount(stem_of[~restricted[row_of]], minlength=len(ids)).astype(np.int32))
    (folder / "words.json").write_text(json.dumps(list(ids)), encoding="utf-8")


class PassageTable(Mapping[str, Passage]):
    """The passages of one generation by id (a read-only Mapping): headers in memory, records read from
    passages.sqlite3 when asked for and the last `cached` kept. Safe to share between threads.

    `hidden` ids are left out as if not indexed (a public view, IndexSnapshot.public); `rows` gives every passage's
    row in vectors.npy and the stems, hidden ones included. KeyError for an id the table does not show.
    """

    def __init__(
        self,
        folder: Path,
        cached: int = CACHED_PASSAGES,
        shown: tuple[dict[str, int], dict[str, PassageHeader]] | None = None,
    ):
        """`shown`: the rows and headers of the passages the table shows (a view's), instead of all of them read."""
        self.folder = folder
        self._db = sqlite3.connect(
            f"{(folder / TABLE_FILE).absolute().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()
        self.rows, self.headers = shown if shown is not None else self._read_headers()
        # A closure over the connection, not a bound method: a cache referring back to its table would keep a retired
        # generation (and the files it maps) until the cyclic collector runs.
        db, lock = self._db, self._lock

        def record(passage_id: str) -> Passage:
            with lock:
                found = db.execute("SELECT record FROM passages WHERE id = ?", (passage_id,)).fetchone()
            if found is None:
                raise KeyError(passage_id)
            return Passage.model_validate_json(found[0])

        self._read = functools.lru_cache(maxsize=cached)(record)

    def _read_headers(self) -> tuple[dict[str, int], dict[str, PassageHeader]]:
        rows: dict[str, int] = {}
        headers: dict[str, PassageHeader] = {}
        strings: dict[str, str] = {}  # the same committee, section or file once in memory, not per passage
        dates: dict[str, object] = {}
        for row, *values in self._db.execute(f"SELECT row, {', '.join(_HEADER_COLUMNS)} FROM passages ORDER BY row"):
            header = _header(values, strings, dates)
            rows[header.id] = row
            headers[header.id] = header
        return rows, headers

    def view(self, hidden: frozenset[str]) -> PassageTable:
        """The same table without the `hidden` passages (their records are never read through it)."""
        shown = {pid: h for pid, h in self.headers.items() if pid not in hidden}
        return PassageTable(self.folder, shown=(self.rows, shown))

    def __getitem__(self, passage_id: str) -> Passage:
        if passage_id not in self.headers:
            raise KeyError(passage_id)
        return self._read(passage_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self.headers

    def page_label(self, doc_id: str, page: int) -> str | None:
        """The number printed on a page of a document, as its shown passages read it; None if none does."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, pages FROM passages WHERE doc_id = ? ORDER BY row", (doc_id,)
            ).fetchall()
        for passage_id, pages in found:
            if passage_id in self.headers:
                for _offset, number, label in json.loads(pages):
                    if number == page:
                        return label
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _header(values: list, strings: dict[str, str], dates: dict[str, object]) -> PassageHeader:
    row = dict(zip(_HEADER_COLUMNS, values, strict=True))
    for name in ("file", "part", "doc_type", "section", "committee", "decision_status", "minute", "item"):
        if row[name] is not None:
            row[name] = strings.setdefault(row[name], row[name])
    for name in ("meeting_date", "pack_date"):
        if row[name] is not None:
            row[name] = dates.setdefault(row[name], dt.date.fromisoformat(row[name]))
    for name in ("decision", "boilerplate", "restricted"):
        row[name] = bool(row[name])
    return PassageHeader(**row)


class StemTable:
    """The content stems of one generation's passages (memory-mapped), and how many passages hold each stem.

    `public` counts only unrestricted passages (a view that leaves them out); `rows` maps a passage id to its row.
    """

    def __init__(self, folder: Path, rows: Mapping[str, int], public: bool = False):
        stems = folder / STEMS_DIR
        self.folder, self.rows, self.public = folder, rows, public
        self.words: list[str] = json.loads((stems / "words.json").read_text(encoding="utf-8"))
        self.word_ids: dict[str, int] = {word: i for i, word in enumerate(self.words)}
        self._sequences = mapped(stems / "sequences.npy")
        self._offsets = mapped(stems / "offsets.npy")
        self._df = np.load(stems / ("df_public.npy" if public else "df.npy"))

    def of(self, passage_id: str) -> list[str] | None:
        """The passage's stems in text order; None for a passage not of this generation."""
        run = self.ids_of(passage_id)
        if run is None:
            return None
        words = self.words
        return [words[i] for i in run.tolist()]

    def ids_of(self, passage_id: str) -> np.ndarray | None:
        """(stems,) int32, read-only: the passage's stems in text order as indices of `words` (`word_ids` maps
        back); None for a passage not of this generation."""
        row = self.rows.get(passage_id)
        if row is None:
            return None
        return self._sequences[int(self._offsets[row]) : int(self._offsets[row + 1])]

    def idf(self, total: int) -> dict[str, float]:
        """Stem -> log((N + 1) / (n + 0.5)) for the stems n of `total` passages hold (total: the passages a reader
        sees, N = max(1, total))."""
        n = max(1, total)
        held = np.flatnonzero(self._df)
        rarity = np.log((n + 1) / (self._df[held] + 0.5))
        words = self.words
        return {words[i]: float(r) for i, r in zip(held.tolist(), rarity.tolist(), strict=True)}

    def view(self, public: bool) -> StemTable:
        """The same stems (words and mapped runs shared, not read again), counting all passages or only unrestricted
        ones."""
        if public == self.public:
            return self
        other = copy.copy(self)
        other.public = public
        other._df = np.load(self.folder / STEMS_DIR / ("df_public.npy" if public else "df.npy"))
        return other


def read_spelling(folder: Path, public: bool = False) -> dict[str, int]:
    """The words of the generation's passages (or only of its unrestricted ones) and how often each is used."""
    counts = json.loads((folder / SPELLING_FILE).read_text(encoding="utf-8"))
    return counts["public" if public else "all"]


def read_vectors(folder: Path) -> np.ndarray:
    """The generation's vectors, memory-mapped: (passages, dimension) float32, a row per passage in table order."""
    return mapped(folder / VECTORS_FILE)


def mapped(path: Path) -> np.ndarray:
    """An .npy file memory-mapped read-only, as a plain ndarray: np.memmap's own indexing runs Python code on every
    row read (8 us; about 2 ms a question at 64x the sample), a plain view's does not. The map lives as long as the
    view."""
    return np.load(path, mmap_mode="r").view(np.ndarray)
