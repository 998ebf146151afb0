"""A generation's passages on disk (indexer.passage_table): read by id, not held whole, the same records, vectors and
stems a reader used to build in memory, and a restricted passage's words counted only for members."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil

import numpy as np
import pytest

from core.records import PageSpan, Passage
from indexer.passage_table import (
    STEMS_DIR,
    TABLE_FILE,
    DocumentStems,
    PassageTable,
    StemTable,
    embedding_text,
    read_spelling,
    read_vectors,
    write_passage_table,
)
from indexer.pipeline import Indexer
from indexer.stores import IndexStore, open_snapshot
from qa.service import QAService
from qa.terms import CorpusTerms, Terms

from conftest import make_settings


def passage(n: int, text: str, **fields) -> Passage:
    return Passage(
        id=f"doc-{n:04d}",
        doc_id="doc",
        file="pack.pdf",
        text=text,
        pages=[PageSpan(offset=0, page=n + 1, label=f"{n + 1}"), PageSpan(offset=5, page=n + 2, label=f"{n + 2}")],
        section=f"Item {n}: Fostering",
        context="Fostering",
        meeting_date=dt.date(2024, 3, 14),
        committee="Corporate Parenting Panel",
        **fields,
    )


PASSAGES = [
    passage(0, "The panel noted the fostering report and its recruitment figures."),
    passage(1, "Foster carers recruited this year: 27, against a target of 30.", decision=True, boilerplate=False),
    passage(2, "The Quillfeather boathouse lease is exempt from publication.", restricted=True),
    passage(3, "Agenda front matter repeated in every pack.", boilerplate=True),
]


@pytest.fixture
def table_dir(tmp_path):
    vectors = np.random.default_rng(1).normal(size=(len(PASSAGES), 8)).astype(np.float32)
    write_passage_table(tmp_path / "gen", PASSAGES, vectors)
    return tmp_path / "gen", vectors


def test_records_are_read_back_by_id_as_written_and_only_when_asked(table_dir):
    folder, vectors = table_dir
    table = PassageTable(folder, cached=2)
    assert list(table) == [p.id for p in PASSAGES]
    assert table.headers == {p.id: p.header() for p in PASSAGES}
    assert table._read.cache_info().currsize == 0  # opening reads headers only
    assert [table[p.id] for p in PASSAGES] == PASSAGES
    assert table._read.cache_info().currsize == 2  # and keeps the last `cached` records
    with pytest.raises(KeyError):
        table["doc-9999"]
    assert [table.page_label("doc", page) for page in range(1, 6)] == ["1", "2", "3", "4", "5"]
    assert table.page_label("doc", 99) is None and table.page_label("other", 1) is None
    np.testing.assert_array_equal(read_vectors(folder), vectors)
    mapped = read_vectors(folder)
    assert not mapped.flags.owndata and not mapped.flags.writeable  # a read-only view of the file, not a copy


def test_a_view_leaves_hidden_passages_out_as_if_never_indexed(table_dir):
    folder, _ = table_dir
    view = PassageTable(folder).view(frozenset({"doc-0002"}))
    assert "doc-0002" not in view and len(view) == 3 and list(view) == ["doc-0000", "doc-0001", "doc-0003"]
    with pytest.raises(KeyError):
        view["doc-0002"]
    assert view.get("doc-0002") is None
    assert view.page_label("doc", 4) == "4"  # on passage 3's pages too
    assert PassageTable(folder).view(frozenset({"doc-0002", "doc-0003"})).page_label("doc", 4) is None


def test_stems_are_the_terms_a_reader_makes_and_rarities_count_what_it_sees(table_dir):
    folder, _ = table_dir
    terms = Terms()
    table = PassageTable(folder)
    stems = StemTable(folder, table.rows)
    for p in PASSAGES:
        assert stems.of(p.id) == terms.of(embedding_text(p))
    assert stems.of("doc-9999") is None
    everyone = CorpusTerms(stems, len(PASSAGES), terms)
    public = CorpusTerms(stems.view(public=True), len(PASSAGES) - 1, terms)
    # log((N + 1) / (n + 0.5)): "boathous" is in one of the four passages, and in none a reader sees.
    assert everyone.idf("boathous") == pytest.approx(np.log(5 / 1.5))
    assert public.idf("boathous") == public.idf("neverusedstem") == pytest.approx(np.log(4 / 0.5))
    assert everyone.idf("foster") == pytest.approx(np.log(5 / 4.5))
    assert public.idf("foster") == pytest.approx(np.log(4 / 3.5))
    assert everyone.stems(PASSAGES[1]) >= {"foster", "carer", "recruit", "27"}


def test_held_stems_and_phrases_read_from_stem_ids_are_those_of_the_whole_sets(table_dir):
    """`CorpusTerms.held` reads a candidate's stem ids; it must answer what the passage's whole sets of stems and
    adjacent pairs would, for stems and pairs it holds, holds apart, holds reversed or never printed, and for a
    passage not of this generation (stemmed from its text)."""
    folder, _ = table_dir
    terms = Terms()
    corpus = CorpusTerms(StemTable(folder, PassageTable(folder).rows), len(PASSAGES), terms)
    orders = [terms.of(embedding_text(p)) for p in PASSAGES]
    stems = {s for order in orders for s in order} | {"neverusedstem"}
    pairs = {pair for order in orders for pair in itertools.pairwise(order)}
    pairs |= {(b, a) for a, b in pairs} | {(a, "neverusedstem") for a, _ in pairs} | {("foster", "27")}
    outsider = PASSAGES[1].model_copy(update={"id": "doc-9999", "text": "Foster carers: 12 recruited."})
    for p in [*PASSAGES, outsider]:
        order = terms.of(embedding_text(p))
        held, adjacent = corpus.held(p, stems, pairs)
        assert held == stems & set(order), p.id
        assert adjacent == pairs & set(itertools.pairwise(order)), p.id
    assert ("foster", "carer") in corpus.held(PASSAGES[1], stems, pairs)[1]
    assert ("foster", "27") not in corpus.held(PASSAGES[1], stems, pairs)[1]  # both held, not side by side


def test_spelling_counts_keep_restricted_words_for_members(table_dir):
    folder, _ = table_dir
    members, readers = read_spelling(folder), read_spelling(folder, public=True)
    assert members["quillfeather"] == 1 and "quillfeather" not in readers
    # "Fostering" heads all four passages, and the text of the first says it once more.
    assert (members["fostering"], readers["fostering"]) == (5, 4)


def test_a_generation_published_before_tables_is_read_from_its_artifacts(tmp_path, sample_pack_pdf, fake_embedder):
    """A data directory published before generations had a passage table still answers, the same, from a table made
    aside when it is opened, removed when it is closed."""
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(sample_pack_pdf, papers / "pack.pdf")
    settings = make_settings(tmp_path / "data", [papers])
    assert Indexer(settings, embedder=fake_embedder).run().ok
    question = "What did we decide about Grangewaters?"
    before = QAService(settings, embedder=fake_embedder).ask(question).model_dump(exclude={"timings_ms"})
    generation = IndexStore(settings).generation_path(IndexStore(settings).current_generation() or "")
    for name in (TABLE_FILE, "vectors.npy", "spelling.json"):
        (generation / name).unlink()
    shutil.rmtree(generation / STEMS_DIR)
    snapshot = open_snapshot(settings)
    assert snapshot is not None and snapshot.scratch is not None and snapshot.scratch.is_dir()
    assert not (generation / TABLE_FILE).exists()  # a published generation is never written
    snapshot.close()
    assert not snapshot.scratch.exists()
    after = QAService(settings, embedder=fake_embedder).ask(question).model_dump(exclude={"timings_ms"})
    assert after == before and after["citations"]
    # The next `qa index` (no paper changed) publishes it again, with a table.
    report = Indexer(settings, embedder=fake_embedder).run()
    assert [w.reason for w in report.warnings] == [
        "published by an earlier version, without a passage table: published again"
    ]
    upgraded = IndexStore(settings).generation_path(report.generation or "")
    assert upgraded != generation and (upgraded / TABLE_FILE).is_file()
    assert Indexer(settings, embedder=fake_embedder).run().warnings == []


def test_stems_made_document_by_document_are_the_stems_made_at_once(tmp_path):
    vectors = np.zeros((len(PASSAGES), 4), np.float32)
    write_passage_table(tmp_path / "at-once", PASSAGES, vectors)
    parts = [DocumentStems.of(PASSAGES[:1]), DocumentStems.of(PASSAGES[1:3]), DocumentStems.of(PASSAGES[3:])]
    write_passage_table(tmp_path / "by-document", PASSAGES, vectors, parts)
    for name in ("sequences.npy", "offsets.npy", "df.npy", "df_public.npy", "words.json"):
        assert (tmp_path / "at-once" / STEMS_DIR / name).read_bytes() == (
            tmp_path / "by-document" / STEMS_DIR / name
        ).read_bytes(), name
    with pytest.raises(ValueError, match="stems of 3 passages given for 4"):
        write_passage_table(tmp_path / "short", PASSAGES, vectors, parts[:2])


def test_a_publish_stems_only_documents_it_has_not_stemmed(tmp_path, sample_pack_pdf, fake_embedder, monkeypatch):
    """Each document's stems are kept beside its artifacts: the next publish reads them (a damaged file is made
    again), and the generation's stems are the same."""
    from indexer.stores import STEMS_FILE

    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(sample_pack_pdf, papers / "pack.pdf")
    settings = make_settings(tmp_path / "data", [papers])
    assert Indexer(settings, embedder=fake_embedder).run().ok
    store = IndexStore(settings)
    first = store.generation_path(store.current_generation() or "")
    names = ("sequences.npy", "words.json", "df.npy")
    stems = {name: (first / STEMS_DIR / name).read_bytes() for name in names}  # gone after two more publishes
    (doc,) = store.manifest().documents
    cached = tmp_path / "data" / "docs" / doc.id / STEMS_FILE
    assert cached.is_file()
    made = []
    monkeypatch.setattr(DocumentStems, "of", classmethod(lambda cls, ps: made.append(len(ps)) or real_of(ps)))
    second = store.generation_path(store.publish(store.manifest().documents, store.manifest().embedding_model))
    assert made == []  # read from the cache
    assert {name: (second / STEMS_DIR / name).read_bytes() for name in names} == stems
    for damaged in (b"not a zip file", b"", cached.read_bytes()[:100]):  # numpy raises a different error for each
        cached.write_bytes(damaged)
        third = store.generation_path(store.publish(store.manifest().documents, store.manifest().embedding_model))
    assert made == [doc.passages] * 3 and DocumentStems.load(cached).offsets.size == doc.passages + 1
    assert not first.exists()
    assert {name: (third / STEMS_DIR / name).read_bytes() for name in names} == stems


real_of = DocumentStems.of


def test_a_dropped_generation_is_freed_at_once_not_at_the_next_cyclic_collection(
    tmp_path, sample_pack_pdf, fake_embedder
):
    """Nothing in an opened generation refers back to itself (caches hold closures, not bound methods): once a
    service drops it, its table, stems and memory-mapped vectors go at once, files and all."""
    import gc
    import weakref

    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(sample_pack_pdf, papers / "pack.pdf")
    settings = make_settings(tmp_path / "data", [papers])
    assert Indexer(settings, embedder=fake_embedder).run().ok
    service = QAService(settings, embedder=fake_embedder)
    assert service.ask("What did we decide about Grangewaters?").citations
    generation = service._current()
    held = [generation, generation.snapshot, generation.snapshot.passages, generation.snapshot.stems]
    held += [generation.retriever, generation.retriever.corpus, generation.planner, generation.decisions]
    refs = [weakref.ref(obj) for obj in held]
    del held, generation
    gc.collect()
    gc.disable()
    try:
        service._loaded = None
        assert [ref() for ref in refs] == [None] * len(refs)
    finally:
        gc.enable()
