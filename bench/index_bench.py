"""Index the sample corpus with this project and with the naive llama-index pipeline, side by side.

    python bench/index_bench.py    # every pipeline in its own process; writes bench/results/index.{json,md}

Each pipeline runs in a fresh process so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def corpus_dir() -> Path:
    from core.settings import load_settings
    from eval.naive import corpus_dir as configured_corpus

    return configured_corpus(load_settings(ROOT / "config.toml"))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(data_dir: Path) -> dict:
    """A full index into an empty data directory, then again from nothing but the model's export (`--rebuild`
    with the embedding cache deleted): the first is what a new installation's first index costs."""
    from core.settings import Settings
    from indexer.embed_cache import CACHE_FILE
    from indexer.pipeline import Indexer

    settings = Settings()
    settings.index.data_dir = data_dir
    started = time.perf_counter()
    report = Indexer(settings).run([corpus_dir()], rebuild=True)
    first = time.perf_counter() - started
    assert report.ok, report.failed
    (data_dir / CACHE_FILE).unlink()
    started = time.perf_counter()
    again = Indexer(settings).run([corpus_dir()], rebuild=True)
    seconds = time.perf_counter() - started
    assert again.ok and again.embedded == report.embedded, (again.failed, again.embedded)
    return {
        "seconds": seconds,
        "first_index_seconds": first,
        "pages": report.pages,
        "passages": report.passages,
        **coverage_of_ours(settings),
    }


def coverage(token_counts: list[int], limit: int = 256) -> dict:
    """How much of the indexed text the embedder reads: MiniLM ignores word-pieces past 256."""
    seen = sum(min(n, limit - 2) for n in token_counts)  # [CLS] and [SEP] take two places
    return {
        "tokens": sum(token_counts),
        "tokens_embedded": seen,
        "text_seen_by_embedder": seen / max(1, sum(token_counts)),
    }


def coverage_of_ours(settings) -> dict:
    from indexer.embed import Embedder
    from indexer.stores import embedding_text, open_snapshot

    snapshot = open_snapshot(settings)
    return coverage(Embedder(settings.embedding).count_tokens([embedding_text(p) for p in snapshot.passages.values()]))


def run_embed_only() -> dict:
    """Only the embedding of exactly the passages our indexer embeds (the floor for our indexing time); the model
    exported to OpenVINO beforehand."""
    from core.settings import Settings
    from indexer.embed import Embedder
    from indexer.passages import PassageBuilder
    from indexer.read import read_document
    from indexer.stores import embedding_text
    from indexer.structure import structure_document

    settings = Settings()
    embedder = Embedder(settings.embedding)
    builder = PassageBuilder(settings.passages, embedder.count_tokens, embedder.max_tokens)
    texts, pages = [], 0
    for path in sorted(corpus_dir().glob("*.pdf")):
        source = read_document(path)
        pages += len(source.pages)
        texts += [embedding_text(p) for p in builder.build(structure_document(source), "bench")]
    embedder.embed(["warm up"])  # model load is not embedding time
    started = time.perf_counter()
    embedder.embed(texts)
    return {"seconds": time.perf_counter() - started, "pages": pages, "passages": len(texts)}


def run_naive(data_dir: Path) -> dict:
    """One Document per page, default SentenceSplitter, VectorStoreIndex over Chroma, same embedder."""
    from llama_index.core import Settings as LlamaSettings

    from eval.naive import build_naive_index

    started = time.perf_counter()
    from core.settings import load_settings

    _, nodes, pages = build_naive_index(corpus_dir(), data_dir, load_settings(ROOT / "config.toml").embedding)
    seconds = time.perf_counter() - started
    tokenizer = LlamaSettings.embed_model._model.tokenizer
    counts = [len(ids) for ids in tokenizer([n.get_content() for n in nodes], add_special_tokens=False)["input_ids"]]
    return {"seconds": seconds, "pages": pages, "passages": len(nodes), **coverage(counts)}


PIPELINES = {"ours": run_ours, "naive": run_naive, "embed-only": run_embed_only}


def child(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = PIPELINES[name](Path(tmp)) if name != "embed-only" else run_embed_only()
    result["peak_mib"] = peak_mib()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=PIPELINES)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    results = {}
    for name in ("naive", "ours", "embed-only"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True, check=True, cwd=ROOT
        )
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[name]
        r["pages_per_s"] = r["pages"] / r["seconds"]
        r["passages_per_s"] = r["passages"] / r["seconds"]
        print(
            f"{name:10s} {r['seconds']:7.1f}s  {r['pages_per_s']:6.2f} pages/s  {r['passages_per_s']:6.2f} passages/s  "
            f"{r['passages']:5d} passages  peak {r['peak_mib']:.0f} MiB  "
            f"text seen {r.get('text_seen_by_embedder', 1):.0%}",
            flush=True,
        )
    ours, naive, embed = results["ours"], results["naive"], results["embed-only"]
    verdict = {
        "ours_vs_naive_time": ours["seconds"] / naive["seconds"],
        "ours_first_index_vs_naive_time": ours["first_index_seconds"] / naive["seconds"],
        "ours_vs_embedding_alone": ours["seconds"] / embed["seconds"],
        "targets": {
            "no slower than naive": ours["seconds"] <= naive["seconds"],
            "no slower than naive on a new installation's first index": ours["first_index_seconds"] <= naive["seconds"],
            "within 1.3x of embedding alone": ours["seconds"] <= 1.3 * embed["seconds"],
            "peak memory under 2 GiB": ours["peak_mib"] < 2048,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "index.json").write_text(json.dumps({"results": results, **verdict}, indent=2))
    lines = [
        "# Indexing the sample corpus (456 pages)",
        "",
        "Command: `python bench/index_bench.py`",
        "",
        "| pipeline | seconds | pages/s | passages/s | passages | peak MiB | word-pieces embedded "
        "| text the embedder reads |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        seen = f"{r['tokens_embedded']} | {r['text_seen_by_embedder']:.0%}" if "tokens" in r else "- | -"
        lines.append(
            f"| {name} | {r['seconds']:.1f} | {r['pages_per_s']:.2f} | {r['passages_per_s']:.2f} | {r['passages']} "
            f"| {r['peak_mib']:.0f} | {seen} |"
        )
    lines += [
        "",
        f"ours' first index into an empty data directory, exporting the model to OpenVINO as well: "
        f"{ours['first_index_seconds']:.1f} s",
        "",
        f"ours / naive time: {verdict['ours_vs_naive_time']:.2f}x "
        f"(first index {verdict['ours_first_index_vs_naive_time']:.2f}x); "
        f"ours / embedding alone: {verdict['ours_vs_embedding_alone']:.2f}x",
        "",
    ]
    lines += [f"- {name}: {'met' if ok else 'MISSED'}" for name, ok in verdict["targets"].items()]
    (RESULTS / "index.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-8:]))


if __name__ == "__main__":
    main()
