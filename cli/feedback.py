"""`qa feedback`: the members' thumbs on answers, listed, or exported as draft gold questions to review.

Reads the service's own database (`<data_dir>/feedback.sqlite3`, see api.feedback) through the settings; it may
run while `qa serve` writes to it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click

from core.settings import Settings

if TYPE_CHECKING:
    from api.feedback import FeedbackRecord

DRAFT_NOTE = (
    "DRAFT from members' feedback ({why}): review before use. Set answerable and kind, add the expected pages, "
    "quotes and must_contain (or missing and nearest if the papers do not answer it), give it an id and a split, "
    "and remove `feedback`."
)


class _HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


def _records(obj: _HasSettings, since: dt.datetime | None, limit: int | None) -> list[FeedbackRecord]:
    """Stored feedback, newest first; none (and no database made) where the service never stored any."""
    from api.feedback import FeedbackStore

    store = FeedbackStore.of(obj.settings)
    if not store.path.exists():
        return []
    try:
        return store.list(since=since.replace(tzinfo=dt.UTC) if since else None, limit=limit)  # days start at 0h UTC
    finally:
        store.close()


@click.group()
def feedback() -> None:
    """Members' thumbs up and down on answers: list them, or export the unhelpful and abstained as draft gold."""


@feedback.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only feedback from YYYY-MM-DD (UTC) on.")
@click.option(
    "--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many, newest first."
)
@click.pass_obj
def list_feedback(obj: _HasSettings, as_json: bool, since: dt.datetime | None, limit: int) -> None:
    """List stored feedback, newest first."""
    records = _records(obj, since, limit)
    if as_json:
        click.echo(json.dumps({"feedback": [r.model_dump(mode="json") for r in records]}, indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo("No feedback stored yet.")
        return
    for r in records:
        flags = ["helpful" if r.helpful else "unhelpful"] + [f for f in ("abstained", "partial") if getattr(r, f)]
        click.echo(f"#{r.id}  {r.time:%Y-%m-%d %H:%M} UTC  {', '.join(flags)}  {r.question}")
        if r.comment:
            click.echo(f"    comment: {r.comment}")


def draft_question(record: FeedbackRecord, count: int = 1) -> dict[str, Any]:
    """A draft gold question in the shape of eval/questions.jsonl's records, marked as a draft to review."""
    why = ", ".join(
        reason for reason, applies in (("unhelpful", not record.helpful), ("abstained", record.abstained)) if applies
    )
    return {
        "id": f"feedback-{record.id}",
        "question": record.question,
        "answerable": None,  # unknown until reviewed: the service's abstention may itself be the mistake
        "kind": "unanswerable" if record.abstained else "general",
        "expected": [],
        "quotes": [],
        "must_contain": [],
        "notes": DRAFT_NOTE.format(why=why),
        "split": "draft",
        "feedback": {
            "id": record.id,
            "time": record.time.isoformat(),
            "helpful": record.helpful,
            "abstained": record.abstained,
            "partial": record.partial,
            "answer": record.answer,
            "citations": [c.model_dump(mode="json") for c in record.citations],
            "comment": record.comment,
            "count": count,  # how often this question was marked, the latest shown
        },
    }


def drafts(records: list[FeedbackRecord]) -> list[dict[str, Any]]:
    """The unhelpful and abstained questions, one draft per question (its latest feedback), oldest first."""
    latest: dict[str, FeedbackRecord] = {}
    counts: dict[str, int] = {}
    for record in sorted(records, key=lambda r: (r.time, r.id)):
        if record.helpful and not record.abstained:
            continue
        key = re.sub(r"\s+", " ", record.question).strip().casefold()
        latest.pop(key, None)  # re-inserted, so the order is of each question's latest feedback
        latest[key] = record
        counts[key] = counts.get(key, 0) + 1
    return [draft_question(record, counts[key]) for key, record in latest.items()]


@feedback.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write the JSON lines here (default: standard output).",
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only feedback from YYYY-MM-DD (UTC) on.")
@click.pass_obj
def export(obj: _HasSettings, out: Path | None, since: dt.datetime | None) -> None:
    """Write the unhelpful and abstained questions as draft gold questions (JSON lines) for the evaluation to review.

    Each line has the fields of eval/questions.jsonl with "split": "draft", "answerable": null and no expected
    pages, plus a "feedback" object (the answer, citations, comment and time): fill them in before adding it to a
    gold file, which refuses drafts as they are.
    """
    records = _records(obj, since, None)
    lines = [json.dumps(draft, ensure_ascii=False) + "\n" for draft in drafts(records)]
    if out is None:
        click.echo("".join(lines), nl=False)
    else:
        out.write_text("".join(lines), encoding="utf-8")
    where = f" to {out}" if out else ""
    click.echo(f"{len(lines)} draft questions{where}, from {len(records)} pieces of feedback", err=True)
