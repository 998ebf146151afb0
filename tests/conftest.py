"""Shared fixtures: settings on temporary data dirs, one real embedder, the sample corpus index."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from indexer.embed import Embedder  # noqa: E402
from indexer.pipeline import Indexer  # noqa: E402
from qa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "papers"


def make_settings(data_dir: Path, paths: list[Path] | None = None) -> Settings:
    settings = Settings()
    settings.index.data_dir = data_dir
    settings.index.paths = paths or []
    return settings


def free_port() -> int:
    """A loopback port nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_job(client, job: dict, headers: dict | None = None) -> dict:
    """Poll /jobs/{id} (through a TestClient or an httpx.Client) until the job is done or failed."""
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = client.get(f"/jobs/{job['id']}", headers=headers or {}).json()
        if current["status"] in ("done", "failed"):
            return current
        time.sleep(0.2)
    pytest.fail(f"job {job['id']} did not finish")


def indexed_settings(data_dir: Path, papers: list[Path], embedder: Embedder) -> Settings:
    """Settings on a fresh data dir with these papers indexed into it (every file must index)."""
    settings = make_settings(data_dir, papers)
    report = Indexer(settings, embedder=embedder).run()
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged MiniLM, loaded once for the whole run."""
    return Embedder(Settings().embedding)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """The sample corpus indexed once into a temporary data dir."""
    if not CORPUS.is_dir():
        pytest.fail(f"sample corpus not found at {CORPUS}")
    return indexed_settings(tmp_path_factory.mktemp("corpus-data"), [CORPUS], embedder)



def assert_quote_on_page(citation, pdf_path: Path) -> None:
    """The quote is verbatim on the page it names, or starts there and runs on over the page break."""
    from eval.faithful import quote_on_page

    assert quote_on_page(citation.quote, pdf_path, citation.page), (
        f"quote not verbatim on page {citation.page} of {pdf_path.name}: {citation.quote[:120]!r}")
