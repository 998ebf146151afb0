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
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.lexicon import AGREED
from core.records import Passage, RegisterEntry, RegisterStatus
from core.text import sentence_spans, strip_span

# A resolution's number at a line start, after an optional bullet: "1.1 ", "- 1) ", "2. ", "(a) ", "b) ".
# A bare number ("12 new families") is not one: it needs a dot, a bracket or a second level.
_POINT = re.compile(r"(?m)^[ \t]*(?:[-•–][ \t]*)?(\d+\.\d+\.?|\d+[.)]|\(\d+\)|\([a-z]\)|[a-z]\))[ \t]+(?=\S)")
_HEADING = re.compile(r"(?m)^[ \t]*(?:UN)?RESOLVED\b[ \t]*[:\-–—]?\s*")
_NOTED = re.compile(
    r"^(?:that\s+)?(?:the\s+)?(?:[^.;:,]{0,80}?\s)?(?:note[sd]?|noting|consider(?:s|ed)?|reviewed|receive assurance"
    r"|(?:provide|make) comments|comment on)\b|\bbe noted\b",
    re.I,
)
# What commits the committee to something beyond noting it: "and support the programme", "agree the publication",
# "that the scheme be approved".
_COMMITS = re.compile(
    r"(?:^|\band\s+|\bto\s+|\bcommittee\s+|\bmembers\s+)(?:support|agreed?|approved?|endorsed?|adopt(?:ed)?"
    r"|scrutini[sz]e)\b|\bbe\s+(?:approved|agreed|endorsed|adopted|supported)\b",
    re.I,
)
_REQUESTED = re.compile(
    r"\b(?:request\w*|asked for|receive (?:a|an|the|further|additional)\b[\w ]{0,40}\b(?:report|update|information)"
    r"|refer(?:red)? back|brought back|come back to (?:the )?committee|(?:report|update) back"
    r"|bring (?:a|an|the)\b[\w ]{0,40}\b(?:report|update)|(?:update|report|information)s? (?:to )?be provided)\b",
    re.I,
)
_REFERRED = re.compile(
    r"\b(?:recommend\w*|refer\w*)\b[\w ,'’]{0,40}?\b(?:to|that) (?:the )?"
    r"(?:cabinet|council|full council|[A-Z][\w ]+ Board)\b"
    r"|\b(?:cabinet (?:for )?approval|approval (?:of|from) (?:the )?cabinet|approaching (?:the )?cabinet)\b",
    re.I,
)
_SCHEDULED = re.compile(
    r"\b(?:added|add) to the work programme\b|\bwork programme\b[^.]{0,60}\b(?:added|moved|agreed to (?:add|move))\b"
    r"|\b(?:requested|agreed|asked) to (?:present|bring) an item\b"
    r"|\b(?:requested|agreed)\b[^.]{0,40}\b(?:on|to|into) the work programme\b",
    re.I,
)
_DEFERRED = re.compile(r"\b(?:deferred|postponed)\b", re.I)
_DISAGREED = re.compile(r"\b(?:did not agree|disagreed|not agreed|did not support|rejected)\b", re.I)
# A decision recorded in the discussion rather than a block: the committee (members, the chair) agreeing, asking for
# something to come back, or changing the work programme. One councillor's question ("Councillor X asked how ...")
# is not one.
_BY_COMMITTEE = re.compile(
    r"\b(?:the committee|members)\b(?: also| had)?\s+(?:agreed|requested)\b"
    r"|\b(?:the committee|members|the chair|the vice-chair)\b(?:[^.]{0,80}?\band)?(?: also| had)?\s+(?:requested"
    r"|asked for (?:officers|a report|an update|a briefing|the item|it to be))\b"
    r"|\bwhich was (?:also )?agreed\b",
    re.I,
)
# A work-programme entry given a date: "Ofsted Inspection Outcome – TBC for 12 October 2021.", "… – moved to 1
# December 2021." (read from one list item or line, its wrapping undone).
_PROGRAMME_ITEM = re.compile(
    r"^(?:[-•]\s*)?(?P<item>(?:(?!\.\s).){3,200}?)\s+[–—-]\s+(?:TBC for|moved to|added to|deferred to"
    r"|brought forward to"
    r"|scheduled for)\s+\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}\.?$"
)


