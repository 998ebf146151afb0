"""Restricted (exempt, "Part II") papers: found by their markers or by path, whole or one report inside a public pack;
members read them, readers never see their text or existence anywhere, and a reader's search leaves them out before
ranking."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pymupdf
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import AppContext, cli
from indexer.pipeline import Indexer
from qa.service import QAService

from conftest import KEYS, legal_advice, make_settings
from pdfs import exempt_paper, sample_pack

MEMBER = {"Authorization": "Bearer member-key"}
READER = {"Authorization": "Bearer reader-key"}
EDITOR = {"Authorization": "Bearer editor-key"}

# Questions whose answers lie only in the restricted papers (the exempt report of the pack, the exempt paper and the
# paper restricted by its path).
SECRET_QUESTIONS = [
    "What rent has the landlord of the Quillfeather boathouse offered?",
    "When does the Marchbanks tender close?",
    "How much is the Marchbanks rival bid?",
    "What happens if we decline the Quillfeather offer?",
    "Who is the report on boathouse lease negotiations from?",
    "What did officers recommend about the boathouse lease?",
    "When will the Zanthorpe children's home close?",
    "How many staff work at Zanthorpe?",
    "How much will redeploying the Zanthorpe staff cost?",
    "Which reserve pays for the Zanthorpe redeployment?",
    "What is the staffing review about?",
    "Is any children's home closing?",
    "What legal advice did the council get on the Ashgrove academy transfer?",
    "How much did the Ashgrove legal advice cost?",
    "Who gave the legal advice on Ashgrove?",
    "Tell me about the boathouse.",
    "What lease offers has the council received?",
    "What exempt reports are on the March agenda?",
    "What are the rival bids for the boathouse site?",
    "What does the report of the Strategic Lead for Outdoor Education say?",
]


@pytest.fixture(scope="module")
def service(restricted_index, fake_embedder) -> QAService:
    return QAService(restricted_index, embedder=fake_embedder)


@pytest.fixture(scope="module")
def client(restricted_index, service) -> TestClient:
    return TestClient(create_app(restricted_index, service))


def restricted_texts(settings) -> list[str]:
    """Every sentence-long run of words printed only in the restricted papers and report (5-word shingles not in
    any public page), for checking that no byte of them reaches a reader."""

    def shingles(text: str) -> set[str]:
        words = re.findall(r"[\w£,.']+", text.lower())
        return {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}

    papers = Path(settings.index.paths[0])
    secret, public = set(), set()
    with pymupdf.open(papers / "march.pdf") as pdf:
        secret |= shingles(pdf[2].get_text() + pdf[3].get_text())
        public |= shingles(pdf[0].get_text() + pdf[1].get_text())
    for name in ("zanthorpe.pdf", "confidential/ashgrove.pdf"):
        with pymupdf.open(papers / name) as pdf:
            secret |= shingles("".join(page.get_text() for page in pdf))
    with pymupdf.open(papers / "pack.pdf") as pdf:
        public |= shingles("".join(page.get_text() for page in pdf))
    return sorted(secret - public)


def without_echo(body: str) -> str:
    """A JSON response without what only repeats the caller's own words (the question, the topic, what the papers
    were searched for or do not give): the check is for words of the papers."""

    def drop(value):
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k not in ("question", "topic", "searched_for", "missing",
                                                                      "spelling")}  # fmt: skip
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return json.dumps(drop(json.loads(body)), ensure_ascii=False)


def words_of(body: str) -> str:
    return " ".join(re.findall(r"[\w£,.']+", body.lower()))


def test_the_indexer_marks_whole_papers_one_report_of_a_pack_and_papers_by_path(service):
    docs = {d.file: d for d in service.snapshot().manifest.documents}
    assert (docs["march.pdf"].restricted, docs["march.pdf"].restricted_items, docs["march.pdf"].restricted_pages) == (
        False,
        ["6"],
        [3, 4],
    )
    assert docs["zanthorpe.pdf"].restricted and docs["ashgrove.pdf"].restricted
    assert not docs["pack.pdf"].restricted and not docs["pack.pdf"].restricted_items
    march = [p for p in service.snapshot().passages.values() if p.file == "march.pdf"]
    assert {p.item for p in march if p.restricted} == {"6"}
    assert any(not p.restricted and "Riverside" in p.text for p in march)


def test_a_member_is_answered_from_restricted_papers_and_told_so(client):
    body = client.post("/ask", json={"question": SECRET_QUESTIONS[0]}, headers=MEMBER).json()
    assert "48,250" in body["answer"]
    assert body["citations"] and all(c["restricted"] for c in body["citations"] if "48,250" in c["quote"])
    public = client.post(
        "/ask", json={"question": "How many visits did the Riverside Play Centre get?"}, headers=MEMBER
    )
    assert not any(c["restricted"] for c in public.json()["citations"])


def test_no_byte_of_a_restricted_paper_reaches_a_reader(client, restricted_index):
    """20 questions answered only by restricted papers, asked as a reader (and with no key the service would refuse):
    no run of five words from those papers appears in any response, stream, listing or error."""
    secret = restricted_texts(restricted_index)
    assert len(secret) > 50
    bodies = []
    for question in SECRET_QUESTIONS:
        bodies.append(without_echo(client.post("/ask", json={"question": question}, headers=READER).text))
        stream = client.post("/ask/stream", json={"question": question}, headers=READER).text
        bodies += [without_echo(line[6:]) for line in stream.splitlines() if line.startswith("data: ")]
        bodies.append(without_echo(client.get("/decisions", params={"q": question[:60]}, headers=READER).text))
    for path in ("/documents", "/meetings", "/meetings/2023-03-14", "/suggestions", "/decisions", "/ready"):
        bodies.append(client.get(path, headers=READER).text)
    seen = words_of(" ".join(bodies))
    leaked = [s for s in secret if s in seen]
    assert leaked == []
    # Words of the papers that no question uses (a reader's own words may come back: "The papers don't give X").
    for fact in ("brightwater", "48,250", "51,900", "312,400", "7,925", "redeployed", "transformation reserve"):
        assert fact not in seen
    # A member asking the same is answered from them: the check above can fail.
    member = client.post("/ask", json={"question": SECRET_QUESTIONS[6]}, headers=MEMBER).text
    assert any(s in words_of(member) for s in secret)


def test_restricted_ids_answer_404_exactly_as_unknown_ids(client, service):
    snapshot = service.snapshot()
    hidden = next(p for p in snapshot.passages.values() if p.restricted)
    zanthorpe = next(d for d in snapshot.manifest.documents if d.file == "zanthorpe.pdf")
    for member_sees, unknown in (
        (f"/passages/{hidden.id}", "/passages/0000000000000000-0000"),
        (f"/documents/{zanthorpe.id}/file", "/documents/0000000000000000/file"),
        (f"/documents/{zanthorpe.id}/pages/1.png", "/documents/0000000000000000/pages/1.png"),
    ):
        assert client.get(member_sees, headers=MEMBER).status_code == 200
        as_reader, as_unknown = client.get(member_sees, headers=READER), client.get(unknown, headers=READER)
        assert as_reader.status_code == as_unknown.status_code == 404
        asked, other = member_sees.split("/")[2], unknown.split("/")[2]
        assert as_reader.json()["detail"] == as_unknown.json()["detail"].replace(other, asked)
    listed = {d["file"] for d in client.get("/documents", headers=READER).json()["documents"]}
    assert "zanthorpe.pdf" not in listed and "ashgrove.pdf" not in listed and "march.pdf" in listed
    assert {"zanthorpe.pdf", "ashgrove.pdf"} <= {
        d["file"] for d in client.get("/documents", headers=MEMBER).json()["documents"]
    }


def test_a_reader_gets_the_public_pack_with_the_exempt_reports_pages_empty(client, service):
    march = next(d for d in service.snapshot().manifest.documents if d.file == "march.pdf")
    as_reader = client.get(f"/documents/{march.id}/file", headers=READER)
    as_member = client.get(f"/documents/{march.id}/file", headers=MEMBER)
    assert as_reader.status_code == as_member.status_code == 200
    with pymupdf.open(stream=as_reader.content, filetype="pdf") as pdf:
        assert len(pdf) == 4  # page numbers still agree with citations
        assert "Riverside" in pdf[1].get_text()
        assert pdf[2].get_text().strip() == "" and pdf[3].get_text().strip() == ""
        assert "Quillfeather" not in (pdf.metadata or {}).get("title", "")
    with pymupdf.open(stream=as_member.content, filetype="pdf") as pdf:
        assert "Quillfeather" in pdf[2].get_text()
    image = client.get(f"/documents/{march.id}/pages/3.png", params={"quote": "Quillfeather"}, headers=READER)
    assert image.status_code == 200 and "X-Highlight" not in image.headers  # an empty page: nothing to mark


def test_a_readers_answer_is_as_if_the_restricted_papers_were_not_indexed(tmp_path, restricted_index, service,
                                                                          fake_embedder):  # fmt: skip
    """Restricted passages are left out before ranking: the same public answer as an index without them."""
    import shutil

    papers = tmp_path / "papers"
    papers.mkdir()
    source = Path(restricted_index.index.paths[0])
    shutil.copy(source / "pack.pdf", papers / "pack.pdf")
    alone = make_settings(tmp_path / "data", [papers])
    assert Indexer(alone, embedder=fake_embedder).run().ok
    without = QAService(alone, embedder=fake_embedder)
    for question in ("How many schools used Grangewaters?", "What did we decide about the boathouse?"):
        reader = service.ask(question, members=False)
        assert reader.answer == without.ask(question).answer
        assert [(c.document.file, c.page, c.quote) for c in reader.citations] == [
            (c.document.file, c.page, c.quote) for c in without.ask(question).citations
        ]


def restricted_index_documents(settings):
    from indexer.stores import IndexStore

    return IndexStore(settings).manifest().documents


def test_the_command_line_has_full_rights_but_can_answer_as_a_reader(restricted_index, fake_embedder, monkeypatch):
    config = Path(restricted_index.index.data_dir).parent / "config.toml"
    config.write_text(
        f'[index]\npaths = ["{restricted_index.index.paths[0]}"]\ndata_dir = "{restricted_index.index.data_dir}"\n'
        '[access]\nrestricted_paths = ["*/confidential/*"]\n'
    )
    run = CliRunner().invoke
    full = run(cli, ["--config", str(config), "ask", SECRET_QUESTIONS[7]], obj=AppContext(embedder=fake_embedder))
    assert full.exit_code == 0, full.output
    assert "23 staff" in full.output and "RESTRICTED: members only" in full.output
    reader = run(cli, ["--config", str(config), "ask", SECRET_QUESTIONS[7], "--role", "reader", "--json"],
                 obj=AppContext(embedder=fake_embedder))  # fmt: skip
    assert reader.exit_code == 0, reader.output
    assert "23 staff" not in reader.stdout and "zanthorpe.pdf" not in reader.stdout
    assert not any(c["restricted"] for c in json.loads(reader.stdout)["citations"])
    listing = run(cli, ["--config", str(config), "docs"], obj=AppContext(embedder=fake_embedder))
    whole = {d.file for d in restricted_index_documents(restricted_index) if d.restricted}
    assert listing.exit_code == 0 and listing.output.count("RESTRICTED") == len(whole) == 2
    assert "exempt item" in listing.output  # the public pack holding one exempt report


def test_no_keys_means_public_papers_only(restricted_index, service):
    settings = restricted_index.model_copy(deep=True)
    settings.api.keys = {}
    open_client = TestClient(create_app(settings, service))
    body = words_of(without_echo(open_client.post("/ask", json={"question": SECRET_QUESTIONS[8]}).text))
    assert "312,400" not in body and "transformation reserve" not in body
    assert "zanthorpe.pdf" not in open_client.get("/documents").text


def test_an_upload_marked_restricted_is_for_members_only(tmp_path, fake_embedder):
    settings = make_settings(tmp_path / "data", [])
    settings.api.keys = dict(KEYS)
    settings.api.requests_per_minute = 0
    papers = tmp_path / "in"
    papers.mkdir()
    with TestClient(create_app(settings, QAService(settings, embedder=fake_embedder))) as client:
        public = sample_pack(papers / "pack.pdf").read_bytes()
        marked = exempt_paper(papers / "staffing.pdf", markers=False).read_bytes()  # nothing in its text says so
        jobs = [
            client.post("/documents", files={"file": ("pack.pdf", public, "application/pdf")}, headers=EDITOR),
            client.post(
                "/documents",
                files={"file": ("staffing.pdf", marked, "application/pdf")},
                data={"restricted": "true"},
                headers=EDITOR,
            ),
        ]
        assert [j.status_code for j in jobs] == [202, 202]
        job_id = jobs[1].json()["id"]
        assert client.get(f"/jobs/{job_id}", headers=READER).status_code == 404
        for _ in range(300):
            if client.get(f"/jobs/{job_id}", headers=EDITOR).json()["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert client.get(f"/jobs/{job_id}", headers=EDITOR).json()["status"] == "done"
        for _ in range(300):
            if client.get(f"/jobs/{jobs[0].json()['id']}", headers=EDITOR).json()["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        listed = {d["file"]: d for d in client.get("/documents", headers=MEMBER).json()["documents"]}
        assert listed["staffing.pdf"]["restricted"] and not listed["pack.pdf"]["restricted"]
        assert "staffing.pdf" not in client.get("/documents", headers=READER).text
        assert "23 staff" not in client.post("/ask", json={"question": "Zanthorpe staff?"}, headers=READER).text
        assert "23 staff" in client.post("/ask", json={"question": "How many Zanthorpe staff?"}, headers=MEMBER).text
        bad = client.post(
            "/documents", files={"file": ("x.pdf", public, "application/pdf")}, data={"restricted": "perhaps"},
            headers=EDITOR,
        )  # fmt: skip
        assert bad.status_code == 422 and "restricted" in bad.json()["detail"]


def test_restricted_reads_are_audited_by_key_label_and_logs_hold_no_question_or_key(
    restricted_index, service, tmp_path, caplog
):
    import logging

    from api.access import key_label
    from api.audit import AuditLog

    settings = restricted_index.model_copy(deep=True)
    settings.api.audit_file = tmp_path / "audit.jsonl"
    audited = TestClient(create_app(settings, service))
    caplog.set_level(logging.DEBUG)
    question = "How much will redeploying the Zanthorpe staff cost?"
    audited.post("/ask", json={"question": question}, headers=READER)
    audited.post("/ask", json={"question": question}, headers=MEMBER)
    hidden = next(p for p in service.snapshot().passages.values() if p.restricted)
    audited.get(f"/passages/{hidden.id}", headers=MEMBER)
    audited.get("/decisions", params={"q": "Zanthorpe redeployment"}, headers=READER)
    events = AuditLog(settings.api.audit_file).read()
    assert [(e["by"], e["action"], e["what"]) for e in events] == [
        (key_label("member-key"), "restricted", "zanthorpe.pdf"),
        (key_label("member-key"), "restricted", f"{hidden.file} ({hidden.id})"),
    ]
    logged = server_log(caplog)
    assert "GET /decisions 200" in logged  # each request is logged ...
    for secret in ("member-key", "reader-key", "Zanthorpe", "redeploy"):  # ... without keys, questions or topics
        assert secret not in logged
    settings.api.log_queries = True
    caplog.clear()
    TestClient(create_app(settings, service)).get("/decisions", params={"q": "Zanthorpe"}, headers=READER)
    assert "GET /decisions?q=Zanthorpe 200" in server_log(caplog)


def server_log(caplog) -> str:
    """What the service logged (not the test client's own httpx lines, which name the URL it asked)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("api", "qa", "indexer", "core"))


def test_changed_access_rules_take_effect_on_a_plain_qa_index_without_embedding_again(tmp_path, fake_embedder):
    """Papers indexed as public, then `access.restricted_paths` set to name one: the next plain `qa index` (no file
    changed) reads the papers indexed under the old rules again, embeds nothing, and the reader no longer sees the
    paper; a paper not named in that run (an upload, say) is worked out again too. Setting the rules back makes
    it public again."""
    from indexer.stores import open_snapshot

    papers, elsewhere = tmp_path / "papers", tmp_path / "elsewhere"
    papers.mkdir()
    elsewhere.mkdir()
    sample_pack(papers / "pack.pdf")
    legal_advice(papers / "ashgrove-advice.pdf")
    note = legal_advice(elsewhere / "ashgrove-note.pdf")
    note.write_bytes(note.read_bytes() + b"\n% another file, not a duplicate\n")
    settings = make_settings(tmp_path / "data", [papers])
    Indexer(settings, embedder=fake_embedder).run([papers, elsewhere])

    def restricted_files() -> set[str]:
        snapshot = open_snapshot(settings)
        assert snapshot is not None
        return {doc.file for doc in snapshot.manifest.documents if doc.restricted}

    assert restricted_files() == set()
    settings.access.restricted_paths = ["*ashgrove*"]
    report = Indexer(settings, embedder=fake_embedder).run([papers])  # "elsewhere" not named in this run
    assert report.ok and report.embedded == 0
    assert {d.file for d in report.indexed} == {"pack.pdf", "ashgrove-advice.pdf", "ashgrove-note.pdf"}
    assert restricted_files() == {"ashgrove-advice.pdf", "ashgrove-note.pdf"}
    answer = QAService(settings, embedder=fake_embedder).ask("Who gave the legal advice on Ashgrove?", members=False)
    member = QAService(settings, embedder=fake_embedder).ask("Who gave the legal advice on Ashgrove?", members=True)
    assert {c.document.file for c in answer.citations} <= {"pack.pdf"}
    assert {c.document.file for c in member.citations} & {"ashgrove-advice.pdf", "ashgrove-note.pdf"}
    again = Indexer(settings, embedder=fake_embedder).run([papers])
    assert again.indexed == [] and len(again.unchanged) == 2  # the rules are the papers' own now

    settings.access.restricted_paths = []
    Indexer(settings, embedder=fake_embedder).run([papers])
    assert restricted_files() == set()


def test_a_readers_misspelling_is_never_corrected_to_a_word_only_restricted_papers_use(service):
    """Spelling correction knows the words of the papers the caller may read: a member's "Quillfeathr" is the exempt
    report's "Quillfeather"; a reader's is left as typed, or the correction would say that the word is indexed."""
    question = "What rent has the landlord of the Quillfeathr boathouse offered?"
    member = service.ask(question)
    reader = service.ask(question, members=False)
    assert [(fix.typed, fix.searched) for fix in member.spelling] == [("Quillfeathr", "Quillfeather")]
    assert reader.spelling == []
    assert "quillfeath" not in service._current(members=False).retriever.corpus._idf
    assert "quillfeath" in service._current().retriever.corpus._idf
