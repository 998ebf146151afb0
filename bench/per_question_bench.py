"""Per-question work that could grow with the archive, at 1x, 16x and 64x the sample's passages.

    python bench/per_question_bench.py [--scales 1 16 64] [--repeat 5]    # writes bench/results/per-question.md

Over the current index (`qa index` first), the sample's passages are copied under new ids to make larger
archives in memory, and two steps of every question are timed, each the old way beside the new:

- the ids a question without filters may be answered from: testing every passage (`permitted`) against the
  sets the planner makes once a generation (`Planner.allowed`);
- the order of BM25's scores: sorting all of them (`np.argsort`) against selecting the best 160
  (`qa.retrieve.top_order`, as `lexical_candidates` takes 4 x retrieval.candidates).

A micro-measure of two steps, not of an answer: BM25's scoring itself and Chroma's search are not in it (the
growth benchmark of issue 16 is to time whole answers at each size).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from indexer.stores import open_snapshot  # noqa: E402
from qa.plan import permitted  # noqa: E402
from qa.retrieve import top_order  # noqa: E402


def timed_ms(work, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    snapshot = open_snapshot(load_settings(ROOT / "config.toml"))
    if snapshot is None:
        sys.exit("nothing indexed: run `qa index` first")
    sample = list(snapshot.passages.values())
    rows = []
    for scale in args.scales:
        passages = {f"{p.id}-{copy}": p for copy in range(scale) for p in sample}
        searchable = frozenset(pid for pid, p in passages.items() if not p.boilerplate)  # made once a generation
        scores = np.random.default_rng(scale).exponential(1.0, len(passages))

        def scan(passages=passages):
            return frozenset(pid for pid, p in passages.items() if permitted(p, None, None, frozenset()))

        def indexed(searchable=searchable):
            return searchable

        def full_sort(scores=scores):
            return np.argsort(-scores)

        def selection(scores=scores):
            return top_order(scores, 160)

        rows.append((scale, len(passages), *(timed_ms(w, args.repeat) for w in (scan, indexed, full_sort, selection))))
    lines = [
        "# Per-question steps that could grow with the archive",
        "",
        f"Command: `python bench/per_question_bench.py --scales {' '.join(map(str, args.scales))}`; mean of "
        f"{args.repeat} runs each, on this machine as it was.",
        "",
        "| scale | passages | allowed ids: test every passage | allowed ids: planner's sets | BM25 order: sort all |"
        " BM25 order: `top_order` (160) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {s}x | {n:,} | {a:.1f} ms | {b:.3f} ms | {c:.1f} ms | {d:.1f} ms |" for s, n, a, b, c, d in rows]
    out = ROOT / "bench" / "results" / "per-question.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
