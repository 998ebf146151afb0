"""Members' feedback on answers (thumbs up or down, an optional comment), kept in an embedded SQLite database.

One row per click in `<data_dir>/feedback.sqlite3` (WAL mode, so `qa feedback` can read while the service writes):
the question, the answer, its citations (document file, page, printed page and quote), whether it abstained or was
partial, the thumbs and the comment. No key material is stored: not the API key, nor its label. Rows older than
`feedback.retention_days` are deleted when the store starts and whenever a row is added.

The routes are in api.feedback_routes; `qa feedback export` turns the unhelpful and abstained questions into draft
gold questions for the evaluation suite to review.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator
from pydantic.json_schema import JsonDict

from api.errors import describe_errors
from core.errors import InvalidRequest, StoreError
from core.settings import Settings

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.sqlite3"
MAX_COMMENT_CHARS = 2000
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,            -- UTC, ISO 8601 with microseconds: sorts as it reads
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,       -- JSON: [{file, page, page_label, quote}]
    abstained INTEGER NOT NULL,
    partial INTEGER NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT
);
CREATE INDEX IF NOT EXISTS feedback_time ON feedback (time);
"""
_COLUMNS = "id, time, question, answer, citations, abstained, partial, helpful, comment"

_EXAMPLE_CITATION: JsonDict = {
    "file": "Agenda reports pack 14th-Mar-2023 Scrutiny Committee.pdf",
    "page": 4,
    "page_label": "14",
    "quote": "The Committee agreed that the centre remain open until a full options appraisal is reported.",
}
_EXAMPLE: JsonDict = {
    "question": "What did we decide about the outdoor education centre?",
    "answer": "On 10 January 2023 the committee agreed that the centre remain open until an options appraisal [1].",
    "citations": [_EXAMPLE_CITATION],
    "abstained": False,
    "partial": False,
    "helpful": False,
    "comment": "This is the 2023 decision; I meant the one about its closure in 2021.",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """The moment in UTC; a time without a zone is taken to be UTC already."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return as_utc(moment).isoformat(timespec="microseconds")  # one fixed width, so text order is time order


class FeedbackCitation(BaseModel):
    """Where one quote of the answer is printed, and the quote: all of a citation the feedback keeps."""

    # The widget may post the citations as /ask returned them: their other fields are not kept.
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [_EXAMPLE_CITATION]})

    file: str = Field(min_length=1, max_length=500, description="The cited document's file name")
    page: int = Field(ge=1, description="1-based page index within the PDF where the quote starts")
    page_label: str | None = Field(None, max_length=50, description="The page's printed number; null if it has none")
    quote: str = Field(max_length=5000, description="The quote, verbatim from that page")

    @model_validator(mode="before")
    @classmethod
    def _file_of_document(cls, value: Any) -> Any:
        """A citation as /ask gives it names its file under `document`."""
        if isinstance(value, Mapping) and "file" not in value and isinstance(value.get("document"), Mapping):
            return {**value, "file": value["document"].get("file")}
        return value


class FeedbackRequest(BaseModel):
    """POST /feedback: a member's thumbs up or down on one answer, with the answer as it was shown."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    question: str = Field(
        min_length=1,
        max_length=10_000,
        description="The question as the member asked it",
        json_schema_extra={"pattern": r"\S"},  # not only spaces (_not_blank says so plainly)
    )
    answer: str = Field(max_length=20_000, description="The answer's text as it was shown, citing as [1], [2] ...")
    citations: list[FeedbackCitation] = Field(
        default_factory=list,
        max_length=50,
        description="The answer's citations (or, for an abstention, its nearest passages), as /ask returned them "
        "or just their file, page, page_label and quote",
    )
    abstained: StrictBool = Field(False, description="True when the answer said the papers don't answer the question")
    partial: StrictBool = Field(False, description="True when the answer said the papers give only part of it")
    helpful: StrictBool = Field(
        description="The member's verdict: true for thumbs up, false for thumbs down (not 1, 0 or a string)"
    )
    comment: str | None = Field(
        None, max_length=MAX_COMMENT_CHARS, description=f"What the member added, at most {MAX_COMMENT_CHARS} characters"
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty: the question the answer was for is needed")
        return value

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None


class FeedbackRecord(FeedbackRequest):
    """One stored piece of feedback: what was posted, with its id and when."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"id": 7, "time": "2026-05-04T09:30:12Z", **_EXAMPLE}]}
    )

    id: int = Field(description="The feedback's number, in the order it was stored")
    time: dt.datetime = Field(description="When it was stored (UTC)")


class FeedbackList(BaseModel):
    """GET /feedback."""

    feedback: list[FeedbackRecord] = Field(description="Stored feedback, newest first")


def parse_feedback(data: Mapping[str, Any]) -> FeedbackRequest:
    """Validate posted feedback; InvalidRequest naming each bad or unknown field."""
    try:
        return FeedbackRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(f"feedback: {describe_errors(exc.errors())}") from None


class FeedbackStore:
    """The feedback database: thread-safe (one connection behind a lock), opened on first use."""

    def __init__(self, path: Path, retention_days: int = 365, clock: Callable[[], dt.datetime] = utc_now):
        self.path = path
        self.retention = dt.timedelta(days=retention_days)
        self.clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @classmethod
    def of(cls, settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> FeedbackStore:
        """The store beside the index: `<data_dir>/feedback.sqlite3`, keeping `feedback.retention_days`."""
        return cls(settings.data_dir / FEEDBACK_FILE, settings.feedback.retention_days, clock)

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], dt.datetime] = utc_now) -> FeedbackStore:
        """The store of `of`, opened now with its old rows pruned; a database that cannot be opened is logged, and
        the service starts without it (storing feedback then answers 503 with why)."""
        store = cls.of(settings, clock)
        try:
            store.prune()
        except StoreError as exc:
            log.error("feedback cannot be stored: %s", exc)
        return store

    def _connection(self) -> sqlite3.Connection:
        """The open connection (call with the lock held), creating the file and its table on first use."""
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps the database whole; a crash loses the last
                    db.executescript(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                except sqlite3.Error:
                    db.close()
                    raise
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"feedback database {self.path} cannot be opened: {exc}") from None
            self._db = db
        return self._db

    def add(self, entry: FeedbackRequest | Mapping[str, Any], now: dt.datetime | None = None) -> FeedbackRecord:
        """Store one piece of feedback (InvalidRequest naming the field if it is bad), then prune old rows."""
        feedback = entry if isinstance(entry, FeedbackRequest) else parse_feedback(entry)
        when = as_utc(now or self.clock())
        citations = json.dumps([c.model_dump(mode="json") for c in feedback.citations], ensure_ascii=False)
        values = (
            _stamp(when),
            feedback.question,
            feedback.answer,
            citations,
            int(feedback.abstained),
            int(feedback.partial),
            int(feedback.helpful),
            feedback.comment,
        )
        with self._lock:
            db = self._connection()
            try:
                with db:  # one transaction: the row and the pruning
                    cursor = db.execute(
                        "INSERT INTO feedback (time, question, answer, citations, abstained, partial, helpful, comment)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        values,
                    )
                    pruned = self._prune(db, when)
            except sqlite3.Error as exc:
                raise StoreError(f"feedback database {self.path} cannot be written: {exc}") from None
        if pruned:
            log.info("feedback: %d rows older than %d days deleted", pruned, self.retention.days)
        assert cursor.lastrowid is not None
        return FeedbackRecord(id=cursor.lastrowid, time=when, **feedback.model_dump())

    def list(
        self, helpful: bool | None = None, since: dt.datetime | None = None, limit: int | None = 100
    ) -> builtins.list[FeedbackRecord]:
        """Stored feedback, newest first: only thumbs up (or down) if `helpful` is given, only from `since` on,
        at most `limit` rows (None: all)."""
        where: builtins.list[str] = []
        params: builtins.list[int | str] = []
        if helpful is not None:
            where.append("helpful = ?")
            params.append(int(helpful))
        if since is not None:
            where.append("time >= ?")
            params.append(_stamp(since))
        sql = f"SELECT {_COLUMNS} FROM feedback"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY time DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            db = self._connection()
            try:
                rows = db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"feedback database {self.path} cannot be read: {exc}") from None
        return [_record(row) for row in rows]

    def prune(self, now: dt.datetime | None = None) -> int:
        """Delete the rows older than the retention before `now` (default: the clock's now); how many went."""
        with self._lock:
            db = self._connection()
            try:
                with db:
                    pruned = self._prune(db, as_utc(now or self.clock()))
            except sqlite3.Error as exc:
                raise StoreError(f"feedback database {self.path} cannot be written: {exc}") from None
        if pruned:
            log.info("feedback: %d rows older than %d days deleted", pruned, self.retention.days)
        return pruned

    def _prune(self, db: sqlite3.Connection, now: dt.datetime) -> int:
        return db.execute("DELETE FROM feedback WHERE time < ?", (_stamp(now - self.retention),)).rowcount

    def close(self) -> None:
        """Close the connection; a later call opens it again."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _record(row: tuple[Any, ...]) -> FeedbackRecord:
    id_, time, question, answer, citations, abstained, partial, helpful, comment = row
    return FeedbackRecord(
        id=id_,
        time=dt.datetime.fromisoformat(time),
        question=question,
        answer=answer,
        citations=[FeedbackCitation.model_validate(c) for c in json.loads(citations)],
        abstained=bool(abstained),
        partial=bool(partial),
        helpful=bool(helpful),
        comment=comment,
    )
