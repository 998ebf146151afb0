"""One error tree (core.errors), turned into exit codes by the CLI and statuses by the API, one place each.

For every class: the table entry, then the command line's exit code and the HTTP status for a real failure of
that class where one can be caused, and for the rest the error raised through the real command and route.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import INTERNAL, PUBLIC, STATUS, status_of
from cli.main import EXIT_CODES, AppContext, cli, exit_code_of
from core import errors
from core.errors import QAError, lookup

# Exit code (0 done, 1 failed, 2 usage or configuration: ../shared/contract.md) and HTTP status of every class.
EXPECTED = {
    errors.QAError: (1, 500),
    errors.ConfigError: (2, 500),
    errors.ModelError: (2, 500),
    errors.PromptError: (2, 500),
    errors.InvalidRequest: (2, 422),
    errors.TooLarge: (2, 413),
    errors.NotAPDF: (2, 415),
    errors.AccessDenied: (1, 403),
    errors.NotAuthenticated: (1, 401),
    errors.NotPermitted: (1, 403),
    errors.RateLimited: (1, 429),
    errors.NotFound: (1, 404),
    errors.Conflict: (1, 409),
    errors.NotIndexedError: (1, 503),
    errors.IndexBusyError: (1, 503),
    errors.IndexingFailed: (1, 500),  # reported on its job, never as a response
    errors.ReadError: (1, 422),
    errors.StoreError: (1, 503),
    errors.StoreUnavailable: (1, 503),
    errors.GoldFileError: (2, 500),
    errors.EvalError: (1, 500),
}


def all_error_classes() -> set[type[QAError]]:
    found, todo = set(), [QAError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def make(cls: type[QAError]) -> QAError:
    return cls("the message for the user", 7) if cls is errors.RateLimited else cls("the message for the user")


def test_the_tree_is_drawn_in_full_and_every_class_has_both_answers():
    assert all_error_classes() == set(EXPECTED)
    drawing = errors.__doc__ or ""
    assert all(cls.__name__ in drawing for cls in EXPECTED)
    assert {cls: (exit_code_of(make(cls)), status_of(make(cls))) for cls in EXPECTED} == EXPECTED
    assert set(EXIT_CODES) <= set(EXPECTED) and set(STATUS) <= set(EXPECTED)
    assert status_of(RuntimeError("a bug")) == 500


class Failing:
    """Stands in for QAService: every question and topic raises the given error."""

    embedder = None

    def __init__(self, error: Exception):
        self.error = error

    def ask(self, *args, **kwargs):
        raise self.error

    decisions = ask

    def snapshot(self):
        raise self.error


class FailingContext(AppContext):
    def __init__(self, error: Exception):
        super().__init__()
        self.error = error

    def service(self):
        return Failing(self.error)


@pytest.fixture
def no_config(tmp_path, monkeypatch):
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "empty.toml"))
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.parametrize("cls", sorted(EXPECTED, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_each_error_through_the_command_line_and_the_api(cls, no_config, pack_index, fake_embedder):
    code, status = EXPECTED[cls]
    error = make(cls)
    result = CliRunner().invoke(cli, ["ask", "anything"], obj=FailingContext(error))
    heading = "config error:\n" if issubclass(cls, errors.ConfigError) else ""
    assert result.exit_code == code and result.stderr == f"qa: {heading}the message for the user\n"
    app = create_app(pack_index, Failing(error))  # type: ignore[arg-type]
    answer = TestClient(app).post("/ask", json={"question": "anything"})
    assert answer.status_code == status
    # 4xx: the caller can act on the message. 5xx: a public message; the full one (server paths, the store's
    # address) goes to the log only.
    public = "the message for the user" if status < 500 else lookup(PUBLIC, error, INTERNAL)
    assert answer.json() == {"detail": public}
    if cls is errors.NotAuthenticated:
        assert answer.headers["www-authenticate"] == "Bearer"
    if cls is errors.RateLimited:
        assert answer.headers["retry-after"] == "7"


def test_a_bug_is_a_short_internal_error_not_a_traceback(no_config, pack_index):
    result = CliRunner().invoke(cli, ["ask", "anything"], obj=FailingContext(KeyError("oops")))
    assert (
        result.exit_code == 1
        and result.stderr.startswith("qa: internal error: KeyError")
        and "Traceback" not in result.output
    )
    answer = TestClient(create_app(pack_index, Failing(KeyError("oops"))), raise_server_exceptions=False).post(  # type: ignore[arg-type]
        "/ask", json={"question": "anything"}
    )
    assert answer.status_code == 500 and answer.json() == {"detail": INTERNAL}  # JSON, like every other error


# ---- real failures of each kind that the command line can meet


def run(args: list[str], embedder=None, **env: str):
    return CliRunner().invoke(cli, args, obj=AppContext(embedder=embedder), env=env)


def test_config_error_names_the_file_and_field(no_config):
    (no_config / "bad.toml").write_text("[store]\nmod = 'server'\n")
    result = run(["--config", str(no_config / "bad.toml"), "docs"])
    assert result.exit_code == 2 and "store.mod: unknown setting" in result.stderr and "Traceback" not in result.output


def test_model_error_for_a_bad_embedding_model(no_config, sample_pack_pdf):
    result = run(["index", str(sample_pack_pdf)], QA_EMBEDDING__MODEL=str(no_config / "no-such-model"))
    assert result.exit_code == 2
    assert "embedding.model: no model directory at" in result.stderr and "Traceback" not in result.output
    (no_config / "not-a-model").mkdir()
    (no_config / "not-a-model" / "config.json").write_text("{not json")
    result = run(["index", str(sample_pack_pdf)], QA_EMBEDDING__MODEL=str(no_config / "not-a-model"))
    assert result.exit_code == 2 and "cannot load a sentence-transformers model" in result.stderr


def test_prompt_error_for_missing_prompt_files(no_config, pack_index, fake_embedder):
    result = run(
        ["ask", "anything"],
        fake_embedder,
        QA_DATA_DIR=str(pack_index.data_dir),
        QA_LLM__BACKEND="openai",
        QA_LLM__PROMPT_DIR=str(no_config / "no-prompts"),
    )
    assert (
        result.exit_code == 2 and "llm.prompt_dir: cannot read" in result.stderr and "answer_system.md" in result.stderr
    )


def test_usage_errors_exit_2(no_config, fake_embedder):
    assert run(["ask", "  "], fake_embedder).exit_code == 2
    assert run(["ask", "x", "--since", "someday"], fake_embedder).exit_code == 2
    assert run(["frobnicate"]).exit_code == 2


def test_not_indexed_exits_1_and_says_what_to_do(no_config, fake_embedder):
    result = run(["decisions", "anything"], fake_embedder)
    assert result.exit_code == 1 and "run `qa index` first" in result.stderr


def test_index_busy_exits_1(no_config, sample_pack_pdf, fake_embedder):
    from filelock import FileLock

    data = no_config / "data"
    data.mkdir()
    with FileLock(str(data / "index.lock")):
        result = run(["index", str(sample_pack_pdf)], fake_embedder)
    assert result.exit_code == 1 and "another `qa index` is running" in result.stderr


def test_read_errors_fail_the_run_but_not_the_other_files(no_config, sample_pack_pdf, fake_embedder):
    (no_config / "broken.pdf").write_bytes(b"%PDF-1.7 broken")
    result = run(["index", str(sample_pack_pdf), str(no_config / "broken.pdf")], fake_embedder)
    assert result.exit_code == 1 and "broken.pdf" in result.stderr and "indexed 1" in result.stdout


def test_store_error_for_a_damaged_index(no_config, sample_pack_pdf, fake_embedder):
    assert run(["index", str(sample_pack_pdf)], fake_embedder).exit_code == 0
    generation = (no_config / "data" / "CURRENT").read_text().strip()
    (no_config / "data" / "generations" / generation / "manifest.json").write_text("{ damaged")
    result = run(["ask", "anything"], fake_embedder)
    assert result.exit_code == 1 and f"index generation {generation}" in result.stderr and "--rebuild" in result.stderr
    assert (
        run(["docs"], fake_embedder).exit_code == 1
        and run(["index", str(sample_pack_pdf)], fake_embedder).exit_code == 1
    )

    from core.settings import load_settings
    from qa.service import QAService

    settings = load_settings()
    client = TestClient(create_app(settings, QAService(settings, embedder=fake_embedder)))
    assert client.post("/ask", json={"question": "anything"}).status_code == 503
    ready = client.get("/ready")
    assert ready.status_code == 503 and "cannot be read" in ready.json()["reason"]
    # What the message says to do works.
    assert run(["index", "--rebuild", str(sample_pack_pdf)], fake_embedder).exit_code == 0
    assert run(["ask", "What did we decide about Grangewaters?"], fake_embedder).exit_code == 0


def test_gold_file_and_eval_errors(no_config, fake_embedder):
    (no_config / "gold.jsonl").write_text('{"id": "q1"}\n')
    result = run(["eval"], fake_embedder, QA_EVAL__GOLD_FILE=str(no_config / "gold.jsonl"))
    assert result.exit_code == 2 and f"{no_config / 'gold.jsonl'}:1" in result.stderr
    good = {"id": "q1", "question": "?", "answerable": False, "kind": "unanswerable"}
    (no_config / "gold.jsonl").write_text(json.dumps(good) + "\n")
    (no_config / "papers").mkdir()
    (no_config / "papers" / "broken.pdf").write_bytes(b"not a pdf")
    result = run(
        ["eval", "--no-naive"],
        fake_embedder,
        QA_EVAL__GOLD_FILE=str(no_config / "gold.jsonl"),
        QA_INDEX__PATHS=json.dumps([str(no_config / "papers")]),
    )
    assert result.exit_code == 1 and "indexing failed" in result.stderr and "broken.pdf" in result.stderr


def test_http_statuses_for_real_failures(pack_index, fake_embedder, tmp_path):
    from qa.service import QAService

    client = TestClient(create_app(pack_index, QAService(pack_index, embedder=fake_embedder)))
    assert client.get("/passages/nope").json() == {"detail": "no passage nope"}
    assert client.get("/documents/nope/file").status_code == 404
    assert client.get("/jobs/nope").status_code == 404
    assert client.post("/ask", json={"question": "x" * 2000}).status_code == 422
    empty = tmp_path / "empty-data"
    settings = pack_index.model_copy(deep=True)
    settings.index.data_dir = empty
    unindexed = TestClient(create_app(settings, QAService(settings, embedder=fake_embedder)))
    detail = unindexed.post("/ask", json={"question": "x"}).json()["detail"]
    assert "run `qa index`" in detail and str(empty) not in detail  # what to do, but no server path
    reason = unindexed.get("/ready").json()["reason"]
    assert "run `qa index`" in reason and str(empty) not in reason