# Agreements about how the meeting is run, not decisions on its business.
_PROCEDURAL = re.compile(
    r"\bstanding orders\b|\border of (?:business|the agenda|items)\b|\bitems? of urgent business\b"
    r"|\b(?:true|correct) record\b",
    re.I,
)
# What a clerk notes between decisions: who came and went, when the meeting ended.
_NOTE = re.compile(
    r"\b(?:left|joined|returned to|re-?joined|arrived at) the meeting\b|\bthe meeting (?:finished|ended|closed|was "
    r"adjourned)\b|^\s*Approved as a true|\btook the (?:position of )?chair\b|\bvacated the chair\b"
    r"|^\s*(?:Councillor|Cllr\.?) [A-Z][\w'’-]+(?: [A-Z][\w'’-]+)? (?:took|left|joined|arrived|returned|declared)\b",
    re.I,
)


def point_status(text: str, block: str | None) -> RegisterStatus:
    """The status of one decision point, from its block ("resolved", "not agreed", "deferred") and its words."""
    text = _POINT.sub("", text, count=1)  # "1) Note the work ..." is read from "Note"
    if block == "not agreed":
        return "not agreed"
    if block == "agreed" and _DISAGREED.search(text):
        return "not agreed"  # "agreed 1.1 and 1.2 but did not agree with 1.3": what it adds is the disagreement
    if block == "deferred" or _DEFERRED.search(text):
        return "deferred"
    if block == "scheduled" or _SCHEDULED.search(text):
        return "scheduled"
    if _REQUESTED.search(text):
        return "requested"
    if _REFERRED.search(text):
        return "referred"
    if _NOTED.search(text) and not _COMMITS.search(text):
        return "noted"
    return "resolved"


def register_entries(passages: Iterable[Passage]) -> list[RegisterEntry]:
    """Every decision point recorded in these passages' minutes, in document order: each point of a RESOLVED or
    UNRESOLVED block, and what the discussion records beside it (a deferral, an agreement, a request for something
    to come back, a change to the work programme, each work-programme line given a date). Procedural agreements
    (standing orders, the order of business, the last minutes as a correct record) are no decision points."""
    minutes = [p for p in passages if p.part == "minutes" and p.minute and not p.boilerplate]
    block_points: dict[tuple[str, str | None], list[RegisterEntry]] = {}
    for passage in minutes:
        if passage.decision_status in ("resolved", "not agreed"):
            block_points.setdefault((passage.doc_id, passage.minute), []).extend(_points(passage))
    entries: list[RegisterEntry] = []
    for passage in minutes:
        in_block = block_points.get((passage.doc_id, passage.minute), [])
        own = [e for e in in_block if e.passage_id == passage.id]
        found = own + _discussion(passage, in_block)
        entries.extend(sorted(found, key=lambda e: e.start))
    return entries


def _discussion(passage: Passage, block: list[RegisterEntry]) -> list[RegisterEntry]:
    """The decisions the discussion of one minutes passage records outside any RESOLVED block. In a minute with a
    block, "Members agreed the recommendations" and a request the block repeats say nothing new and make no entry."""
    text = passage.text
    headings = list(_HEADING.finditer(text))
    end = len(text)
    if passage.decision_status in ("resolved", "not agreed"):  # the discussion ends where the block starts
        end = headings[0].start() if headings else 0
    title = _minute_title(passage)
    out: list[RegisterEntry] = []
    items = list(_programme_items(text[:end]))
    for start, stop, preamble in items:
        out.append(_entry(passage, None, preamble, start, stop, "scheduled"))
    for span in sentence_spans(text[:end]):
        a, b = _after_title(text, title, *strip_span(text, span.start, span.end))
        words = " ".join(text[a:b].split())
        if a >= b or any(a < stop and start < b for start, stop, _ in items):
            continue
        agrees = AGREED.search(words)
        if not (_DEFERRED.search(words) or agrees or _BY_COMMITTEE.search(words) or _SCHEDULED.search(words)):
            continue
        if _PROCEDURAL.search(words):
            continue
        entry = _entry(passage, None, None, a, b, "deferred" if _DEFERRED.search(words) else "agreed")
        if block and (agrees or entry.status == "resolved" or any(_repeats(entry.text, p.text) for p in block)):
            continue
        out.append(entry)
    return out


