"""Kill real indexing runs with SIGKILL at named checkpoints, in forked children of this one process.

    python tests/kill_points.py DATA_DIR PAPERS POINT [POINT ...]

POINT is a checkpoint name (indexer.stores.PUBLISH_STEPS, or "artifacts saved"), optionally "#n" for its nth
time. For each point in turn, a forked child indexes PAPERS into DATA_DIR with the fake embedder and kills
itself with SIGKILL when the indexer reaches that point; a second child then opens the published index and
reports it. One JSON line per point: {"point", "killed", "documents": {file: passages}, "agree": bool}, and with
KILL_POINTS_QUESTION set, "answer": the index's answer to it (the /ask JSON without timings).

Forking after the imports keeps the cost of starting Python to once; no Chroma client is opened in this parent,
so each child starts clean. The kill is deterministic: it happens at the named step, not after a guessed delay.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.settings import Settings
from indexer.pipeline import Indexer
from indexer.stores import open_snapshot

from fakes import HashEmbedder


def _settings(data_dir: str) -> Settings:
    settings = Settings()
    settings.index.data_dir = Path(data_dir)
    return settings


def _index_and_die(data_dir: str, papers: str, point: str) -> None:
    name, _, nth = point.partition("#")
    reached = 0

    def checkpoint(step: str) -> None:
        nonlocal reached
        if step == name:
            reached += 1
            if reached == int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)

    Indexer(_settings(data_dir), embedder=HashEmbedder(), checkpoint=checkpoint).run([Path(papers)])


def _report(data_dir: str) -> dict:
    snapshot = open_snapshot(_settings(data_dir))
    if snapshot is None:
        return {"documents": {}, "agree": True}
    ids = sorted(snapshot.passages)
    stored = sorted(snapshot.collection.get(include=[])["ids"])
    expected = sum(doc.passages for doc in snapshot.manifest.documents)
    agree = len(ids) == expected == snapshot.vector_count() and stored == ids == sorted(snapshot.lexical_ids)
    report = {"documents": {doc.file: doc.passages for doc in snapshot.manifest.documents}, "agree": agree}
    question = os.environ.get("KILL_POINTS_QUESTION")
    if question:  # what the index answers now, to compare with its answer before the run
        from qa.service import QAService

        answer = QAService(_settings(data_dir), embedder=HashEmbedder()).ask(question)
        report["answer"] = answer.model_dump(mode="json", exclude={"timings_ms"})
    return report


def _in_child(work) -> tuple[int, dict | None]:
    """Run work() in a forked child; its exit signal (or status) and the JSON it wrote, if any."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result = work()
            os.write(write, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return status, json.loads(data) if data else None


def main() -> None:
    data_dir, papers, *points = sys.argv[1:]
    for point in points:
        status, _ = _in_child(lambda point=point: _index_and_die(data_dir, papers, point))
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        _, report = _in_child(lambda: _report(data_dir))
        print(
            json.dumps({"point": point, "killed": killed, **(report or {"documents": None, "agree": False})}),
            flush=True,
        )


if __name__ == "__main__":
    main()
