"""Server mode: the index published into a real Chroma server (`chroma run`, as chromadb installs it) on a
loopback port, answered from by two services at once, and old generations' collections dropped on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.stores import chroma_client, vector_collection
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
    # Every generation shares one collection on the server: the --rebuild wrote every passage again over the same
    # ids (upserted), the ferry report's publish wrote only its own.
    client = chroma_client(settings, None)
    assert {c.name for c in client.list_collections()} == {vector_collection(settings, fake_embedder.name)}
    collection = client.get_collection(vector_collection(settings, fake_embedder.name))
    assert collection.count() == len(replicas[0].snapshot().passages)
    assert second.vectors_written == len([p for p in replicas[0].snapshot().passages.values() if p.file == "ferry.pdf"])
    assert third.vectors_written == collection.count()


def test_a_removed_paper_leaves_the_server_once_no_kept_generation_holds_it(
    chroma_server, tmp_path, sample_pack_pdf, fake_embedder
):
    host, port = chroma_server
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    ferry = make_pdf(
        papers / "ferry.pdf",
        [PageSpec(["Ferry Report", *wrap("The Tilbury ferry timetable changes in April. " + FILLER)], footer="Page 1")],
    )
    settings = server_settings(tmp_path / "data", [papers], host, port)
    settings.store.collection = "removal"  # a collection of its own on the module's server
    with_ferry = Indexer(settings, embedder=fake_embedder).run()
    collection = chroma_client(settings, None).get_collection(vector_collection(settings, fake_embedder.name))
    held = collection.count()
    ferry.unlink()
    without = Indexer(settings, embedder=fake_embedder).run()
    assert without.vectors_written == 0 and without.removed
    # The generation before still holds the ferry report, and may be answering: its passages stay.
    assert collection.count() == held
    (papers / "note.txt").write_text("A short note on the library opening hours. " * 30)
    Indexer(settings, embedder=fake_embedder).run()  # the generation with the ferry report is dropped now
    service = QAService(settings, embedder=fake_embedder)
    assert collection.count() == len(service.snapshot().passages)
    assert not collection.get(where={"file": "ferry.pdf"}, include=[])["ids"]
    assert with_ferry.generation not in {p.name for p in (tmp_path / "data" / "generations").iterdir()}


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


def test_switching_between_embedded_and_server_mode_writes_every_vector_again(
    chroma_server, tmp_path, sample_pack_pdf, fake_embedder
):
    """The current generation's vectors are reused only where they are: a data directory indexed in embedded mode
    and then pointed at a server (or back) writes them all there, and answers the same."""
    host, port = chroma_server
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    embedded = make_settings(tmp_path / "data", [papers])
    first = Indexer(embedded, embedder=fake_embedder).run()
    question = "What did we decide about Grangewaters?"
    expected = QAService(embedded, embedder=fake_embedder).ask(question).citations
    server = server_settings(tmp_path / "data", [papers], host, port)
    server.store.collection = "switched"
    (papers / "note.txt").write_text("A short note on the library opening hours. " * 30)
    on_server = Indexer(server, embedder=fake_embedder).run()
    service = QAService(server, embedder=fake_embedder)
    total = len(service.snapshot().passages)
    assert on_server.vectors_written == total == first.passages + on_server.passages  # all, not the note's alone
    assert [c.quote for c in service.ask(question).citations] == [c.quote for c in expected]
    (papers / "note.txt").unlink()
    back = Indexer(embedded, embedder=fake_embedder).run()
    assert back.vectors_written == first.passages  # back in embedded mode: all written there again
