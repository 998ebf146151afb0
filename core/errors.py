"""Every failure the service reports, as one tree; each message is written for the person who reads it.

    QAError                  a failure the user can act on; str(error) says what went wrong and what to do
    ├── ConfigError          config.toml or a QA_* override cannot be used (the file and field are named)
    │   ├── ModelError       the embedding model named by `embedding.model` cannot be loaded
    │   └── PromptError      a prompt file under `llm.prompt_dir` is missing or unreadable
    ├── InvalidRequest       a question, filter, argument or upload that cannot be handled as given
    │   ├── TooLarge         a request body or upload over its limit (`api.max_upload_mb` for uploads)
    │   └── NotAPDF          an upload that is not a PDF
    ├── AccessDenied         the caller's key does not allow this
    │   ├── NotAuthenticated no key, or one that `api.keys` does not hold
    │   ├── NotPermitted     the key's role may not do this (a reader uploading, say)
    │   └── RateLimited      more requests in a minute than `api.requests_per_minute`
    ├── NotFound             no such document, page, passage or job (or one the caller may not see)
    ├── Conflict             the request clashes with how the papers are held (a configured folder's paper)
    ├── NotIndexedError      nothing has been indexed in the data directory yet
    ├── IndexBusyError       another indexing run holds the data directory
    ├── IndexingFailed       an upload's or removal's indexing job could not finish (its process ended, say)
    ├── ReadError            one file cannot be read; the reason fits on one line, and the other files go on
    ├── StoreError           the published index or the vector store cannot be read or written
    │   └── StoreUnavailable the Chroma server (server mode) does not answer just now: try again shortly
    ├── GoldFileError        the evaluation's gold questions cannot be used
    └── EvalError            an evaluation could not run (for example, the papers failed to index)

The command line turns these into exit codes in one place (`cli.main.EXIT_CODES`) and the HTTP API into
statuses in one table (`api.errors.STATUS`); no command or route catches them itself. (Two answers are not
errors in this sense: `/ready` reports NotIndexedError and StoreError as its not-ready answer, and a request body
over its limit is refused with 413 by the transport before any route runs.) Any other exception is a bug: users
see a short "internal error" and the log keeps the traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def lookup(table: Mapping[type[QAError], T], error: BaseException, default: T) -> T:
    """The table's entry for the error's class, else for its nearest ancestor in the table, else `default`."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return default


class QAError(Exception):
    """A failure whose message is for the user: what went wrong, naming the file, field or id, and why."""


class ConfigError(QAError):
    """A config file or override that cannot be used, with the file and the field named."""


class ModelError(ConfigError):
    """The embedding model that `embedding.model` names cannot be found or loaded."""


class PromptError(ConfigError):
    """A prompt file under `llm.prompt_dir` is missing or cannot be read."""


class InvalidRequest(QAError):
    """A question, filter, argument or upload that cannot be handled as given."""


class TooLarge(InvalidRequest):
    """A request body or an upload larger than its limit."""


class NotAPDF(InvalidRequest):
    """An upload that is not a PDF."""


class AccessDenied(QAError):
    """The caller's key does not allow this request."""


class NotAuthenticated(AccessDenied):
    """No API key, or one that `api.keys` does not hold."""


class NotPermitted(AccessDenied):
    """The key's role may not do this."""


class RateLimited(AccessDenied):
    """More requests in a sliding minute than allowed; `retry_after` is the whole seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(QAError):
    """No document, page, passage or job has this id (or the caller may not see it)."""


class Conflict(QAError):
    """A request that clashes with how the papers are held, e.g. deleting a paper from a configured folder."""


class NotIndexedError(QAError):
    """Nothing has been indexed in this data directory yet."""


class IndexBusyError(QAError):
    """Another indexing run holds the data directory's lock."""


class IndexingFailed(QAError):
    """An indexing job run for the service (an upload, a removal) could not finish; the index is as it was."""


class ReadError(QAError):
    """A file that cannot be read, with a one-line reason; other files are indexed regardless."""


class StoreError(QAError):
    """The published index on disk, or the vector store behind it, cannot be read or written."""


class StoreUnavailable(StoreError):
    """The Chroma server (store.mode = "server") refuses or drops the connection or times out: it is stopped,
    restarting or out of reach. Transient: the service answers again by itself once the server does."""


class GoldFileError(QAError):
    """The evaluation's gold questions file is missing or has a record that does not validate."""


class EvalError(QAError):
    """An evaluation run that could not be carried out."""
