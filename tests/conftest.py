"""Shared fixtures: settings on temporary data dirs, the fake and the real embedder, the sample pack and indexes.

Markers (see pyproject.toml): a test that uses the real `embedder` fixture is marked `model` automatically;
`corpus`, `browser` and `slow` are set by the modules that need them. The fast lane is
`pytest -m "not model and not browser"`.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from core.settings import Settings
from indexer.embed import Embedder, TextEmbedder
from indexer.pipeline import Indexer

from chroma_server import free_port
from fakes import HashEmbedder
from pdfs import PageSpec, exempt_pack, exempt_paper, make_pdf, sample_pack

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "papers"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that loads the real model (directly or through a fixture) as `model`."""
    for item in items:
        if "embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


def make_settings(data_dir: Path, paths: list[Path] | None = None) -> Settings:
    settings = Settings()
    settings.index.data_dir = data_dir
    settings.index.paths = paths or []
    # Small test archives would be searched exactly; through Chroma, as a large archive is, the tests reach the store.
    settings.retrieval.exact_search_up_to = 0
    return settings


def wait_for_job(client: Any, job: dict, headers: dict | None = None) -> dict:
    """Poll /jobs/{id} (through a TestClient or an httpx.Client) until the job is done or failed."""
    deadline, pause = time.monotonic() + 120, 0.05
    while time.monotonic() < deadline:
        current: dict = client.get(f"/jobs/{job['id']}", headers=headers or {}).json()
        if current["status"] in ("done", "failed"):
            return current
        time.sleep(pause)
        pause = min(pause * 1.5, 0.5)  # a job in its own process takes seconds: polls stay under the rate limit
    pytest.fail(f"job {job['id']} did not finish")


class LiveServer:
    """One app served by a real uvicorn on a loopback port, in a background thread; a context manager."""

    def __init__(self, app: Any):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def indexed_settings(data_dir: Path, papers: list[Path], embedder: TextEmbedder) -> Settings:
    """Settings on a fresh data dir with these papers indexed into it (every file must index)."""
    settings = make_settings(data_dir, papers)
    report = Indexer(settings, embedder=embedder).run()
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged MiniLM, loaded once for the whole run: for tests about what the model retrieves."""
    return Embedder(Settings().embedding)


@pytest.fixture(scope="session")
def fake_embedder() -> HashEmbedder:
    """The deterministic hashing embedder: for tests about everything but retrieval quality."""
    return HashEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def sample_pack_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small agenda pack of tests/pdfs.py, built once; copy it (`papers_with_pack`) before changing it."""
    return sample_pack(tmp_path_factory.mktemp("sample") / "pack.pdf")


def papers_with_pack(folder: Path, sample: Path) -> Path:
    """A papers folder holding a copy of the sample pack as pack.pdf."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample, folder / "pack.pdf")
    return folder


@pytest.fixture(scope="session")
def pack_index(
    tmp_path_factory: pytest.TempPathFactory, sample_pack_pdf: Path, fake_embedder: HashEmbedder
) -> Settings:
    """The sample pack indexed once with the fake embedder; read it, never change it."""
    papers = papers_with_pack(tmp_path_factory.mktemp("pack-papers"), sample_pack_pdf)
    return indexed_settings(tmp_path_factory.mktemp("pack-data"), [papers], fake_embedder)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """The sample corpus indexed once into a temporary data dir."""
    if not CORPUS.is_dir():
        pytest.fail(f"sample corpus not found at {CORPUS}")
    return indexed_settings(tmp_path_factory.mktemp("corpus-data"), [CORPUS], embedder)


def assert_quote_on_page(citation: Any, pdf_path: Path) -> None:
    """The quote is verbatim on the page it names, or starts there and runs on over the page break."""
    from eval.faithful import quote_on_page

    assert quote_on_page(citation.quote, pdf_path, citation.page), (
        f"quote not verbatim on page {citation.page} of {pdf_path.name}: {citation.quote[:120]!r}"
    )


# API keys of the restricted index: a reader (public papers), a member (restricted ones too) and an editor.
KEYS = {"reader-key": "reader", "member-key": "member", "editor-key": "editor"}


def legal_advice(path: Path) -> Path:
    """A paper restricted by its path only (no markers in its text)."""
    lines = [
        "Legal Advice: Ashgrove Academy Transfer",
        "1.1 Counsel advised that the Ashgrove academy transfer may proceed once the land is registered.",
        "1.2 The Ashgrove advice from Brightwater Chambers cost 7,925 pounds.",
    ]
    return make_pdf(path, [PageSpec(lines, footer="Page 1")])


@pytest.fixture(scope="module")  # a module of its own may upload to it
def restricted_index(tmp_path_factory: pytest.TempPathFactory, fake_embedder: HashEmbedder) -> Settings:
    """Papers: the public sample pack, a public pack holding one exempt report, a wholly exempt paper, and a paper
    restricted by `access.restricted_paths`; keys for a reader, a member and an editor."""
    root = tmp_path_factory.mktemp("restricted")
    papers = root / "papers"
    (papers / "confidential").mkdir(parents=True)
    sample_pack(papers / "pack.pdf")
    exempt_pack(papers / "march.pdf")
    exempt_paper(papers / "zanthorpe.pdf")
    legal_advice(papers / "confidential" / "ashgrove.pdf")
    settings = make_settings(root / "data", [papers])
    settings.access.restricted_paths = ["*/confidential/*"]
    settings.api.keys = dict(KEYS)
    settings.api.requests_per_minute = 0
    report = Indexer(settings, embedder=fake_embedder).run()
    assert report.ok, report.failed
    return settings
