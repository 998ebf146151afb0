"""The evaluation report: metrics side by side with the naive pipeline, targets, the gate, deltas, failures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from eval.metrics import LOWER_IS_BETTER, METRICS, QuestionResult, breakdown, meets

_PERCENT = {m for m in METRICS if not m.startswith("latency") and m != "mrr" and m != "ndcg_at_10"}


def build(
    ours: list[QuestionResult],
    naive: list[QuestionResult] | None,
    gate: dict[str, float],
    targets: dict[str, float],
    gold_file: Path,
    compare: dict | None = None,
) -> dict:
    """The whole report as plain data; the gate and the targets judged, deltas against `compare` if given."""
    systems = {"ours": breakdown(ours)}
    if naive is not None:
        systems["naive"] = breakdown(naive)
    ours_all, ours_held = systems["ours"]["all"], systems["ours"]["held-out"]
    report = {
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "gold_file": str(gold_file),
        "systems": systems,
        "gate": {
            m: {"threshold": t, "value": ours_all.get(m), "ok": meets(m, ours_all.get(m), t)} for m, t in gate.items()
        },
        "targets": {
            m: {"target": t, "value": ours_held.get(m), "met": meets(m, ours_held.get(m), t)}
            for m, t in targets.items()
        },
        "failures": [_failure(r) for r in ours if r.failed],
        "results": {
            "ours": [r.model_dump() for r in ours],
            **({"naive": [r.model_dump() for r in naive]} if naive else {}),
        },
    }
    if compare:
        report["compared_with"] = compare.get("created_at")  # type: ignore[assignment]
        report["deltas"] = _deltas(systems["ours"], compare.get("systems", {}).get("ours", {}))
    return report


def gate_failures(report: dict) -> list[str]:
    """One line per gate metric below (or, for latency and false abstention, above) its threshold."""
    out = []
    for metric, g in report["gate"].items():
        if not g["ok"]:
            sense = "above the ceiling" if metric in LOWER_IS_BETTER else "below the threshold"
            out.append(f"{metric} = {_fmt(metric, g['value'])} is {sense} {_fmt(metric, g['threshold'])}")
    return out


def write(report: dict, directory: Path) -> tuple[Path, Path]:
    """Write report-<time>.json/.md and latest.json/.md; return the timestamped paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = report["created_at"].replace(":", "").replace("-", "")
    data, text = json.dumps(report, indent=1), markdown(report)
    for name in (f"report-{stamp}", "latest"):
        (directory / f"{name}.json").write_text(data, encoding="utf-8")
        (directory / f"{name}.md").write_text(text, encoding="utf-8")
    return directory / f"report-{stamp}.json", directory / f"report-{stamp}.md"


def _failure(r: QuestionResult) -> dict:
    return {
        "id": r.id,
        "kind": r.kind,
        "split": r.split,
        "question": r.question,
        "expected": "abstain" if not r.answerable else [f"{f} p{p}" for f, p in r.gold_pages],
        "got": "abstained" if r.abstained else [f"{c.file} p{c.page}: {c.quote[:100]}" for c in r.citations],
        "correct": r.correct,
    }


def _deltas(now: dict, before: dict) -> dict:
    out = {}
    for scope in ("all", "held-out"):
        for metric in METRICS:
            a, b = now.get(scope, {}).get(metric), before.get(scope, {}).get(metric)
            if a is not None and b is not None:
                out[f"{scope}:{metric}"] = a - b
    return out


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric in _PERCENT:
        return f"{value:.0%}"
    return f"{value:.1f}" if metric.startswith("latency") else f"{value:.3f}"


def _fmt_delta(metric: str, delta: float) -> str:
    sign = "+" if delta >= 0 else "-"
    if metric in _PERCENT:
        return f"{sign}{abs(delta) * 100:.0f} pts"
    return f"{sign}{_fmt(metric, abs(delta))}"


def markdown(report: dict) -> str:
    """The whole report for people: summary, targets, gate, kinds, failed questions."""
    return summary_markdown(report) + _details_markdown(report)


def summary_markdown(report: dict) -> str:
    """Metrics side by side, the held-out targets and the gate: what `qa eval` prints."""
    systems = report["systems"]
    naive = "naive" in systems
    deltas = report.get("deltas", {})
    head = "| metric | ours, all | ours, held-out |" + (" naive, all | naive, held-out |" if naive else "")
    lines = [
        f"# Evaluation report {report['created_at']}",
        "",
        f"Gold questions: `{report['gold_file']}`: {systems['ours']['all']['questions']} questions "
        f"({systems['ours']['all']['answerable']} answerable); held-out: {systems['ours']['held-out']['questions']}.",
        "",
    ]
    lines += [
        "Pages are ranked as a reader meets them: the cited pages first, then each retrieved passage's best page; "
        "so hit@1 is the first citation's page whenever the answer cites.",
        "",
    ]
    if "compared_with" in report:
        lines += [f"Deltas (in brackets) are against the report of {report['compared_with']}.", ""]
    lines += [head, "|---|---|---|" + ("---|---|" if naive else "")]
    for metric in METRICS:
        cells = []
        for scope in ("all", "held-out"):
            value = systems["ours"][scope].get(metric)
            delta = deltas.get(f"{scope}:{metric}")
            cells.append(_fmt(metric, value) + (f" ({_fmt_delta(metric, delta)})" if delta else ""))
        if naive:
            cells += [_fmt(metric, systems["naive"][scope].get(metric)) for scope in ("all", "held-out")]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets (held-out questions)", ""]
    lines += [
        f"- {m}: {_fmt(m, t['value'])} against {_fmt(m, t['target'])}: {'met' if t['met'] else 'MISSED'}"
        for m, t in report["targets"].items()
    ]
    failures = gate_failures(report)
    lines += ["", "## Gate (all questions)", "", "passed" if not failures else "FAILED:"]
    lines += [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def _details_markdown(report: dict) -> str:
    systems = report["systems"]
    naive = "naive" in systems
    kinds = sorted(k for k in systems["ours"] if k.startswith("kind:"))
    lines = []
    lines += [
        "",
        "## By kind of question",
        "",
        "| kind | n | hit@1 | citation recall | correctness | abstention (unanswerable) |"
        + (" naive hit@1 |" if naive else ""),
        "|---|---|---|---|---|---|" + ("---|" if naive else ""),
    ]
    for kind in kinds:
        m = systems["ours"][kind]
        row = [
            kind[5:],
            str(m["questions"]),
            _fmt("hit_at_1", m["hit_at_1"]),
            _fmt("citation_recall", m["citation_recall"]),
            _fmt("correctness", m["correctness"]),
            _fmt("abstention_unanswerable", m["abstention_unanswerable"]),
        ]
        if naive:
            row.append(_fmt("hit_at_1", systems["naive"][kind]["hit_at_1"]))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"## Failed questions ({len(report['failures'])})", ""]
    for f in report["failures"]:
        got = f["got"] if isinstance(f["got"], str) else "; ".join(f["got"]) or "no citation"
        expected = f["expected"] if isinstance(f["expected"], str) else ", ".join(f["expected"])
        lines.append(
            f"- **{f['id']}** ({f['kind']}, {f['split']}) {f['question']}  \n"
            f"  expected: {expected}{'' if f['correct'] or expected == 'abstain' else ' (required terms missing)'}  \n"
            f"  got: {got}"
        )
    return "\n".join(lines) + "\n"
