"""Mixed load on `qa serve`: 16 clients asking while an editor uploads, indexes and deletes a paper in a loop.

    python bench/load_bench.py [--seconds 60] [--control]    # writes bench/results/load.{json,md}
    python bench/load_bench.py --soak 4 [--control]           # writes bench/results/load-soak.{json,md}

Our server runs on a loopback port over a temporary data directory indexed from the sample corpus (embeddings
the project's own data directory already holds for the current pipeline are copied in, so only stale ones are
computed again), with the rate limit off and the API keys in KEYS. Each asking client loops over the gold
questions from its own offset, the clients taking the keys in turn (reader, member, editor). One more client
uploads a copy of a sample pack under a new name (POST /documents, editor key), polls its job until it is done,
deletes the document, polls that job, and uploads it again, until the time is up (the cycle under way is
finished, so nothing is left half-indexed). The server's resident memory, threads and open files (with any
children's) are sampled every second; a soak reports the memory per minute and whether it is flat over the last
three minutes. The same asking load, without the uploader (it has no upload route), then runs against
bench/naive_server.py; with --control, also against ours without the uploader, to tell the uploads' cost.

An exact copy of a pack is refused by the indexer as a duplicate of the indexed original (the job fails), so
the copy gets a PDF comment after its end-of-file marker: same pages, other bytes. Uploaded again after its
deletion it keeps those bytes, so its passages and embeddings are reused from the first upload and each later
cycle costs a read of the PDF and two publications of the index; `--fresh-uploads` makes every upload new bytes,
read and embedded from scratch.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import RESULTS, ROOT, MemorySampler, free_port, start

# The server's API keys and their roles. The asking clients take the keys in turn (a reader answered from public
# papers only, a member from restricted ones too, an editor), each key with its own row in the report.
KEYS = {"reader-key": "reader", "member-key": "member", "editor-key": "editor"}
UPLOADER_KEY = "editor-key"  # uploads and deletes need an editor
FLAT_GROWTH = 0.05  # RSS is flat when it grows less than this over the last three whole minutes
POLL_S = 0.5  # how often the uploader asks /jobs/{id}
CYCLE_GRACE_S = 300  # the upload cycle under way at the end may run this much over, to finish and delete
ERROR_SAMPLES = 3  # response bodies (or exception messages) kept per kind of error


def percentile(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else None


class RssTimeline(MemorySampler):
    """MemorySampler keeping every sample too, as (seconds since `restart`, bytes, threads, open files, bytes of the
    server process alone); threads and files are of the process and its children alike. The children (the
    indexing process, the reader it starts per run, multiprocessing's fork server) are summed in, so pages they
    share are counted once per process: the server's own RSS tells its growth from theirs."""

    def __init__(self, pid: int, every_s: float = 1.0):
        self.samples: list[tuple[float, int, int, int, int]] = []
        self.t0 = time.monotonic()
        super().__init__(pid, every_s)

    def handles(self) -> tuple[int, int]:
        try:
            processes = [self.process, *self.process.children(recursive=True)]
            return sum(p.num_threads() for p in processes), sum(p.num_fds() for p in processes)
        except psutil.Error:
            return 0, 0

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.rss()
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic() - self.t0, rss, *self.handles(), self.own_rss()))
            self._stop.wait(self.every_s)

    def own_rss(self) -> int:
        try:
            return int(self.process.memory_info().rss)
        except psutil.Error:
            return 0

    def restart(self) -> None:
        self.t0, self.samples, self.peak = time.monotonic(), [], self.rss()

    def per_minute(self, until_s: float) -> list[dict]:
        """Mean and largest RSS (MiB) of each minute from `restart` to `until_s`; a last part-minute under 30 s is
        left out, being too short to compare."""
        minutes: dict[int, list[tuple[float, int, int, int, int]]] = {}
        for sample in list(self.samples):
            if sample[0] < until_s:
                minutes.setdefault(int(sample[0] // 60), []).append(sample)
        rows = []
        for minute, samples in sorted(minutes.items()):
            if len(samples) < 30 and minute == max(minutes) and minute > 0:
                continue
            rss = [s[1] for s in samples]
            rows.append(
                {
                    "minute": minute + 1,
                    "samples": len(samples),
                    "mean_mib": sum(rss) / len(rss) / 2**20,
                    "max_mib": max(rss) / 2**20,
                    "server_mean_mib": sum(s[4] for s in samples) / len(samples) / 2**20,
                    "threads_at_end": samples[-1][2],
                    "open_files_at_end": samples[-1][3],
                }
            )
        return rows


def flatness(minutes: list[dict], key: str = "mean_mib") -> dict:
    """Whether the mean RSS (`key`: with children, or "server_mean_mib" for the server alone) of the last three
    whole minutes stays within FLAT_GROWTH of the first of them."""
    if len(minutes) < 3:
        return {"flat": None, "why": f"needs 3 whole minutes, has {len(minutes)} (use --soak)"}
    last = [m[key] for m in minutes[-3:]]
    growth = (max(last) - last[0]) / last[0]
    return {
        "flat": growth < FLAT_GROWTH,
        "minutes": [m["minute"] for m in minutes[-3:]],
        "growth": growth,
        "growth_first_to_last_minute": (minutes[-1][key] - minutes[0][key]) / minutes[0][key],
    }


class Tally:
    """Every request's outcome, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()  # "POST /ask 200", "GET /jobs/{id} ReadTimeout", ...
        self.samples: dict[str, list[str]] = {}  # a few bodies or messages per error kind
        self.asks: list[dict] = []  # one per question asked: role, ok, ms, while an indexing job was running

    def record(self, route: str, outcome: int | str, detail: str = "") -> bool:
        """Count an outcome; True for a 2xx."""
        ok = isinstance(outcome, int) and 200 <= outcome < 300
        kind = f"{route} {outcome}"
        with self.lock:
            self.outcomes[kind] += 1
            if not ok and len(self.samples.setdefault(kind, [])) < ERROR_SAMPLES:
                self.samples[kind].append(detail[:300])
        return ok

    def call(self, http: httpx.Client, method: str, url: str, route: str, **kwargs: Any) -> httpx.Response | None:
        """One request, counted under `route`: the response if it is a 2xx, else None."""
        try:
            response = http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.record(route, type(exc).__name__, str(exc))
            return None
        return response if self.record(route, response.status_code, response.text) else None


def asker(
    url: str, key: str, questions: list[str], offset: int, stop_at: float, tally: Tally, indexing: threading.Event
) -> None:
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as http:
        for question in itertools.islice(itertools.cycle(questions), offset, None):
            if time.monotonic() >= stop_at:
                return
            during_job = indexing.is_set()
            started = time.perf_counter()
            ok = tally.call(http, "POST", "/ask", "POST /ask", json={"question": question}) is not None
            elapsed = (time.perf_counter() - started) * 1000
            with tally.lock:
                tally.asks.append(
                    {"role": KEYS[key], "ok": ok, "ms": elapsed, "during_job": during_job, "at": time.monotonic()}
                )


def wait_job(http: httpx.Client, tally: Tally, job_id: str, deadline: float) -> dict | None:
    """Poll a job until it is done or failed; None if the time runs out or it cannot be read."""
    while time.monotonic() < deadline:
        response = tally.call(http, "GET", f"/jobs/{job_id}", "GET /jobs/{id}")
        if response is None:
            return None
        job = response.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(POLL_S)
    tally.record("GET /jobs/{id}", "job still unfinished at the deadline", job_id)
    return None


def uploader(
    url: str,
    upload: tuple[str, bytes, bool],
    stop_at: float,
    tally: Tally,
    indexing: threading.Event,
    stats: dict[str, Any],
) -> None:
    """Upload, wait, delete, wait, again, until `stop_at`, counting in `stats`; the cycle under way then finishes
    (CYCLE_GRACE_S). A response not as expected stops it, counted as an error of the route "uploader"."""
    try:
        _upload_cycles(url, *upload, stop_at, tally, indexing, stats)
    except Exception as exc:
        tally.record("uploader", type(exc).__name__, repr(exc))


def _upload_cycles(
    url: str,
    name: str,
    pdf: bytes,
    fresh: bool,
    stop_at: float,
    tally: Tally,
    indexing: threading.Event,
    stats: dict[str, Any],
) -> None:
    deadline = stop_at + CYCLE_GRACE_S
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {UPLOADER_KEY}"}) as http:
        while time.monotonic() < stop_at:
            data = pdf + f"% load-bench upload {stats['uploads']}\n".encode() if fresh else pdf
            stats["uploads"] += 1
            started = time.monotonic()
            indexing.set()
            try:
                response = tally.call(
                    http, "POST", "/documents", "POST /documents", files={"file": (name, data, "application/pdf")}
                )
                job = wait_job(http, tally, response.json()["id"], deadline) if response else None
            finally:
                indexing.clear()
            if job is None:
                time.sleep(1)
                continue
            if job["status"] == "failed":
                stats["failed_jobs"].append({"action": "add", "error": job["error"]})
                continue
            stats["added"] += 1
            stats["add_s"].append(time.monotonic() - started)
            started = time.monotonic()
            indexing.set()
            try:
                response = tally.call(http, "DELETE", f"/documents/{job['document_id']}", "DELETE /documents/{id}")
                job = wait_job(http, tally, response.json()["id"], deadline) if response else None
            finally:
                indexing.clear()
            if job is None:
                break  # the document may still be indexed: uploading it again would only be refused
            if job["status"] == "failed":
                stats["failed_jobs"].append({"action": "remove", "error": job["error"]})
                break
            stats["removed"] += 1
            stats["remove_s"].append(time.monotonic() - started)


def run_load(
    url: str,
    questions: list[str],
    clients: int,
    seconds: float,
    timeline: RssTimeline,
    upload: tuple[str, bytes, bool] | None,
) -> dict:
    """The asking clients (and the uploader, if `upload` names a file) for `seconds`; the outcomes."""
    tally, indexing = Tally(), threading.Event()
    keys = list(KEYS)
    stop_at = time.monotonic() + seconds
    timeline.restart()
    threads = [
        threading.Thread(
            target=asker,
            args=(url, keys[i % len(keys)], questions, i * len(questions) // clients, stop_at, tally, indexing),
        )
        for i in range(clients)
    ]
    uploads: dict[str, Any] = {"uploads": 0, "added": 0, "removed": 0, "failed_jobs": [], "add_s": [], "remove_s": []}
    if upload:
        threads.append(threading.Thread(target=uploader, args=(url, upload, stop_at, tally, indexing, uploads)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    return summarise(tally, wall, seconds, timeline, uploads if upload else None)


def latency(asks: list[dict]) -> dict:
    ok = [a["ms"] for a in asks if a["ok"]]
    return {
        "requests": len(asks),
        "errors": sum(not a["ok"] for a in asks),
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
    }


def summarise(tally: Tally, wall: float, seconds: float, timeline: RssTimeline, uploads: dict | None) -> dict:
    asks = tally.asks
    errors = {kind: n for kind, n in sorted(tally.outcomes.items()) if not re.search(r" 2\d\d$", kind)}
    minutes = timeline.per_minute(seconds)  # the asking load's minutes, not the last upload cycle's tail
    for m in minutes:  # the questions answered in each minute beside its memory
        done = [a for a in asks if int((a["at"] - timeline.t0) // 60) + 1 == m["minute"]]
        m["answered_per_s"] = sum(a["ok"] for a in done) / min(60, seconds - 60 * (m["minute"] - 1))
        m["p95_ms"] = percentile([a["ms"] for a in done if a["ok"]], 95)
    samples = list(timeline.samples)
    rss = [s[1] for s in samples]
    result: dict[str, Any] = {
        "wall_s": wall,
        "asks": {
            **latency(asks),
            "per_s": sum(a["ok"] for a in asks) / seconds,
            "by_role": {role: latency([a for a in asks if a["role"] == role]) for role in dict.fromkeys(KEYS.values())},
        },
        "requests": sum(tally.outcomes.values()),
        "outcomes": dict(sorted(tally.outcomes.items())),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "error_samples": tally.samples,
        "rss": {
            "mean_mib": sum(rss) / len(rss) / 2**20 if rss else None,
            "peak_mib": timeline.peak / 2**20,
            "last_mib": rss[-1] / 2**20 if rss else None,
            "per_minute": minutes,
            "flatness": flatness(minutes),
            "server_flatness": flatness(minutes, "server_mean_mib"),
            "threads_first_last": [samples[0][2], samples[-1][2]] if samples else None,
            "open_files_first_last": [samples[0][3], samples[-1][3]] if samples else None,
            "samples": [
                (round(t, 1), round(r / 2**20, 1), threads, files, round(own / 2**20, 1))
                for t, r, threads, files, own in samples
            ],
        },
    }
    if uploads is not None:
        result["asks"]["during_indexing_job"] = latency([a for a in asks if a["during_job"]])
        result["asks"]["no_indexing_job"] = latency([a for a in asks if not a["during_job"]])
        result["uploads"] = {
            **{k: v for k, v in uploads.items() if not k.endswith("_s")},
            "add_s_median": percentile(uploads["add_s"], 50),
            "remove_s_median": percentile(uploads["remove_s"], 50),
            "add_s": [round(s, 1) for s in uploads["add_s"]],
            "remove_s": [round(s, 1) for s in uploads["remove_s"]],
        }
    return result


def logged(command: list[str], log: Path) -> list[str]:
    """`command` with its output appended to `log` (http_bench.start's own log file is not kept); `exec`, so the
    server's pid is the one `start` returns, for the memory sampler and terminate()."""
    return ["sh", "-c", f'exec "$@" >>{shlex.quote(str(log))} 2>&1', "sh", *command]


def log_problems(log: Path, limit: int = 12) -> dict:
    """What a server's log says besides uvicorn's INFO lines (the service's own warnings and errors, printed bare
    as no handler is configured), counted by message with numbers, ids and times blanked; a traceback counts once,
    by its exception line."""
    counts: Counter[str] = Counter()
    text = log.read_text(errors="replace") if log.exists() else ""
    in_traceback = False
    for line in text.splitlines():
        if not line.strip() or line.startswith(("INFO:", "Serving at", "During handling", "The above exception")):
            continue
        if re.search(r"\d+%\|.*\]$", line):  # a progress bar (the naive server loading its model)
            continue
        if line.startswith("Traceback"):
            in_traceback = True
            continue
        if in_traceback and line[0].isspace():
            continue
        message = re.sub(r"\b[0-9a-f]{12,}\b|\bg\d{8}T\d+\b|\d+(\.\d+)?", "N", line.strip())[:240]
        counts[("traceback: " if in_traceback else "") + message] += 1
        in_traceback = False
    return {"lines": sum(counts.values()), "top": dict(counts.most_common(limit)), "log_bytes": len(text)}


def bench(
    name: str,
    command: list[str],
    env: dict,
    port: int,
    questions: list[str],
    clients: int,
    seconds: float,
    upload: tuple[str, bytes, bool] | None,
    log: Path,
) -> dict:
    server = start(logged(command, log), port, env)
    timeline = RssTimeline(server.pid)
    try:
        ready_mib = timeline.rss() / 2**20
        result = run_load(f"http://127.0.0.1:{port}", questions, clients, seconds, timeline, upload)
    finally:
        timeline.stop()
        server.terminate()
        server.wait(timeout=60)
    result["ready_rss_mib"] = ready_mib
    result["server_log"] = log_problems(log)
    a = result["asks"]
    print(
        f"{name}: {a['requests']} asks ({a['per_s']:.1f}/s answered), p50 {fmt(a['p50_ms'], ' ms')}, "
        f"p95 {fmt(a['p95_ms'], ' ms')}, errors {result['errors']} {result['errors_by_kind'] or ''}, "
        f"RSS peak {result['rss']['peak_mib']:.0f} MiB"
        + (f", upload jobs done {result['uploads']['added']}" if "uploads" in result else ""),
        flush=True,
    )
    return result


def prepare_data_dir(data_dir: Path, settings: Any, env: dict) -> str:
    """Index the sample corpus into `data_dir`, reusing the project's current embeddings; the summary line."""
    own_docs = settings.data_dir / "docs"
    if own_docs.is_dir() and not (data_dir / "docs").exists():
        # The indexer re-embeds any whose pipeline version or model is not the current one.
        shutil.copytree(own_docs, data_dir / "docs", ignore=shutil.ignore_patterns(".*"))
    shutil.rmtree(data_dir / "uploads", ignore_errors=True)  # a kept --data-dir: uploads left by an interrupted run
    done = subprocess.run(
        [sys.executable, "-m", "cli", "index"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[-1]  # "indexed 5, unchanged 0, ..."


def restricted_paper(corpus: Path) -> str:
    """The paper the bench treats as exempt (members only): the largest PDF, so a reader's answers lose the most."""
    return max(corpus.glob("*.pdf"), key=lambda p: p.stat().st_size).name


def upload_copy(corpus: Path) -> tuple[str, bytes]:
    """The smallest agenda pack under a new name, its bytes made its own (an exact copy is refused as a duplicate)."""
    packs = sorted(corpus.glob("Agenda reports pack*.pdf"), key=lambda p: p.stat().st_size) or sorted(
        corpus.glob("*.pdf"), key=lambda p: p.stat().st_size
    )
    original = packs[0]
    return f"Load test copy of {original.name}", original.read_bytes() + b"\n% load-bench copy\n"


def fmt(value: float | None, unit: str = "", digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def markdown(summary: dict) -> str:
    columns = {"ours": summary["ours"]}
    if summary.get("ours_no_uploads"):
        columns["ours, no uploads"] = summary["ours_no_uploads"]
    columns["naive"] = summary["naive"]
    ours, seconds = summary["ours"], summary["seconds"]
    title = f"soak, {seconds / 60:g} minutes" if summary["soak"] else f"{seconds:g} s"
    uploads = ours["uploads"]

    def row(label: str, cell: Callable[[dict], str]) -> str:
        return f"| {label} | " + " | ".join(cell(r) for r in columns.values()) + " |"

    def only_ours(label: str, text: str) -> str:
        return f"| {label} | {text} |" + " - |" * (len(columns) - 1)

    def errors(result: dict) -> str:
        kinds = ", ".join(f"{k}: {n}" for k, n in result["errors_by_kind"].items())
        return f"{result['errors']}" + (f" ({kinds})" if kinds else "")

    def handles(result: dict, key: str) -> str:
        pair = result["rss"][key]
        return f"{pair[0]} -> {pair[1]}" if pair else "-"

    lines = [
        f"# Mixed load over HTTP: {summary['clients']} asking clients and an uploader, {title}",
        "",
        f"Command: `{summary['command']}`",
        "",
        f"Machine: {os.cpu_count()} cores, shared (other work was running: load average "
        f"{summary['load_average'][0]:.1f} at the start, {summary['load_average_end'][0]:.1f} at the end); the "
        "clients run on the same machine as the server, so the figures are noisy. Code: "
        f"{summary['code']}.",
        "",
        f"{summary['clients']} clients loop over the {summary['questions']} gold questions, each from its own offset, "
        f"taking the keys in turn ({', '.join(dict.fromkeys(KEYS.values()))}). Against ours one more client uploads "
        f"`{summary['upload_file']}` (POST /documents, editor key), polls its job until done, deletes it, polls, "
        "and uploads it again; the naive server has no upload route and gets the asking load only"
        + (", as does the 'ours, no uploads' run." if "ours, no uploads" in columns else ".")
        + " Errors: any non-2xx or exception, on any route. RSS: the server process with its children (and, in"
        " brackets, alone), every second; the servers run with MALLOC_ARENA_MAX="
        + os.environ.get("MALLOC_ARENA_MAX", "2")
        + " (scripts/serve.sh's default).",
        "",
        "| | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        row("questions asked", lambda r: str(r["asks"]["requests"])),
        row("answered per second", lambda r: f"{r['asks']['per_s']:.1f}"),
        row("p50 latency", lambda r: fmt(r["asks"]["p50_ms"], " ms")),
        row("p95 latency", lambda r: fmt(r["asks"]["p95_ms"], " ms")),
        row("all requests (with the uploader's)", lambda r: str(r["requests"])),
        row("errors", errors),
        only_ours(
            "upload jobs completed",
            f"{uploads['added']} of {uploads['uploads']} uploads (median {fmt(uploads['add_s_median'], ' s', 1)} "
            "from upload to done)",
        ),
        only_ours(
            "removal jobs completed", f"{uploads['removed']} (median {fmt(uploads['remove_s_median'], ' s', 1)})"
        ),
        only_ours("failed jobs", str(len(uploads["failed_jobs"]))),
        row("server RSS ready (MiB)", lambda r: f"{r['ready_rss_mib']:.0f}"),
        row("server RSS mean under load (MiB)", lambda r: fmt(r["rss"]["mean_mib"])),
        row("server RSS peak under load (MiB)", lambda r: f"{r['rss']['peak_mib']:.0f}"),
        row("server RSS at the end (MiB)", lambda r: fmt(r["rss"]["last_mib"])),
        row("server threads, first -> last sample", lambda r: handles(r, "threads_first_last")),
        row("server open files, first -> last sample", lambda r: handles(r, "open_files_first_last")),
        row("warnings/errors in the server log", lambda r: str(r["server_log"]["lines"])),
        "",
        "Ours by key, and while an indexing job (upload or removal) was running or not:",
        "",
        "| | questions | errors | p50 | p95 |",
        "|---|---|---|---|---|",
    ]
    rows = {f"{role} key": stats for role, stats in ours["asks"]["by_role"].items()}
    rows |= {
        "during an indexing job": ours["asks"]["during_indexing_job"],
        "no indexing job": ours["asks"]["no_indexing_job"],
    }
    for label, s in rows.items():
        lines.append(
            f"| {label} | {s['requests']} | {s['errors']} | {fmt(s['p50_ms'], ' ms')} | {fmt(s['p95_ms'], ' ms')} |"
        )
    lines += [
        "",
        "Per minute: server RSS (mean / largest sample, MiB), threads at the minute's end, questions answered per"
        " second and p95 latency:",
        "",
        "| minute | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    by_minute: dict[int, dict[str, dict]] = {}
    for label, result in columns.items():
        for m in result["rss"]["per_minute"]:
            by_minute.setdefault(m["minute"], {})[label] = m
    for minute, found in sorted(by_minute.items()):
        cells = [
            f"{m['mean_mib']:.0f} / {m['max_mib']:.0f} MiB (server alone {m.get('server_mean_mib', 0):.0f}); "
            f"{m['threads_at_end']} threads; "
            f"{m['answered_per_s']:.1f}/s, p95 {fmt(m['p95_ms'], ' ms')}"
            if m
            else "-"
            for m in (found.get(label) for label in columns)
        ]
        lines.append(f"| {minute} | " + " | ".join(cells) + " |")
    lines.append("")
    for label, result in columns.items():
        for what, flat in (("", result["rss"]["flatness"]), (", server alone", result["rss"].get("server_flatness"))):
            if flat is None:
                continue
            if flat["flat"] is None:
                lines.append(f"- RSS flat over the last three minutes ({label}{what}): not judged, {flat['why']}")
                continue
            lines.append(
                f"- RSS flat over the last three minutes ({label}{what}, minutes {flat['minutes'][0]}-"
                f"{flat['minutes'][-1]}): {'yes' if flat['flat'] else 'NO'}, growth {flat['growth']:+.1%} (under "
                f"{FLAT_GROWTH:.0%} is flat); first to last minute {flat['growth_first_to_last_minute']:+.1%}"
            )
    if uploads["failed_jobs"]:
        lines += ["", "Failed jobs:", ""]
        lines += [f"- {j['action']}: {j['error']}" for j in uploads["failed_jobs"][:5]]
    for label, result in columns.items():
        if result["error_samples"]:
            lines += ["", f"Error samples ({label}):", ""]
            for kind, samples in result["error_samples"].items():
                lines += [f"- {kind}: `{sample.strip()[:200]}`" for sample in samples[:1]]
        if result["server_log"]["top"]:
            lines += ["", f"Server log warnings and errors ({label}, most frequent first):", ""]
            lines += [f"- {n} x `{msg[:200]}`" for msg, n in result["server_log"]["top"].items()]
    return "\n".join(lines) + "\n"


def code_state() -> str:
    """The commit measured, and whether the working tree had uncommitted changes to the service's code."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--", "api", "qa", "core", "indexer", "cli", "config.toml")
    return f"commit {git('rev-parse', '--short', 'HEAD')}" + (
        f", with uncommitted changes to {len(changed.splitlines())} files of the service" if changed else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of each server's run (default 60)")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="run each server this many minutes instead")
    parser.add_argument("--clients", type=int, default=16, help="asking clients (default 16)")
    parser.add_argument("--fresh-uploads", action="store_true", help="new bytes for every upload: embedded anew")
    parser.add_argument("--data-dir", type=Path, help="index into this folder, kept for the next run (default: temp)")
    parser.add_argument(
        "--control", action="store_true", help="also run ours under the asking load without the uploader, to compare"
    )
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder (default: not kept)")
    parser.add_argument("--no-naive", action="store_true", help="leave out the naive server (and write no results)")
    args = parser.parse_args()
    seconds = args.soak * 60 if args.soak else args.seconds

    from core.settings import load_settings
    from eval.gold import load_gold
    from eval.naive import corpus_dir

    settings = load_settings(ROOT / "config.toml")
    questions = [g.question for g in load_gold(settings.eval.gold_file)]
    name, pdf = upload_copy(corpus_dir(settings))
    load_average, code = os.getloadavg(), code_state()  # the code the servers start with
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        data_dir = (args.data_dir or Path(tmp) / "data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        logs = (args.logs or Path(tmp)).resolve()
        logs.mkdir(parents=True, exist_ok=True)
        for old in ("ours.log", "ours-no-uploads.log", "naive.log"):
            (logs / old).unlink(missing_ok=True)
        env = {
            **os.environ,
            "QA_DATA_DIR": str(data_dir),
            "QA_API__REQUESTS_PER_MINUTE": "0",
            "QA_API__KEYS": json.dumps(KEYS),
            # As scripts/serve.sh runs the service (allocator arenas capped), unless the caller's environment says.
            "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
            # One paper restricted, so readers (answered without it) and members (with it) take different paths.
            "QA_ACCESS__RESTRICTED_PATHS": json.dumps([restricted_paper(corpus_dir(settings))]),
        }
        started = time.monotonic()
        print(f"indexing into {data_dir}: {prepare_data_dir(data_dir, settings, env)}", flush=True)
        index_s = time.monotonic() - started

        def run_ours(label: str, uploader: tuple[str, bytes, bool] | None, log: str) -> dict:
            port = free_port()
            command = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            return bench(label, command, env, port, questions, args.clients, seconds, uploader, logs / log)

        ours = run_ours("ours", (name, pdf, args.fresh_uploads), "ours.log")
        control: dict = run_ours("ours, no uploads", None, "ours-no-uploads.log") if args.control else {}
        naive: dict = {}
        if not args.no_naive:
            port = free_port()
            naive = bench(
                "naive",
                [sys.executable, str(ROOT / "bench" / "naive_server.py"), "--port", str(port)],
                env,
                port,
                questions,
                args.clients,
                seconds,
                None,
                logs / "naive.log",
            )
    summary = {
        "command": " ".join(["python bench/load_bench.py", *sys.argv[1:]]),
        "seconds": seconds,
        "soak": bool(args.soak),
        "clients": args.clients,
        "keys": sorted(set(KEYS.values())),
        "questions": len(questions),
        "upload_file": name,
        "fresh_uploads": args.fresh_uploads,
        "index_s": index_s,
        "load_average": load_average,
        "load_average_end": os.getloadavg(),
        "code": code if code == code_state() else f"{code} at the start, {code_state()} at the end",
        "ours": ours,
        "ours_no_uploads": control,
        "naive": naive,
    }
    if not naive:
        print(json.dumps(ours, indent=2, default=str))
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "load-soak" if args.soak else "load"
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=2, default=str))
    (RESULTS / f"{stem}.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
