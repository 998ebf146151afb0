"""Index files: read → structure → passages → embeddings → stores, incrementally and crash-safely."""

from __future__ import annotations

import datetime as dt
import errno
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout

from core.errors import ConfigError, IndexBusyError, ReadError, StoreError
from core.records import DocumentRecord, Passage
from core.settings import Settings
from indexer import stores
from indexer.access import access_rules, restriction, upload_folder
from indexer.embed import Embedder, TextEmbedder, for_passages, model_exports
from indexer.embed_cache import EmbeddingCache
from indexer.passages import PassageBuilder
from indexer.read import ReadLimits, SourceDocument, file_sha256, page_ranges, read_bytes
from indexer.reader_process import ReaderProcess
from indexer.stores import Checkpoint, DocArtifacts, IndexStore, Manifest, embedding_text, no_checkpoint
from indexer.structure import StructuredDocument, structure_document

# A file that changes under the reader this many times in a row is refused for this run (see _read_settled).
_SETTLE_TRIES = 3


class Progress(Protocol):
    def files_found(self, total: int) -> None: ...
    def file_started(self, path: Path) -> None: ...
    def file_done(self, path: Path, pages: int, passages: int) -> None: ...
    def stage(self, what: str) -> None: ...  # e.g. "embedding 72 passages of pack.pdf"


class SilentProgress:
    """Progress that reports nothing; subclass it to hear only some events."""

    def files_found(self, total: int) -> None:
        pass

    def file_started(self, path: Path) -> None:
        pass

    def file_done(self, path: Path, pages: int, passages: int) -> None:
        pass

    def stage(self, what: str) -> None:
        pass


@dataclass
class _ReadFile:
    """A file as the read-ahead left it: unchanged since it was indexed, or read, structured and (unless its
    passages are stored) cut into passages."""

    path: Path
    sha: str
    unchanged: bool
    source: SourceDocument | None = None
    structured: StructuredDocument | None = None
    passages: list[Passage] | None = None


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class IndexReport:
    indexed: list[DocumentRecord] = field(default_factory=list)
    unchanged: list[DocumentRecord] = field(default_factory=list)
    removed: list[DocumentRecord] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    generation: str | None = None
    pages: int = 0
    passages: int = 0
    embedded: int = 0  # of the new passages, those the model embedded; the others' vectors were in the cache
    vectors_written: int = 0  # passages written to Chroma by the publish (only the added documents', as a rule)

    @property
    def ok(self) -> bool:
        return not self.failed


