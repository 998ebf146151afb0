"""The service's indexing jobs run in a process of their own, so questions keep the service's interpreter.

Indexing an upload is CPU work in Python (structuring a pack, building the lexical index and the register,
writing Chroma, publishing a generation) as well as in the model. Run in a thread of the service it holds the
interpreter lock a third of the time or more while members are asking: measured with 16 clients asking while an
editor uploaded and deleted a pack in a loop, answers per second fell from 34 to 11 and p95 rose from 0.6 s to
6 s (bench/results/load.md). In a child process it competes for a core, not for the lock.

One child is started on the first job (from the forkserver, never forked from the service's threads) and kept:
it builds its own embedder from the library's (`Embedder` pickles as its settings, export folder and passage
precision, so the child loads MiniLM once, from the cached export, with `index.job_threads` CPU threads). A job
is sent down a pipe; the child answers with its stages as
they happen, then the IndexReport or the error. If the child dies mid-job (killed, out of memory) the job
fails with the reason and the next job starts a new child; the data directory's lock dies with it, and the
index is whole (publishing is atomic).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from core.errors import IndexingFailed, QAError
from core.settings import Settings
from indexer.embed import Embedder, TextEmbedder
from indexer.pipeline import Indexer, IndexReport, SilentProgress
from indexer.reader_process import child_context, ending

log = logging.getLogger(__name__)

Action = Literal["add", "remove"]
# How long an upload's job waits for another indexing run on the data directory (`qa index`, or another replica's
# job when replicas share it) before it fails: a full re-index of a large archive takes this order of time.
JOB_LOCK_WAIT_S = 1800.0


class _PipeProgress(SilentProgress):
    def __init__(self, connection: Connection):
        self.connection = connection

    def stage(self, what: str) -> None:
        self.connection.send(("stage", what))


def _serve(connection: Connection, settings: Settings, embedder: TextEmbedder) -> None:
    """The child's loop: one (action, path) at a time, until the service closes its end of the pipe."""
    if isinstance(embedder, Embedder):
        embedder.use_threads(settings.index.job_threads)
    while True:
        try:
            action, path = connection.recv()
        except (EOFError, OSError):
            return
        indexer = Indexer(settings, embedder=embedder, progress=_PipeProgress(connection), wait_s=JOB_LOCK_WAIT_S)
        try:
            report = indexer.run([path]) if action == "add" else indexer.forget([path])
        except QAError as exc:
            connection.send(("error", str(exc)))
        except Exception as exc:
            log.exception("indexing %s failed", path)
            connection.send(("crash", f"{type(exc).__name__}: {exc}"))
        else:
            connection.send(("report", report))


class JobProcess:
    """Runs `Indexer.run([path])` or `Indexer.forget([path])` in the kept child; one job at a time.

    `run(action, path, on_stage)` -> IndexReport; `on_stage(text)` hears each stage ("embedding 72 passages of
    pack.pdf"). Raises IndexingFailed with the message of a QAError raised in the child, or naming how the child
    ended; RuntimeError for a bug there (its traceback is in the service's log).
    """

    def __init__(self, settings: Settings, embedder: TextEmbedder):
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.Lock()
        self._child: Any = None
        self._connection: Connection | None = None

    def run(self, action: Action, path: Path, on_stage: Callable[[str], None]) -> IndexReport:
        with self._lock:
            connection = self._started()
            connection.send((action, path))
            while True:
                try:
                    kind, value = connection.recv()
                except (EOFError, OSError):
                    ending = self._ended()
                    raise IndexingFailed(f"the indexing process ended ({ending}); the index is as it was") from None
                if kind == "stage":
                    on_stage(value)
                elif kind == "report":
                    report: IndexReport = value
                    return report
                elif kind == "error":
                    raise IndexingFailed(value)
                else:
                    raise RuntimeError(value)

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for operators, and for tests that kill it)."""
        return self._child.pid if self._child is not None and self._child.is_alive() else None

    def _started(self) -> Connection:
        if self._child is not None and self._child.is_alive() and self._connection is not None:
            return self._connection
        context: Any = child_context()
        ours, theirs = context.Pipe()
        # Not a daemon (a daemon may not start processes, and the indexer reads each file in one); so it is
        # ended when the service ends, by closing its pipe, before multiprocessing waits for it at exit.
        self._child = context.Process(target=_serve, args=(theirs, self.settings, self.embedder), name="qa-indexing")
        self._child.start()
        theirs.close()
        self._connection = ours
        weakref.finalize(self, _stop, ours, self._child)
        return ours

    def _ended(self) -> str:
        child, self._child = self._child, None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        child.join(timeout=5)
        return ending(child.exitcode)

    def close(self) -> None:
        """Ends the child, after the job under way (this waits for it)."""
        with self._lock:
            if self._connection is not None and self._child is not None:
                _stop(self._connection, self._child)
            self._connection = self._child = None


def _stop(connection: Connection, child: Any) -> None:
    """Close the child's pipe (its loop ends at the next job), wait a while for it, then kill it."""
    connection.close()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join(timeout=5)
