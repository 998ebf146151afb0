"""The index on disk: per-document artifacts, and published generations of Chroma + BM25 + manifest.

Layout of the data directory:
    docs/<doc_id>/            passages.jsonl + embeddings.npy, immutable once written; stems-1.npz, their stems,
                              made at the first publish that holds them
    generations/<gen>/        manifest.json, chroma/ (embedded mode: the previous generation's, copied and changed
                              by the documents added and removed), lexical/ (BM25), register.sqlite3, and the
                              passages read by id (passages.sqlite3, vectors.npy, stems/, spelling.json:
                              indexer.passage_table)
    CURRENT                   the name of the published generation, replaced atomically
A generation is built beside the published one and only then named in CURRENT, so a crash
or kill at any moment leaves the previous index complete and queryable. The steps of a publish call
`checkpoint(name)` as they complete (PUBLISH_STEPS), so a test can kill the process at each one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from core.errors import StoreError, StoreUnavailable
from core.records import DocumentRecord, Passage, RegisterEntry
from core.settings import Settings, StoreSettings
from indexer.access import mark
from indexer.passage_table import (
    TABLE_FILE,
    TABLE_PARTS,
    DocumentStems,
    PassageTable,
    StemTable,
    embedding_text,
    read_spelling,
    read_vectors,
    write_passage_table,
)
from indexer.register import REGISTER_FILE, read_register, register_entries, write_register

MANIFEST_VERSION = 1
# Bump when reading, structure or passage rules change, so cached artifacts are rebuilt. 2: the front-matter and
# work-programme rules no longer name one council or committee (the same passages on the sample corpus). 3: text in
# the reader's form (ligatures, odd spaces, broken words), footers by position, repetition and form.
PIPELINE_VERSION = "8"
# A document's passages' stems, cached beside its artifacts. Bump the number when what they are made from changes
# (core.text.content_stems, bm25s's stop words, indexer.passage_table.embedding_text) without a PIPELINE_VERSION bump,
# or the cached stems and the BM25 index made from the text at each publish would part.
STEMS_FILE = "stems-1.npz"
KEEP_GENERATIONS = 2  # the published one and the one before, for readers still holding it
# The points of a publish where a crash must leave the previous generation whole, in order.
PUBLISH_STEPS = (
    "chroma written",
    "lexical written",
    "passages written",
    "register written",
    "manifest written",
    "generation renamed",
    "current switched",
)
Checkpoint = Callable[[str], None]
log = logging.getLogger(__name__)


def no_checkpoint(name: str) -> None:
    """The default checkpoint: nothing happens between steps."""


class Manifest(BaseModel):
    version: int = MANIFEST_VERSION
    generation: str | None = None
    created_at: dt.datetime | None = None
    embedding_model: str | None = None
    pipeline_version: str = PIPELINE_VERSION
    # The Chroma collection holding this generation's vectors (`vector_collection`); None for a generation published
    # before collections were shared between generations (its own, named after it).
    vector_collection: str | None = None
    # Where that collection is: "embedded", or "server HOST:PORT". A publish starts from the current generation's
    # vectors only when they are in the same place (a switch of store.mode or server writes them all).
    vector_store: str | None = None
    documents: list[DocumentRecord] = Field(default_factory=list)

    def by_path(self) -> dict[str, DocumentRecord]:
        return {doc.path: doc for doc in self.documents}


def chroma_client(settings: Settings, path: Path | None) -> Any:
    """A Chroma client with telemetry off: embedded at `path`, or the configured server (StoreError if it does
    not answer)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.store.mode == "server":
        with store_errors(settings.store, "cannot be reached"):
            return chromadb.HttpClient(host=settings.store.host, port=settings.store.port, settings=chroma_settings)
    assert path is not None
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


