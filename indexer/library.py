"""Papers added and removed while the service runs: stored safely, indexed one job at a time in the background."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.errors import Conflict, NotAPDF, NotFound, QAError, TooLarge
from core.records import DocumentRecord, Job, PaperStatus
from core.settings import Settings
from indexer.access import RESTRICTED_UPLOADS, upload_folder
from indexer.embed import TextEmbedder, for_passages
from indexer.job_process import JOB_LOCK_WAIT_S, Action, JobProcess
from indexer.pipeline import Indexer, IndexReport, SilentProgress
from indexer.stores import IndexStore

log = logging.getLogger(__name__)
KEPT_FINISHED_JOBS = 200  # /jobs/{id} answers for the latest finished jobs; older ones are forgotten


class JobProgress(SilentProgress):
    """Indexer progress written onto a job, so /jobs/{id} shows what it is doing."""

    def __init__(self, job: Job):
        self.job = job

    def stage(self, what: str) -> None:
        self.job.stage = what


def safe_name(name: str) -> str:
    """A file name that cannot leave the upload folder: no directories, no dot-files, plain characters."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.() -]+", "_", base).strip(" .")
    stem = cleaned[:-4] if cleaned.lower().endswith(".pdf") else cleaned
    # File systems allow 255 bytes a name; room is left for " (n)" and ".pdf".
    stem = stem.encode()[:200].decode(errors="ignore").strip(" .")
    return f"{stem or 'upload'}.pdf"


