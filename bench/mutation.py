"""Mutation check (mutmut) over the code that decides pages and labels, dates, filters, access and abstention.

    python bench/mutation.py [--max-children N]       # mutate, run the tests, write bench/results/mutation.{json,md}
    python bench/mutation.py --score-only             # only score what an earlier run left in mutants/

mutmut copies the project into mutants/, plants one small bug at a time (a flipped comparison, a changed
constant, a dropped argument) in each function named below, and runs the tests that cover that function
([tool.mutmut] in pyproject.toml: the fast lane, without its slow tests). A mutant the tests fail on is
killed; one they pass with survived: a bug they would let through.

`--layout before` scores a checkout of the code before the restructuring (commit 8a6b422), whose functions had
other names, so the two scores cover the same code; see README "Mutation check". Its tests all load the real
model, so each mutant costs half a minute there: `--sample N` tests a random sample of N mutants (seeded) and
reports the score with its 95% interval.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Concern -> mutant-name patterns (mutmut names a function's mutants <module>.x_<name>__mutmut_<n>, a method's
# <module>.xǁ<Class>ǁ<name>__mutmut_<n>).
CONCERNS = {
    "current": {
        "pages and printed labels": [
            "indexer.read.x__finish_pages__*",
            "indexer.read.x__running_lines__*",
            "indexer.read.x__normal__*",
            "indexer.read.x__pdf_lines__*",
            "qa.citations.x_quote_bounds__*",
            "qa.citations.xǁCitationBuilderǁcite__*",
            "qa.citations.x_page_url__*",
            "core.records.xǁPassageǁpage_*",
        ],
        "dates in questions": [
            "qa.query.x__read_dates__*",
            "qa.query.x__date__*",
            "qa.plan.x_period_span__*",
            "qa.plan.xǁPlannerǁmeetings_named__*",
            "qa.plan.xǁPlannerǁ_limits__*",
        ],
        "filters": [
            "qa.plan.x_passes__*",
            "qa.plan.x_permitted__*",
            "qa.plan.x_chroma_where__*",
            "qa.plan.x__day__*",
            "qa.plan.xǁPlannerǁplan__*",
            "qa.retrieve.xǁRetrieverǁdense_candidates__*",
        ],
        "access": ["api.access.*"],
        "abstention": ["qa.answer.xǁExtractiveAnswererǁabstains__*"],
    },
    "before": {
        "pages and printed labels": [
            "indexer.read.x__finish_pages__*",
            "indexer.read.x__running_lines__*",
            "indexer.read.x__normal__*",
            "indexer.read.x__pdf_lines__*",
            "qa.citations.x_cite__*",
            "qa.citations.x_page_url__*",
            "qa.models.xǁPassageǁpage_*",
        ],
        "dates in questions": [
            "qa.query.x__read_dates__*",
            "qa.query.x__date__*",
            "qa.retrieve.x_period_span__*",
            "qa.retrieve.xǁRetrieverǁmeetings_named__*",
            "qa.retrieve.xǁRetrieverǁ_question_dates__*",
        ],
        "filters": [
            "qa.retrieve.x__passes__*",
            "qa.retrieve.x__chroma_where__*",
            "qa.retrieve.x__day__*",
            "qa.retrieve.xǁRetrieverǁ_allowed__*",
            "qa.retrieve.xǁRetrieverǁ_dense__*",
        ],
        "access": ["api.access.*"],
        "abstention": ["qa.answer.xǁExtractiveAnswererǁabstains__*"],
    },
}


def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(glob).replace(r"\*", ".*") + "$")


def score(project: Path, concerns: dict[str, list[str]], only: set[str] | None = None) -> dict:
    """Killed / tested mutants per concern, from the results mutmut keeps in mutants/**/*.meta (only those in
    `only`, when given: a sample). A mutant that makes the tests hang (a timeout) counts as killed."""
    from mutmut.stats import status_by_exit_code

    results: dict[str, str] = {}
    for meta in (project / "mutants").rglob("*.meta"):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if only is None or name in only:
                results[name] = status_by_exit_code[code]
    out: dict[str, dict] = {}
    for concern, globs in concerns.items():
        patterns = [_pattern(g) for g in globs]
        mine = {n: s for n, s in results.items() if any(p.match(n) for p in patterns)}
        tested = {n: s for n, s in mine.items() if s in ("killed", "survived", "timeout")}
        killed = sum(s in ("killed", "timeout") for s in tested.values())
        out[concern] = {
            "mutants": len(mine),
            "tested": len(tested),
            "killed": killed,
            "timeouts": sum(s == "timeout" for s in tested.values()),
            "score": killed / len(tested) if tested else None,
            "survived": sorted(n for n, s in tested.items() if s == "survived"),
            "not_tested": sorted(n for n, s in mine.items() if n not in tested),
        }
    tested = sum(c["tested"] for c in out.values())
    killed = sum(c["killed"] for c in out.values())
    return {"concerns": out, "tested": tested, "killed": killed, "score": killed / tested if tested else None}


def wilson(killed: int, tested: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a share killed/tested: for a score measured on a sample of mutants."""
    if not tested:
        return 0.0, 1.0
    p = killed / tested
    centre = (p + z * z / (2 * tested)) / (1 + z * z / tested)
    spread = z * math.sqrt(p * (1 - p) / tested + z * z / (4 * tested * tested)) / (1 + z * z / tested)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def mutant_names(project: Path) -> list[str]:
    """Every mutant mutmut has made in a checkout."""
    return sorted(
        name
        for meta in (project / "mutants").rglob("*.meta")
        for name in json.loads(meta.read_text())["exit_code_by_key"]
    )


