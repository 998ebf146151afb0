"""The embedding cache: text embedded once is not embedded again, in a run or across runs, and a cache that cannot
be used never stops indexing."""

from __future__ import annotations

import logging

import numpy as np

from indexer.embed_cache import CACHE_FILE, EmbeddingCache
from indexer.pipeline import Indexer
from indexer.stores import open_snapshot

from conftest import make_settings, papers_with_pack
from fakes import HashEmbedder
from pdfs import FILLER, PageSpec, make_pdf, wrap


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the texts it is asked to embed."""

    def __init__(self, name: str = HashEmbedder.name):
        self.name = name
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().embed(texts)


def test_a_text_is_embedded_once_per_model(tmp_path):
    model = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    texts = ["Grangewaters outdoor centre lease", "Foster carers recruited in 2017", "School places"]
    first, embedded = cache.embed(model, texts)
    assert embedded == 3 and first.shape == (3, HashEmbedder.dimension) and first.dtype == np.float32
    np.testing.assert_array_equal(first, HashEmbedder().embed(texts))
    cache.close()

    again = EmbeddingCache(tmp_path)  # another run, the same data directory
    second, embedded = again.embed(model, [texts[2], "School places in 2019", texts[0]])
    assert embedded == 1 and model.texts[3:] == ["School places in 2019"]
    np.testing.assert_array_equal(second[[0, 2]], first[[2, 0]])
    other_model = CountingEmbedder("another-model")
    assert again.embed(other_model, texts)[1] == 3
    assert again.embed(model, [])[0].shape[0] == 0


def test_a_cache_that_cannot_be_read_is_passed_over_and_everything_is_embedded(tmp_path, caplog):
    (tmp_path / CACHE_FILE).write_bytes(b"\x00 not a database " * 100)
    model = CountingEmbedder()
    with caplog.at_level(logging.WARNING, logger="indexer.embed_cache"):
        vectors, embedded = EmbeddingCache(tmp_path).embed(model, ["Grangewaters", "Fostering"])
    assert embedded == 2
    np.testing.assert_array_equal(vectors, HashEmbedder().embed(["Grangewaters", "Fostering"]))
    assert f"the embedding cache {tmp_path / CACHE_FILE} is passed over for this run" in caplog.text


def _report(path, pages: int, changed_page: int | None = None):
    specs = [
        PageSpec(
            [
                "Allotments Review",
                *wrap(
                    f"The allotment waiting list is reviewed in section {n}"
                    + (" and the fees rise by 4%" if n == changed_page else "")
                    + ". "
                    + FILLER * 3
                ),
            ],
            footer=f"Page {n}",
        )
        for n in range(1, pages + 1)
    ]
    return make_pdf(path, specs, title="Allotments Review")


def test_re_reading_and_republishing_embed_only_the_text_that_changed(tmp_path, sample_pack_pdf):
    """A rebuild (every file read again) embeds nothing; a pack published again with one page changed embeds only
    the passages whose text changed; the index is the same as one built with no cache at all."""
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    _report(papers / "allotments.pdf", pages=6)
    settings = make_settings(tmp_path / "data", [papers])
    model = CountingEmbedder()
    first = Indexer(settings, embedder=model).run()
    assert first.embedded == first.passages == len(model.texts) > 10

    rebuilt = Indexer(settings, embedder=model).run(rebuild=True)
    assert rebuilt.passages == first.passages and rebuilt.embedded == 0

    _report(papers / "allotments.pdf", pages=6, changed_page=4)
    republished = Indexer(settings, embedder=model).run()
    assert [d.file for d in republished.indexed] == ["allotments.pdf"]
    assert 1 <= republished.embedded < republished.passages
    assert all("fees rise by 4%" in text for text in model.texts[-republished.embedded :])

    with_cache = open_snapshot(settings)
    clean = make_settings(tmp_path / "clean", [papers])
    Indexer(clean, embedder=HashEmbedder()).run()
    without = open_snapshot(clean)
    assert with_cache is not None and without is not None
    assert sorted(p.text for p in with_cache.passages.values()) == sorted(p.text for p in without.passages.values())
    np.testing.assert_allclose(np.sort(with_cache.vectors, axis=0), np.sort(without.vectors, axis=0))


def test_indexing_goes_on_when_the_cache_file_is_damaged(tmp_path, sample_pack_pdf):
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    settings = make_settings(tmp_path / "data", [papers])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / CACHE_FILE).write_bytes(b"\x00 garbage " * 64)
    report = Indexer(settings, embedder=CountingEmbedder()).run()
    assert report.ok and report.embedded == report.passages > 0
