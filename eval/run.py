"""One evaluation run: make sure the index is current, score both systems, write the report, judge the gate."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import EvalError
from core.settings import Settings
from eval import report as reports
from eval.decisions import gate as decisions_gate
from eval.decisions import load_if_present, run_decisions
from eval.gold import GoldQuestion, load_eval_gold
from eval.harness import run_naive, run_ours
from indexer.embed import TextEmbedder


@dataclass
class EvalOutcome:
    """The report, where it was written, and the gate metrics it failed."""

    report: dict
    json_path: Path
    markdown_path: Path
    gate_failures: list[str] = field(default_factory=list)


def run_eval(
    settings: Settings,
    compare_with: Path | None = None,
    with_naive: bool | None = None,
    progress: Callable[[], None] | None = None,
    gold: list[GoldQuestion] | None = None,
    embedder: TextEmbedder | None = None,
) -> EvalOutcome:
    """Index what the config names (incrementally), answer every gold question, and report.

    EvalError when a paper fails to index; GoldFileError for a bad gold file (questions or decisions). `embedder`
    defaults to the real model.
    """
    from indexer.pipeline import Indexer
    from qa.service import QAService

    if gold is None:
        gold = load_eval_gold(settings.eval.gold_file, settings.eval.blind_file)
    indexed = Indexer(settings, embedder=embedder).run()
    if not indexed.ok:
        failed = "; ".join(f"{f.path}: {f.reason}" for f in indexed.failed)
        raise EvalError(f"indexing failed, so the evaluation would not be of the papers named: {failed}")
    tick = progress or (lambda: None)
    service = QAService(settings, embedder=embedder)
    ours = run_ours(service, gold, tick)
    decision_gold = load_if_present(settings.eval.decisions_dir)
    naive = None
    if settings.eval.naive if with_naive is None else with_naive:
        naive = run_naive(settings, gold, tick)
    compare = _earlier_report(compare_with or settings.eval.compare_with, must_exist=compare_with is not None)
    report = reports.build(
        ours,
        naive,
        settings.eval.gate,
        settings.eval.targets,
        settings.eval.gold_file,
        compare,
        blind_file=settings.eval.blind_file,
        blind_targets=settings.eval.blind_targets,
    )
    if decision_gold is not None:
        report["decisions"] = run_decisions(service, decision_gold)
        report["decisions"]["gate"] = decisions_gate(report["decisions"], settings.eval.decisions_gate)
    json_path, md_path = reports.write(report, settings.eval.report_dir)
    return EvalOutcome(report, json_path, md_path, reports.gate_failures(report))


def _earlier_report(path: Path | None, must_exist: bool) -> dict | None:
    """The report to show deltas against; None when there is none yet (the configured one may not exist before the
    first run, an explicit --compare must). EvalError naming the file when it cannot be read."""
    if path is None or not (must_exist or Path(path).exists()):
        return None
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvalError(f"{path}: not a report to compare with ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(report, dict) or "systems" not in report:
        raise EvalError(f"{path}: not a report to compare with (it has no systems' metrics)")
    return report
