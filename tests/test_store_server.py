"""Server mode: the index published into a real Chroma server (`chroma run`, as chromadb installs it) on a
loopback port, answered from by two services at once, and old generations' collections dropped on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.stores import chroma_client
from qa.service import QAService

from chroma_server import ChromaServer
from conftest import free_port, indexed_settings, make_settings, papers_with_pack
from pdfs import FILLER, PageSpec, make_pdf, wrap

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory) -> Iterator[tuple[str, int]]:
    with ChromaServer(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server.host, server.port


def server_settings(data_dir: Path, papers: list[Path], host: str, port: int):
    settings = make_settings(data_dir, papers)
    settings.store.mode, settings.store.host, settings.store.port = "server", host, port
    return settings


def test_index_into_a_chroma_server_and_answer_from_two_services(
    chroma_server, tmp_path, sample_pack_pdf, fake_embedder
):
    host, port = chroma_server
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    settings = server_settings(tmp_path / "data", [papers], host, port)
    first = Indexer(settings, embedder=fake_embedder).run()
    assert first.ok and not (tmp_path / "data" / "generations" / first.generation / "chroma").exists()  # on the server
    replicas = [QAService(settings, embedder=fake_embedder) for _ in range(2)]
    answers = [r.ask("What did we decide about Grangewaters?") for r in replicas]
    assert answers[0].citations and answers[0].citations[0].page_label == "14"
    assert [c.model_dump() for c in answers[0].citations] == [c.model_dump() for c in answers[1].citations]
    # The same papers in embedded mode give the same answer.
    embedded = indexed_settings(tmp_path / "embedded", [papers], fake_embedder)
    same = QAService(embedded, embedder=fake_embedder).ask("What did we decide about Grangewaters?")
    assert [(c.quote, c.page) for c in same.citations] == [(c.quote, c.page) for c in answers[0].citations]

    # A new generation is published on the server; the replicas switch to it; the oldest collection is dropped.
    make_pdf(
        papers / "ferry.pdf",
        [PageSpec(["Ferry Report", *wrap("The Tilbury ferry timetable changes in April. " + FILLER)], footer="Page 1")],
    )
    second = Indexer(settings, embedder=fake_embedder).run()
    third = Indexer(settings, embedder=fake_embedder).run([papers], rebuild=True)
    assert second.generation != first.generation != third.generation
    for replica in replicas:
        assert replica.snapshot().generation == third.generation
        assert replica.ask("When does the ferry timetable change?").citations[0].document.file == "ferry.pdf"
    names = {c.name for c in chroma_client(settings, None).list_collections()}
    assert f"passages-{third.generation}" in names and f"passages-{second.generation}" in names
    assert f"passages-{first.generation}" not in names  # only the published generation and the one before are kept


def test_a_server_that_does_not_answer_is_a_clear_store_error(tmp_path, sample_pack_pdf, fake_embedder, chroma_server):
    from core.errors import StoreError

    host, port = chroma_server
    settings = server_settings(tmp_path / "data", [papers_with_pack(tmp_path / "papers", sample_pack_pdf)], host, port)
    Indexer(settings, embedder=fake_embedder).run()
    elsewhere = settings.model_copy(deep=True)
    elsewhere.store.port = free_port()  # nothing listens there
    with pytest.raises(StoreError, match=r"^the Chroma server 127\.0\.0\.1:\d+ cannot be reached .*check \[store\]"):
        QAService(elsewhere, embedder=fake_embedder).ask("anything")
    # Indexing into it says the same, through the command line, with its exit code.
    from click.testing import CliRunner

    from cli.main import AppContext, cli

    env = {
        "QA_STORE__MODE": "server",
        "QA_STORE__PORT": str(elsewhere.store.port),
        "QA_DATA_DIR": str(tmp_path / "d2"),
        "QA_CONFIG": str(tmp_path / "none.toml"),
    }
    (tmp_path / "none.toml").write_text("")
    result = CliRunner().invoke(cli, ["index", str(sample_pack_pdf)], env=env, obj=AppContext(embedder=fake_embedder))
    assert (
        result.exit_code == 1
        and "the Chroma server 127.0.0.1" in result.stderr
        and "internal error" not in result.stderr
    )
