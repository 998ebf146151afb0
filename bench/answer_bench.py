"""Answer quality and warm latency on the gold questions: this project's `qa ask` against the naive llama-index retriever.

    python bench/answer_bench.py         # writes bench/results/answers.{json,md}

Both run in this one process over the same questions, after a warm-up, so latencies compare like with like.
Quality: the share of answerable questions whose first citation (naive: first retrieved chunk, top-k 2) is on a
page the gold file expects; for ours also abstention on the questions the papers don't answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, rounds: int) -> tuple[object, list[float]]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return result, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked (latency samples)")
    args = parser.parse_args()

    from eval.gold import any_citation_on_expected_page, first_citation_on_expected_page, load_gold
    from indexer.pipeline import Indexer
    from eval.naive import build_naive_index
    from qa.service import QAService
    from qa.settings import load_settings

    settings = load_settings(ROOT / "config.toml")
    report = Indexer(settings).run()  # incremental: a no-op when the index is current
    assert report.ok, report.failed
    service = QAService(settings)
    gold = load_gold()

    with tempfile.TemporaryDirectory() as tmp:
        index, _, _ = build_naive_index(Path(settings.index.paths[0]), Path(tmp))
        retriever = index.as_retriever(similarity_top_k=2)
        service.ask("warm up")
        retriever.retrieve("warm up")
        rows, ours_ms, naive_ms = [], [], []
        # Interleave the two per question so drift in machine load hits both alike.
        for question in gold:
            answer, times = timed(lambda: service.ask(question.question), args.rounds)
            ours_ms += times
            nodes, times = timed(lambda: retriever.retrieve(question.question), args.rounds)
            naive_ms += times
            naive_pages = [(n.node.metadata["file"], n.node.metadata["page"]) for n in nodes]
            rows.append({
                "id": question.id, "kind": question.kind, "answerable": question.answerable,
                "ours_first": first_citation_on_expected_page(question, answer),
                "ours_any": any_citation_on_expected_page(question, answer),
                "ours_abstained": answer.abstained, "evidence": answer.evidence,
                "naive_first": bool(naive_pages) and question.expects(*naive_pages[0]),
                "naive_any": any(question.expects(f, p) for f, p in naive_pages),
            })

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def share(key: str, subset: list[dict]) -> float:
        return sum(r[key] for r in subset) / max(1, len(subset))

    by_kind = {}
    for kind in sorted({r["kind"] for r in answerable}):
        subset = [r for r in answerable if r["kind"] == kind]
        by_kind[kind] = {"n": len(subset), "ours_first": share("ours_first", subset), "naive_first": share("naive_first", subset)}
    summary = {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "ours_first_on_expected_page": share("ours_first", answerable),
        "ours_any_on_expected_page": share("ours_any", answerable),
        "ours_answered_when_answerable": 1 - share("ours_abstained", answerable),
        "ours_abstained_when_unanswerable": share("ours_abstained", unanswerable),
        "naive_first_on_expected_page": share("naive_first", answerable),
        "naive_either_of_top2_on_expected_page": share("naive_any", answerable),
        "ours_p50_ms": statistics.median(ours_ms), "ours_p95_ms": percentile(ours_ms, 0.95),
        "naive_p50_ms": statistics.median(naive_ms), "naive_p95_ms": percentile(naive_ms, 0.95),
        "rounds": args.rounds, "by_kind": by_kind,
    }
    summary["p50_ratio"] = summary["ours_p50_ms"] / summary["naive_p50_ms"]
    summary["targets"] = {
        "p50 within 2x of the naive retriever": summary["p50_ratio"] <= 2.0,
        "right page far more often than naive": summary["ours_first_on_expected_page"] >= summary["naive_first_on_expected_page"] + 0.2,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "answers.json").write_text(json.dumps({"summary": summary, "questions": rows}, indent=2))
    s = summary
    lines = [
        f"# Answers on the gold questions ({s['answerable']} answerable, {s['unanswerable']} the papers don't answer)", "",
        "Command: `python bench/answer_bench.py`", "",
        "| | ours (`qa ask`) | naive llama-index retriever, top-k 2 |", "|---|---|---|",
        f"| first citation on an expected page | {s['ours_first_on_expected_page']:.0%} | {s['naive_first_on_expected_page']:.0%} |",
        f"| any citation on an expected page | {s['ours_any_on_expected_page']:.0%} | {s['naive_either_of_top2_on_expected_page']:.0%} |",
        f"| answered, when the papers answer it | {s['ours_answered_when_answerable']:.0%} | (never abstains) |",
        f"| abstained, when the papers don't | {s['ours_abstained_when_unanswerable']:.0%} | 0% |",
        f"| warm latency p50 | {s['ours_p50_ms']:.1f} ms | {s['naive_p50_ms']:.1f} ms |",
        f"| warm latency p95 | {s['ours_p95_ms']:.1f} ms | {s['naive_p95_ms']:.1f} ms |", "",
        "First citation on an expected page, by kind of question:", "",
        "| kind | n | ours | naive |", "|---|---|---|---|",
        *[f"| {k} | {v['n']} | {v['ours_first']:.0%} | {v['naive_first']:.0%} |" for k, v in by_kind.items()], "",
        f"ours / naive p50: {s['p50_ratio']:.2f}x ({s['rounds']} rounds of every question)", "",
        *[f"- {name}: {'met' if ok else 'MISSED'}" for name, ok in s["targets"].items()],
    ]
    (RESULTS / "answers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
