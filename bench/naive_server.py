"""The naive llama-index pipeline behind the same HTTP shape as ours, for bench/http_bench.py.

    python bench/naive_server.py --port 8001     # builds its index in a temporary folder, then serves POST /ask
    python bench/naive_server.py --port 8001 --corpus FOLDER --data-dir DIR

Its answer is its retriever's top 2 chunks, as in the evaluation; it has no other endpoints but /ready.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Question(BaseModel):
    question: str


def create_naive_app(corpus: Path, data_dir: Path):
    """A FastAPI app answering POST /ask with the naive retriever's top 2 chunks and their pages."""
    from fastapi import FastAPI

    from core.settings import Settings
    from eval.naive import build_naive_index

    index, _, _ = build_naive_index(corpus, data_dir, Settings().embedding)
    retriever = index.as_retriever(similarity_top_k=2)
    retriever.retrieve("warm up")
    app = FastAPI(title="naive llama-index pipeline")

    @app.post("/ask")
    def ask(body: Question) -> dict:
        nodes = retriever.retrieve(body.question)
        return {
            "question": body.question,
            "answer": "\n".join(n.node.get_content() for n in nodes),
            "citations": [{"file": n.node.metadata["file"], "page": n.node.metadata["page"]} for n in nodes],
        }

    @app.get("/ready")
    def ready() -> dict:
        return {"ready": True}

    return app


def main() -> None:
    import uvicorn

    from core.settings import load_settings
    from eval.naive import corpus_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--corpus", type=Path, help="folder of PDFs (default: the sample corpus config.toml names)")
    parser.add_argument("--data-dir", type=Path, help="where its Chroma index is built (default: a temporary folder)")
    args = parser.parse_args()
    corpus = args.corpus or corpus_dir(load_settings(ROOT / "config.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        app = create_naive_app(corpus, args.data_dir or Path(tmp))
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
