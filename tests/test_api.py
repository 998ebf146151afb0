"""The HTTP API through FastAPI's in-process client, over a fixture pack indexed into real stores.

The fake embedder stands in for MiniLM: these tests are about the service, not what the model retrieves.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import detail_of
from core.errors import InvalidRequest, RateLimited, StoreError
from qa.service import QAService

from conftest import LiveServer, free_port, indexed_settings, make_settings, papers_with_pack, wait_for_job

GRANGEWATERS = "What did we decide about Grangewaters?"


@pytest.fixture(scope="module")
def client(pack_index, fake_embedder) -> TestClient:
    return TestClient(create_app(pack_index, QAService(pack_index, embedder=fake_embedder)))


def test_ask_answers_per_the_contract(client):
    response = client.post("/ask", json={"question": GRANGEWATERS, "filters": {"until": "2023-02-01"}, "top_k": 5})
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
    blank = client.post("/ask", json={"question": "  \n "})
    assert blank.status_code == 422 and blank.json()["detail"] == "question: empty: type a question in words"
    too_long = client.post("/ask", json={"question": "why " * 400})
    assert too_long.status_code == 422 and "question" in too_long.text
    assert client.post("/ask", json={"question": "x", "top_k": 0}).status_code == 422
    assert client.post("/ask", json={"question": "x", "filters": {"since": "March"}}).status_code == 422


def test_citation_url_opens_the_pdf(client):
    citation = client.post("/ask", json={"question": GRANGEWATERS}).json()["citations"][0]
    response = client.get(citation["url"].split("#")[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert client.get("/documents/nope/file").status_code == 404


def test_documents_passages_health_and_ready(client):
    documents = client.get("/documents").json()["documents"]
    assert [d["file"] for d in documents] == ["pack.pdf"] and documents[0]["meeting_date"] == "2023-03-14"
    assert (documents[0]["status"], documents[0]["source"], documents[0]["pages"]) == ("indexed", "papers folder", 8)
    assert "path" not in documents[0]  # readers are not shown where the server keeps files
    citation = client.post("/ask", json={"question": GRANGEWATERS}).json()["citations"][0]
    passage = client.get(f"/passages/{citation['passage_id']}").json()
    assert passage["minute"] == "13" and passage["meeting_date"] == str(dt.date(2023, 1, 10))
    assert client.get("/passages/nope").status_code == 404
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["ready"] and ready["documents"] == 1 and ready["passages"] > 0


def test_filters_limit_what_ask_answers_from(client):
    """Each filter of POST /ask reaches the search: the answer changes when a filter takes its passages away."""
    ask = lambda **filters: client.post("/ask", json={"question": GRANGEWATERS, "filters": filters}).json()
    unfiltered = ask()
    assert unfiltered["citations"][0]["meeting_date"] == "2023-01-10"
    assert ask(until="2023-01-10")["citations"][0]["meeting_date"] == "2023-01-10"  # a meeting on the bound is in
    assert ask(since="2023-01-10")["citations"][0]["meeting_date"] == "2023-01-10"
    for excluded in (
        {"until": "2023-01-09"},
        {"since": "2023-01-11", "until": "2023-03-01"},
        {"doc_type": "report"},
        {"committee": "Planning Committee"},
        {"document": "no-such-file.pdf"},
    ):
        answer = ask(**excluded)
        assert all(c["meeting_date"] != "2023-01-10" for c in answer["citations"] + answer["see_also"]), excluded
    kept = ask(committee="CHILDREN'S SERVICES OVERVIEW AND SCRUTINY COMMITTEE", document="pack.pdf")
    assert kept["citations"] == unfiltered["citations"]


def test_not_ready_before_anything_is_indexed(tmp_path, fake_embedder):
    settings = make_settings(tmp_path / "empty")
    client = TestClient(create_app(settings, QAService(settings, embedder=fake_embedder)))
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and "qa index" in ready.json()["reason"]
    assert client.post("/ask", json={"question": "anything"}).status_code == 503


@pytest.mark.model
@pytest.mark.slow
def test_qa_serve_runs_a_real_server(tmp_path, sample_pack_pdf):
    """`qa serve` starts uvicorn on the given port and answers over HTTP (the installed command, the real model)."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    config = tmp_path / "config.toml"
    config.write_text('[index]\npaths = ["papers"]\ndata_dir = "data"\n')
    env = {**os.environ, "QA_CONFIG": str(config)}
    subprocess.run([sys.executable, "-m", "cli", "index"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
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
        answer = httpx.post(
            f"http://127.0.0.1:{port}/ask", json={"question": "What did we decide about Grangewaters?"}, timeout=30
        ).json()
        assert answer["citations"][0]["page_label"] == "14"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def secured(client) -> TestClient:
    """The same index and service, behind API keys, a CORS origin and a small rate limit."""
    settings = client.app.state.settings.model_copy(deep=True)
    settings.api.keys = {"reader-key": "reader", "editor-key": "editor"}
    settings.api.cors_origins = ["https://intranet.example"]
    settings.api.requests_per_minute = 5
    return TestClient(create_app(settings, client.app.state.service))


READER_ROUTES = [
    ("post", "/ask", {"json": {"question": "Grangewaters?"}}),
    ("post", "/ask/stream", {"json": {"question": "Grangewaters?"}}),
    ("get", "/documents", {}),
    ("get", "/jobs/some-job", {}),
    ("get", "/passages/some-passage", {}),
    ("get", "/documents/some-doc/file", {}),
    ("get", "/documents/some-doc/pages/1.png?quote=x", {}),
]
EDITOR_ROUTES = [
    ("post", "/documents", {"files": {"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}}),
    ("delete", "/documents/some-doc", {}),
]


@pytest.mark.parametrize("method,path,kwargs", READER_ROUTES + EDITOR_ROUTES)
def test_every_route_needs_a_key_when_keys_are_configured(secured, method, path, kwargs):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic cmVhZGVyLWtleQ=="}):
        refused = getattr(secured, method)(path, headers=headers, **kwargs)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", (path, headers)
        assert refused.json() == {"detail": "a valid API key is needed: Authorization: Bearer KEY"}


@pytest.mark.parametrize("method,path,kwargs", EDITOR_ROUTES)
def test_a_reader_may_not_do_an_editors_work(secured, method, path, kwargs):
    forbidden = getattr(secured, method)(path, headers={"Authorization": "Bearer reader-key"}, **kwargs)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "this key's role (reader) may not do this; it needs editor"}


def test_readers_and_editors_may_read(secured):
    for key in ("reader-key", "editor-key"):
        assert secured.get("/documents", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert secured.get("/health").status_code == 200  # liveness needs no key


def test_with_no_keys_anyone_may_read_but_nobody_may_change_the_papers(client):
    assert client.get("/documents").status_code == 200
    upload = client.post("/documents", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert upload.status_code == 403
    assert upload.json() == {
        "detail": "no API keys are configured (api.keys): uploads, deletes and feedback lists need an editor key"
    }
    assert client.delete("/documents/some-doc").status_code == 403


def test_rate_limit_per_key_and_keys_never_logged(secured, caplog):
    import logging

    from api.access import key_label

    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": "Bearer editor-key"}
    codes = [secured.post("/ask", headers=headers, json={"question": "Grangewaters?"}).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    limited = secured.get("/documents", headers=headers)
    retry = limited.headers["retry-after"]
    assert limited.status_code == 429 and int(retry) > 0
    assert limited.json() == {"detail": f"more than 5 requests a minute; try again in {retry} s"}
    assert re.fullmatch(r"key-[0-9a-f]{8}", key_label("editor-key"))  # the form the README promises the log
    assert f"POST /ask by {key_label('editor-key')}" in caplog.text  # what was asked, and by whom
    assert (
        secured.get("/documents", headers={"Authorization": "Bearer reader-key"}).status_code == 200
    )  # its own budget
    secured.get("/documents", headers={"Authorization": "Bearer wrong-secret-key"})
    assert key_label("editor-key") in caplog.text  # callers are logged, by label
    for key in ("editor-key", "reader-key", "wrong-secret-key"):
        assert key not in caplog.text


def test_cors_admits_only_the_configured_origin(secured):
    allowed = secured.options(
        "/ask",
        headers={
            "Origin": "https://intranet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://intranet.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    other = secured.options("/ask", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers
    answered = secured.post(
        "/ask",
        headers={"Origin": "https://intranet.example", "Authorization": "Bearer reader-key"},
        json={"question": "Grangewaters?"},
    )
    assert answered.headers.get("access-control-allow-origin") == "https://intranet.example"
    refused = secured.post(
        "/ask",
        headers={"Origin": "https://evil.example", "Authorization": "Bearer reader-key"},
        json={"question": "Grangewaters?"},
    )
    assert "access-control-allow-origin" not in refused.headers


def test_bodies_over_the_limit_are_refused_before_they_are_read(secured):
    big = secured.post(
        "/ask",
        headers={"Authorization": "Bearer reader-key", "Content-Type": "application/json"},
        content=b'{"question": "' + b"x" * 70_000 + b'"}',
    )
    assert big.status_code == 413 and "KB" in big.json()["detail"]

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(100):
            yield b"x" * 1024

    streamed = secured.post(
        "/ask", headers={"Authorization": "Bearer reader-key", "Content-Type": "application/json"}, content=chunks()
    )
    assert streamed.status_code == 413
    # An upload without a key is refused before its body is read: a malformed form would otherwise answer 400/422 first.
    no_key = secured.post(
        "/documents", headers={"Content-Type": "multipart/form-data; boundary=zzz"}, content=b"x" * 2**20
    )
    assert no_key.status_code == 401


def test_rate_limit_holds_with_no_keys_configured(client):
    """Without keys callers are told apart by address, and each still has its budget a minute."""
    settings = client.app.state.settings.model_copy(deep=True)
    settings.api.requests_per_minute = 3
    app = create_app(settings, client.app.state.service)
    one, other = TestClient(app, client=("10.0.0.1", 50000)), TestClient(app, client=("10.0.0.2", 50000))
    codes = [one.get("/documents").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert int(one.get("/documents").headers["retry-after"]) > 0
    assert other.get("/documents").status_code == 200  # another address, its own budget


def test_no_keys_configured_is_warned_about(tmp_path, fake_embedder, caplog):
    import logging

    settings = make_settings(tmp_path / "data")
    with caplog.at_level(logging.WARNING, logger="api.app"):
        create_app(settings, QAService(settings, embedder=fake_embedder))
    assert "no API keys are configured" in caplog.text


def test_page_image_highlights_the_quote(client):
    import io

    import pymupdf

    citation = client.post("/ask", json={"question": "How many schools used the centre?"}).json()["citations"][0]
    url = f"/documents/{citation['document']['id']}/pages/{citation['page']}.png"
    plain = client.get(url)
    marked = client.get(url, params={"quote": citation["quote"]})
    assert plain.status_code == marked.status_code == 200 and marked.headers["content-type"] == "image/png"
    assert marked.content.startswith(b"\x89PNG") and marked.content != plain.content  # the highlight changed pixels
    size = pymupdf.Pixmap(io.BytesIO(marked.content).getvalue()).width
    assert size > 500
    from qa.pages import _quote_rects

    path = client.app.state.service.snapshot().documents()[citation["document"]["id"]].path
    with pymupdf.open(path) as pdf:
        assert _quote_rects(pdf[citation["page"] - 1], citation["quote"])  # the quote was found to highlight
    assert client.get(f"/documents/{citation['document']['id']}/pages/99.png").status_code == 404
    assert client.get("/documents/nope/pages/1.png").status_code == 404


def _events(text: str) -> list[tuple[str, object]]:
    import json

    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_ask_stream_sends_answer_then_citations_then_done(client):
    question = {"question": GRANGEWATERS}
    with client.stream("POST", "/ask/stream", json=question) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.read().decode())
    names = [name for name, _ in events]
    assert names[0] == "started" and names[-2:] == ["citations", "done"] and "answer" in names
    done = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "answer") == done["answer"]
    assert events[-2][1] == done["citations"] and done == client.post("/ask", json=question).json() | {
        "timings_ms": done["timings_ms"]
    }
    assert client.post("/ask/stream", json={"question": "why " * 400}).status_code == 422


@pytest.fixture
def library_client(tmp_path, sample_pack_pdf, fake_embedder) -> TestClient:
    """A service of its own whose index starts with the fixture pack, for uploads and deletes."""
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    settings = indexed_settings(tmp_path / "data", [papers], fake_embedder)
    settings.api.keys = {"reader-key": "reader", "editor-key": "editor"}
    settings.api.max_upload_mb = 0.5
    settings.api.requests_per_minute = 0  # polling jobs; the limit is tested on its own
    return TestClient(create_app(settings, QAService(settings, embedder=fake_embedder)))


EDITOR = {"Authorization": "Bearer editor-key"}
READER = {"Authorization": "Bearer reader-key"}


def test_upload_is_indexed_in_the_background_then_answers_and_can_be_deleted(library_client, tmp_path):
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    pdf = make_pdf(
        tmp_path / "in.pdf",
        [
            PageSpec(
                [
                    "Skate Park Consultation Report",
                    *wrap("The new skate park at Blackshots will open in May 2027. " + FILLER),
                ],
                footer="Page 1",
            )
        ],
        title="Skate Park Consultation Report",
    )
    job = library_client.post(
        "/documents",
        headers=EDITOR,
        files={"file": ("../../../etc/skate park.pdf", pdf.read_bytes(), "application/pdf")},
    )
    assert job.status_code == 202 and job.json()["status"] in ("queued", "running", "done")
    done = wait_for_job(library_client, job.json(), READER)
    assert done["status"] == "done" and done["passages"] > 0
    files = [d for d in library_client.get("/documents", headers=READER).json()["documents"]]
    uploaded = next(d for d in files if d["id"] == done["document_id"])
    assert uploaded["file"] == "skate park.pdf" and (uploaded["source"], uploaded["status"]) == ("upload", "indexed")
    stored = library_client.app.state.service.snapshot().documents()[uploaded["id"]].path
    assert Path(stored).parent == library_client.app.state.library.folder  # the name never leaves the upload folder
    answer = library_client.post(
        "/ask", headers=READER, json={"question": "When will the skate park at Blackshots open?"}
    ).json()
    assert (
        answer["citations"][0]["document"]["id"] == done["document_id"]
        and "May 2027" in answer["citations"][0]["quote"]
    )

    assert library_client.delete(f"/documents/{done['document_id']}", headers=READER).status_code == 403
    removal = library_client.delete(f"/documents/{done['document_id']}", headers=EDITOR)
    assert removal.status_code == 202 and wait_for_job(library_client, removal.json(), READER)["status"] == "done"
    assert done["document_id"] not in [
        d["id"] for d in library_client.get("/documents", headers=READER).json()["documents"]
    ]
    assert [d["file"] for d in library_client.get("/documents", headers=READER).json()["documents"]] == ["pack.pdf"]


def test_uploads_are_indexed_after_the_apps_lifespan_is_started_again(library_client, tmp_path):
    """A shut-down app started once more (test clients and Schemathesis start and stop the lifespan around their
    requests) indexes uploads again: its shutdown had stopped the indexing worker for good."""
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    for run in range(2):
        with library_client:  # startup, then shutdown when the block ends
            pdf = make_pdf(tmp_path / f"in-{run}.pdf", [PageSpec([f"Report {run}", *wrap(FILLER)], footer="Page 1")])
            files = {"file": (pdf.name, pdf.read_bytes(), "application/pdf")}
            job = library_client.post("/documents", files=files, headers=EDITOR)
            assert job.status_code == 202, job.text
            assert wait_for_job(library_client, job.json(), EDITOR)["status"] == "done"


def test_uploads_refused_clearly(library_client):
    assert (
        library_client.post(
            "/documents", headers=READER, files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}
        ).status_code
        == 403
    )
    not_pdf = library_client.post(
        "/documents", headers=EDITOR, files={"file": ("notes.pdf", b"hello", "application/pdf")}
    )
    assert not_pdf.status_code == 415 and "not a PDF" in not_pdf.json()["detail"]
    too_big = library_client.post(
        "/documents", headers=EDITOR, files={"file": ("big.pdf", b"%PDF" + b"0" * 600_000, "application/pdf")}
    )
    assert too_big.status_code == 413
    broken = library_client.post(
        "/documents", headers=EDITOR, files={"file": ("broken.pdf", b"%PDF-1.4 broken", "application/pdf")}
    )
    failed = wait_for_job(library_client, broken.json(), READER)
    assert failed["status"] == "failed" and "broken.pdf" in failed["error"]
    assert library_client.get("/jobs/nope", headers=READER).status_code == 404
    # A misspelt field (here "Restricted" for "restricted") is refused, never read as a public upload.
    misspelt = library_client.post(
        "/documents",
        headers=EDITOR,
        data={"Restricted": "true"},
        files={"file": ("exempt.pdf", b"%PDF-1.4 exempt", "application/pdf")},
    )
    assert misspelt.status_code == 422
    assert misspelt.json()["detail"] == (
        "Restricted: unknown field (an upload has `file` and, optionally, `restricted`)"
    )
    assert "exempt.pdf" not in {d["file"] for d in library_client.get("/documents", headers=EDITOR).json()["documents"]}


def test_papers_from_the_configured_folder_are_not_deleted_over_http(library_client):
    doc = library_client.get("/documents", headers=READER).json()["documents"][0]
    refused = library_client.delete(f"/documents/{doc['id']}", headers=EDITOR)
    assert refused.status_code == 409 and "qa index" in refused.json()["detail"]
    assert library_client.delete("/documents/nope", headers=EDITOR).status_code == 404


def test_demo_page_and_widget_are_served_without_external_assets(client):
    import re

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'widget.src = "/widget.js"' in page.text  # the demo page loads the widget (with a key, if given)
    script = client.get("/widget.js")
    style = client.get("/widget.css")
    assert script.headers["content-type"].startswith("text/javascript") and style.headers["content-type"].startswith(
        "text/css"
    )
    code = "\n".join(
        line for line in script.text.splitlines() if not line.lstrip().startswith("//")
    )  # usage comments aside
    for asset in (page.text, code, style.text):
        # Nothing fetched from outside the service: the intranet may have no internet.
        assert not re.search(
            r"""(?:src|href)=["']https?://|@import|url\(\s*["']?https?:|fonts\.googleapis|cdn""", asset
        )
    # Document text only ever goes in as text, never as markup: no HTML sink appears in the widget at all.
    sinks = re.findall(
        r"\b(?:innerHTML|outerHTML|insertAdjacentHTML|document\.write(?:ln)?|srcdoc|"
        r"createContextualFragment|DOMParser|parseHTMLUnsafe|setHTMLUnsafe)\b|\.html\(",
        code,
    )
    assert sinks == [] and "textContent" in script.text
    assert "/ask/stream" in script.text and "aria-live" in script.text


def test_openapi_docs_are_served_without_a_cdn_and_declare_the_bearer_key(client):
    import re

    docs = client.get("/docs")
    assert docs.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text) + re.findall(r"url: ?'([^']+)'", docs.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"/ask", "/ask/stream", "/documents", "/jobs/{job_id}", "/ready"} <= set(schema["paths"])


def test_an_upload_left_unindexed_by_a_stop_is_indexed_at_start(tmp_path, sample_pack_pdf, fake_embedder):
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    embedder = fake_embedder
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    settings = indexed_settings(tmp_path / "data", [papers], embedder)
    # Stored by POST /documents, then the service stopped before its job ran.
    make_pdf(
        tmp_path / "data" / "uploads" / "ferry.pdf",
        [PageSpec(["Ferry Timetable Report", *wrap("The Tilbury ferry timetable changes in April 2027. " + FILLER)])],
    )
    client = TestClient(create_app(settings, QAService(settings, embedder=embedder)))
    (job,) = client.app.state.library.jobs.values()
    assert job.file == "ferry.pdf" and wait_for_job(client, job.model_dump())["status"] == "done"
    assert sorted(d["file"] for d in client.get("/documents").json()["documents"]) == ["ferry.pdf", "pack.pdf"]
    restarted = TestClient(create_app(settings, QAService(settings, embedder=embedder)))
    assert restarted.app.state.library.jobs == {}  # indexed now: nothing to resume


def test_jobs_queued_behind_a_delete_each_report_their_own_document(library_client, tmp_path):
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    def paper(name: str, topic: str) -> bytes:
        pages = [
            PageSpec([f"{topic} Report", *wrap(f"The {topic} scheme is reviewed in 2027. " + FILLER)], footer="Page 1")
        ]
        return make_pdf(tmp_path / name, pages, title=f"{topic} Report").read_bytes()

    first = wait_for_job(
        library_client,
        library_client.post(
            "/documents", headers=EDITOR, files={"file": ("a.pdf", paper("a.pdf", "Cycle Lane"))}
        ).json(),
        READER,
    )
    removal = library_client.delete(f"/documents/{first['document_id']}", headers=EDITOR).json()
    long_name = "é" * 200 + ".pdf"  # 400 bytes of UTF-8: more than a file system allows a name
    second = library_client.post(
        "/documents", headers=EDITOR, files={"file": (long_name, paper("b.pdf", "Bus Shelter"))}
    ).json()
    assert wait_for_job(library_client, removal, READER)["status"] == "done"
    second = wait_for_job(library_client, second, READER)
    assert second["status"] == "done" and second["document_id"] and second["passages"] > 0
    listed = {d["id"]: d for d in library_client.get("/documents", headers=READER).json()["documents"]}
    assert first["document_id"] not in listed and len(listed[second["document_id"]]["file"].encode()) <= 255


def test_questions_beyond_the_answer_slots_wait_their_turn(client):
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    settings = client.app.state.settings.model_copy(deep=True)
    settings.api.answer_slots = 1
    app = create_app(settings, client.app.state.service)
    answering, most = 0, 0
    lock = threading.Lock()
    real_ask = app.state.service.ask

    def counted_ask(*args, **kwargs):
        nonlocal answering, most
        with lock:
            answering += 1
            most = max(most, answering)
        time.sleep(0.05)
        try:
            return real_ask(*args, **kwargs)
        finally:
            with lock:
                answering -= 1

    app.state.service = type("Counted", (), {"ask": staticmethod(counted_ask)})()
    test = TestClient(app)
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: test.post("/ask", json={"question": "Grangewaters?"}).status_code, range(8)))
    assert codes == [200] * 8 and most == 1


def test_only_the_latest_finished_jobs_are_kept(library_client, monkeypatch):
    import indexer.library

    monkeypatch.setattr(indexer.library, "KEPT_FINISHED_JOBS", 2)
    library = library_client.app.state.library
    jobs = [
        wait_for_job(
            library_client,
            library_client.post(
                "/documents", headers=EDITOR, files={"file": (f"bad{n}.pdf", b"%PDF-1.4 broken")}
            ).json(),
            READER,
        )
        for n in range(4)
    ]
    library_client.post("/documents", headers=EDITOR, files={"file": ("bad4.pdf", b"%PDF-1.4 broken")})
    kept = [job["id"] for job in jobs if library_client.get(f"/jobs/{job['id']}", headers=READER).status_code == 200]
    assert kept == [jobs[2]["id"], jobs[3]["id"]] and len(library.jobs) <= 3


def test_rate_limit_slides_and_forgets_quiet_callers():
    from api.access import RateLimiter

    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 60
    now[0] = 60.0
    limiter.check("a")  # the first two have slid out of the minute
    for n in range(1001):
        limiter.check(f"caller-{n}")
    now[0] = 200.0
    limiter.check("late")
    assert set(limiter._seen) == {"late"}


def test_rate_limit_tells_how_long_to_wait_to_the_second():
    from api.access import RateLimiter

    now = [10.0]
    limiter = RateLimiter(1, clock=lambda: now[0])
    limiter.check("a")  # at 10 s: the minute slides until 70 s
    now[0] = 30.0
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 40
    now[0] = 69.5
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 1  # half a second, rounded up to a whole one
    now[0] = 70.0
    limiter.check("a")  # exactly a minute later it is in again


def test_rate_limit_forgets_callers_only_when_there_are_many_and_only_the_quiet_ones():
    from api.access import RateLimiter

    now = [0.0]
    limiter = RateLimiter(5, clock=lambda: now[0])
    for n in range(1000):
        limiter.check(f"caller-{n}")
    now[0] = 60.0
    limiter.check("one more")  # 1000 known callers is not yet "many": nobody is forgotten
    assert len(limiter._seen) == 1001
    limiter.check("another")  # now over 1000: those quiet for a minute (exactly, here) go, the others stay
    assert set(limiter._seen) == {"one more", "another"}
    now[0] = 100.0
    for n in range(1001):
        limiter.check(f"late-{n}")
    now[0] = 110.0
    limiter.check("late-0")  # nobody has been quiet for a minute: nobody is forgotten
    assert len(limiter._seen) == 1003


def test_an_indexing_process_that_dies_mid_job_fails_that_job_alone(tmp_path, sample_pack_pdf, fake_embedder):
    """Uploads are indexed in a process of their own (api.index_jobs = "process"). Killed mid-embedding, its job
    fails saying so, the index is as it was, answers go on, and the next upload starts a new process and is
    indexed."""
    import os
    import signal

    from fakes import GateFileEmbedder
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    settings = indexed_settings(
        tmp_path / "data", [papers_with_pack(tmp_path / "papers", sample_pack_pdf)], fake_embedder
    )
    settings.api.keys = {"editor-key": "editor"}
    assert settings.api.index_jobs == "process"
    waiting, gate = tmp_path / "embedding", tmp_path / "go-on"
    client = TestClient(create_app(settings, QAService(settings, embedder=GateFileEmbedder(str(waiting), str(gate)))))
    before = client.post("/ask", json={"question": GRANGEWATERS}, headers=EDITOR).json()

    def upload(name: str, topic: str) -> dict:
        specs = [
            PageSpec([f"{topic} Review", *wrap(f"The {topic.lower()} review, part {n}. " + FILLER * 3)])
            for n in range(1, 4)
        ]
        pdf = make_pdf(tmp_path / name, specs, title=f"{topic} Review")
        return client.post("/documents", files={"file": (name, pdf.read_bytes())}, headers=EDITOR).json()

    job = upload("allotments.pdf", "Allotments")
    deadline = time.monotonic() + 60
    while not waiting.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert waiting.exists(), "the job never reached embedding"
    library = client.app.state.library
    indexing_pid = library._process.pid
    assert indexing_pid is not None and indexing_pid != os.getpid()
    assert client.get(f"/jobs/{job['id']}", headers=EDITOR).json()["stage"].startswith("embedding")
    os.kill(indexing_pid, signal.SIGKILL)
    failed = wait_for_job(client, job, EDITOR)
    assert failed["status"] == "failed"
    assert failed["error"] == "the indexing process ended (killed by SIGKILL); the index is as it was"
    assert [d["file"] for d in client.get("/documents", headers=EDITOR).json()["documents"]] == ["pack.pdf"]
    assert client.post("/ask", json={"question": GRANGEWATERS}, headers=EDITOR).json()["answer"] == before["answer"]

    gate.touch()
    done = wait_for_job(client, upload("sheltered.pdf", "Sheltered Housing"), EDITOR)
    assert done["status"] == "done", done
    assert library._process.pid not in (None, indexing_pid)
    files = {d["file"] for d in client.get("/documents", headers=EDITOR).json()["documents"]}
    assert files == {"pack.pdf", "sheltered.pdf"}
    client.app.state.library.close()
    assert library._process.pid is None


class GatedEmbedder:
    """The fake embedder, except that embedding a paper's passages (more than one text) waits for `release`:
    the test decides when indexing may finish, so it can watch the service while a job is in the middle."""

    def __init__(self, inner):
        self.inner = inner
        self.name, self.max_tokens, self.dimension = inner.name, inner.max_tokens, inner.dimension
        self.count_tokens = inner.count_tokens
        self.embedding = threading.Event()
        self.release = threading.Event()

    def embed(self, texts):
        if len(texts) > 1:
            self.embedding.set()
            assert self.release.wait(60), "the test never released the indexing job"
        return self.inner.embed(texts)


def test_answers_keep_coming_while_a_paper_is_indexed(tmp_path, sample_pack_pdf, fake_embedder, monkeypatch):
    """An upload is indexed in the background; /ask answers from the published index all the while (held once
    mid-embedding and once mid-publishing), and every snapshot a question may read holds each document whole or
    not at all. Then the upload is removed the same way."""
    import httpx

    from indexer.stores import IndexStore

    from pdfs import FILLER, PageSpec, make_pdf, wrap

    gated = GatedEmbedder(fake_embedder)
    publishing, published = threading.Event(), threading.Event()
    write_lexical = IndexStore._write_lexical

    def held_publish(store, path, passages):  # Chroma written, the lexical index not yet: mid-publish
        publishing.set()
        assert published.wait(60), "the test never let the publish go on"
        return write_lexical(store, path, passages)

    settings = indexed_settings(
        tmp_path / "data", [papers_with_pack(tmp_path / "papers", sample_pack_pdf)], fake_embedder
    )
    settings.api.keys = {"editor-key": "editor"}
    settings.api.index_jobs = "thread"  # the job is held at points in this process
    qa = QAService(settings, embedder=gated)
    extra = [
        PageSpec(
            ["Allotments Review", *wrap(f"The allotment waiting list is reviewed in section {n}. " + FILLER * 3)],
            footer=f"Page {n}",
        )
        for n in range(1, 25)
    ]
    pdf = make_pdf(tmp_path / "allotments.pdf", extra, title="Allotments Review")
    auth = {"Authorization": "Bearer editor-key"}

    def still_answering(http: httpx.Client) -> None:
        for _ in range(2):
            reply = http.post("/ask", json={"question": GRANGEWATERS})
            assert reply.status_code == 200 and reply.json()["citations"][0]["page_label"] == "14"
            snapshot = qa.snapshot()  # what the next answer will read: every document whole, or not there
            counts = Counter(p.doc_id for p in snapshot.passages.values())
            assert {d.id: d.passages for d in snapshot.manifest.documents} == dict(counts)
            assert snapshot.vector_count() == sum(counts.values())

    monkeypatch.setattr(IndexStore, "_write_lexical", held_publish)
    with (
        LiveServer(create_app(settings, qa)) as server,
        httpx.Client(base_url=server.url, headers=auth, timeout=30) as http,
    ):
        job = http.post("/documents", files={"file": ("allotments.pdf", pdf.read_bytes())}).json()
        assert gated.embedding.wait(30), "the job never started embedding"
        status = http.get(f"/jobs/{job['id']}").json()
        assert status["status"] == "running" and status["stage"].startswith("embedding")
        assert "allotments.pdf" in status["stage"]
        listed = {d["file"]: d["status"] for d in http.get("/documents").json()["documents"]}
        assert listed["allotments.pdf"] == "indexing"
        still_answering(http)
        gated.release.set()
        assert publishing.wait(30), "the job never started publishing"
        assert http.get(f"/jobs/{job['id']}").json()["stage"] == "publishing the index"
        still_answering(http)
        published.set()
        done = wait_for_job(http, job)
        assert done["status"] == "done" and done["stage"] is None and done["finished_at"]
        after = http.post("/ask", json={"question": "What is reviewed about the allotment waiting list?"}).json()
        assert after["citations"][0]["document"]["file"] == "allotments.pdf"
        assert Counter(p.doc_id for p in qa.snapshot().passages.values())[done["document_id"]] == done["passages"] > 0
        removal = http.delete(f"/documents/{done['document_id']}").json()
        assert wait_for_job(http, removal)["status"] == "done"
        assert [d["file"] for d in http.get("/documents").json()["documents"]] == ["pack.pdf"]
        still_answering(http)


class BrokenService:
    """Stands in for QAService where a test needs a given failure from /ask: every question raises `error`."""

    def __init__(self, real: QAService, error: Exception):
        self.embedder, self.real, self.error = real.embedder, real, error

    def ask(self, *args, **kwargs):
        raise self.error

    def snapshot(self):
        return self.real.snapshot()


@pytest.mark.parametrize(
    "error, status",
    [
        (RuntimeError("a bug"), 500),
        (StoreError("the vector store does not answer"), 503),
        (InvalidRequest("question: longer than 10 characters"), 422),
    ],
)
def test_the_stream_ends_in_an_error_event_for_any_failure(client, error, status):
    app = create_app(client.app.state.settings, BrokenService(client.app.state.service, error))
    with TestClient(app).stream("POST", "/ask/stream", json={"question": GRANGEWATERS}) as response:
        assert response.status_code == 200  # the stream had started: its end says what happened
        events = _events(response.read().decode())
    assert [name for name, _ in events] == ["started", "error"]
    detail = events[-1][1]
    assert detail["status"] == status
    assert detail["detail"] == detail_of(error)  # the same words /ask would give
    if status < 500:
        assert detail["detail"] == str(error)
    else:  # the error's own words (a bug's, the store's address) stay in the log
        assert str(error) not in detail["detail"]


def test_every_field_of_every_response_and_request_is_described_in_the_schema(client):
    """/docs explains the contract: each field of the records the API takes and returns says what it holds."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    ours = [
        "Answer",
        "Citation",
        "DocumentRef",
        "Timings",
        "SearchFilters",
        "AskRequest",
        "Job",
        "PaperStatus",
        "DocumentList",
        "Passage",
        "PageSpan",
        "Readiness",
        "Health",
        "ErrorBody",
    ]
    undescribed = [
        f"{name}.{field}"
        for name in ours
        for field, spec in schemas[name]["properties"].items()
        if not spec.get("description")
    ]
    assert undescribed == []


def test_the_page_image_says_where_the_highlight_is_and_how_many_pages_there_are(client):
    import pymupdf

    citation = client.post("/ask", json={"question": GRANGEWATERS}).json()["citations"][0]
    url = f"/documents/{citation['document']['id']}/pages/{citation['page']}.png"
    marked = client.get(url, params={"quote": citation["quote"]})
    plain = client.get(url)
    assert marked.headers["x-page-count"] == plain.headers["x-page-count"] == str(citation["document"]["pages"])
    assert "x-highlight" not in plain.headers
    top, bottom, left, right = (float(x) for x in marked.headers["x-highlight"].split(","))
    assert 0 <= left < right <= 1 and marked.headers["x-page-label"] == citation["page_label"]
    path = client.app.state.service.snapshot().documents()[citation["document"]["id"]].path
    with pymupdf.open(path) as pdf:
        page = pdf[citation["page"] - 1]
        found = page.search_for(citation["quote"].split(".")[0][:40])[0]
        assert top - 0.001 <= found.y0 / page.rect.height <= bottom + 0.001  # the band holds the quote (4 places)


def test_citations_name_their_section_in_words_and_decisions_read_as_one_answer(client):
    body = client.post("/ask", json={"question": GRANGEWATERS}).json()
    first = body["citations"][0]
    assert first["section_words"].startswith("minute 13")
    assert "qa decisions" not in body["answer"]
    lead = body["answer"].split("\n")[0]
    assert lead.startswith("On 10 January 2023 (minute 13") and lead.endswith("[1]")  # the first line answers


def test_suggestions_are_drawn_from_the_indexed_papers(client):
    response = client.get("/suggestions")
    assert response.status_code == 200
    questions = response.json()["questions"]
    assert "What did the committee decide at its last meeting?" in questions
    assert any("Grangewaters" in q for q in questions)  # a minute title of the newest minuted meeting


def test_decisions_are_the_registers_entries_by_topic_date_and_status(client):
    body = client.get("/decisions", params={"q": "Grangewaters"}).json()
    assert body["topic"] == "Grangewaters"
    assert [(d["meeting_date"], d["point"], d["status"], d["page"]) for d in body["decisions"]] == [
        ("2023-01-10", "1", "noted", 4),
        ("2023-01-10", "2", "resolved", 4),
        ("2023-01-10", "3", "not agreed", 4),
    ]
    assert (
        client.get("/decisions", params={"q": "Grangewaters", "status": "resolved"})
        .json()["decisions"][0]["text"]
        .startswith("2) That the Committee agree to the proposed lease extension")
    )
    assert client.get("/decisions", params={"q": "Grangewaters", "until": "2022-12-31"}).json()["decisions"] == []
    assert client.get("/decisions", params={"q": "Grangewaters", "status": "maybe"}).status_code == 422
    # No topic: every decision within the dates and status (a clerk's "everything deferred").
    everything = client.get("/decisions").json()["decisions"]
    assert [(d["minute"], d["status"]) for d in everything] == [
        ("13", "noted"),
        ("13", "resolved"),
        ("13", "not agreed"),
        ("14", "deferred"),
    ]
    deferred = client.get("/decisions", params={"status": "deferred"}).json()["decisions"]
    assert [(d["minute"], d["section"]) for d in deferred] == [("14", "Minute 14: Youth Cabinet Update")]
    assert client.get("/decisions", params={"since": "2023-02-01"}).json()["decisions"] == []


def test_meetings_list_packs_and_minutes_and_one_meeting_its_items_and_decisions(client):
    listed = client.get("/meetings").json()["meetings"]
    by_date = {m["date"]: m for m in listed}
    assert list(by_date) == sorted(by_date)  # oldest first
    january, march = by_date["2023-01-10"], by_date["2023-03-14"]
    # January's minutes are printed in March's pack; March's own minutes are not in the papers yet.
    assert january["minutes_in_papers"] and [d["file"] for d in january["minutes_printed_in"]] == ["pack.pdf"]
    assert not march["minutes_in_papers"] and [d["file"] for d in march["packs"]] == ["pack.pdf"]
    detail = client.get("/meetings/2023-01-10").json()
    assert january["decisions"] == len(detail["decision_list"]) == 4
    points = [(d["minute"], d["point"], d["status"]) for d in detail["decision_list"]]
    assert [p for p in points if p[0] == "13"] == [
        ("13", "1", "noted"),
        ("13", "2", "resolved"),
        ("13", "3", "not agreed"),
    ]
    assert [p[2] for p in points if p[0] != "13"] == ["deferred"]  # the Youth Cabinet update, deferred
    # What happened next to it: March's agenda has no Youth Cabinet item.
    assert [d["follow_ups"] for d in detail["decision_list"] if d["status"] == "deferred"] == [
        [
            {
                "seen": False,
                "meeting_date": None,
                "explanation": "not seen in the papers indexed here, up to the meeting of 14 March 2023",
                "item": None,
            }
        ]
    ]
    items = client.get("/meetings/2023-03-14").json()["items"]
    assert items and all(i["document"]["file"] == "pack.pdf" for i in items)
    assert [int(i["number"]) for i in items] == sorted(int(i["number"]) for i in items)
    assert client.get("/meetings/2019-05-05").status_code == 404
    assert client.get("/meetings/May").status_code == 422


def test_a_decision_asked_of_a_meeting_whose_minutes_are_not_in_the_papers_says_so(client):
    body = client.post("/ask", json={"question": "What did we decide at the March 2023 meeting?"}).json()
    assert body["missing"][0] == "the minutes of the March 2023 meeting"
    assert body["answer"].startswith("The papers don't give the minutes of the March 2023 meeting")
    minuted = client.post("/ask", json={"question": "What did we decide at the January 2023 meeting?"}).json()
    assert not any("minutes" in m for m in minuted["missing"]) and not minuted["abstained"]


def test_a_decision_answer_carries_its_timeline(client):
    body = client.post("/ask", json={"question": GRANGEWATERS}).json()
    assert [(t["n"], t["meeting_date"], t["status"], t["point"]) for t in body["timeline"]] == [
        (1, "2023-01-10", "noted", "1"),
        (2, "2023-01-10", "resolved", "2"),
        (3, "2023-01-10", "not agreed", "3"),
    ]
    assert all(t["where"].startswith("minute 13") for t in body["timeline"])
    other = client.post("/ask", json={"question": "How many schools used the centre?"}).json()
    assert other["timeline"] == []  # not a decision answer


def test_an_unknown_or_misspelt_query_parameter_is_refused_naming_it(client):
    """A misspelt filter would otherwise widen the answer silently."""
    refused = client.get("/decisions", params={"q": "Grangewaters", "untill": "2020-01-01"})
    assert refused.status_code == 422 and refused.json() == {"detail": "untill: unknown query parameter"}
    assert client.get("/decisions", params={"q": "Grangewaters", "until": "2020-01-01"}).status_code == 200
    bad_date = client.get("/decisions", params={"until": "0"})
    assert bad_date.status_code == 422 and bad_date.json()["detail"].startswith("until: ")


def test_qa_serve_logs_a_line_a_request_without_its_query_string(client, capsys):
    """`qa serve` writes the project's INFO lines (one a request: method, path, status, time) to standard error;
    the query string, which can hold a topic or a quote, stays out unless api.log_queries."""
    import logging

    from cli.main import OWN_LOGGERS, service_logging

    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level) for name in OWN_LOGGERS}
    try:
        service_logging()
        service_logging()  # idempotent: still one line a request
        client.get("/decisions?q=Mrs Smith's foster placement")
        err = capsys.readouterr().err
    finally:
        for name, (handlers, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.level, logger.propagate = handlers, level, True
    lines = [line for line in err.splitlines() if "api.app: GET /decisions" in line]
    assert len(lines) == 1 and re.fullmatch(r"INFO +api\.app: GET /decisions 200 \d+ ms", lines[0]), err
    assert "Smith" not in err


def test_an_upload_while_another_run_holds_the_data_directory_waits_its_turn(library_client, tmp_path):
    """Replicas sharing one data directory (or `qa index` run beside the service) take turns: the job waits for
    the lock, saying so, and is indexed once it is free, instead of failing as busy."""
    from filelock import FileLock

    from pdfs import FILLER, PageSpec, make_pdf, wrap

    settings = library_client.app.state.settings
    pdf = make_pdf(tmp_path / "kiosk.pdf", [PageSpec(["Kiosk Report", *wrap("The kiosk opens in June. " + FILLER)])])
    with FileLock(str(Path(settings.data_dir) / "index.lock")):  # another indexing run, in another process
        job = library_client.post(
            "/documents", headers=EDITOR, files={"file": ("kiosk.pdf", pdf.read_bytes(), "application/pdf")}
        ).json()
        deadline = time.monotonic() + 60
        while library_client.get(f"/jobs/{job['id']}", headers=EDITOR).json()["stage"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1)
        waiting = library_client.get(f"/jobs/{job['id']}", headers=EDITOR).json()
        assert waiting["status"] == "running", waiting
        assert waiting["stage"] == "waiting for another indexing run on this data directory to finish"
    done = wait_for_job(library_client, job, EDITOR)
    assert done["status"] == "done", done
    assert "kiosk.pdf" in {d["file"] for d in library_client.get("/documents", headers=EDITOR).json()["documents"]}