class PaperLibrary:
    """Stores uploads under one folder and runs indexing jobs one at a time, so answers keep flowing meanwhile."""

    def __init__(self, settings: Settings, embedder: TextEmbedder):
        """`embedder`: the service's (questions in float32); papers are embedded at `embedding.precision`."""
        self.settings = settings
        self.embedder = for_passages(embedder)
        self.folder = upload_folder(settings)
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        # One worker: the indexer takes a lock on the data directory, and jobs then apply in order. With
        # api.index_jobs = "process" (the default) the worker thread only waits on the indexing process.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexing")
        self._closed = False
        self._process = JobProcess(settings, embedder) if settings.api.index_jobs == "process" else None

    def add(self, name: str, data: bytes, restricted: bool = False) -> Job:
        """Store an uploaded PDF and queue its indexing; TooLarge or NotAPDF if it cannot be stored. A `restricted`
        upload is kept in the upload folder's `restricted/` folder, which makes it members only (indexer.access)."""
        if len(data) > self.settings.api.max_upload_bytes:
            raise TooLarge(f"{name}: larger than {self.settings.api.max_upload_mb:g} MB")
        if not data.startswith(b"%PDF"):
            raise NotAPDF(f"{name}: not a PDF")
        folder = self.folder / RESTRICTED_UPLOADS if restricted else self.folder
        folder.mkdir(parents=True, exist_ok=True)
        path = self._free_path(safe_name(name), folder)
        path.write_bytes(data)
        return self._queue_index(path)

    def resume(self) -> list[Job]:
        """Queue the uploads stored but not in the published index (the service stopped mid-job)."""
        indexed = IndexStore(self.settings).manifest().by_path()
        stored = [*self.folder.glob("*.pdf"), *(self.folder / RESTRICTED_UPLOADS).glob("*.pdf")]
        waiting = sorted(p for p in stored if str(p) not in indexed)
        return [self._queue_index(path) for path in waiting]

    def remove(self, doc: DocumentRecord) -> Job:
        """Queue the removal of an uploaded document: the index without it is published, then its file goes.

        Conflict for a paper from a configured folder: it is removed there, or `qa index` would bring it back.
        """
        path = Path(doc.path)
        if not self.is_upload(path):
            raise Conflict(f"{doc.file} comes from the configured papers folder: remove it there and run `qa index`")
        job = Job(id=uuid.uuid4().hex, action="remove", file=path.name, document_id=doc.id, restricted=doc.restricted)
        return self._submit(job, lambda progress: self._drop(path, progress))

    def _queue_index(self, path: Path) -> Job:
        restricted = path.resolve().parent == self.folder / RESTRICTED_UPLOADS
        return self._submit(
            Job(id=uuid.uuid4().hex, action="add", file=path.name, restricted=restricted),
            lambda progress: self._index(path, progress),
        )

    def is_upload(self, path: Path) -> bool:
        return Path(path).resolve().parent in (self.folder, self.folder / RESTRICTED_UPLOADS)

    def catalogue(self, documents: list[DocumentRecord], members: bool = True) -> list[PaperStatus]:
        """The indexed papers with their status, then uploads whose indexing has not finished (without `members`,
        not the restricted ones: `documents` is then the public view's)."""
        with self._lock:
            pending = [
                job
                for job in self.jobs.values()
                if job.status in ("queued", "running") and (members or not job.restricted)
            ]
        removing = {job.document_id: job for job in pending if job.action == "remove"}
        papers = []
        for doc in documents:
            job = removing.get(doc.id)
            hidden = {"path", "sha256", "restricted_pages"} | (set() if members else {"restricted_items"})
            papers.append(
                PaperStatus(
                    **doc.model_dump(exclude=hidden),
                    job_id=job.id if job else None,
                    source="upload" if self.is_upload(Path(doc.path)) else "papers folder",
                    status="removing" if job else "indexed",
                )
            )
        papers += [
            PaperStatus(file=job.file, source="upload", status="indexing", job_id=job.id)
            for job in pending
            if job.action == "add"
        ]
        return papers

    def job(self, job_id: str, members: bool = True) -> Job:
        """The job with this id; NotFound once it is forgotten (KEPT_FINISHED_JOBS), if it never was, or (without
        `members`) if its paper is restricted."""
        found = self.jobs.get(job_id)
        if found is None or (found.restricted and not members):
            raise NotFound(f"no job {job_id}")
        return found

    def _free_path(self, name: str, folder: Path) -> Path:
        path, n = folder / name, 1
        while path.exists():
            n += 1
            path = folder / f"{name[:-4]} ({n}).pdf"
        return path

    def _submit(self, job: Job, work: Callable[[JobProgress], IndexReport]) -> Job:
        with self._lock:
            self.jobs[job.id] = job
            finished = [j.id for j in self.jobs.values() if j.finished_at is not None]
            for old in finished[: max(0, len(finished) - KEPT_FINISHED_JOBS)]:  # oldest first: dicts keep order
                del self.jobs[old]

        def run() -> None:
            job.status = "running"
            try:
                work_report = work(JobProgress(job))
                failed = work_report.failed
                if failed:
                    job.status, job.error = "failed", "; ".join(f"{Path(f.path).name}: {f.reason}" for f in failed)
                else:
                    job.status = "done"
                    records = work_report.indexed or (work_report.unchanged if job.action == "add" else [])
                    if records:
                        job.document_id, job.pages, job.passages = records[0].id, records[0].pages, records[0].passages
            except QAError as exc:  # its message is for the user already: it names the file or the cause
                job.status, job.error = "failed", str(exc)
            except Exception as exc:  # a bug: the job reports it instead of dying silently
                log.exception("indexing job %s (%s) failed", job.id, job.file)
                job.status, job.error = "failed", f"internal error: {type(exc).__name__} (the log has the details)"
            job.stage, job.finished_at = None, dt.datetime.now(dt.UTC)

        with self._lock:  # not a worker that `close` is stopping or `open` replacing
            self._worker.submit(run)
        return job

    def _indexer(self, action: Action, path: Path, progress: JobProgress) -> IndexReport:
        if self._process is not None:
            return self._process.run(action, path, progress.stage)
        indexer = Indexer(self.settings, embedder=self.embedder, progress=progress, wait_s=JOB_LOCK_WAIT_S)
        return indexer.run([path]) if action == "add" else indexer.forget([path])

    def open(self) -> None:
        """Take jobs again after `close`: an app's lifespan may be started again once shut down (test clients and
        Schemathesis start and stop it around their requests); before, an upload then met a stopped worker."""
        with self._lock:
            if self._closed:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="indexing")
                self._closed = False

    def close(self) -> None:
        """Let the job under way finish, then stop the worker (and the indexing process)."""
        with self._lock:
            self._closed = True
            worker = self._worker
        worker.shutdown(wait=True, cancel_futures=True)
        if self._process is not None:
            self._process.close()

    def _index(self, path: Path, progress: JobProgress) -> IndexReport:
        report = self._indexer("add", path, progress)
        if any(doc.restricted or doc.restricted_items for doc in report.indexed):
            progress.job.restricted = True  # exempt by its own text: its job is members only from now on
        if report.failed:
            path.unlink(missing_ok=True)  # a file that cannot be indexed is not kept
        return report

    def _drop(self, path: Path, progress: JobProgress) -> IndexReport:
        # The index without it is published first: until then answers may still cite it, and its file must be there.
        report = self._indexer("remove", path, progress)
        path.unlink(missing_ok=True)
        return report
