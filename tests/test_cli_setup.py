"""What a new user meets first: `qa index` progress off a terminal, `qa docs` as a table that fits 100 columns, and
/docs request examples that really answer when sent.

The fake embedder stands in for MiniLM: these tests are about what is printed and documented, not retrieval.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from api.app import create_app
from cli.main import DOCS_WIDTH, AppContext, cli
from core.settings import Settings
from indexer.stores import IndexStore, Manifest
from qa.service import QAService

from conftest import indexed_settings, papers_with_pack

LONG_TITLE = (
    "Children's Services Overview and Scrutiny Committee, 14 March 2023: Special Educational Needs and "
    "Disabilities Sufficiency, Residential Placements and the Grangewaters Outdoor Education Centre"
)


def run_cli(args: list[str], data_dir: Path, config: Path, embedder: Any, columns: int = 200) -> Result:
    env = {"QA_DATA_DIR": str(data_dir), "QA_CONFIG": str(config), "COLUMNS": str(columns)}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False, obj=AppContext(embedder=embedder))


@pytest.fixture
def config(tmp_path: Path, sample_pack_pdf: Path) -> Path:
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    path = tmp_path / "config.toml"
    path.write_text(f'[index]\npaths = ["{papers}"]\n')
    return path


def test_index_prints_a_line_per_file_off_a_terminal(tmp_path, config, fake_embedder):
    """Piped or logged (no terminal for a bar), `qa index` still says which file it is on and what it held."""
    first = run_cli(["index"], tmp_path / "data", config, fake_embedder)
    assert first.exit_code == 0, first.output
    line = re.search(r"^\[1/1\] pack\.pdf: 8 pages, (\d+) passages$", first.output, re.M)
    assert line and int(line.group(1)) > 5, first.output
    assert f"indexed 1, unchanged 0, removed 0, failed 0; 8 pages, {line.group(1)} passages" in first.output
    again = run_cli(["index"], tmp_path / "data", config, fake_embedder)
    assert re.search(r"^\[1/1\] pack\.pdf: unchanged or skipped$", again.output, re.M), again.output


@pytest.mark.parametrize("columns", [200, DOCS_WIDTH, 72])
def test_docs_table_fits_the_width_and_wraps_titles_on_word_boundaries(
    tmp_path, config, pack_index, fake_embedder, monkeypatch, columns
):
    """A long title is wrapped between words, every word kept; no line is wider than 100 columns or the terminal."""
    manifest = IndexStore(pack_index).manifest()
    pack = manifest.documents[0]
    long = pack.model_copy(update={"id": "f" * 16, "file": "special-educational-needs-report.pdf", "title": LONG_TITLE})
    monkeypatch.setattr(IndexStore, "manifest", lambda self: Manifest(documents=[pack, long]))
    result = run_cli(["docs"], pack_index.index.data_dir, tmp_path / "config.toml", fake_embedder, columns=columns)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= min(columns, DOCS_WIDTH), result.output
    words = result.output.split()
    assert all(word in words for word in LONG_TITLE.split()), result.output  # whole words: none cut in two
    assert "pack.pdf" in words and "2023-03-14" in words and str(pack.passages) in words
    assert len(lines) > 4  # the long title took several lines


def test_docs_json_is_unchanged(tmp_path, config, pack_index, fake_embedder):
    result = run_cli(["docs", "--json"], pack_index.index.data_dir, config, fake_embedder)
    documents = json.loads(result.output)["documents"]
    assert [d["file"] for d in documents] == ["pack.pdf"] and documents[0]["meeting_date"] == "2023-03-14"


# ---- /docs: every request body has an example, and sending it works


@pytest.fixture(scope="module")
def own_index(tmp_path_factory: pytest.TempPathFactory, sample_pack_pdf: Path, fake_embedder: Any) -> Settings:
    """The sample pack indexed into a data dir of this module's own (some examples store things, e.g. feedback)."""
    papers = papers_with_pack(tmp_path_factory.mktemp("examples-papers"), sample_pack_pdf)
    return indexed_settings(tmp_path_factory.mktemp("examples-data"), [papers], fake_embedder)


@pytest.fixture(scope="module")
def client(own_index: Settings, fake_embedder: Any) -> TestClient:
    return TestClient(create_app(own_index, QAService(own_index, embedder=fake_embedder)))


