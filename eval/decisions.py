"""The evaluation's decisions section: the register against the minutes read by hand, topic timelines, and whether
decision answers quote the whole resolution.

The gold files (eval/decisions/, written by a helper who saw only the papers; its README says how) are:

- `points.jsonl`: every decision point in every set of minutes, `{meeting_date, pack, minute, minute_title, point,
  status, pdf_page, printed_page, text, preamble}`;
- `topics.jsonl`: topics a member looks up, `{id, split, topic, by_meaning, none_expected, entries: [{meeting_date,
  minute, point, status, printed_page}]}`: the points a timeline should hold (none for `none_expected` topics);
- `questions.jsonl`: decision questions, `{id, split, question, meeting_date, minute, points: [text], statuses}`.

Metrics (each a share in [0, 1]):

- register `precision` / `recall`: register entries matched to gold points (same meeting and minute, and the same
  words: after folding case and spaces, one text holds the other or they agree at rapidfuzz ratio >= 90, and the
  shorter is at least 0.8 of the longer's length);
  `status_accuracy`: matched entries whose status is the gold status.
- topic `precision` / `recall`, micro-averaged over the topics' entries; `quiet_when_none`: the share of
  none-expected topics whose timeline is empty.
- question `whole_resolution`: the answer quotes every point of the minute's decision; `status_words`: the answer
  labels each point with its status word, outside its quotes ("not agreed: “…”").

`blind-test`-like discipline: the `test` split is reported as aggregates only and never tuned on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from core.errors import GoldFileError
from core.records import Answer, Decision, RegisterEntry
from core.text import fold_quotes
from qa.answer import STATUS_WORDS

if TYPE_CHECKING:
    from qa.service import QAService

SPLITS = ("dev", "test")
_SAME_WORDS = 90  # rapidfuzz ratio at or above which two texts are the same point's words
_SAME_LENGTH = 0.8  # the shorter text's share of the longer's length, at least


class GoldPoint(BaseModel):
    """One decision point as printed in the minutes, read by hand."""

    meeting_date: dt.date = Field(description="The meeting that took it")
    pack: str = Field(description="The PDF that prints the minutes")
    minute: str = Field(description="Minute number as printed")
    minute_title: str = Field("", description="Minute title as printed")
    point: str = Field("", description="The point's own number or letter as printed; '' when unnumbered")
    status: str = Field(description="resolved, noted, not agreed, deferred, referred, requested or scheduled")
    pdf_page: int = Field(description="1-based PDF page where the point starts")
    printed_page: str = Field(description="The page number printed there")
    text: str = Field(description="The point's words, without its number")
    preamble: str = Field("", description="The block's preamble, if any")


class TopicEntry(BaseModel):
    """A point a topic's timeline should hold."""

    meeting_date: dt.date
    minute: str
    point: str = ""
    status: str
    printed_page: str


class GoldTopic(BaseModel):
    """A topic a member looks up, and the decision points its timeline should hold."""

    id: str
    split: str = Field(description="dev (may be tuned on) or test (aggregates only)")
    topic: str
    by_meaning: bool = Field(False, description="The topic avoids the minutes' own words")
    none_expected: bool = Field(False, description="The papers discuss the topic but decide nothing about it")
    entries: list[TopicEntry] = Field(default_factory=list)
    notes: str = ""


class GoldDecisionQuestion(BaseModel):
    """A decision question, and the whole decision of the minute that answers it."""

    id: str
    split: str
    question: str
    meeting_date: dt.date
    minute: str
    points: list[str] = Field(description="Every point of the minute's decision, verbatim, in order")
    statuses: list[str] = Field(description="Each point's status, same order")
    notes: str = ""


class DecisionGold(BaseModel):
    points: list[GoldPoint]
    topics: list[GoldTopic]
    questions: list[GoldDecisionQuestion]


