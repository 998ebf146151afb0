"""Reading each file in a child process held to a memory and a time limit, so a hostile file costs its own read.

One page of a PDF can cost far more than its size: 100 KB of compressed content that draws a million lines of
text takes 3 GB to lay out, and a stream that inflates to gigabytes keeps one `get_text` call busy for minutes,
past any check between pages. `read_document` runs here in a worker process (a pebble pool, one worker, kept for
the indexing run) whose address space is capped at `index.max_read_mib` (RLIMIT_AS) and whose read is stopped
after `index.max_read_seconds`. Either refuses the one file with a ReadError naming the limit; the worker is
replaced and the run goes on. Reading off the indexing process also keeps its CPU away from the GIL of a
service answering questions while an upload is read.

Errors: ReadError for the file (as `read_document`); nothing else escapes `read`.
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import TracebackType

from pebble import ProcessExpired, ProcessPool

from core.errors import ReadError
from indexer.read import ReadLimits, SourceDocument, read_document

# The child's own check between pages names the page it reached; the hard stop comes this much later, for a
# read stuck inside one page.
_GRACE_S = 2.0


def _hold_to(max_mib: int) -> None:
    """Worker initializer: cap the address space; MuPDF's allocations past it fail, and are reported as such."""
    limit = max_mib << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def child_context() -> multiprocessing.context.BaseContext:
    """How the indexer starts its child processes (this reader, the service's indexing process): forkserver, a
    child forked from a clean server, never from a process that holds model and store threads (fork there can
    deadlock); the server imports the reader once. Spawn where there is no forkserver."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["indexer.read"])
        return context
    return multiprocessing.get_context("spawn")


class ReaderProcess:
    """Reads files in one child process under `limits` (pages, characters, seconds, MiB); a context manager.

    `read(path, data)` -> SourceDocument, or ReadError with the reason: a limit passed (naming the setting), or
    the reader process ended by a signal. The pool starts on the first read, so a run with nothing to read
    starts no process.
    """

    def __init__(self, limits: ReadLimits):
        self.limits = limits
        self._pool: ProcessPool | None = None

    def read(self, path: Path, data: bytes) -> SourceDocument:
        if self._pool is None:
            self._pool = ProcessPool(
                max_workers=1, context=child_context(), initializer=_hold_to, initargs=(self.limits.max_mib,)
            )
        future = self._pool.schedule(read_document, args=(path, data, self.limits), timeout=self._timeout())
        try:
            return future.result()
        except FutureTimeout:
            raise ReadError(
                f"reading took more than index.max_read_seconds ({self.limits.max_seconds:g} s) and was stopped; "
                "refused"
            ) from None
        except ProcessExpired as exc:
            signalled = exc.exitcode is not None and exc.exitcode < 0
            raise ReadError(
                f"the reading process ended ({ending(exc.exitcode)}{', perhaps out of memory' if signalled else ''}); "
                "refused"
            ) from None
        except MemoryError:
            raise ReadError(self.limits.memory_reason()) from None

    def _timeout(self) -> float:
        return self.limits.max_seconds + _GRACE_S

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ReaderProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def ending(exitcode: int | None) -> str:
    """How a child process ended, in words: "killed by SIGKILL" (a negative exit code), or "exit code 1"."""
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            pass
    return f"exit code {exitcode}"
