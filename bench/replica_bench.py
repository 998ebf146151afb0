"""Two `qa serve` replicas on one Chroma server under 16 clients, beside one embedded-mode server: errors, latency,
and whether every answer is the same as embedded mode's.

    python bench/replica_bench.py [--seconds 60] [--work /tmp/qa-replicas]    # writes bench/results/replicas.{md,json}

The sample corpus is indexed twice, into a data directory in server mode (a `chroma run` of its own) and one in
embedded mode. Both replicas are started on the server-mode data directory, as the README's deployment runs them
(one data directory, one Chroma server). 16 clients, 8 on each replica, ask the gold questions for `--seconds`; then
every gold question is asked once of each replica and of the embedded server and the answers compared (answer text,
abstention, and each citation's quote, page, printed page and section).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from chroma_server import ChromaServer, free_port  # noqa: E402
from http_bench import load, start  # noqa: E402
from load_bench import code_state  # noqa: E402

QA = str(Path(sys.executable).with_name("qa"))


def shape(answer: dict) -> list:
    quotes = [[c["quote"], c["page"], c["page_label"], c["section"]] for c in answer["citations"]]
    return [answer["answer"], answer["abstained"], quotes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-replicas"))
    args = parser.parse_args()

    from core.settings import load_settings
    from eval.gold import load_gold
    from eval.naive import corpus_dir

    settings = load_settings(ROOT / "config.toml")
    questions = [g.question for g in load_gold(settings.eval.gold_file)]
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    base = {**os.environ, "QA_API__REQUESTS_PER_MINUTE": "0", "QA_API__KEYS": "{}", "MALLOC_ARENA_MAX": "2"}
    # The sample would be searched exactly (retrieval.exact_search_up_to): through Chroma, as a large archive is, the
    # replicas ask the server they share.
    base["QA_RETRIEVAL__EXACT_SEARCH_UP_TO"] = "0"
    chroma = ChromaServer(args.work / "chroma").start()
    server_env = {
        **base,
        "QA_DATA_DIR": str(args.work / "server-data"),
        "QA_STORE__MODE": "server",
        "QA_STORE__HOST": chroma.host,
        "QA_STORE__PORT": str(chroma.port),
    }
    embedded_env = {**base, "QA_DATA_DIR": str(args.work / "embedded-data"), "QA_STORE__MODE": "embedded"}
    corpus = str(corpus_dir(settings))
    servers: list[subprocess.Popen] = []
    try:
        for env in (embedded_env, server_env):
            subprocess.run([QA, "index", corpus], cwd=ROOT, env=env, check=True, capture_output=True)
        urls = []
        for env in (server_env, server_env, embedded_env):
            port = free_port()
            servers.append(start([QA, "serve", "--host", "127.0.0.1", "--port", str(port)], port, env))
            urls.append(f"http://127.0.0.1:{port}")
        replicas = urls[:2]  # urls[2] is the embedded-mode server, compared below
        runs: dict[str, dict] = {}

        def run(url: str) -> None:
            runs[url] = load(url, questions, 8, args.seconds)

        threads = [threading.Thread(target=run, args=(url,)) for url in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        different = []
        with httpx.Client(timeout=120) as http:
            for question in questions:
                answers = [shape(http.post(f"{url}/ask", json={"question": question}).json()) for url in urls]
                if not answers[0] == answers[1] == answers[2]:
                    different.append(question)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=60)
        chroma.stop()
    requests = sum(r["requests"] for r in runs.values())
    errors = sum(r["errors"] for r in runs.values())
    result = {
        "command": "python bench/replica_bench.py " + " ".join(sys.argv[1:]),
        "code": code_state(),
        "seconds": args.seconds,
        "clients": 16,
        "requests": requests,
        "errors": errors,
        "replicas": [runs[url] for url in replicas],
        "questions_compared": len(questions),
        "answers_different_from_embedded": different,
        "targets": {
            "two replicas: 0 errors under 16 clients": errors == 0,
            "answers identical to embedded mode": not different,
        },
    }
    lines = [
        "# Two replicas on one Chroma server",
        "",
        f"Command: `{result['command']}` (at {result['code']})",
        "",
        "| replica | requests | answers/s | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for n, run_ in enumerate(result["replicas"], 1):
        lines.append(
            f"| {n} | {run_['requests']} | {run_['requests_per_s']:.1f} | {run_['p50_ms']:.0f} | "
            f"{run_['p95_ms']:.0f} | {run_['errors']} |"
        )
    lines += [
        "",
        f"Every gold question ({len(questions)}) asked once of each replica and of an embedded-mode server: "
        f"{len(questions) - len(different)} the same, {len(different)} different.",
        "",
        "## Targets",
        "",
        *[f"- {name}: {'met' if ok else 'MISSED'}" for name, ok in result["targets"].items()],
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replicas.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "replicas.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
