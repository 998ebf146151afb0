"""The dense search of one question, three ways, on a published index: Chroma with the plan's filter (`where`),
Chroma without one (what qa.retrieve asks, DENSE_OVERFETCH x the candidates), and exact over the allowed vectors.

    python bench/dense_query_bench.py DATA_DIR    # e.g. the 64x data dir bench/growth_bench.py leaves in its --work

Writes bench/results/dense-query.md. The vectors asked for are 20 of the index's own passages' vectors with a
little noise (seeded), so every query has near neighbours as a question does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    from core.settings import load_settings
    from indexer.stores import open_snapshot
    from qa.retrieve import DENSE_OVERFETCH, top_order

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings(ROOT / "config.toml")
    settings.index.data_dir = args.data_dir
    snapshot = open_snapshot(settings)
    assert snapshot is not None, f"nothing is indexed in {args.data_dir}"
    wanted = settings.retrieval.candidates
    rng = np.random.default_rng(16)
    rows = rng.choice(len(snapshot.vectors), args.queries, replace=False)
    queries = snapshot.vectors[rows] + rng.normal(0, 0.02, (args.queries, snapshot.vectors.shape[1])).astype("f")
    searchable = np.array([not p.boilerplate for p in snapshot.passages.values()])

    def timed(search) -> float:
        search(queries[0])
        started = time.perf_counter()
        for query in queries:
            search(query)
        return (time.perf_counter() - started) / len(queries) * 1000

    ways = {
        f"Chroma, filtered (`where` boilerplate false), {wanted}": lambda q: snapshot.nearest(
            q, wanted, {"boilerplate": False}
        ),
        f"Chroma, unfiltered, {DENSE_OVERFETCH * wanted} (qa.retrieve)": lambda q: snapshot.nearest(
            q, DENSE_OVERFETCH * wanted, None
        ),
        f"exact over the allowed vectors (numpy), {wanted}": lambda q: top_order(
            np.where(searchable, snapshot.vectors @ q, -2.0), wanted
        ),
    }
    lines = [
        "# One question's dense search, three ways",
        "",
        f"Command: `python bench/dense_query_bench.py {args.data_dir}`; {len(snapshot.passages):,} passages, "
        f"mean of {args.queries} queries.",
        "",
        "| search | ms a question |",
        "|---|---|",
    ]
    for name, search in ways.items():
        lines.append(f"| {name} | {timed(search):.1f} |")
        print(lines[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dense-query.md").write_text("\n".join(lines) + "\n")
    snapshot.close()


if __name__ == "__main__":
    main()