@contextmanager
def store_errors(store: StoreSettings, what: str) -> Iterator[None]:
    """Turn the vector store's own failures (chromadb's, or the network's in server mode) into a StoreError that
    says which store and what to do."""
    import chromadb.errors
    import httpx

    try:
        yield
    except (chromadb.errors.ChromaError, httpx.HTTPError, ConnectionError, ValueError) as exc:
        if store.mode == "embedded":  # its files, in the data directory: damaged, or removed under the service
            raise StoreError(
                f"the embedded vector store {what} ({_short(exc)}); run `qa index` to publish the index again"
            ) from exc
        error = StoreUnavailable if _transient(exc) else StoreError
        raise error(
            f"the Chroma server {store.host}:{store.port} {what} ({_short(exc)}); check [store] in the config, and "
            "that the server runs"
        ) from exc


def _transient(exc: BaseException) -> bool:
    """A failure of the connection to the Chroma server (refused, dropped, timed out), not of what it holds: the
    server is stopped or restarting, and the same request will succeed once it is back."""
    import httpx

    return isinstance(exc, httpx.TransportError | ConnectionError)


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def lexical_tokens(texts: list[str], stemmer: Any = None) -> Any:
    import bm25s

    return bm25s.tokenize(texts, lower=True, stopwords="en", stemmer=stemmer or _stemmer(), show_progress=False)


def chroma_metadata(passage: Passage) -> dict[str, str | int | bool]:
    """Flat scalar metadata for Chroma's filters (it stores no None or lists)."""
    meta: dict[str, str | int | bool] = {
        "doc_id": passage.doc_id,
        "file": passage.file,
        "page_start": passage.page_start,
        "page_end": passage.page_end,
        "part": passage.part,
        "doc_type": passage.doc_type,
        "decision": passage.decision,
        "boilerplate": passage.boilerplate,
        "table": passage.table,
        "restricted": passage.restricted,
    }
    optional: dict[str, str | int | None] = {
        "label_start": passage.label_start,
        "section": passage.section,
        "committee": passage.committee,
        "decision_status": passage.decision_status,
        "meeting_date": passage.meeting_date.isoformat() if passage.meeting_date else None,
        "meeting_day": int(passage.meeting_date.strftime("%Y%m%d")) if passage.meeting_date else None,
        "pack_day": int(passage.pack_date.strftime("%Y%m%d")) if passage.pack_date else None,
    }
    meta.update({k: v for k, v in optional.items() if v is not None})
    return meta


def vector_collection(settings: Settings, model: str) -> str:
    """The Chroma collection of every generation indexed under this pipeline version and model:
    `<store.collection>-v<PIPELINE_VERSION>-<12 hex digits of the model's name>`. Another pipeline version or model
    starts a collection of its own, since the same passage id may then hold other text or another vector."""
    digest = hashlib.sha256(model.encode()).hexdigest()[:12]
    return f"{settings.store.collection}-v{PIPELINE_VERSION}-{digest}"


@dataclass
class DocArtifacts:
    passages: list[Passage]
    embeddings: np.ndarray


