"""Growth: archives of 1x, 4x, 16x and 64x the sample corpus, indexed and served, embedded and server mode, with the
naive llama-index pipeline beside it at the sizes it can take.

    python bench/growth_bench.py                          # writes bench/results/growth.{md,json}
    python bench/growth_bench.py --scales 1 4 --naive-up-to 4 --work /tmp/qa-growth

Each size is N copies of the sample (bench/archive.py: every date moved on and every committee renamed per copy,
so they are distinct meetings), in one folder. Per size and mode, in processes of their own:

- `qa index FOLDER` into an empty data directory: wall time (`index_s`), peak resident memory of the process and
  its children (`index_peak_mb`), the data directory's size after (`disk_mb`; in server mode plus the Chroma
  server's folder), and how many passages it embedded (`embedded`; the embedding cache answers for text seen
  before, in this run: the copies repeat the sample's text except dates and names, so past 1x most passages come
  from the cache, as the row's `embedded` shows). Server mode starts its own `chroma run` per size and is given
  embedded mode's embedding cache, so its `index_s` is reading, structuring and publishing.
- `qa serve`: seconds from start to `/ready` (`startup_s`), then `--questions` gold questions asked one at a time
  after a warm-up (`ask_p50_ms`, `ask_p95_ms`: client-side wall time of POST /ask), and the peak resident memory
  of the server and its children over start and questions (`serve_peak_mb`).
- Re-indexing after one changed pack, at the largest size: one pack's copy is written again with one line
  changed, `qa index` is run on the folder, and the seconds, newly embedded passages and what the run read are
  reported (`reindex_one`).
- The naive pipeline (bench/naive_server.py) builds its index and serves the same questions; `index_s` is its start
  to ready, which includes loading the model, as `qa index` does.

`growth.json` holds {"rows": [...], "naive": [...], "reindex_one": {...}, "targets": {...}}; each row is
{"scale", "mode", "pages", "passages", "index_s", "disk_mb", "index_peak_mb", "serve_peak_mb", "startup_s",
"ask_p50_ms", "ask_p95_ms"} plus "embedded".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the ChromaServer helper the tests use

from archive import build  # noqa: E402
from chroma_server import ChromaServer, free_port  # noqa: E402
from http_bench import MemorySampler  # noqa: E402

TARGET_P50_RATIO = 1.5
TARGET_SERVE_MIB = 2048
QA = str(Path(sys.executable).with_name("qa"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def disk_mb(*folders: Path) -> float:
    return (
        sum(f.stat().st_size for folder in folders if folder.exists() for f in folder.rglob("*") if f.is_file()) / 2**20
    )


def papers_at(scale: int, archive: list[Path], work: Path) -> Path:
    """A flat folder of links to copies 0..scale-1 of every paper (the naive pipeline reads one folder)."""
    folder = work / f"papers-{scale:02d}x"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for paper in archive:
        if int(paper.parent.name.split("-")[1]) < scale:
            (folder / paper.name).symlink_to(paper)
    return folder


def run_index(papers: Path, env: dict, log: Path) -> dict:
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen([QA, "index", str(papers)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid, every_s=0.2)
        code = process.wait()
        sampler.stop()
    seconds = time.perf_counter() - started
    text = log.read_text()
    if code != 0:
        raise RuntimeError(f"qa index failed ({code}): {text[-2000:]}")
    embedded = re.search(r"\((\d+) newly embedded, (\d+) written", text)
    return {
        "index_s": round(seconds, 1),
        "index_peak_mb": round(sampler.peak / 2**20),
        "embedded": int(embedded.group(1)) if embedded else None,
        "vectors_written": int(embedded.group(2)) if embedded else None,
        "log": text,
    }


def serve(command: list[str], env: dict, port: int, questions: list[str], log: Path) -> dict:
    """Start a server, time it to /ready, ask the questions one at a time after a warm-up; peak memory throughout."""
    started = time.perf_counter()
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    sampler = MemorySampler(server.pid, every_s=0.1)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 3600
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{command} ended: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command} was not ready")
            time.sleep(0.1)
        startup_s = time.perf_counter() - started
        ready_peak = sampler.peak
        latencies, errors = [], 0
        with httpx.Client(base_url=url, timeout=120) as http:
            for question in questions[:5]:
                http.post("/ask", json={"question": question})
            for question in questions:
                began = time.perf_counter()
                reply = http.post("/ask", json={"question": question})
                if reply.status_code == 200:
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    errors += 1
        return {
            "startup_s": round(startup_s, 2),
            "ready_peak_mb": round(ready_peak / 2**20),
            "serve_peak_mb": round(sampler.peak / 2**20),
            "ask_p50_ms": round(percentile(latencies, 50), 1),
            "ask_p95_ms": round(percentile(latencies, 95), 1),
            "ask_errors": errors,
        }
    finally:
        sampler.stop()
        server.terminate()
        server.wait(timeout=120)


def settled(pid: int, quiet_percent: float = 5.0, limit_s: float = 900) -> float:
    """Seconds until the Chroma server is idle after indexing (under `quiet_percent` CPU for 3 s running): it goes
    on building its index after the last write is answered, and questions asked meanwhile would time that too."""
    import psutil

    process, started, quiet = psutil.Process(pid), time.monotonic(), 0
    process.cpu_percent(None)
    while quiet < 3 and time.monotonic() - started < limit_s:
        time.sleep(1)
        quiet = quiet + 1 if process.cpu_percent(None) < quiet_percent else 0
    return round(time.monotonic() - started, 1)


def counts(data_dir: Path) -> tuple[int, int]:
    """(pages, passages) of the published index."""
    from core.settings import Settings
    from indexer.stores import IndexStore

    settings = Settings()
    settings.index.data_dir = data_dir
    documents = IndexStore(settings).manifest().documents
    return sum(d.pages for d in documents), sum(d.passages for d in documents)


def bench_ours(scale: int, mode: str, papers: Path, work: Path, questions: list[str], base_env: dict) -> dict:
    data_dir = work / f"data-{scale:02d}x-{mode}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {**base_env, "QA_DATA_DIR": str(data_dir), "QA_STORE__MODE": mode}
    chroma = None
    if mode == "server":
        shutil.rmtree(work / f"chroma-{scale:02d}x", ignore_errors=True)
        chroma = ChromaServer(work / f"chroma-{scale:02d}x").start()
        env.update(QA_STORE__HOST=chroma.host, QA_STORE__PORT=str(chroma.port))
        cache = work / f"data-{scale:02d}x-embedded" / "embeddings.sqlite3"
        if cache.exists():
            shutil.copy(cache, data_dir / "embeddings.sqlite3")
    try:
        indexed = run_index(papers, env, work / f"index-{scale:02d}x-{mode}.log")
        settle_s = settled(chroma.process.pid) if chroma and chroma.process else 0.0
        pages, passages = counts(data_dir)
        port = free_port()
        command = [QA, "serve", "--host", "127.0.0.1", "--port", str(port)]
        served = serve(command, env, port, questions, work / f"serve-{scale:02d}x-{mode}.log")
        size = disk_mb(data_dir, *([chroma.folder / "db"] if chroma else []))
    finally:
        if chroma:
            chroma.stop()
    row = {
        "scale": scale,
        "mode": mode,
        "pages": pages,
        "passages": passages,
        "index_s": indexed["index_s"],
        "disk_mb": round(size, 1),
        "index_peak_mb": indexed["index_peak_mb"],
        "serve_peak_mb": served["serve_peak_mb"],
        "startup_s": served["startup_s"],
        "ask_p50_ms": served["ask_p50_ms"],
        "ask_p95_ms": served["ask_p95_ms"],
        "embedded": indexed["embedded"],
        "ready_peak_mb": served["ready_peak_mb"],
        "ask_errors": served["ask_errors"],
        "store_settle_s": settle_s,
    }
    print(json.dumps(row), flush=True)
    return row


def bench_naive(scale: int, papers: Path, work: Path, questions: list[str], base_env: dict) -> dict:
    data_dir = work / f"naive-{scale:02d}x"
    shutil.rmtree(data_dir, ignore_errors=True)
    port = free_port()
    command = [
        sys.executable,
        str(ROOT / "bench" / "naive_server.py"),
        "--port",
        str(port),
        "--corpus",
        str(papers),
        "--data-dir",
        str(data_dir),
    ]
    served = serve(command, base_env, port, questions, work / f"naive-{scale:02d}x.log")
    row = {
        "scale": scale,
        "index_s": served["startup_s"],
        "disk_mb": round(disk_mb(data_dir), 1),
        "index_peak_mb": served["ready_peak_mb"],
        "serve_peak_mb": served["serve_peak_mb"],
        "ask_p50_ms": served["ask_p50_ms"],
        "ask_p95_ms": served["ask_p95_ms"],
        "ask_errors": served["ask_errors"],
    }
    print("naive", json.dumps(row), flush=True)
    return row


def reindex_one(scale: int, papers: Path, work: Path, base_env: dict) -> dict:
    """Change one line of one pack of the largest archive, re-index: what the run touched, and how long it took."""
    import pymupdf

    data_dir = work / f"data-{scale:02d}x-embedded"
    target = sorted(papers.iterdir())[-1]
    changed = work / "changed" / target.name
    changed.parent.mkdir(exist_ok=True)
    with pymupdf.open(target.resolve()) as pdf:
        page = pdf[len(pdf) - 1]
        page.insert_text((72, 60), "Late addition: the committee noted one further item.", fontname="helv")
        pdf.save(changed)
    target.unlink()
    target.symlink_to(changed)
    env = {**base_env, "QA_DATA_DIR": str(data_dir), "QA_STORE__MODE": "embedded"}
    indexed = run_index(papers, env, work / f"reindex-{scale:02d}x.log")
    summary = re.search(r"^indexed .*", indexed["log"], re.M)
    return {
        "scale": scale,
        "seconds": indexed["index_s"],
        "embedded": indexed["embedded"],
        "vectors_written": indexed["vectors_written"],
        "changed_file": target.name,
        "summary": summary.group(0) if summary else indexed["log"].strip().splitlines()[-1],
    }


def markdown(result: dict) -> str:
    lines = [
        "# Growth: 1x to 64x the sample corpus",
        "",
        f"Command: `{result['command']}` (the last at {result['code']}; {result['machine']}; each row's code in its "
        "last column)",
        "",
        "| scale | mode | pages | passages | index s | newly embedded | disk MB | index peak MB | serve peak MB "
        "| start-up s | /ask p50 ms | /ask p95 ms | measured at |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['scale']}x | {r['mode']} | {r['pages']:,} | {r['passages']:,} | {r['index_s']:.0f} | "
            f"{r['embedded'] if r['embedded'] is not None else '-'} | {r['disk_mb']:.0f} | {r['index_peak_mb']:,} | "
            f"{r['serve_peak_mb']:,} | {r['startup_s']:.1f} | {r['ask_p50_ms']:.0f} | {r['ask_p95_ms']:.0f} | "
            f"{r.get('code', result['code'])} |"
        )
    for r in result["naive"]:
        lines.append(
            f"| {r['scale']}x | naive | | | {r['index_s']:.0f} | all | {r['disk_mb']:.0f} | {r['index_peak_mb']:,} | "
            f"{r['serve_peak_mb']:,} | | {r['ask_p50_ms']:.0f} | {r['ask_p95_ms']:.0f} | "
            f"{r.get('code', result['code'])} |"
        )
    lines += ["", "## Targets", ""]
    lines += [f"- {name}: {'met' if ok else 'MISSED'}" for name, ok in result["targets"].items()]
    if result.get("reindex_one"):
        r = result["reindex_one"]
        lines += [
            "",
            f"## Re-indexing after one changed pack ({r['scale']}x)",
            "",
            f"`{r['changed_file']}` written again with one line added; `qa index` took {r['seconds']:.0f} s, "
            f"embedded {r['embedded']} passages and wrote {r['vectors_written']} vectors to Chroma. Its summary: "
            f"{r['summary']} (at {r.get('code', result['code'])})",
        ]
    lines += ["", "## Notes", "", *result.get("notes", [])]
    return "\n".join(lines) + "\n"


def targets(rows: list[dict]) -> dict:
    found: dict[str, bool] = {}
    for mode in ("embedded", "server"):
        by_scale = {r["scale"]: r for r in rows if r["mode"] == mode}
        if 1 in by_scale and 64 in by_scale:
            ratio = by_scale[64]["ask_p50_ms"] / by_scale[1]["ask_p50_ms"]
            found[f"{mode}: /ask p50 at 64x within {TARGET_P50_RATIO}x of 1x ({ratio:.2f}x)"] = (
                ratio <= TARGET_P50_RATIO
            )
        if 64 in by_scale:
            peak = by_scale[64]["serve_peak_mb"]
            found[f"{mode}: serving memory at 64x under 2 GiB ({peak:,} MB)"] = peak < TARGET_SERVE_MIB
    found["no /ask errors"] = all(r["ask_errors"] == 0 for r in rows)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--modes", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    parser.add_argument("--naive-up-to", type=int, default=16, help="largest size the naive pipeline is run at")
    parser.add_argument("--questions", type=int, default=100, help="gold questions asked per server")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-growth"), help="archives, data dirs and logs")
    parser.add_argument("--no-reindex", action="store_true", help="skip the one-changed-pack re-index")
    parser.add_argument(
        "--merge", action="store_true", help="keep the rows of growth.json this run does not measure again"
    )
    args = parser.parse_args()

    from core.settings import load_settings
    from eval.gold import load_gold
    from eval.naive import corpus_dir

    settings = load_settings(ROOT / "config.toml")
    questions = [g.question for g in load_gold(settings.eval.gold_file)][: args.questions]
    originals = sorted(corpus_dir(settings).glob("*.pdf"))
    args.work.mkdir(parents=True, exist_ok=True)
    archive = build(originals, max(args.scales), args.work / "archive")
    base_env = {
        **os.environ,
        "QA_API__REQUESTS_PER_MINUTE": "0",
        "QA_API__KEYS": "{}",
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
    }
    rows, naive = [], []
    for scale in sorted(args.scales):
        papers = papers_at(scale, archive, args.work)
        for mode in args.modes:
            rows.append(bench_ours(scale, mode, papers, args.work, questions, base_env))
        if scale <= args.naive_up_to:
            naive.append(bench_naive(scale, papers, args.work, questions, base_env))
    again = None
    if not args.no_reindex and "embedded" in args.modes:
        again = reindex_one(max(args.scales), papers_at(max(args.scales), archive, args.work), args.work, base_env)
    from load_bench import code_state

    commands = ["python bench/growth_bench.py " + " ".join(sys.argv[1:])]
    code = code_state()
    for row in [*rows, *naive, *([again] if again else [])]:
        row["code"] = code  # which code measured it: a merged table holds rows of several runs
    if args.merge and (RESULTS / "growth.json").exists():
        before = json.loads((RESULTS / "growth.json").read_text())
        measured = {(r["scale"], r["mode"]) for r in rows}
        rows = sorted(
            [r for r in before["rows"] if (r["scale"], r["mode"]) not in measured] + rows,
            key=lambda r: (r["scale"], r["mode"]),
        )
        naive_scales = {r["scale"] for r in naive}
        naive = sorted([r for r in before["naive"] if r["scale"] not in naive_scales] + naive, key=lambda r: r["scale"])
        again = again or before.get("reindex_one")
        commands = list(dict.fromkeys([*before.get("commands", [before["command"]]), *commands]))
    result = {
        "command": "; then ".join(commands),
        "commands": commands,
        "code": code,
        "machine": f"{os.cpu_count()} cores",
        "questions": len(questions),
        "rows": rows,
        "naive": naive,
        "reindex_one": again,
        "targets": targets(rows),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "growth.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "growth.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
