"""The decision register, read from the minutes at indexing time: one entry per decision point.

A RESOLVED block is split into its numbered resolutions ("1.1", "1)", "2.", "(a)"), each an entry with the block's
preamble ("That the Committee:"); an UNRESOLVED block's points are "not agreed"; a deferral is "deferred". Each
point's status is read from its own words, by the wording minutes use everywhere: noting ("noted", "note the"),
referral ("recommend to Cabinet", "refer to"), a request for a report back ("receive a report", "refer back to the
Committee", "requested"), scheduling ("added to the work programme"); otherwise "resolved". Entries keep the
verbatim text and where it is printed (document, page, printed page, passage), so every entry can be cited.

The register is written into each index generation as `register.sqlite3` (a real embedded database, published and
replaced with the generation it belongs to, so re-indexing a pack replaces its entries and removing it removes them)
and read back whole when the generation is opened: it is small, one row per decision point.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from core.lexicon import AGREED
from core.records import Passage, RegisterEntry, RegisterStatus
from core.text import sentence_spans, strip_span

# A resolution's number at a line start, after an optional bullet: "1.1 ", "- 1) ", "2. ", "(a) ", "b) ".
# A bare number ("12 new families") is not one: it needs a dot, a bracket or a second level.
_POINT = re.compile(r"(?m)^[ \t]*(?:[-•–][ \t]*)?(\d+\.\d+\.?|\d+[.)]|\(\d+\)|\([a-z]\)|[a-z]\))[ \t]+(?=\S)")
_HEADING = re.compile(r"(?m)^[ \t]*(?:UN)?RESOLVED\b[ \t]*[:\-–—]?\s*")
_NOTED = re.compile(r"^(?:that\s+)?(?:the\s+)?(?:[\w'’ ]{0,80}?\s)?(?:note[sd]?|noting)\b|\bbe noted\b", re.I)
_REQUESTED = re.compile(
    r"\b(?:request\w*|receive (?:a|an|the|further)\b[\w ]{0,40}\b(?:report|update)|refer(?:red)? back|brought back"
    r"|(?:report|update) back|bring (?:a|an|the)\b[\w ]{0,40}\b(?:report|update))\b",
    re.I,
)
_REFERRED = re.compile(
    r"\b(?:recommend\w*|refer\w*)\b[\w ,'’]{0,40}?\b(?:to|that) (?:the )?"
    r"(?:cabinet|council|full council|[A-Z][\w ]+ Board)\b",
    re.I,
)
_SCHEDULED = re.compile(r"\b(?:added|add) to the work programme\b|\bwork programme\b[^.]{0,40}\badded\b", re.I)
_DEFERRED = re.compile(r"\b(?:deferred|postponed)\b", re.I)
_DISAGREED = re.compile(r"\b(?:did not agree|disagreed|not agreed|did not support|rejected)\b", re.I)


def point_status(text: str, block: str | None) -> RegisterStatus:
    """The status of one decision point, from its block ("resolved", "not agreed", "deferred") and its words."""
    text = _POINT.sub("", text, count=1)  # "1) Note the work ..." is read from "Note"
    if block == "not agreed":
        return "not agreed"
    if block == "agreed" and _DISAGREED.search(text):
        return "not agreed"  # "agreed 1.1 and 1.2 but did not agree with 1.3": what it adds is the disagreement
    if block == "deferred" or _DEFERRED.search(text):
        return "deferred"
    if _SCHEDULED.search(text):
        return "scheduled"
    if _REQUESTED.search(text):
        return "requested"
    if _REFERRED.search(text):
        return "referred"
    if _NOTED.search(text):
        return "noted"
    return "resolved"


def register_entries(passages: Iterable[Passage]) -> list[RegisterEntry]:
    """Every decision point recorded in these passages' minutes, in document order."""
    minutes = [p for p in passages if p.part == "minutes" and p.decision_status]
    # A minute with a RESOLVED or UNRESOLVED block is recorded by the block's points; "Members agreed the
    # recommendations" in its discussion says the same again, so it makes no entry of its own.
    blocks = {(p.doc_id, p.minute) for p in minutes if p.decision_status in ("resolved", "not agreed")}
    entries: list[RegisterEntry] = []
    for passage in minutes:
        if passage.decision_status == "agreed" and (passage.doc_id, passage.minute) in blocks:
            continue
        entries.extend(_points(passage))
    return entries


