"""Hostile requests against a real server (uvicorn on a loopback port, the fixture index, the fake embedder): path
traversal in ids and page numbers, header injection through an upload's name, malformed and oversized bodies, and a
slow client that stops sending its body. Each is refused or timed out cleanly, with a JSON message, and the service
keeps answering everyone else meanwhile."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from qa.service import QAService

from conftest import free_port
from pdfs import sample_pack

READER = {"Authorization": "Bearer reader-key"}
EDITOR = {"Authorization": "Bearer editor-key"}


@pytest.fixture(scope="module")
def live(pack_index, fake_embedder) -> Iterator[str]:
    settings = pack_index.model_copy(deep=True)
    settings.api.keys = {"reader-key": "reader", "editor-key": "editor"}
    settings.api.requests_per_minute = 0
    settings.api.body_wait_s = 1.0
    app = create_app(settings, QAService(settings, embedder=fake_embedder))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _whole_reply(connection: socket.socket) -> str:
    """The response as far as its Content-Length, however many TCP segments it came in (headers and body may be
    sent apart)."""
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.decode("latin-1")


def _length(received: bytes) -> int:
    found = re.search(rb"(?im)^content-length:\s*(\d+)", received.partition(b"\r\n\r\n")[0])
    return int(found.group(1)) if found else 0


@pytest.mark.slow  # a server thread of its own
def test_a_client_that_stops_sending_its_body_is_answered_408_and_holds_nobody_up(live):
    port = int(live.rsplit(":", 1)[1])
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    stalled.sendall(
        b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer reader-key\r\n"
        b'Content-Length: 200\r\n\r\n{"question": "Gra'
    )
    started = time.monotonic()
    # Meanwhile the service answers others at once.
    answer = httpx.post(f"{live}/ask", json={"question": "Grangewaters?"}, headers=READER, timeout=10)
    assert answer.status_code == 200 and time.monotonic() - started < 1.0
    reply = _whole_reply(stalled)
    stalled.close()
    assert reply.startswith("HTTP/1.1 408") and "the request body stopped arriving for 1 s" in reply
    assert 0.9 < time.monotonic() - started < 5


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [
        "/documents/..%2F..%2F..%2Fetc%2Fpasswd/file",
        "/documents/%2e%2e/file",
        "/documents/....//....//config.toml/file",
        "/passages/..%2F..%2Fconfig.toml",
        "/documents/..%5C..%5Cwindows/pages/1.png",
        "/jobs/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_in_ids_finds_nothing(live, path):
    response = httpx.get(live + path, headers=READER, timeout=10)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json" and response.json()["detail"]
    assert "root:" not in response.text and "[index]" not in response.text


@pytest.mark.slow
def test_page_numbers_out_of_range_or_malformed_are_refused(live):
    docs = httpx.get(f"{live}/documents", headers=READER, timeout=10).json()["documents"]
    doc_id = docs[0]["id"]
    for page, status in (("0", 404), ("-1", 404), ("99999", 404), ("1e9", 422), ("1%00", 422), ("abc", 422)):
        response = httpx.get(f"{live}/documents/{doc_id}/pages/{page}.png", headers=READER, timeout=10)
        assert response.status_code == status, (page, response.text)
        assert response.json()["detail"]


@pytest.mark.slow
def test_malformed_and_oversized_bodies_are_refused_with_a_message(live):
    cases = [
        (b'{"question": ', "application/json", 422),
        (b"\xff\xfe\x00not json", "application/json", 400),
        (b'{"question": "' + b"x" * 70_000 + b'"}', "application/json", 413),
        (b'{"question": "Grangewaters?", "filters": {"since": 0}}', "application/json", 422),
        (b'{"question": "Grangewaters?", "sneaky": true}', "application/json", 422),
    ]
    for body, kind, status in cases:
        response = httpx.post(f"{live}/ask", content=body, headers={**READER, "Content-Type": kind}, timeout=10)
        assert response.status_code == status, (body[:40], response.text[:200])
        assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    broken = httpx.post(
        f"{live}/documents",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n%PDF-1.4 no end',
        headers={**EDITOR, "Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=10,
    )
    assert broken.status_code in (400, 415, 422) and broken.json()["detail"]


@pytest.mark.slow
def test_an_upload_name_cannot_inject_a_header_into_the_download(live, tmp_path):
    pdf = sample_pack(tmp_path / "x.pdf").read_bytes()
    name = "minutes.pdf\r\nX-Injected: yes\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>.pdf"
    job = httpx.post(f"{live}/documents", files={"file": (name, pdf, "application/pdf")}, headers=EDITOR, timeout=30)
    if job.status_code == 202:
        for _ in range(300):
            state = httpx.get(f"{live}/jobs/{job.json()['id']}", headers=EDITOR, timeout=10).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        listed = httpx.get(f"{live}/documents", headers=READER, timeout=10).json()["documents"]
        uploaded = [d for d in listed if d["source"] == "upload"]
        for doc in uploaded:
            assert "\r" not in doc["file"] and "\n" not in doc["file"] and "<" not in doc["file"]
            download = httpx.get(f"{live}/documents/{doc['id']}/file", headers=READER, timeout=10)
            assert "x-injected" not in download.headers
            assert download.headers["content-type"] == "application/pdf"
    else:  # refused outright is as good: with a message
        assert job.status_code in (400, 422) and job.json()["detail"]