def load_decision_gold(folder: Path) -> DecisionGold:
    """The three gold files of `folder`; GoldFileError naming the file and line of a bad record."""

    def read(name: str, model: type[BaseModel]) -> list:
        path = folder / name
        out = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise GoldFileError(f"{path}: cannot be read ({exc.strerror})") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(model.model_validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or "record"
                raise GoldFileError(f"{path}, line {number}: {field}: {first['msg']}") from None
        return out

    return DecisionGold(
        points=read("points.jsonl", GoldPoint),
        topics=read("topics.jsonl", GoldTopic),
        questions=read("questions.jsonl", GoldDecisionQuestion),
    )


def _words(text: str) -> str:
    return " ".join(fold_quotes(text).lower().split())


def _number(point: str | None) -> str:
    return (point or "").strip("()., ").lower()


def same_words(a: str, b: str) -> bool:
    """Whether two texts are the same point's words (one holds the other, or nearly: printed and extracted text
    differ in spaces, quotes and the odd hyphen)."""
    x, y = _words(re.sub(r"^\s*(?:[-•–]\s*)?(?:\d+(?:\.\d+)*[.)]?|\(?[a-z]\))\s+", "", a)), _words(b)
    if not x or not y:
        return False
    # A point cut short, or two points run together, is not the same point: lengths within _SAME_LENGTH.
    if min(len(x), len(y)) < _SAME_LENGTH * max(len(x), len(y)):
        return False
    return x in y or y in x or fuzz.ratio(x, y) >= _SAME_WORDS


def _ratio(hits: int, total: int) -> float | None:
    return hits / total if total else None


def score_register(entries: Iterable[RegisterEntry], gold: list[GoldPoint]) -> dict:
    """The register against the minutes read by hand: precision, recall, status accuracy, and the count of points
    per meeting (gold against register; the same minutes printed twice count once)."""
    seen: set[tuple] = set()
    unique = []
    for e in entries:
        key = (e.meeting_date, e.minute, _number(e.point), _words(e.text))
        if key not in seen:
            seen.add(key)
            unique.append(e)
    matched_gold: set[int] = set()
    matched = 0
    right_status = 0
    for e in unique:
        for i, g in enumerate(gold):
            if i in matched_gold or (e.meeting_date, e.minute) != (g.meeting_date, g.minute):
                continue
            if same_words(e.text, g.text):
                matched_gold.add(i)
                matched += 1
                right_status += e.status == g.status
                break
    per_meeting: dict[str, dict[str, int]] = {}
    for g in gold:
        per_meeting.setdefault(g.meeting_date.isoformat(), {"gold": 0, "register": 0})["gold"] += 1
    for e in unique:
        if e.meeting_date:
            per_meeting.setdefault(e.meeting_date.isoformat(), {"gold": 0, "register": 0})["register"] += 1
    return {
        "precision": _ratio(matched, len(unique)),
        "recall": _ratio(len(matched_gold), len(gold)),
        "status_accuracy": _ratio(right_status, matched),
        "per_meeting": dict(sorted(per_meeting.items())),
    }


def _entry_matches(decision: Decision, wanted: TopicEntry, points: list[GoldPoint]) -> bool:
    if (decision.meeting_date, decision.minute) != (wanted.meeting_date, wanted.minute):
        return False
    gold = [
        p for p in points if (p.meeting_date, p.minute, p.point) == (wanted.meeting_date, wanted.minute, wanted.point)
    ]
    if gold:
        return any(same_words(decision.text, p.text) for p in gold)
    return _number(decision.point) == _number(wanted.point)


def score_topic(found: list[Decision], topic: GoldTopic, points: list[GoldPoint]) -> dict:
    """One topic's timeline against its gold entries: counts of true positives, found and expected."""
    hits = sum(any(_entry_matches(d, w, points) for w in topic.entries) for d in found)
    recalled = sum(any(_entry_matches(d, w, points) for d in found) for w in topic.entries)
    return {"id": topic.id, "found": len(found), "correct": hits, "expected": len(topic.entries), "recalled": recalled}


def score_question(answer: Answer, question: GoldDecisionQuestion) -> dict:
    """Whether one decision answer quotes the whole decision (every point) and names each point's status."""
    quotes = [c.quote for c in answer.citations] + re.findall(r"“([^”]*)”", answer.answer)
    whole = all(any(same_words(q, p) for q in quotes) for p in question.points)
    # The answer's own words (its quotes taken out) label each point: "noted: “…”", "- not agreed: “…”".
    said = re.sub(r"“[^”]*”", " ", answer.answer).lower()
    statuses = all(f"{STATUS_WORDS.get(s, s)}:" in said for s in set(question.statuses))
    return {"id": question.id, "whole_resolution": whole, "status_words": statuses}


def aggregate(topics: list[dict], questions: list[dict], gold: DecisionGold) -> dict:
    """The split-level figures from per-topic and per-question scores."""
    kind = {t.id: t for t in gold.topics}
    with_entries = [t for t in topics if kind[t["id"]].entries]
    none = [t for t in topics if kind[t["id"]].none_expected]
    by_meaning = [t for t in with_entries if kind[t["id"]].by_meaning]
    return {
        "topics": len(topics),
        "topic_precision": _ratio(sum(t["correct"] for t in topics), sum(t["found"] for t in topics)),
        "topic_recall": _ratio(sum(t["recalled"] for t in with_entries), sum(t["expected"] for t in with_entries)),
        "topic_recall_by_meaning": _ratio(
            sum(t["recalled"] for t in by_meaning), sum(t["expected"] for t in by_meaning)
        ),
        "quiet_when_none": _ratio(sum(t["found"] == 0 for t in none), len(none)),
        "questions": len(questions),
        "whole_resolution": _ratio(sum(q["whole_resolution"] for q in questions), len(questions)),
        "status_words": _ratio(sum(q["status_words"] for q in questions), len(questions)),
    }


def run_decisions(service: QAService, gold: DecisionGold) -> dict:
    """Score the service on the decision gold: the register, and each split's topics and questions. The test split
    keeps aggregates only."""
    register = score_register(service.register(), gold.points)
    report: dict = {"register": register, "splits": {}}
    every: tuple[list[dict], list[dict]] = ([], [])
    for split in SPLITS:
        topics = [score_topic(service.decisions(t.topic), t, gold.points) for t in gold.topics if t.split == split]
        questions = [score_question(service.ask(q.question), q) for q in gold.questions if q.split == split]
        every[0].extend(topics)
        every[1].extend(questions)
        report["splits"][split] = aggregate(topics, questions, gold)
        if split != "test":
            report["splits"][split]["topic_results"] = topics
            report["splits"][split]["question_results"] = questions
    # Over both halves, for the gate (a regression floor: the figures to read are each half's).
    report["all"] = aggregate(*every, gold) | {f"register_{k}": register[k] for k in ("precision", "recall")}
    report["all"]["register_status_accuracy"] = register["status_accuracy"]
    return report


def gate(report: dict, floors: dict[str, float]) -> dict[str, dict]:
    """Each floor of `[eval.decisions_gate]` judged against the figure over all topics and questions."""
    figures = report.get("all", {})
    return {
        m: {"threshold": t, "value": figures.get(m), "ok": figures.get(m) is not None and figures[m] >= t}
        for m, t in floors.items()
    }


def load_if_present(folder: Path | None) -> DecisionGold | None:
    """The decision gold in `folder`, or None when there is no folder (a council that has not written one)."""
    if folder is None or not (Path(folder) / "points.jsonl").exists():
        return None
    return load_decision_gold(Path(folder))