def _points(passage: Passage) -> list[RegisterEntry]:
    text = passage.text
    if passage.decision_status in ("deferred", "agreed"):
        # Recorded in the discussion, not in a block: the sentences that record it are the entries.
        pattern = _DEFERRED if passage.decision_status == "deferred" else AGREED
        spans = [strip_span(text, span.start, span.end) for span in sentence_spans(text)]
        return [_entry(passage, None, None, a, b) for a, b in spans if a < b and pattern.search(text[a:b])]
    # The block starts at its RESOLVED line (the discussion before it is not the decision); a passage without one
    # continues a block begun on the passage before.
    headings = list(_HEADING.finditer(text))
    body_start = headings[-1].end() if headings else 0
    marks = list(_POINT.finditer(text, body_start))
    if not marks:
        start, end = strip_span(text, body_start, len(text))
        return [_entry(passage, None, None, start, end)] if start < end else []
    preamble_start, preamble_end = strip_span(text, body_start, marks[0].start())
    preamble = " ".join(text[preamble_start:preamble_end].split()) or None
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        start, end = strip_span(text, mark.start(1), end)
        out.append(_entry(passage, mark.group(1).strip("()."), preamble, start, end))
    return out


def _entry(passage: Passage, number: str | None, preamble: str | None, start: int, end: int) -> RegisterEntry:
    words = " ".join(passage.text[start:end].split())
    span = passage.page_at(start)
    title = passage.section.split(" > ")[0].split(": ", 1)[1] if passage.section and ": " in passage.section else None
    return RegisterEntry(
        meeting_date=passage.meeting_date,
        committee=passage.committee,
        minute=passage.minute,
        minute_title=title,
        point=number,
        preamble=preamble,
        text=words,
        status=point_status(words, passage.decision_status),
        doc_id=passage.doc_id,
        file=passage.file,
        page=span.page,
        page_label=span.label,
        passage_id=passage.id,
        start=start,
        end=end,
    )


REGISTER_FILE = "register.sqlite3"
REGISTER_VERSION = 2  # SQLite's user_version; a register of another version is read again from the passages
_FIELDS = tuple(RegisterEntry.model_fields)


def write_register(path: Path, entries: list[RegisterEntry]) -> None:
    """Write the entries to a new SQLite file at `path` (one row each, in order); the file is complete when this
    returns (the publisher renames the whole generation into place afterwards)."""
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {REGISTER_VERSION}")
        db.execute(f"CREATE TABLE entries (seq INTEGER PRIMARY KEY, {', '.join(_FIELDS)})")
        db.executemany(
            f"INSERT INTO entries (seq, {', '.join(_FIELDS)}) VALUES (?, {', '.join('?' for _ in _FIELDS)})",
            [(i, *_row(entry)) for i, entry in enumerate(entries)],
        )
    db.close()


def read_register(path: Path) -> list[RegisterEntry] | None:
    """The entries of a register file, in order; None when it was written by another version of this module (the
    caller reads them again from the passages); OSError or sqlite3.Error when it cannot be read."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != REGISTER_VERSION:
            return None
        rows = db.execute(f"SELECT {', '.join(_FIELDS)} FROM entries ORDER BY seq").fetchall()
    finally:
        db.close()
    return [RegisterEntry.model_validate(dict(zip(_FIELDS, row, strict=True))) for row in rows]


def _row(entry: RegisterEntry) -> tuple[object, ...]:
    data = json.loads(entry.model_dump_json())
    return tuple(data[name] for name in _FIELDS)
