"""The audit log: who uploaded or deleted a paper, and who read a restricted one, by key label (never the key).

One JSON object a line in `api.audit_file` (default <data_dir>/audit.jsonl), appended under a lock so concurrent
requests never interleave a line: {"at": ISO time (UTC), "by": key label, "action": "upload" | "delete" |
"restricted", "what": the file, document or passage concerned, "how": the route}. Questions and answers are not
written: they can hold personal details.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path

from core.records import Answer
from core.settings import Settings

log = logging.getLogger(__name__)


class AuditLog:
    """Appends audit events to one file."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> AuditLog:
        return cls(Path(settings.api.audit_file or settings.data_dir / "audit.jsonl"))

    def record(self, by: str, action: str, what: str, how: str) -> None:
        """Append one event; an audit file that cannot be written is logged as an error and the request goes on."""
        line = json.dumps(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "by": by,
                "action": action,
                "what": what,
                "how": how,
            }
        )
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except OSError as exc:
            log.error("audit log %s cannot be written (%s): %s", self.path, exc.strerror, line)

    def restricted_cited(self, by: str, answer: Answer, how: str) -> None:
        """One event per restricted document an answer quotes."""
        for file in sorted({c.document.file for c in [*answer.citations, *answer.see_also] if c.restricted}):
            self.record(by, "restricted", file, how)

    def read(self) -> list[dict]:
        """Every event, oldest first ([] before the first)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
