"""Members' feedback on answers: the SQLite store, POST/GET /feedback, and `qa feedback list` and `export`.

The app answers from the sample pack (the fake embedder) but keeps its feedback in a data directory of each test's
own, so the shared index is never written to.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.access import key_label
from api.app import create_app
from api.feedback import FEEDBACK_FILE, FeedbackRequest, FeedbackStore
from cli.main import cli
from core.errors import GoldFileError, InvalidRequest
from core.settings import Settings
from eval.gold import GoldQuestion, load_gold
from qa.service import QAService

from conftest import make_settings

READER = {"Authorization": "Bearer reader-key"}
EDITOR = {"Authorization": "Bearer editor-key"}
T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def feedback(question: str = "What did we decide about Grangewaters?", **fields: object) -> dict:
    body: dict = {
        "question": question,
        "answer": "On 10 January 2023 the committee agreed [1].",
        "citations": [{"file": "pack.pdf", "page": 4, "page_label": "14", "quote": "RESOLVED: that the centre"}],
        "abstained": False,
        "partial": False,
        "helpful": True,
    }
    return body | fields


@pytest.fixture(scope="module")
def service(pack_index, fake_embedder) -> QAService:
    return QAService(pack_index, embedder=fake_embedder)


@pytest.fixture
def app_settings(pack_index, tmp_path) -> Settings:
    """The pack's settings with keys, and a data directory of this test's own for the feedback."""
    settings = pack_index.model_copy(deep=True)
    settings.index.data_dir = tmp_path / "data"
    settings.api.keys = {"reader-key": "reader", "editor-key": "editor"}
    settings.api.requests_per_minute = 0
    return settings


@pytest.fixture
def client(app_settings, service) -> TestClient:
    return TestClient(create_app(app_settings, service))


def test_concurrent_writes_from_several_threads_are_all_stored(tmp_path):
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    threads, per_thread = 8, 24
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        start.wait()
        try:
            for i in range(per_thread):
                store.add(feedback(f"question {n}-{i}?", helpful=i % 2 == 0))
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    stored = store.list(limit=None)
    assert len(stored) == threads * per_thread == len({r.id for r in stored})
    assert {r.question for r in stored} == {f"question {n}-{i}?" for n in range(threads) for i in range(per_thread)}
    assert len(store.list(helpful=False, limit=None)) == threads * per_thread // 2
    store.close()
    with sqlite3.connect(tmp_path / FEEDBACK_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_survive_closing_and_reopening_the_store(tmp_path):
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    first = store.add(feedback(helpful=False, comment="wrong meeting"), now=T0)
    second = store.add(FeedbackRequest.model_validate(feedback("Who chairs it?", abstained=True)), now=T0)
    store.close()
    reopened = FeedbackStore(tmp_path / FEEDBACK_FILE)
    assert reopened.list() == [second, first]  # newest first; equal time, so the later id first
    assert reopened.list()[1].citations[0].page_label == "14" and reopened.list()[1].comment == "wrong meeting"
    reopened.close()


def test_feedback_survives_a_restart_of_the_service(app_settings, service):
    posted = TestClient(create_app(app_settings, service)).post("/feedback", json=feedback(), headers=READER)
    assert posted.status_code == 201
    restarted = TestClient(create_app(app_settings, service))
    assert restarted.get("/feedback", headers=EDITOR).json()["feedback"] == [posted.json()]


def test_post_stores_the_answer_as_ask_returned_it(client):
    answer = client.post("/ask", json={"question": "What did we decide about Grangewaters?"}, headers=READER).json()
    body = {k: answer[k] for k in ("question", "answer", "citations", "abstained", "partial")}
    posted = client.post("/feedback", json=body | {"helpful": False, "comment": "not this one"}, headers=READER)
    assert posted.status_code == 201
    record = posted.json()
    assert record["id"] >= 1 and record["time"].startswith(str(dt.datetime.now(dt.UTC).year))
    first = answer["citations"][0]
    assert record["citations"][0] == {
        "file": first["document"]["file"],
        "page": first["page"],
        "page_label": first["page_label"],
        "quote": first["quote"],
    }
    assert client.get("/feedback", headers=EDITOR).json()["feedback"] == [record]


@pytest.mark.parametrize(
    "body,field",
    [
        (feedback(question=""), "question"),
        (feedback(question="   "), "question"),
        (feedback(question="why " * 400), "question"),  # over api.max_question_chars, as /ask refuses it
        (feedback(comment="x" * 2001), "comment"),
        (feedback(api_key="reader-key"), "api_key: unknown field"),
        (feedback(helpful="perhaps"), "helpful"),
        ({k: v for k, v in feedback().items() if k != "helpful"}, "helpful"),
        (feedback(citations=[{"file": "pack.pdf", "page": 0, "quote": "x"}]), "citations.0.page"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, body, field):
    refused = client.post("/feedback", json=body, headers=READER)
    assert refused.status_code == 422
    assert field in refused.json()["detail"], refused.json()
    assert client.get("/feedback", headers=EDITOR).json()["feedback"] == []


def test_the_store_refuses_bad_input_with_invalid_request(tmp_path):
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    with pytest.raises(InvalidRequest, match="comment"):
        store.add(feedback(comment="x" * 2001))
    with pytest.raises(InvalidRequest, match="question"):
        store.add(feedback(question=""))
    with pytest.raises(InvalidRequest, match="label: unknown field"):
        store.add(feedback(label="key-1234"))
    assert store.list() == []
    store.close()


def test_listing_needs_an_editor_and_posting_a_reader(client):
    assert client.post("/feedback", json=feedback()).status_code == 401
    assert client.post("/feedback", json=feedback(), headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/feedback", json=feedback(), headers=READER).status_code == 201
    assert client.post("/feedback", json=feedback(helpful=False), headers=EDITOR).status_code == 201
    no_key = client.get("/feedback")
    assert no_key.status_code == 401 and no_key.headers["www-authenticate"] == "Bearer"
    reader = client.get("/feedback", headers=READER)
    assert reader.status_code == 403 and "needs editor" in reader.json()["detail"]
    assert len(client.get("/feedback", headers=EDITOR).json()["feedback"]) == 2


def test_with_no_keys_anyone_may_post_but_nobody_may_list(app_settings, service):
    app_settings.api.keys = {}
    open_client = TestClient(create_app(app_settings, service))
    assert open_client.post("/feedback", json=feedback()).status_code == 201
    assert open_client.get("/feedback").status_code == 403


def test_get_filters_by_thumbs_time_and_limit(client, app_settings):
    store: FeedbackStore = client.app.state.feedback
    store.add(feedback("old, unhelpful", helpful=False), now=T0)
    store.add(feedback("new, helpful"), now=T0 + dt.timedelta(days=10))
    store.add(feedback("new, unhelpful", helpful=False), now=T0 + dt.timedelta(days=11))
    listed = lambda query: [r["question"] for r in client.get(f"/feedback?{query}", headers=EDITOR).json()["feedback"]]
    assert listed("") == ["new, unhelpful", "new, helpful", "old, unhelpful"]
    assert listed("helpful=false") == ["new, unhelpful", "old, unhelpful"]
    assert listed("helpful=true") == ["new, helpful"]
    assert listed("since=2026-01-15") == ["new, unhelpful", "new, helpful"]
    assert listed("since=2026-01-16T09:30:00%2B00:00&helpful=false") == ["new, unhelpful"]
    assert listed("limit=1") == ["new, unhelpful"]
    for query, field in (("limit=0", "limit"), ("since=March", "since"), ("helpful=perhaps", "helpful")):
        refused = client.get(f"/feedback?{query}", headers=EDITOR)
        assert refused.status_code == 422 and refused.json()["detail"].startswith(field), refused.json()


def test_no_key_material_is_stored(client, app_settings):
    assert client.post("/feedback", json=feedback(comment="useful"), headers=READER).status_code == 201
    client.app.state.feedback.close()
    path = app_settings.data_dir / FEEDBACK_FILE
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(feedback)")]
        values = db.execute("SELECT * FROM feedback").fetchall()
    assert columns == [
        "id",
        "time",
        "question",
        "answer",
        "citations",
        "abstained",
        "partial",
        "helpful",
        "comment",
    ]
    stored = "".join(str(v) for row in values for v in row) + "".join(
        p.read_bytes().decode("latin-1") for p in path.parent.glob(FEEDBACK_FILE + "*")
    )
    assert "reader-key" not in stored and key_label("reader-key") not in stored


def test_retention_prunes_old_rows_on_add_and_at_start(tmp_path, app_settings, service):
    now = [T0]
    store = FeedbackStore(tmp_path / FEEDBACK_FILE, retention_days=30, clock=lambda: now[0])
    store.add(feedback("first"))
    now[0] = T0 + dt.timedelta(days=20)
    store.add(feedback("second"))
    now[0] = T0 + dt.timedelta(days=31)
    assert [r.question for r in store.list()] == ["second", "first"]  # listing does not prune
    assert store.prune() == 1
    assert [r.question for r in store.list()] == ["second"]
    now[0] = T0 + dt.timedelta(days=60)
    store.add(feedback("third"))  # adding prunes too
    assert [r.question for r in store.list()] == ["third"]
    assert store.prune(now=T0 + dt.timedelta(days=1000)) == 1
    store.close()

    app_settings.feedback.retention_days = 7
    kept = FeedbackStore.of(app_settings)
    kept.add(feedback("a year ago"), now=dt.datetime.now(dt.UTC) - dt.timedelta(days=365))
    kept.add(feedback("yesterday"), now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    kept.close()
    started = TestClient(create_app(app_settings, service))  # the service prunes as it starts
    assert [r["question"] for r in started.get("/feedback", headers=EDITOR).json()["feedback"]] == ["yesterday"]


def test_an_unusable_database_does_not_stop_the_service(app_settings, service, caplog):
    (app_settings.data_dir / FEEDBACK_FILE).mkdir(parents=True)  # a folder where the database should be
    broken = TestClient(create_app(app_settings, service))
    assert "feedback cannot be stored" in caplog.text
    assert broken.get("/health").status_code == 200
    refused = broken.post("/feedback", json=feedback(), headers=READER)
    assert refused.status_code == 503 and str(app_settings.data_dir) not in refused.text  # paths stay in the log


def test_the_feedback_schema_is_described_with_examples(client):
    schema = client.get("/openapi.json").json()
    schemas = schema["components"]["schemas"]
    undescribed = [
        f"{name}.{field}"
        for name in ("FeedbackRequest", "FeedbackRecord", "FeedbackCitation", "FeedbackList")
        for field, spec in schemas[name]["properties"].items()
        if not spec.get("description")
    ]
    assert undescribed == []
    for example in schemas["FeedbackRequest"]["examples"]:
        FeedbackRequest.model_validate(example)
    post, get = schema["paths"]["/feedback"]["post"], schema["paths"]["/feedback"]["get"]
    assert set(post["responses"]) >= {"201", "401", "422", "503"} and set(get["responses"]) >= {"200", "401", "403"}
    assert all(p.get("description") for p in get["parameters"])


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("QA_DATA_DIR", raising=False)
    monkeypatch.delenv("QA_CONFIG", raising=False)
    config = tmp_path / "config.toml"
    config.write_text('[index]\ndata_dir = "data"\n')
    return config


def test_qa_feedback_export_writes_drafts_of_only_the_unhelpful_and_abstained(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    store = FeedbackStore(tmp_path / "data" / FEEDBACK_FILE)
    store.add(feedback("Too old to export?", helpful=False), now=T0 - dt.timedelta(days=30))
    store.add(feedback("Answered well?"), now=T0)
    store.add(feedback("Who chairs the panel?", helpful=False, comment="wrong person"), now=T0 + dt.timedelta(hours=1))
    store.add(feedback("What is the budget for 2031?", abstained=True), now=T0 + dt.timedelta(hours=2))
    store.add(feedback("who chairs  the panel?", helpful=False), now=T0 + dt.timedelta(hours=3))  # asked again
    store.close()
    out = tmp_path / "drafts.jsonl"

    result = CliRunner().invoke(
        cli, ["--config", str(config), "feedback", "export", "--out", str(out), "--since", "2026-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert "2 draft questions" in result.output
    drafts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["question"] for d in drafts] == ["What is the budget for 2031?", "who chairs  the panel?"]
    budget, chairs = drafts
    assert (budget["kind"], chairs["kind"]) == ("unanswerable", "general")
    assert chairs["feedback"]["count"] == 2 and chairs["feedback"]["comment"] is None
    assert budget["feedback"]["abstained"] and budget["feedback"]["answer"].startswith("On 10 January")
    for draft in drafts:
        assert draft["split"] == "draft" and draft["answerable"] is None and draft["expected"] == []
        assert "DRAFT" in draft["notes"] and draft["feedback"]["time"].startswith("2026-01-05")
        # The shape of eval/questions.jsonl: once reviewed (and `feedback` removed) it is a gold question.
        reviewed = {k: v for k, v in draft.items() if k not in ("feedback", "split")} | {"answerable": False}
        GoldQuestion.model_validate(reviewed)
    with pytest.raises(GoldFileError):  # as drafts they cannot be mistaken for gold
        load_gold(out)

    everything = CliRunner().invoke(cli, ["--config", str(config), "feedback", "export"])
    assert everything.exit_code == 0
    questions = [json.loads(line)["question"] for line in everything.stdout.splitlines()]
    assert questions == ["Too old to export?", "What is the budget for 2031?", "who chairs  the panel?"]


def test_qa_feedback_list(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch)
    runner = CliRunner()
    empty = runner.invoke(cli, ["--config", str(config), "feedback", "list"])
    assert empty.exit_code == 0 and "No feedback stored yet" in empty.output
    assert not (tmp_path / "data").exists()  # reading made no database
    store = FeedbackStore(tmp_path / "data" / FEEDBACK_FILE)
    store.add(feedback("Who chairs the panel?", helpful=False, comment="wrong person", abstained=True), now=T0)
    store.close()
    listed = runner.invoke(cli, ["--config", str(config), "feedback", "list"])
    assert listed.exit_code == 0
    assert "#1  2026-01-05 09:30 UTC  unhelpful, abstained  Who chairs the panel?" in listed.output
    assert "comment: wrong person" in listed.output
    as_json = json.loads(runner.invoke(cli, ["--config", str(config), "feedback", "list", "--json"]).output)
    assert as_json["feedback"][0]["comment"] == "wrong person" and as_json["feedback"][0]["helpful"] is False


def test_feedback_settings_default_and_validate():
    assert Settings().feedback.retention_days == 365
    with pytest.raises(ValueError, match="retention_days"):
        Settings.model_validate({"feedback": {"retention_days": 0}})
    assert FeedbackStore.of(make_settings(Path("/srv/qa"))).path == Path("/srv/qa") / FEEDBACK_FILE
