"""Whether the default embedding (OpenVINO, passages in bfloat16) keeps the evaluation's figures: the sample indexed
afresh three ways, each in a data directory of its own (no embedding cache shared), and evaluated.

    python bench/precision_bench.py    # writes bench/results/precision.md and precision.json (about 5 minutes)

The reference is sentence-transformers' own float32 (`embedding.backend = "torch"`). Each other way is compared with
it figure by figure (every number of the report's systems and decisions sections, timings left out), and by how
many answers and page rankings differ.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QA = str(Path(sys.executable).with_name("qa"))
WAYS = [("torch", "float32"), ("openvino", "bfloat16"), ("openvino", "float32")]
TIMINGS = ("latency", "_ms", "seconds")  # in a figure's own name: how long, not how well


def figures(report: dict) -> dict[str, float]:
    """The report's figures by path, e.g. "systems/ours/dev/hit@5" (timings left out)."""
    out: dict[str, float] = {}

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}/{key}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if any(t in path.rsplit("/", 1)[-1] for t in TIMINGS):  # a timing, not a figure
                return
            out[path] = float(value)

    walk(report.get("systems", {}), "systems")
    walk(report.get("decisions", {}), "decisions")
    return out


def evaluate(backend: str, precision: str, work: Path) -> dict:
    folder = work / f"{backend}-{precision}"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "QA_DATA_DIR": str(folder / "data"),
        "QA_EMBEDDING__BACKEND": backend,
        "QA_EMBEDDING__PRECISION": precision,
        "QA_EVAL__REPORT_DIR": str(folder / "reports"),
    }
    subprocess.run([QA, "eval", "--no-naive"], cwd=ROOT, env=env, check=True, capture_output=True)
    return json.loads(next((folder / "reports").glob("report-*.json")).read_text())


def main() -> None:
    from load_bench import code_state

    with tempfile.TemporaryDirectory() as tmp:
        reports = {way: evaluate(*way, Path(tmp)) for way in WAYS}
    reference = reports[WAYS[0]]
    base = figures(reference)
    answers = {r["id"]: (r["answer"], r["ranked_pages"]) for r in reference["results"]["ours"]}
    rows = []
    for way in WAYS[1:]:
        theirs = figures(reports[way])
        moved = sorted(k for k in base if theirs.get(k) != base[k])
        results = {r["id"]: (r["answer"], r["ranked_pages"]) for r in reports[way]["results"]["ours"]}
        rows.append(
            {
                "backend": way[0],
                "precision": way[1],
                "figures": len(base),
                "figures_identical": len(base) - len(moved),
                "moved": moved,
                "answers_differing": sum(answers[q][0] != results[q][0] for q in answers),
                "rankings_differing": sum(answers[q][1] != results[q][1] for q in answers),
            }
        )
    result = {
        "command": "python bench/precision_bench.py",
        "code": code_state(),
        "reference": "torch float32",
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "precision.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Eval figures by embedding backend and precision",
        "",
        f"Command: `{result['command']}` (at {result['code']}); each way indexed afresh in its own data directory, "
        'compared with sentence-transformers\' float32 (`embedding.backend = "torch"`).',
        "",
        "| backend | precision | figures identical | answers differing | page rankings differing |",
        "|---|---|---|---|---|",
        *(
            f"| {r['backend']} | {r['precision']} | {r['figures_identical']} of {r['figures']} | "
            f"{r['answers_differing']} | {r['rankings_differing']} |"
            for r in rows
        ),
        "",
        *(f"- {r['backend']} {r['precision']} moved: {', '.join(r['moved'])}" for r in rows if r["moved"]),
    ]
    (RESULTS / "precision.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
