"""Warm answer latency and right-page rate on the gold questions: `qa ask` against the naive llama-index retriever.

    python bench/answer_bench.py [--rounds 3]     # writes bench/results/answers.{json,md}

Both systems run in this one process over the same questions (through the evaluation harness), after a
warm-up, so latencies compare like with like. The naive pipeline is its retriever at top-k 2.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="times every question is asked (latency samples)")
    args = parser.parse_args()

    from core.settings import load_settings
    from eval.gold import load_gold
    from eval.harness import run_naive, run_ours
    from eval.metrics import compute, percentile
    from indexer.pipeline import Indexer
    from qa.service import QAService

    settings = load_settings(ROOT / "config.toml")
    assert Indexer(settings).run().ok  # incremental: a no-op when the index is current
    gold = load_gold(settings.eval.gold_file)
    service = QAService(settings)
    ours = [run_ours(service, gold) for _ in range(args.rounds)]
    naive = [run_naive(settings, gold) for _ in range(args.rounds)]

    def latencies(runs) -> list[float]:
        return [r.latency_ms for run in runs for r in run]

    summary = {"questions": len(gold), "rounds": args.rounds}
    for name, runs in (("ours", ours), ("naive", naive)):
        m = compute(runs[0])
        # hit@1 ranks cited pages first, so it is the first citation's page whenever the answer cites.
        summary[name] = {
            "first_page_on_gold_page": m["hit_at_1"],
            "any_citation_on_gold_page": m["citation_recall"],
            "p50_ms": percentile(latencies(runs), 50),
            "p95_ms": percentile(latencies(runs), 95),
        }
    o, n = summary["ours"], summary["naive"]
    summary["p50_ratio"] = o["p50_ms"] / n["p50_ms"]
    summary["targets"] = {
        "p50 within 2x of the naive retriever": summary["p50_ratio"] <= 2.0,
        "right page far more often than naive": o["first_page_on_gold_page"] >= n["first_page_on_gold_page"] + 0.2,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "answers.json").write_text(json.dumps(summary, indent=2))
    lines = [
        f"# Answers on the {len(gold)} gold questions, {args.rounds} rounds",
        "",
        "Command: `python bench/answer_bench.py`",
        "",
        "| | ours (`qa ask`, warm) | naive llama-index retriever, top-k 2 |",
        "|---|---|---|",
        "| first page (first citation; the top passage when abstaining) on a gold page "
        f"| {o['first_page_on_gold_page']:.0%} | {n['first_page_on_gold_page']:.0%} |",
        "| any citation on a gold page "
        f"| {o['any_citation_on_gold_page']:.0%} | {n['any_citation_on_gold_page']:.0%} |",
        f"| latency p50 | {o['p50_ms']:.1f} ms | {n['p50_ms']:.1f} ms |",
        f"| latency p95 | {o['p95_ms']:.1f} ms | {n['p95_ms']:.1f} ms |",
        "",
        f"ours / naive p50: {summary['p50_ratio']:.2f}x",
        "",
        *[f"- {k}: {'met' if ok else 'MISSED'}" for k, ok in summary["targets"].items()],
        "",
        "Quality in full (every metric, by kind and split): `qa eval`.",
    ]
    (RESULTS / "answers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