def _resolve(openapi: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    if not ref:
        return schema
    found: dict = openapi
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _examples(openapi: dict, media: dict) -> list[Any]:
    """A request body's examples, wherever OpenAPI lets them be: the media type's, else its schema's."""
    if "example" in media:
        return [media["example"]]
    if media.get("examples"):
        return [e["value"] for e in media["examples"].values()]
    schema = _resolve(openapi, media.get("schema", {}))
    return list(schema.get("examples") or ([schema["example"]] if "example" in schema else []))


def _request_bodies(openapi: dict) -> list[tuple[str, str, str, dict]]:
    return [
        (method, path, content_type, media)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        for content_type, media in operation.get("requestBody", {}).get("content", {}).items()
    ]


def test_every_json_request_body_has_examples_that_answer_when_posted(client):
    """What "Try it out" on /docs sends gets a real answer: no "string" committee, no filter leaving nothing."""
    openapi = client.get("/openapi.json").json()
    bodies = [(m, p, media) for m, p, content_type, media in _request_bodies(openapi) if content_type.endswith("json")]
    assert {("post", "/ask"), ("post", "/ask/stream")} <= {(m, p) for m, p, _ in bodies}
    for method, path, media in bodies:
        examples = _examples(openapi, media)
        assert examples, f"{method.upper()} {path}: no example in its request body or schema"
        for example in examples:
            assert "string" not in json.dumps(example), (path, example)  # the generator's placeholder
            response = client.request(method, path, json=example)
            assert 200 <= response.status_code < 300, (path, example, response.text)
            if path == "/ask":
                assert not response.json()["abstained"], (example, response.json()["answer"])
            if path == "/ask/stream":
                events = re.findall(r"^event: (\w+)$", response.text, re.M)
                assert events[-1] == "done", (example, response.text[-500:])
                done = json.loads(response.text.rsplit("data: ", 1)[1])
                assert not done["abstained"], (example, done["answer"])


def test_the_upload_body_is_a_file_picker(client):
    """The one body that is not JSON is the PDF upload: a binary `file` field, which /docs shows as a file
    picker (an example value has nothing to say there)."""
    openapi = client.get("/openapi.json").json()
    others = [(m, p, t, media) for m, p, t, media in _request_bodies(openapi) if not t.endswith("json")]
    assert [(m, p, t) for m, p, t, _ in others] == [("post", "/documents", "multipart/form-data")]
    schema = _resolve(openapi, others[0][3]["schema"])
    assert schema["required"] == ["file"] and schema["properties"]["file"]["format"] == "binary"


def test_outside_the_project_the_commands_say_no_config_was_found(tmp_path, monkeypatch, fake_embedder):
    """Run from a folder without config.toml (and no --config or QA_CONFIG), `qa index` and `qa ask` say so, not
    only that index.paths is empty or that nothing is indexed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QA_CONFIG", raising=False)
    env = {"QA_DATA_DIR": str(tmp_path / "data")}
    runner, context = CliRunner(), AppContext(embedder=fake_embedder)
    indexed = runner.invoke(cli, ["index"], env=env, obj=context)
    assert indexed.exit_code == 2 and f"no config.toml in {tmp_path}" in indexed.output, indexed.output
    asked = runner.invoke(cli, ["ask", "When is the next meeting?"], env=env, obj=context)
    assert asked.exit_code != 0 and f"no config.toml was found in {tmp_path}" in asked.output, asked.output


def test_a_reader_that_goes_away_is_not_an_internal_error(pack_index, tmp_path):
    """`qa ask ... | head -1`: the pipe closes before the answer is written; the command ends quietly with 0, not
    with "internal error: BrokenPipeError"."""
    import os
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text("")
    script = (
        "import sys; sys.path[:0] = [sys.argv[1]]\n"
        "from cli.main import AppContext, cli\n"
        "from fakes import HashEmbedder\n"
        "question = 'What is the preferred option for weekend opening?'\n"
        "cli.main(['ask', question], obj=AppContext(embedder=HashEmbedder()))"
    )
    env = {**os.environ, "QA_CONFIG": str(config), "QA_DATA_DIR": str(pack_index.index.data_dir)}
    tests = str(Path(__file__).parent)
    process = subprocess.Popen(
        [sys.executable, "-c", script, tests], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert "internal error" not in stderr and "BrokenPipe" not in stderr, stderr


def test_a_reversed_date_range_is_called_the_wrong_way_round(pack_index, fake_embedder, tmp_path):
    """Dates the wrong way round leave nothing to search, and the answer says which way they are; schema-valid, so
    HTTP answers 200 (with `filtered_out`), not 422."""
    config = tmp_path / "config.toml"
    config.write_text("")
    args = ["ask", "anything", "--since", "2018-01-01", "--until", "2017-01-01"]
    result = run_cli(args, pack_index.index.data_dir, config, fake_embedder)
    assert result.exit_code == 0 and "the wrong way round" in result.output, result.output
    client = TestClient(create_app(pack_index, QAService(pack_index, embedder=fake_embedder)))
    body = {"question": "anything", "filters": {"since": "2018-01-01", "until": "2017-01-01"}}
    asked = client.post("/ask", json=body).json()
    assert (
        asked["filtered_out"] and "meetings since 1 January 2018 and meetings until 1 January 2017" in asked["answer"]
    )