def markdown(report: dict) -> str:
    lines = [
        f"# Mutation check, {report['created_at']} ({report['layout']} layout)",
        "",
        "| concern | mutants tested | killed | score |",
        "|---|---|---|---|",
    ]
    for concern, c in report["concerns"].items():
        scored = f"{c['score']:.0%}" if c["score"] is not None else "-"
        lines.append(f"| {concern} | {c['tested']} | {c['killed']} | {scored} |")
    lines.append(f"| **all** | {report['tested']} | {report['killed']} | **{report['score']:.0%}** |")
    if report.get("sample"):
        low, high = report["interval"]
        lines += [
            "",
            f"A random sample of {report['sample']} of {report['population']} mutants (seed {report['seed']}): "
            f"the score's 95% interval is {low:.0%} to {high:.0%}.",
        ]
    lines += ["", "Surviving mutants (bugs the tests would let through; `mutmut show NAME` prints one):", ""]
    lines += [f"- {name}" for c in report["concerns"].values() for name in c["survived"]] or ["- none"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--score-only", action="store_true", help="score an earlier run's results only")
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout to mutate (default: this one)")
    parser.add_argument("--layout", choices=sorted(CONCERNS), default="current")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where to write the report")
    parser.add_argument("--sample", type=int, help="test a random sample of this many mutants, not all")
    parser.add_argument("--seed", type=int, default=10, help="of the sample (default 10)")
    args = parser.parse_args()
    concerns = CONCERNS[args.layout]
    project = args.project.resolve()
    globs = [g for patterns in concerns.values() for g in patterns]
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)]
    sampled: list[str] = []
    population = 0
    if args.sample:
        if not args.score_only:
            # One mutant first: mutmut makes every mutant, and its map of which tests cover what, before testing any.
            subprocess.run([*mutmut, "api.access.x_key_label__mutmut_1"], cwd=project, check=False)
        patterns = [_pattern(g) for g in globs]
        candidates = [n for n in mutant_names(project) if any(p.match(n) for p in patterns)]
        population = len(candidates)
        sampled = sorted(random.Random(args.seed).sample(candidates, min(args.sample, population)))
    if not args.score_only:
        subprocess.run([*mutmut, *(sampled or globs)], cwd=project, check=False)
    report = {
        "created_at": dt.datetime.now().isoformat(timespec="seconds"),
        "layout": args.layout,
        **score(project, concerns, only=set(sampled) if sampled else None),
    }
    if sampled:
        report |= {
            "sample": len(sampled),
            "population": population,
            "seed": args.seed,
            "interval": wilson(report["killed"], report["tested"]),
        }
    name = "mutation" if args.layout == "current" else f"mutation-{args.layout}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=1))
    (args.out / f"{name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