class IndexStore:
    """Reads and writes one data directory; `checkpoint` hears each step of a publish (PUBLISH_STEPS)."""

    def __init__(self, settings: Settings, checkpoint: Checkpoint = no_checkpoint):
        self.settings = settings
        self.root = Path(settings.data_dir)
        self.checkpoint = checkpoint
        self.vectors_written = 0  # by the last publish: the passages of the documents it added (all, when fresh)

    # ---- paths
    @property
    def lock_path(self) -> Path:
        return self.root / "index.lock"

    def _doc_dir(self, doc_id: str) -> Path:
        return self.root / "docs" / doc_id

    def generation_path(self, generation: str) -> Path:
        return self.root / "generations" / generation

    def current_generation(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and self.generation_path(name).is_dir() else None

    # ---- manifest
    def manifest(self) -> Manifest:
        generation = self.current_generation()
        return self.manifest_of(generation) if generation else Manifest()

    def manifest_of(self, generation: str) -> Manifest:
        """The manifest of one generation; StoreError naming it when it is missing or damaged."""
        path = self.generation_path(generation) / "manifest.json"
        try:
            return Manifest.model_validate_json(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"index generation {generation} cannot be read ({_short(exc)}); run `qa index --rebuild`"
            ) from exc

    def damage(self, generation: str) -> str | None:
        """Why a published generation cannot be served, or None when it can: its manifest, lexical ids, register
        and (embedded mode) Chroma database are read back. Opens no Chroma client, so a service answering from the
        generation in this same process is not disturbed."""
        path = self.generation_path(generation)
        try:
            Manifest.model_validate_json((path / "manifest.json").read_text())
            json.loads((path / "lexical" / "ids.json").read_text())
            if (path / REGISTER_FILE).exists():
                read_register(path / REGISTER_FILE)
            if (path / TABLE_FILE).exists():
                for part in TABLE_PARTS:
                    (path / part).stat()  # FileNotFoundError names the missing one
                read_vectors(path)  # headers only: the arrays are memory-mapped
                StemTable(path, {})
                table = sqlite3.connect(f"{(path / TABLE_FILE).absolute().as_uri()}?mode=ro", uri=True)
                try:
                    table.execute("SELECT count(*) FROM passages").fetchone()
                finally:
                    table.close()
            if self.settings.store.mode == "embedded":
                chroma_file = (path / "chroma" / "chroma.sqlite3").absolute()
                chroma = sqlite3.connect(f"{chroma_file.as_uri()}?mode=ro", uri=True)
                try:
                    if chroma.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                        raise sqlite3.DatabaseError("Chroma's database fails its integrity check")
                    chroma.execute("SELECT count(*) FROM embeddings").fetchone()
                finally:
                    chroma.close()
        except (OSError, ValueError, sqlite3.Error) as exc:
            return _short(exc)
        return None

    def outdated(self, generation: str) -> str | None:
        """Why a servable generation should be published again in this version's layout, or None: one published
        before generations had a passage table is served from a table each reader makes aside (slower to open)."""
        if not (self.generation_path(generation) / TABLE_FILE).exists():
            return "published by an earlier version, without a passage table"
        return None

    # ---- per-document artifacts
    def has_artifacts(self, doc_id: str, model: str) -> bool:
        meta = self._doc_dir(doc_id) / "meta.json"
        if not meta.exists():
            return False
        info = json.loads(meta.read_text())
        return info.get("embedding_model") == model and info.get("pipeline_version") == PIPELINE_VERSION

    def save_artifacts(self, doc_id: str, artifacts: DocArtifacts, model: str) -> None:
        """Write a document's passages and embeddings; atomic, so a half-written one never exists."""
        target = self._doc_dir(doc_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{doc_id}-", dir=target.parent))
        with open(staging / "passages.jsonl", "w", encoding="utf-8") as handle:
            for passage in artifacts.passages:
                handle.write(passage.model_dump_json() + "\n")
        np.save(staging / "embeddings.npy", artifacts.embeddings)
        (staging / "meta.json").write_text(json.dumps({"embedding_model": model, "pipeline_version": PIPELINE_VERSION}))
        _fsync_dir(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)

    def load_passages(self, doc_id: str) -> list[Passage]:
        with open(self._doc_dir(doc_id) / "passages.jsonl", encoding="utf-8") as handle:
            return [Passage.model_validate_json(line) for line in handle if line.strip()]

    def load_artifacts(self, doc_id: str) -> DocArtifacts:
        return DocArtifacts(self.load_passages(doc_id), np.load(self._doc_dir(doc_id) / "embeddings.npy"))

    def document_stems(self, doc_id: str, passages: list[Passage]) -> DocumentStems:
        """The stems of a document's passages: read from `docs/<id>/STEMS_FILE`, else made and kept there (a
        publish then stems only the documents new to it: at 64x the sample, 1 s against 10 s for all 74,623
        passages). A cache that cannot be read or written is made again, or not kept."""
        path = self._doc_dir(doc_id) / STEMS_FILE
        try:
            found = DocumentStems.load(path)
            if len(found.offsets) == len(passages) + 1:
                return found
        except Exception:
            pass  # unreadable (truncated, empty, not a zip: numpy raises several kinds), so made again
        made = DocumentStems.of(passages)
        try:
            made.save(path)
        except OSError as exc:
            log.debug("the stems of %s are not kept: %s", doc_id, exc)
        return made

    # ---- generations
    def publish(self, documents: list[DocumentRecord], model: str, fresh: bool = False) -> str:
        """Build a new generation holding exactly these documents, then make it the current one. StoreError naming
        the data directory when it cannot be written (a full disk): the current generation stays as it was.

        Only the documents added or removed since the current generation are written to or deleted from Chroma
        (`_write_vectors`), unless `fresh` (`qa index --rebuild`) or the current generation is damaged, of another
        model or pipeline, or in another store: then every vector is written again."""
        import chromadb.errors

        try:
            return self._publish(documents, model, fresh)
        except (OSError, sqlite3.Error, chromadb.errors.ChromaError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:120]
            raise StoreError(
                f"the new index could not be written in {self.root} ({reason}); the previous index is still "
                "served: free some space and run `qa index` again"
            ) from exc

    def _publish(self, documents: list[DocumentRecord], model: str, fresh: bool) -> str:
        generations = self.root / "generations"
        generations.mkdir(parents=True, exist_ok=True)
        name = dt.datetime.now(dt.UTC).strftime("g%Y%m%dT%H%M%S%f")
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=generations))
        passages: list[Passage] = []
        vectors: list[np.ndarray] = []
        stems: list[DocumentStems] = []
        for doc in documents:
            artifacts = self.load_artifacts(doc.id)
            passages.extend(mark(artifacts.passages, doc))
            vectors.append(artifacts.embeddings)
            stems.append(self.document_stems(doc.id, artifacts.passages))
        embeddings = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        collection_name = vector_collection(self.settings, model)
        self._write_vectors(staging / "chroma", collection_name, documents, passages, embeddings, fresh)
        self.checkpoint("chroma written")
        self._write_lexical(staging / "lexical", passages)
        self.checkpoint("lexical written")
        write_passage_table(staging, passages, embeddings, stems)
        self.checkpoint("passages written")
        write_register(staging / REGISTER_FILE, register_entries(passages))
        self.checkpoint("register written")
        manifest = Manifest(
            generation=name,
            created_at=dt.datetime.now(dt.UTC),
            embedding_model=model,
            pipeline_version=PIPELINE_VERSION,
            vector_collection=collection_name,
            vector_store=self.vector_store,
            documents=documents,
        )
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        _fsync_dir(staging)
        self.checkpoint("manifest written")
        os.replace(staging, generations / name)
        self.checkpoint("generation renamed")
        _atomic_write(self.root / "CURRENT", name)
        self.checkpoint("current switched")
        self._collect_garbage()
        return name

    def _write_vectors(
        self,
        path: Path,
        collection_name: str,
        documents: list[DocumentRecord],
        passages: list[Passage],
        embeddings: np.ndarray,
        fresh: bool,
    ) -> None:
        """Put the generation's vectors in Chroma, touching only what changed since the current generation.

        Passage ids are content-addressed (`<sha256 of the file>-<n>`, under one pipeline version and model, which
        name the collection), so a passage never changes under its id. Embedded mode: the current generation's
        Chroma folder (never written once published) is copied into the new one, the removed documents' passages
        deleted from the copy and the added ones added. Server mode: every generation shares one collection; the
        added documents' passages are upserted now (the current generation's searches keep to their own passages,
        SearchPlan.allowed) and the removed ones deleted once no kept generation holds them (`_collect_garbage`).
        Every vector is written when `fresh`, or when the current generation is damaged or used another collection
        or store (`_reusable`).
        """
        previous = None if fresh else self._reusable(collection_name)
        held = {doc.id for doc in previous.documents} if previous else set()
        server = self.settings.store.mode == "server"
        if previous is not None and not server:
            assert previous.generation is not None
            shutil.copytree(self.generation_path(previous.generation) / "chroma", path)
        client = chroma_client(self.settings, None if server else path)
        with store_errors(self.settings.store, "could not take the new index"):
            collection = client.get_or_create_collection(
                collection_name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            wanted = {doc.id for doc in documents}
            if not server:
                for doc_id in sorted(held - wanted):
                    collection.delete(where={"doc_id": doc_id})
            rows = [i for i, p in enumerate(passages) if p.doc_id not in held]
            self.vectors_written = len(rows)
            batch = 1000
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                collection.upsert(
                    ids=[passages[i].id for i in chunk],
                    embeddings=embeddings[chunk],
                    documents=[passages[i].text for i in chunk],
                    metadatas=[chroma_metadata(passages[i]) for i in chunk],
                )
        if not server:
            _close_chroma(client)

    def _reusable(self, collection_name: str) -> Manifest | None:
        """The current generation's manifest when the new one may start from its vectors: same collection (pipeline
        and model) in the same store, readable and undamaged."""
        current = self.current_generation()
        if current is None:
            return None
        try:
            manifest = self.manifest_of(current)
        except StoreError:
            return None
        if manifest.vector_collection != collection_name or manifest.vector_store != self.vector_store:
            return None
        return manifest if self.damage(current) is None else None

    @property
    def vector_store(self) -> str:
        """Where this data directory's vectors go: "embedded", or "server HOST:PORT"."""
        store = self.settings.store
        return "embedded" if store.mode == "embedded" else f"server {store.host}:{store.port}"

    def _write_lexical(self, path: Path, passages: list[Passage]) -> None:
        import bm25s

        path.mkdir(parents=True, exist_ok=True)
        ids = [p.id for p in passages]
        (path / "ids.json").write_text(json.dumps(ids))
        if not passages:
            return
        retriever = bm25s.BM25()
        retriever.index(lexical_tokens([embedding_text(p) for p in passages]), show_progress=False)
        retriever.save(str(path / "bm25"))

    def _collect_garbage(self) -> None:
        """Drop old generations, unfinished staging dirs and artifacts no kept generation uses."""
        generations = self.root / "generations"
        current = self.current_generation()
        names = sorted(p.name for p in generations.iterdir() if p.is_dir() and not p.name.startswith("."))
        keep = set(names[-KEEP_GENERATIONS:]) | ({current} if current else set())
        for path in generations.iterdir():
            if path.name not in keep:
                self._drop_generation(path)
        used: set[str] = set()
        for name in keep:
            try:
                used |= {d.id for d in self.manifest_of(name).documents}
            except StoreError:
                continue  # unreadable: nothing can be answered from it, so it keeps nothing alive
        docs = self.root / "docs"
        if docs.is_dir():
            dropped = [path for path in docs.iterdir() if path.name not in used]
            self._drop_vectors(sorted(path.name for path in dropped if not path.name.startswith(".")))
            for path in dropped:
                shutil.rmtree(path, ignore_errors=True)

    def _drop_vectors(self, doc_ids: list[str]) -> None:
        """Server mode: delete from the shared collections the passages of documents no kept generation holds (a
        failure is left for the next run: they are never searched, as no generation allows them)."""
        if self.settings.store.mode != "server" or not doc_ids:
            return
        try:
            client = chroma_client(self.settings, None)
            for collection in client.list_collections():
                if collection.name.startswith(f"{self.settings.store.collection}-v"):
                    for doc_id in doc_ids:
                        collection.delete(where={"doc_id": doc_id})
        except Exception as exc:
            log.warning("passages of removed documents stay on the Chroma server for now: %s", _short(exc))

    def _drop_generation(self, path: Path) -> None:
        if self.settings.store.mode == "server" and not path.name.startswith("."):
            try:
                client = chroma_client(self.settings, None)
                client.delete_collection(f"{self.settings.store.collection}-{path.name}")
            except Exception:
                pass
        shutil.rmtree(path, ignore_errors=True)


def _close_chroma(client: Any) -> None:
    # Release the embedded system so its files are complete before the directory is renamed.
    try:
        from chromadb.api.client import SharedSystemClient

        system = getattr(client, "_system", None)
        identifier = getattr(client, "_identifier", None)
        if system is not None:
            system.stop()
        if identifier is not None:
            SharedSystemClient._identifier_to_system.pop(identifier, None)
    except Exception:
        pass


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class IndexSnapshot:
    """One published generation opened for reading: manifest, passages, vectors, Chroma collection, BM25.

    Passages are read by id from the generation's table (indexer.passage_table), vectors and stems memory-mapped: a
    reader holds the passages' headers, not their texts.
    """

    generation: str
    manifest: Manifest
    passages: PassageTable
    vectors: np.ndarray  # (passages, dimension) float32, each row normalised, in `vector_rows` order; memory-mapped
    vector_rows: dict[str, int]
    collection: Any  # the generation's Chroma collection
    lexical: Any  # its bm25s.BM25 index (memory-mapped), None when it holds no passages
    lexical_ids: list[str]
    store: StoreSettings  # where the collection lives, for the errors that name it
    register: list[RegisterEntry]  # the decision register of this generation (indexer.register), in document order
    stems: StemTable  # every passage's content stems, and how many of the passages this snapshot shows hold each
    spelling: dict[str, int]  # the words of the passages this snapshot shows, and how often each is used
    client: Any = None  # the Chroma client the collection came from, released by `close`
    scratch: Path | None = None  # where the table of a generation published without one was made; removed by close

    @functools.cached_property
    def row_ids(self) -> list[str]:
        """Row of `vectors` -> passage id ("" for a row this snapshot does not show): `vector_rows` the other way."""
        ids = [""] * len(self.vectors)
        for pid, row in self.vector_rows.items():
            ids[row] = pid
        return ids

    def close(self) -> None:
        """Release the generation's embedded Chroma system (its threads, SQLite handles and file descriptors) and its
        table. Only when no reader can still be using it: QAService closes a generation once two newer ones have
        replaced it."""
        if self.client is not None and self.store.mode == "embedded":
            _close_chroma(self.client)
        self.passages.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def public(self) -> IndexSnapshot:
        """This generation as a caller without members' rights sees it: no restricted passage, register entry or
        wholly restricted paper, as if they were not indexed, and stem rarities and spelling counts of the others
        only. Itself when nothing is restricted. The Chroma collection and BM25 index are shared: searches of the
        view leave restricted passages out before ranking (SearchPlan.allowed, applied to Chroma's and BM25's
        candidates alike, qa.retrieve)."""
        hidden = frozenset(pid for pid, p in self.passages.headers.items() if p.restricted)
        if not hidden and not any(doc.restricted for doc in self.manifest.documents):
            return self
        manifest = self.manifest.model_copy(
            update={"documents": [doc for doc in self.manifest.documents if not doc.restricted]}
        )
        return dataclasses.replace(
            self,
            manifest=manifest,
            passages=self.passages.view(hidden),
            vector_rows={pid: row for pid, row in self.vector_rows.items() if pid not in hidden},
            register=[e for e in self.register if e.passage_id not in hidden],
            stems=self.stems.view(public=True),
            spelling=read_spelling(self.passages.folder, public=True),
            client=None,  # the members' snapshot releases the Chroma client and removes the scratch folder
            scratch=None,
        )

    def vector_count(self) -> int:
        """Vectors in the store; StoreError when the store does not answer."""
        with store_errors(self.store, "does not answer"):
            return int(self.collection.count())

    def nearest(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[str]:
        """Ids of the n passages nearest the (dimension,) vector that `where` admits (any, for None), nearest first
        (Chroma's HNSW search: approximate). StoreError when the store does not answer."""
        with store_errors(self.store, "does not answer"):
            result = self.collection.query(query_embeddings=[vector.tolist()], n_results=n, where=where, include=[])
        return list(result["ids"][0])

    def documents(self) -> dict[str, DocumentRecord]:
        return {doc.id: doc for doc in self.manifest.documents}


def open_snapshot(settings: Settings) -> IndexSnapshot | None:
    """Open the current generation, or None when nothing has been indexed yet.

    Raises StoreError, naming the generation, when its files or its Chroma collection cannot be read.
    """
    store = IndexStore(settings)
    generation = store.current_generation()
    if generation is None:
        return None
    import chromadb.errors
    import httpx

    try:
        return _open_generation(settings, store, generation)
    except (OSError, ValueError, KeyError, sqlite3.Error, chromadb.errors.ChromaError, httpx.HTTPError) as exc:
        where = (
            "" if settings.store.mode == "embedded" else f" (Chroma server {settings.store.host}:{settings.store.port})"
        )
        if settings.store.mode == "server" and _transient(exc):
            raise StoreUnavailable(
                f"index generation {generation} cannot be opened: the Chroma server {settings.store.host}:"
                f"{settings.store.port} does not answer ({_short(exc)}); check that it runs"
            ) from exc
        raise StoreError(
            f"index generation {generation}{where} cannot be read ({_short(exc)}); run `qa index --rebuild`"
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _open_generation(settings: Settings, store: IndexStore, generation: str) -> IndexSnapshot:
    # Everything below comes from this one generation, even if a new one is published meanwhile.
    gen_dir = store.generation_path(generation)
    manifest = store.manifest_of(generation)
    folder, scratch = gen_dir, None
    try:
        if not (gen_dir / TABLE_FILE).exists():
            # Published before generations had a table (the next `qa index` publishes it again with one): it is
            # made aside from the documents' artifacts, once a reader, and removed with the snapshot or at exit.
            folder = scratch = Path(tempfile.mkdtemp(prefix=f"qa-{generation}-"))
            passages, blocks = [], []
            for doc in manifest.documents:
                artifacts = store.load_artifacts(doc.id)
                passages.extend(mark(artifacts.passages, doc))
                blocks.append(artifacts.embeddings.astype(np.float32))
            write_passage_table(folder, passages, np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float32))
        return _snapshot_of(settings, generation, manifest, gen_dir, folder, scratch)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise


def _snapshot_of(
    settings: Settings, generation: str, manifest: Manifest, gen_dir: Path, folder: Path, scratch: Path | None
) -> IndexSnapshot:
    import bm25s

    table = PassageTable(folder)
    client = chroma_client(settings, gen_dir / "chroma")
    collection = client.get_collection(manifest.vector_collection or f"{settings.store.collection}-{generation}")
    lexical_ids = json.loads((gen_dir / "lexical" / "ids.json").read_text())
    lexical = bm25s.BM25.load(str(gen_dir / "lexical" / "bm25"), mmap=True) if lexical_ids else None
    register_file = gen_dir / REGISTER_FILE
    # A generation published before the register existed gets it from its passages (the same function writes it).
    register = read_register(register_file) if register_file.exists() else None
    if register is None:
        register = register_entries(table.values())
    snapshot = IndexSnapshot(
        generation,
        manifest,
        table,
        read_vectors(folder),
        dict(table.rows),
        collection,
        lexical,
        lexical_ids,
        settings.store,
        register,
        StemTable(folder, table.rows),
        read_spelling(folder),
        client=client,
        scratch=scratch,
    )
    if scratch is not None:  # a process that never retires the snapshot (qa ask, qa eval) removes it when it ends
        weakref.finalize(snapshot, shutil.rmtree, scratch, True)
    return snapshot
