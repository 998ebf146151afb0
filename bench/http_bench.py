"""POST /ask over HTTP with 1, 4 and 16 concurrent clients, ours (`qa serve`) beside the naive llama-index pipeline.

    python bench/http_bench.py [--seconds 30] [--clients 1 4 16]    # writes bench/results/http.{json,md}

Each server runs in its own process on a loopback port, the sample corpus indexed, warmed up first. Every
client loops over the gold questions (each from its own offset) for the given time. The server's resident
memory (with any children) is sampled every 0.1 s. The per-key rate limit is switched off for the run:
all clients come from one address.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
TARGET_PEAK_MIB = 1536


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MemorySampler:
    """Peak resident memory of a process and its children, sampled in a background thread."""

    def __init__(self, pid: int, every_s: float = 0.1):
        self.process = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rss(self) -> int:
        try:
            return sum(p.memory_info().rss for p in [self.process, *self.process.children(recursive=True)])
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.every_s)

    def reset(self) -> None:
        self.peak = self.rss()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def start(command: list[str], port: int, env: dict, timeout_s: float = 600) -> subprocess.Popen:
    # The server's log goes to a file: a pipe nobody reads would fill and stall it under load.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - it lives as long as the server, closed when the file object goes
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{command} exited: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"{command} was not ready within {timeout_s} s")


def load(url: str, questions: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads posting questions for `seconds`; latencies of the 200s, and every other outcome as an error."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        with httpx.Client(timeout=60) as http:
            for question in itertools.islice(itertools.cycle(questions), offset, None):
                if time.monotonic() >= stop_at:
                    return
                started = time.perf_counter()
                try:
                    response = http.post(url + "/ask", json={"question": question})
                    outcome = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    (errors.append(outcome) if outcome else latencies.append(elapsed))

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i * len(questions) // clients,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")

    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(latencies) + len(errors),
        "requests_per_s": len(latencies) / wall,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def bench(
    name: str, command: list[str], env: dict, port: int, questions: list[str], clients: list[int], seconds: float
) -> dict:
    server = start(command, port, env)
    sampler = MemorySampler(server.pid)
    try:
        started_mib = sampler.rss() / 2**20
        startup_peak = sampler.peak
        runs = []
        for n in clients:
            sampler.reset()
            run = load(f"http://127.0.0.1:{port}", questions, n, seconds)
            run["server_peak_mib"] = sampler.peak / 2**20
            runs.append(run)
            print(
                f"{name}: {n} clients: {run['requests_per_s']:.1f} req/s, p50 {run['p50_ms']:.0f} ms, "
                f"p95 {run['p95_ms']:.0f} ms, errors {run['errors']}, peak {run['server_peak_mib']:.0f} MiB",
                flush=True,
            )
        return {
            "ready_rss_mib": started_mib,
            "startup_peak_mib": startup_peak / 2**20,
            "peak_under_load_mib": max(r["server_peak_mib"] for r in runs),
            "runs": runs,
        }
    finally:
        sampler.stop()
        server.terminate()
        server.wait(timeout=60)


def markdown(summary: dict) -> str:
    ours, naive = summary["ours"], summary["naive"]
    lines = [
        f"# POST /ask over HTTP, {summary['seconds']:g} s per client count",
        "",
        "Command: `python bench/http_bench.py`",
        "",
        f"Machine: {os.cpu_count()} cores; the clients run on the same machine as the server.",
        "",
        "| clients | ours req/s | ours p50 | ours p95 | ours errors "
        "| naive req/s | naive p50 | naive p95 | naive errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o, n in zip(ours["runs"], naive["runs"], strict=True):
        lines.append(
            f"| {o['clients']} | {o['requests_per_s']:.1f} | {o['p50_ms']:.0f} ms | {o['p95_ms']:.0f} ms "
            f"| {o['errors']} "
            f"| {n['requests_per_s']:.1f} | {n['p50_ms']:.0f} ms | {n['p95_ms']:.0f} ms | {n['errors']} |"
        )
    lines += [
        "",
        "| server memory (RSS, MiB) | ours | naive |",
        "|---|---|---|",
        f"| ready, warmed up | {ours['ready_rss_mib']:.0f} | {naive['ready_rss_mib']:.0f} |",
        f"| peak under load | {ours['peak_under_load_mib']:.0f} | {naive['peak_under_load_mib']:.0f} |",
        "",
        "The naive server answers with its retriever's top 2 chunks (no quotes, no pages checked, no abstention);",
        "ours returns the full contract response.",
        "",
        *[f"- {k}: {'met' if ok else 'MISSED'}" for k, ok in summary["targets"].items()],
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    from core.settings import load_settings
    from eval.gold import load_gold

    settings = load_settings(ROOT / "config.toml")
    questions = [g.question for g in load_gold(settings.eval.gold_file)]
    env = {**os.environ, "QA_API__REQUESTS_PER_MINUTE": "0", "QA_API__KEYS": "{}"}
    subprocess.run([sys.executable, "-m", "cli", "index"], cwd=ROOT, env=env, check=True)  # incremental
    port = free_port()
    ours = bench(
        "ours",
        [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
        questions,
        args.clients,
        args.seconds,
    )
    port = free_port()
    naive = bench(
        "naive",
        [sys.executable, str(ROOT / "bench" / "naive_server.py"), "--port", str(port)],
        env,
        port,
        questions,
        args.clients,
        args.seconds,
    )
    summary = {"seconds": args.seconds, "questions": len(questions), "ours": ours, "naive": naive}
    summary["targets"] = {
        "no errors at any concurrency": all(r["errors"] == 0 for r in ours["runs"]),
        f"server peak memory under {TARGET_PEAK_MIB / 1024:g} GiB": ours["peak_under_load_mib"] < TARGET_PEAK_MIB,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "http.json").write_text(json.dumps(summary, indent=2))
    (RESULTS / "http.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
