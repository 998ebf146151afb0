"""Several replicas on one Chroma server, deployed as the README describes: a real `chroma run` on a loopback port,
the papers indexed through it, and two `qa serve` processes answering from the same data directory at once.

They must give embedded mode's answers; while 16 clients ask, the Chroma server is stopped and started again (503
with a clear message meanwhile, then answers again by itself); a paper uploaded through one replica is answered
from by the other without a restart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from core.settings import load_settings
from indexer.pipeline import Indexer
from qa.service import QAService

from chroma_server import ChromaServer, free_port
from conftest import indexed_settings, papers_with_pack
from pdfs import FILLER, PageSpec, make_pdf, wrap

pytestmark = pytest.mark.slow

QUESTIONS = [
    "What did we decide about Grangewaters?",
    "How many schools used Grangewaters last year?",
    "When does the boathouse lease end?",
    "How many visits did the Riverside Play Centre have in 2022?",
    "What opening hours are proposed for the play centre?",
    "What did parents say about the centre?",
]
EDITOR = {"Authorization": "Bearer editor-key"}
READER = {"Authorization": "Bearer reader-key"}


@dataclass
class Deployment:
    chroma: ChromaServer
    replicas: list[str]  # base URLs of the `qa serve` processes
    papers: Path
    folder: Path
    logs: list[Path] = field(default_factory=list)


def _ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"qa serve ended: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"qa serve at {url} was not ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, sample_pack_pdf, embedder) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("replicas")
    papers = papers_with_pack(folder / "papers", sample_pack_pdf)
    chroma = ChromaServer(folder / "chroma").start()
    config = folder / "config.toml"
    config.write_text(
        f'[index]\npaths = ["{papers}"]\ndata_dir = "{folder / "data"}"\n'
        f'[store]\nmode = "server"\nhost = "{chroma.host}"\nport = {chroma.port}\n'
        "[api]\nrequests_per_minute = 0\n"
        # The sample would be searched exactly: through Chroma, as a large archive is, the replicas share its server.
        "[retrieval]\nexact_search_up_to = 0\n"
    )
    settings = load_settings(config)
    assert Indexer(settings, embedder=embedder).run().ok  # the same model the replicas load, in this process
    env = {
        **os.environ,
        "QA_CONFIG": str(config),
        "QA_API__KEYS": '{"editor-key": "editor", "reader-key": "reader"}',
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "MALLOC_ARENA_MAX": "2",
    }
    qa = str(Path(sys.executable).with_name("qa"))
    processes, deployment = [], Deployment(chroma, [], papers, folder)
    try:
        for n in range(2):
            port, log = free_port(), folder / f"replica-{n}.log"
            with log.open("wb") as out:
                command = [qa, "serve", "--port", str(port)]
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
            deployment.replicas.append(f"http://127.0.0.1:{port}")
            deployment.logs.append(log)
        for url, process, log in zip(deployment.replicas, processes, deployment.logs, strict=True):
            _ready(url, process, log)
        yield deployment
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        chroma.stop()


def _shape(answer: dict) -> tuple:
    """What a member reads: the answer and each quote with its page; timings aside."""
    quotes = [(c["quote"], c["page"], c["page_label"], c["section"]) for c in answer["citations"]]
    return answer["answer"], answer["abstained"], quotes


def test_two_replicas_give_embedded_modes_answers(deployment, tmp_path, embedder):
    embedded = QAService(indexed_settings(tmp_path / "embedded", [deployment.papers], embedder), embedder=embedder)
    for question in QUESTIONS:
        expected = _shape(embedded.ask(question).model_dump(mode="json"))
        for url in deployment.replicas:
            reply = httpx.post(f"{url}/ask", json={"question": question}, headers=READER, timeout=60)
            assert reply.status_code == 200, reply.text
            assert _shape(reply.json()) == expected, (url, question)


def test_a_chroma_restart_under_load_is_503_meanwhile_and_recovers_by_itself(deployment):
    reference = {
        q: _shape(httpx.post(f"{deployment.replicas[0]}/ask", json={"question": q}, headers=READER, timeout=60).json())
        for q in QUESTIONS
    }
    outcomes: list[tuple[float, int, dict, str | None]] = []  # (time, status, body, Retry-After)
    lock, stop = threading.Lock(), threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=deployment.replicas[n % 2], headers=READER, timeout=60) as http:
            i = n
            while not stop.is_set():
                question = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                reply = http.post("/ask", json={"question": question})
                body = reply.json()
                body["_question"] = question
                with lock:
                    outcomes.append((time.monotonic(), reply.status_code, body, reply.headers.get("retry-after")))

    clients = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(4)
        stopped = time.monotonic()
        deployment.chroma.stop()
        time.sleep(4)
        restarted = time.monotonic()
        deployment.chroma.start()
        back = time.monotonic()
        time.sleep(6)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=120)
    before = [o for o in outcomes if o[0] < stopped]
    during = [o for o in outcomes if stopped + 0.5 < o[0] < restarted]
    settled = [o for o in outcomes if o[0] > back + 2]
    assert before and during and settled
    assert {o[1] for o in outcomes} <= {200, 503}, {o[1] for o in outcomes}
    assert all(status == 200 for _, status, _, _ in before)
    assert all(status == 503 for _, status, _, _ in during)
    for _, status, body, retry_after in outcomes:
        if status == 503:
            assert body == {"detail": body["detail"], "_question": body["_question"]}
            assert body["detail"].startswith("the search database is not answering just now"), body
            assert retry_after is not None and int(retry_after) > 0
    # Once the server is back, every reply is an answer again, the same one, from both replicas.
    assert all(status == 200 for _, status, _, _ in settled), [o[2] for o in settled if o[1] != 200][:3]
    assert all(_shape(body) == reference[body["_question"]] for _, _, body, _ in settled)
    assert {url for url in deployment.replicas} == {
        url for url in deployment.replicas if httpx.get(f"{url}/ready", timeout=5).status_code == 200
    }


def test_a_paper_uploaded_through_one_replica_is_answered_by_the_other(deployment):
    ferry = make_pdf(
        deployment.folder / "ferry-report.pdf",
        [
            PageSpec(
                ["Tilbury Ferry Report", *wrap("The Tilbury ferry timetable changes on 6 April. " + FILLER)],
                footer="Page 1",
            )
        ],
    )
    first, other = deployment.replicas
    with httpx.Client(base_url=first, timeout=60) as http:
        job = http.post(
            "/documents", files={"file": ("ferry-report.pdf", ferry.read_bytes(), "application/pdf")}, headers=EDITOR
        ).json()
        deadline = time.monotonic() + 180
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = http.get(f"/jobs/{job['id']}", headers=EDITOR).json()
    assert job["status"] == "done", job
    # The other replica was not told: it finds the new generation in the data directory they share.
    answer = httpx.post(
        f"{other}/ask", json={"question": "When does the Tilbury ferry timetable change?"}, headers=READER, timeout=60
    )
    assert answer.status_code == 200 and answer.json()["citations"], answer.text
    assert answer.json()["citations"][0]["document"]["file"] == "ferry-report.pdf"
    generations = {httpx.get(f"{url}/ready", timeout=5).json()["generation"] for url in deployment.replicas}
    assert len(generations) == 1
    # The upload was embedded as `qa index` embeds (passages in bfloat16), so the pack indexed before stays.
    listed = httpx.get(f"{other}/documents", headers=EDITOR, timeout=10).json()
    files = {d["file"] for d in (listed["documents"] if isinstance(listed, dict) else listed)}
    assert {"ferry-report.pdf", "pack.pdf"} <= files, files