def _programme_items(text: str) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, the line introducing the list) of each dated work-programme entry: a list item or a line that
    starts after a full stop or colon, running on until it ends with one."""
    lines, offset = [], 0
    for line in text.split("\n"):
        lines.append((offset, line))
        offset += len(line) + 1
    unit: list[tuple[int, str]] = []
    intro: str | None = None
    for start, line in lines:
        stripped = line.strip()
        if unit and (re.match(r"[-•]\s", stripped) or " ".join(t for _, t in unit).rstrip().endswith((".", ":"))):
            yield from _dated(unit, intro)
            intro = _intro(unit, intro)
            unit = []
        unit.append((start, line))
    if unit:
        yield from _dated(unit, intro)


def _intro(unit: list[tuple[int, str]], intro: str | None) -> str | None:
    words = " ".join(" ".join(t for _, t in unit).split())
    return words if words.endswith(":") else intro if re.match(r"[-•]\s", words) else None


def _dated(unit: list[tuple[int, str]], intro: str | None) -> Iterator[tuple[int, int, str | None]]:
    words = " ".join(" ".join(t for _, t in unit).split())
    match = _PROGRAMME_ITEM.match(words)
    if match:
        first_start, first = unit[0]
        lead = len(first) - len(first.lstrip())
        bullet = re.match(r"[-•]\s*", first.lstrip())
        last_start, last = unit[-1]
        yield first_start + lead + (bullet.end() if bullet else 0), last_start + len(last.rstrip()), intro


def _without_notes(text: str, start: int, end: int) -> tuple[int, int]:
    """A point's span without the clerk's notes printed after it ("Councillor X left the meeting at 8.17pm.")."""
    for span in sentence_spans(text[start:end])[1:]:
        if _NOTE.search(text[start + span.start : start + span.end]):
            return strip_span(text, start, start + span.start)
    return start, end


def _repeats(sentence: str, point: str) -> bool:
    """Whether a sentence of the discussion says what a block's point says (half its words are the point's)."""
    said = set(re.findall(r"[a-z]{4,}", sentence.lower()))
    return bool(said) and len(said & set(re.findall(r"[a-z]{4,}", point.lower()))) >= 0.5 * len(said)


def _points(passage: Passage) -> list[RegisterEntry]:
    """The points of the RESOLVED or UNRESOLVED block in one passage (or continued into it from the passage before)."""
    text = passage.text
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
        start, end = _without_notes(text, *strip_span(text, mark.start(1), end))
        out.append(_entry(passage, mark.group(1).strip("()."), preamble, start, end))
    return out


def _minute_title(passage: Passage) -> str | None:
    """ "Minute 14: Youth Service Review > ..." gives "Youth Service Review"."""
    head = (passage.section or "").split(" > ")[0]
    return head.split(": ", 1)[1] if ": " in head else None


def _after_title(text: str, title: str | None, start: int, end: int) -> tuple[int, int]:
    """A sentence that runs on from the minute's title line (a title has no full stop) starts after the title."""
    if title:
        printed = r"\s+".join(map(re.escape, title.split()))  # a wrapped title breaks its line inside
        head = re.match(r"(?:\d+\.?[ \t]+)?" + printed + r"[ \t]*\n\s*", text[start:end])
        if head and start + head.end() < end:
            return start + head.end(), end
    return start, end


def _entry(
    passage: Passage, number: str | None, preamble: str | None, start: int, end: int, block: str | None = None
) -> RegisterEntry:
    words = " ".join(passage.text[start:end].split())
    span = passage.page_at(start)
    title = _minute_title(passage)
    return RegisterEntry(
        meeting_date=passage.meeting_date,
        committee=passage.committee,
        minute=passage.minute,
        minute_title=title,
        point=number,
        preamble=preamble,
        text=words,
        status=point_status(words, block or passage.decision_status),
        doc_id=passage.doc_id,
        file=passage.file,
        page=span.page,
        page_label=span.label,
        passage_id=passage.id,
        start=start,
        end=end,
    )


REGISTER_FILE = "register.sqlite3"
REGISTER_VERSION = 8  # SQLite's user_version; a register of another version is read again from the passages
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
