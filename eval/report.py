"""The evaluation report: metrics side by side with the naive pipeline, targets, the gate, deltas, failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from eval.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    OWN_SPLITS,
    QuestionResult,
    breakdown,
    calibration_table,
    meets,
)

_PERCENT = {m for m in METRICS if not m.startswith("latency") and m != "mrr" and m != "ndcg_at_10"}
# The report's columns: the own gold set (all, held-out) and the blind halves.
_SCOPES = ("all", "held-out", "blind-dev", "blind-test")


def build(
    ours: list[QuestionResult],
    naive: list[QuestionResult] | None,
    gate: dict[str, float],
    targets: dict[str, float],
    gold_file: Path,
    compare: dict | None = None,
    blind_file: Path | None = None,
    blind_targets: dict[str, float] | None = None,
) -> dict:
    """The whole report as plain data; the gate and the targets judged, deltas against `compare` if given.

    The blind-test half shows aggregates only: its questions are neither listed as failures nor kept in results,
    so nobody tunes on them by reading them."""
    systems = {"ours": breakdown(ours)}
    if naive is not None:
        systems["naive"] = breakdown(naive)
    ours_all, ours_held = systems["ours"]["all"], systems["ours"]["held-out"]
    blind_test = systems["ours"]["blind-test"]
    report = {
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "gold_file": str(gold_file),
        "blind_file": str(blind_file) if blind_file else None,
        "blind_sha256": _sha256(blind_file),
        "systems": systems,
        "gate": {
            m: {"threshold": t, "value": ours_all.get(m), "ok": meets(m, ours_all.get(m), t)} for m, t in gate.items()
        },
        "targets": {
            m: {"target": t, "value": ours_held.get(m), "met": meets(m, ours_held.get(m), t)}
            for m, t in targets.items()
        },
        "blind_targets": {
            m: {"target": t, "value": blind_test.get(m), "met": meets(m, blind_test.get(m), t)}
            for m, t in (blind_targets or {}).items()
        },
        "calibration": {
            scope: calibration_table(
                [r for r in ours if r.split == scope or (scope == "all" and r.split in OWN_SPLITS)]
            )
            for scope in _SCOPES
        },
        "failures": [_failure(r) for r in ours if r.failed and r.split != "blind-test"],
        "results": {
            "ours": [r.model_dump() for r in ours if r.split != "blind-test"],
            **({"naive": [r.model_dump() for r in naive if r.split != "blind-test"]} if naive else {}),
        },
    }
    if compare:
        report["compared_with"] = compare.get("created_at")
        report["deltas"] = _deltas(systems["ours"], compare.get("systems", {}).get("ours", {}))
    return report


def _sha256(path: Path | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path and Path(path).exists() else None


def gate_failures(report: dict) -> list[str]:
    """One line per gate metric below (or, for latency and false abstention, above) its threshold."""
    out = []
    for metric, g in report["gate"].items():
        if not g["ok"]:
            sense = "above the ceiling" if metric in LOWER_IS_BETTER else "below the threshold"
            out.append(f"{metric} = {_fmt(metric, g['value'])} is {sense} {_fmt(metric, g['threshold'])}")
    for metric, g in (report.get("decisions") or {}).get("gate", {}).items():
        if not g["ok"]:
            out.append(f"decisions {metric} = {_share(g['value'])} is below the threshold {_share(g['threshold'])}")
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
    for scope in _SCOPES:
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
    """Metrics side by side, the held-out and blind-test targets and the gate: what `qa eval` prints."""
    systems = report["systems"]
    naive = "naive" in systems
    deltas = report.get("deltas", {})
    ours = systems["ours"]
    head = "| metric |" + "".join(f" ours, {s} |" for s in _SCOPES)
    head += " naive, held-out | naive, blind-test |" if naive else ""
    lines = [
        f"# Evaluation report {report['created_at']}",
        "",
        f"Own gold questions: `{report['gold_file']}`: {ours['all']['questions']} questions "
        f"({ours['all']['answerable']} answerable); held-out: {ours['held-out']['questions']}. "
        "They were written alongside the tuning: a regression check, not evidence of quality.",
        "",
    ]
    if report.get("blind_sha256"):
        lines += [
            f"Blind gold questions: `{report['blind_file']}` (sha256 {report['blind_sha256']}): "
            f"blind-dev {ours['blind-dev']['questions']}, blind-test {ours['blind-test']['questions']} "
            "(aggregates only; never tuned on).",
            "",
        ]
    lines += [
        "Pages are ranked as a reader meets them: the cited pages first, then each retrieved passage's best page; "
        "so hit@1 is the first citation's page whenever the answer cites.",
        "",
    ]
    if "compared_with" in report:
        lines += [f"Deltas (in brackets) are against the report of {report['compared_with']}.", ""]
    lines += [head, "|---|" + "---|" * len(_SCOPES) + ("---|---|" if naive else "")]
    for metric in METRICS:
        cells = []
        for scope in _SCOPES:
            value = ours.get(scope, {}).get(metric)
            delta = deltas.get(f"{scope}:{metric}")
            cells.append(_fmt(metric, value) + (f" ({_fmt_delta(metric, delta)})" if delta else ""))
        if naive:
            cells += [_fmt(metric, systems["naive"].get(scope, {}).get(metric)) for scope in ("held-out", "blind-test")]
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    for title, key in (
        ("Targets (held-out questions)", "targets"),
        ("Targets (blind-test questions)", "blind_targets"),
    ):
        if report.get(key):
            lines += ["", f"## {title}", ""]
            lines += [
                f"- {m}: {_fmt(m, t['value'])} against {_fmt(m, t['target'])}: {'met' if t['met'] else 'MISSED'}"
                for m, t in report[key].items()
            ]
    calibration = report.get("calibration", {})
    if any(calibration.values()):
        lines += [
            "",
            "## Calibration of the lead",
            "",
            "The learned ranker's probability for the passage each answer leads with, against how often that first "
            "citation is on a gold page (answered answerable questions, in bins).",
            "",
            "| scope | bin | questions | predicted | observed |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {scope} | {row['bin']} | {row['questions']} | {row['predicted']:.2f} | {row['observed']:.0%} |"
            for scope, rows in calibration.items()
            for row in rows
        ]
    lines += _decisions_markdown(report.get("decisions"))
    failures = gate_failures(report)
    lines += ["", "## Gate (all own questions)", "", "passed" if not failures else "FAILED:"]
    lines += [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def _decisions_markdown(decisions: dict | None) -> list[str]:
    """The decisions section (eval.decisions): the register against the minutes read by hand, then per split."""
    if not decisions:
        return []
    register = decisions["register"]
    lines = [
        "",
        "## Decisions",
        "",
        f"The register against every decision point of the minutes, read by hand: precision "
        f"{_share(register['precision'])}, recall {_share(register['recall'])}, status right "
        f"{_share(register['status_accuracy'])}.",
        "",
        "| meeting | points (by hand) | register |",
        "|---|---|---|",
    ]
    lines += [f"| {day} | {n['gold']} | {n['register']} |" for day, n in register["per_meeting"].items()]
    metrics = (
        ("topic_precision", "topic timelines: precision"),
        ("topic_recall", "topic timelines: recall"),
        ("topic_recall_by_meaning", "recall, topics not in the minutes' words"),
        ("quiet_when_none", "no timeline where nothing was decided"),
        ("whole_resolution", "decision answers quoting the whole resolution"),
        ("status_words", "decision answers naming each status"),
    )
    splits = decisions["splits"]
    lines += [
        "",
        "| metric | "
        + " | ".join(f"{s} ({splits[s]['topics']} topics, {splits[s]['questions']} questions)" for s in splits)
        + " |",
    ]
    lines.append("|---|" + "---|" * len(splits))
    lines += [f"| {label} | " + " | ".join(_share(splits[s][key]) for s in splits) + " |" for key, label in metrics]
    return lines


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


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
    types = sorted(k for k in systems["ours"] if k.startswith("blind-dev type:"))
    if types:
        lines += [
            "",
            "## Blind-dev by what the question asks for",
            "",
            "| asks for | n | hit@1 | citation recall | correctness | lead holds it |",
            "|---|---|---|---|---|---|",
        ]
        for key in types:
            m = systems["ours"][key]
            row = [key.split(":", 1)[1], str(m["questions"])]
            row += [_fmt(x, m[x]) for x in ("hit_at_1", "citation_recall", "correctness", "lead_holds_type")]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"## Failed questions, own set and blind-dev ({len(report['failures'])})", ""]
    for f in report["failures"]:
        got = f["got"] if isinstance(f["got"], str) else "; ".join(f["got"]) or "no citation"
        expected = f["expected"] if isinstance(f["expected"], str) else ", ".join(f["expected"])
        lines.append(
            f"- **{f['id']}** ({f['kind']}, {f['split']}) {f['question']}  \n"
            f"  expected: {expected}{'' if f['correct'] or expected == 'abstain' else ' (required terms missing)'}  \n"
            f"  got: {got}"
        )
    return "\n".join(lines) + "\n"
