"""The HTTP API through FastAPI's in-process client, over a fixture pack indexed into real stores."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from conftest import make_settings
from indexer.pipeline import Indexer
from pdfs import sample_pack
from qa.service import QAService


@pytest.fixture(scope="module")
def client(tmp_path_factory, embedder) -> TestClient:
    papers = tmp_path_factory.mktemp("api-papers")
    sample_pack(papers / "pack.pdf")
    settings = make_settings(tmp_path_factory.mktemp("api-data"), [papers])
    assert Indexer(settings, embedder=embedder).run().ok
    return TestClient(create_app(settings, QAService(settings, embedder=embedder)))


def test_ask_answers_per_the_contract(client):
    response = client.post("/ask", json={"question": "What did we decide about Grangewaters?",
                                         "filters": {"until": "2023-02-01"}, "top_k": 5})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    first = body["citations"][0]
    assert (first["page"], first["page_label"], first["meeting_date"]) == (4, "14", "2023-01-10")
    assert first["document"]["meeting_date"] == "2023-03-14" and first["document"]["file"] == "pack.pdf"
    assert first["url"] == f"/documents/{first['document']['id']}/file#page=4"


def test_ask_needs_only_a_question_and_refuses_bad_ones(client):
    assert client.post("/ask", json={"question": "How many schools used the centre?"}).status_code == 200
    assert client.post("/ask", json={}).status_code == 422
    assert client.post("/ask", json={"question": ""}).status_code == 422
    too_long = client.post("/ask", json={"question": "why " * 400})
    assert too_long.status_code == 422 and "question" in too_long.text
    assert client.post("/ask", json={"question": "x", "top_k": 0}).status_code == 422
    assert client.post("/ask", json={"question": "x", "filters": {"since": "March"}}).status_code == 422


def test_citation_url_opens_the_pdf(client):
    citation = client.post("/ask", json={"question": "What did we decide about Grangewaters?"}).json()["citations"][0]
    response = client.get(citation["url"].split("#")[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert client.get("/documents/nope/file").status_code == 404


def test_documents_passages_health_and_ready(client):
    documents = client.get("/documents").json()["documents"]
    assert [d["file"] for d in documents] == ["pack.pdf"] and documents[0]["meeting_date"] == "2023-03-14"
    citation = client.post("/ask", json={"question": "What did we decide about Grangewaters?"}).json()["citations"][0]
    passage = client.get(f"/passages/{citation['passage_id']}").json()
    assert passage["minute"] == "13" and passage["meeting_date"] == str(dt.date(2023, 1, 10))
    assert client.get("/passages/nope").status_code == 404
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["ready"] and ready["documents"] == 1 and ready["passages"] > 0


def test_not_ready_before_anything_is_indexed(tmp_path, embedder):
    settings = make_settings(tmp_path / "empty")
    client = TestClient(create_app(settings, QAService(settings, embedder=embedder)))
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and "qa index" in ready.json()["reason"]
    assert client.post("/ask", json={"question": "anything"}).status_code == 503


def test_qa_serve_runs_a_real_server(tmp_path):
    """`qa serve` starts uvicorn on the given port and answers over HTTP."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    papers = tmp_path / "papers"
    sample_pack(papers / "pack.pdf")
    config = tmp_path / "config.toml"
    config.write_text('[index]\npaths = ["papers"]\ndata_dir = "data"\n')
    env = {**os.environ, "QA_CONFIG": str(config)}
    subprocess.run([sys.executable, "-m", "qa.cli", "index"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("qa serve did not become ready")
        answer = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": "What did we decide about Grangewaters?"},
                            timeout=30).json()
        assert answer["citations"][0]["page_label"] == "14"
    finally:
        server.terminate()
        server.wait(timeout=30)