def collect_files(paths: Iterable[Path], extensions: list[str]) -> tuple[list[Path], list[Failure]]:
    """Files named directly, and files with an indexable extension under folders, in a stable order."""
    files: list[Path] = []
    failures: list[Failure] = []
    wanted = {e.lower() for e in extensions}
    for path in paths:
        path = Path(path)
        try:
            if path.is_dir():
                found = sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in wanted and not p.name.startswith(".")
                )
                files.extend(found)
            elif path.exists() or path.is_symlink():
                files.append(path)
            else:
                failures.append(Failure(str(path), "path not found"))
        except PermissionError:
            failures.append(Failure(str(path), "permission denied"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, failures


def refuse_duplicate(path: Path, sha: str, by_hash: dict[str, DocumentRecord]) -> None:
    """ReadError when another file, still there, was indexed with these bytes (`by_hash`: by SHA-256)."""
    twin = by_hash.get(sha)
    if twin and twin.path != str(path) and Path(twin.path).exists():
        raise ReadError(f"duplicate of already indexed {twin.file}; skipped")


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a file is rewritten or replaced: (device, size, inode, modified ns); None if it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_size, stat.st_ino, stat.st_mtime_ns)


class Indexer:
    """Runs one indexing pass over files against a data directory.

    `checkpoint(name)`, and the embedder's `count_tokens` and `max_tokens`, are also called from the read-ahead
    thread, which reads the next file while the current one embeds.

    `checkpoint(name)` is called as each file's bytes are read ("bytes read") and the file is read into pages
    ("file read"), embedded ("passages embedded") and its
    artifacts saved ("artifacts saved"), and at each step of
    publishing (indexer.stores.PUBLISH_STEPS): the points where a crash must leave the index whole.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: TextEmbedder | None = None,
        progress: Progress | None = None,
        checkpoint: Checkpoint = no_checkpoint,
        wait_s: float = 0,
    ):
        """`wait_s`: how long a run waits for another run holding the data directory (IndexBusyError after it; 0
        refuses at once, as `qa index` does; the service's upload jobs wait, so replicas sharing one data directory
        take their turns)."""
        self.wait_s = wait_s
        self.settings = settings
        # Passages are embedded at the configured precision even when the embedder given is a service's, which
        # embeds questions in float32: an index is never published under another model name by an upload.
        self.embedder: TextEmbedder = (
            for_passages(embedder) if embedder else Embedder(settings.embedding, export_dir=model_exports(settings))
        )
        self.store = IndexStore(settings, checkpoint)
        self.progress: Progress = progress or SilentProgress()
        self.checkpoint = checkpoint
        self.access_rules = access_rules(settings)

    def run(self, paths: list[Path] | None = None, rebuild: bool = False) -> IndexReport:
        return self._exclusively(lambda: self._run(paths if paths else list(self.settings.index.paths), rebuild))

    def forget(self, paths: list[Path]) -> IndexReport:
        """Publish the index without the documents read from these files; their files are not touched."""
        return self._exclusively(lambda: self._forget({str(Path(p).resolve()) for p in paths}))

    def _exclusively(self, work: Callable[[], IndexReport]) -> IndexReport:
        """Run `work` holding the data directory's lock (or refuse at once if another run holds it); timed."""
        started = time.perf_counter()
        self.store.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.store.lock_path))
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if not self.wait_s:
                    raise
                self.progress.stage("waiting for another indexing run on this data directory to finish")
                lock.acquire(timeout=self.wait_s)
            try:
                report = work()
            finally:
                lock.release()
        except Timeout:
            waited = f" (waited {self.wait_s:.0f} s)" if self.wait_s else ""
            raise IndexBusyError(
                f"{self.store.root}: another `qa index` is running on this data directory{waited}"
            ) from None
        report.seconds = time.perf_counter() - started
        return report

    def _forget(self, names: set[str]) -> IndexReport:
        report = IndexReport()
        manifest = self.store.manifest()
        kept = [doc for doc in manifest.documents if doc.path not in names]
        report.removed = [doc for doc in manifest.documents if doc.path in names]
        if report.removed:
            self.progress.stage("publishing the index")
            report.generation = self.store.publish(kept, manifest.embedding_model or self.embedder.name)
            report.vectors_written = self.store.vectors_written
        else:
            report.generation = self.store.current_generation()
        return report

    def _run(self, paths: list[Path], rebuild: bool) -> IndexReport:
        report = IndexReport()
        files, report.failed = collect_files(paths, self.settings.index.extensions)
        try:
            manifest = self.store.manifest()
        except StoreError:
            if not rebuild:
                raise
            manifest = Manifest()  # a damaged index is what --rebuild is for: start clean
        model = self.embedder.name
        redo = (manifest.embedding_model and manifest.embedding_model != model) or (
            manifest.documents and manifest.pipeline_version != stores.PIPELINE_VERSION
        )
        if redo:
            # Vectors from another model (or precision) cannot be mixed with new ones, and passages read by older
            # rules follow the new ones: every indexed file is read and embedded again, not only those named (an
            # upload, say), so the new generation keeps every paper whose file is still there.
            rebuild = True
            named = {str(f) for f in files}
            files += [Path(d.path) for d in manifest.documents if d.path not in named and Path(d.path).is_file()]
        previous = {} if rebuild else manifest.by_path()
        by_hash = {doc.sha256: doc for doc in previous.values()}
        kept: dict[str, DocumentRecord] = {}

        self.progress.files_found(len(files))
        index = self.settings.index
        limits = ReadLimits(index.max_pages, index.max_page_chars, index.max_read_seconds, index.max_read_mib)
        # The read-ahead thread is left last: a run stopped by an error (or Ctrl-C) cancels the file waiting its turn
        # and stops the reader process, so the thread ends at once rather than after a read of up to
        # index.max_read_seconds.
        with (
            ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as ahead,
            ReaderProcess(limits) as reader,
            closing(EmbeddingCache(self.store.root)) as cache,
        ):
            # The next file is read, structured and cut into passages on a thread of its own while this one embeds
            # (the model's inference and the reader process leave the GIL free); files are finished in order.
            def read_ahead(path: Path) -> Future[_ReadFile]:
                return ahead.submit(self._read_file, path, previous.get(str(path)), by_hash, rebuild, reader)

            coming = read_ahead(files[0]) if files else None
            try:
                for n, path in enumerate(files):
                    assert coming is not None
                    reading, coming = coming, read_ahead(files[n + 1]) if n + 1 < len(files) else None
                    self._index_one(path, reading.result, previous, by_hash, kept, cache, report)
            except BaseException:
                ahead.shutdown(wait=False, cancel_futures=True)
                raise
            # Files indexed before that no longer exist are removed; others not named this time stay, read again
            # if their restriction was worked out under other access rules.
            for key, doc in previous.items():
                if key in kept:
                    continue
                if not Path(key).exists():
                    report.removed.append(doc)
                elif doc.access_rules != self.access_rules:
                    read = partial(self._read_file, Path(key), doc, by_hash, rebuild, reader)
                    self._index_one(Path(key), read, previous, by_hash, kept, cache, report)
                else:
                    kept[key] = doc

        current = self.store.current_generation()
        changed = report.indexed or report.removed or rebuild or current is None
        if not changed and current is not None:
            # Published again from the stored passages and vectors: no file is read or embedded again.
            damage = self.store.damage(current)
            why = f"damaged ({damage})" if damage else self.store.outdated(current)
            if why:
                report.warnings.append(Failure(str(self.store.generation_path(current)), f"{why}: published again"))
                changed = True
        if changed:
            self.progress.stage("publishing the index")
            documents = sorted(kept.values(), key=lambda d: d.path)
            report.generation = self.store.publish(documents, model, fresh=rebuild)
            report.vectors_written = self.store.vectors_written
        else:
            report.generation = self.store.current_generation()
        return report

    def _index_one(
        self,
        path: Path,
        read: Callable[[], _ReadFile],
        previous: dict[str, DocumentRecord],
        by_hash: dict[str, DocumentRecord],
        kept: dict[str, DocumentRecord],
        cache: EmbeddingCache,
        report: IndexReport,
    ) -> None:
        """Index one file into `kept` and `report` (`read()` gives what `_read_file` made of it); a file that fails
        keeps its indexed version, if it has one."""
        key = str(path)
        self.progress.file_started(path)
        old = previous.get(key)
        try:
            if old is None:  # an indexed file is named once it proves changed: most are not
                self.progress.stage(f"reading {path.name}")
            file = read()
            if old is not None and not file.unchanged:
                self.progress.stage(f"reading {path.name}")
            if file.unchanged and old:
                kept[key] = old
                report.unchanged.append(old)
                self.progress.file_done(path, 0, 0)
                return
            refuse_duplicate(path, file.sha, by_hash)
            record, pages, passages = self._index_file(file, cache, report)
        except ConfigError:
            raise  # a model or setting that cannot work fails every file alike: stop, publish nothing
        except Exception as exc:
            if isinstance(exc, ReadError):
                reason = str(exc)
            elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                reason = f"could not be stored in {self.settings.data_dir} ({exc.strerror}): free some space"
            else:
                reason = f"could not be indexed: {type(exc).__name__}: {exc}"
            report.failed.append(Failure(key, reason))
            if old:
                kept[key] = old  # the indexed version stays until a good one replaces it
            self.progress.file_done(path, 0, 0)
            return
        kept[key] = record
        by_hash[file.sha] = record
        report.indexed.append(record)
        report.pages += pages
        report.passages += passages
        self.progress.file_done(path, pages, passages)

    def _read_file(
        self,
        path: Path,
        old: DocumentRecord | None,
        by_hash: dict[str, DocumentRecord],
        rebuild: bool,
        reader: ReaderProcess,
    ) -> _ReadFile:
        """Everything of a file before its embedding (run ahead, on the read-ahead thread): its bytes' digest, and
        unless it is unchanged since `old` or a duplicate of a file indexed already (`by_hash`, as the main thread
        has it so far: `_index_one` checks again), its pages, structure and (when its passages are not stored)
        passages. Errors (ReadError and others) are raised to `_index_one` when it takes the result."""
        data = self._read_settled(path)
        sha = file_sha256(data)
        if old and old.sha256 == sha and old.access_rules == self.access_rules:
            return _ReadFile(path, sha, unchanged=True)
        refuse_duplicate(path, sha, by_hash)
        source = reader.read(path, data)
        self.checkpoint("file read")
        doc_id = sha[:16]
        structured = structure_document(source)
        passages = None
        if rebuild or not self.store.has_artifacts(doc_id, self.embedder.name):
            builder = PassageBuilder(self.settings.passages, self.embedder.count_tokens, self.embedder.max_tokens)
            passages = builder.build(structured, doc_id)
            if not passages:
                raise ReadError("no text to index")
        return _ReadFile(path, sha, False, source, structured, passages)

    def _read_settled(self, path: Path) -> bytes:
        """The file's bytes, read while it held still. A file rewritten or replaced while it was being read (a copy
        still arriving, a save in progress) is read again, up to _SETTLE_TRIES times, then refused with a
        ReadError; its indexed version, if any, stays."""
        for _ in range(_SETTLE_TRIES):
            before = _identity(path)
            data = read_bytes(path)
            self.checkpoint("bytes read")
            if _identity(path) == before and before is not None and len(data) == before[1]:
                return data
        raise ReadError(
            f"changed while being read, {_SETTLE_TRIES} times (still being copied or saved?); left as it was: "
            "index it again when it is complete"
        )

    def _index_file(
        self, file: _ReadFile, cache: EmbeddingCache, report: IndexReport
    ) -> tuple[DocumentRecord, int, int]:
        """Embed a file read ahead (or take its stored passages), save its artifacts and make its record."""
        path, source, structured = file.path, file.source, file.structured
        assert source is not None and structured is not None
        if source.no_text_pages:
            report.warnings.append(Failure(str(path), f"no text layer on pages {page_ranges(source.no_text_pages)}"))
        doc_id = file.sha[:16]
        model = self.embedder.name
        if file.passages is not None:
            passages = file.passages
            self.progress.stage(f"embedding {len(passages)} passages of {path.name} ({len(source.pages)} pages)")
            embeddings, embedded = cache.embed(self.embedder, [embedding_text(p) for p in passages])
            report.embedded += embedded
            self.checkpoint("passages embedded")
            self.store.save_artifacts(doc_id, DocArtifacts(passages, embeddings), model)
            self.checkpoint("artifacts saved")
        else:
            passages = self.store.load_passages(doc_id)
        restricted = restriction(path, structured, self.settings.access, upload_folder(self.settings))
        record = DocumentRecord(
            restricted=restricted.whole,
            restricted_items=list(restricted.items),
            restricted_pages=list(restricted.pages),
            access_rules=self.access_rules,
            id=doc_id,
            file=path.name,
            path=str(path),
            sha256=file.sha,
            title=structured.title,
            doc_type=structured.doc_type,
            committee=structured.committee,
            meeting_date=structured.meeting_date,
            period=structured.period,
            pages=len(source.pages),
            passages=len(passages),
            no_text_pages=source.no_text_pages,
            indexed_at=dt.datetime.now(dt.UTC),
        )
        return record, len(source.pages), len(passages)
