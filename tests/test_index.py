"""Indexing into real temporary Chroma + BM25 stores: incremental, bad input, crash safety, command line.

The fake embedder stands in for MiniLM throughout: these tests are about the indexer, not what it retrieves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from click.testing import CliRunner

from cli.main import AppContext, cli
from indexer import stores
from indexer.pipeline import Indexer
from indexer.stores import PUBLISH_STEPS, IndexStore, open_snapshot
from qa.service import QAService

from conftest import make_settings, papers_with_pack
from fakes import HashEmbedder
from pdfs import FILLER, PageSpec, make_pdf, wrap


def small_report(path: Path, topic: str, pages: int = 2) -> Path:
    specs = [
        PageSpec(
            [f"{topic} report", *wrap(f"This page {i} discusses {topic} in detail. " + FILLER * 2)], footer=f"Page {i}"
        )
        for i in range(1, pages + 1)
    ]
    return make_pdf(path, specs, title=f"{topic} report")


def assert_consistent(settings) -> dict[str, int]:
    """The published index opens, and Chroma, BM25 and the manifest agree passage for passage."""
    snapshot = open_snapshot(settings)
    assert snapshot is not None
    expected = sum(doc.passages for doc in snapshot.manifest.documents)
    assert len(snapshot.passages) == expected
    assert snapshot.vector_count() == expected
    assert sorted(snapshot.lexical_ids) == sorted(snapshot.passages)
    stored = snapshot.collection.get(include=[])["ids"]
    assert sorted(stored) == sorted(snapshot.passages)
    if expected:
        embedding = snapshot.collection.get(ids=[stored[0]], include=["embeddings"])["embeddings"][0]
        hits = snapshot.collection.query(query_embeddings=[embedding], n_results=1)
        assert hits["ids"][0] == [stored[0]]
    return {doc.file: doc.passages for doc in snapshot.manifest.documents}


@pytest.fixture
def papers(tmp_path, sample_pack_pdf):
    folder = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    small_report(folder / "fostering.pdf", "Fostering")
    return folder


def test_index_then_nothing_changes_on_a_second_run(settings, papers, fake_embedder):
    first = Indexer(settings, embedder=fake_embedder).run([papers])
    assert (len(first.indexed), len(first.failed)) == (2, 0)
    counts = assert_consistent(settings)
    assert set(counts) == {"pack.pdf", "fostering.pdf"}
    second = Indexer(settings, embedder=fake_embedder).run([papers])
    assert (len(second.indexed), len(second.unchanged), len(second.removed)) == (0, 2, 0)
    assert second.generation == first.generation
    assert assert_consistent(settings) == counts


def test_changed_files_are_replaced_and_deleted_files_removed(settings, papers, fake_embedder):
    Indexer(settings, embedder=fake_embedder).run([papers])
    before = assert_consistent(settings)
    small_report(papers / "fostering.pdf", "Adoption", pages=3)
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert [d.file for d in report.indexed] == ["fostering.pdf"]
    after = assert_consistent(settings)
    assert after["pack.pdf"] == before["pack.pdf"]
    texts = [p.text for p in open_snapshot(settings).passages.values()]
    assert not any("discusses Fostering" in t for t in texts)
    assert any("discusses Adoption" in t for t in texts)
    assert len(texts) == len(set(texts)), "re-indexing duplicated a passage"
    (papers / "fostering.pdf").unlink()
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert [d.file for d in report.removed] == ["fostering.pdf"]
    assert set(assert_consistent(settings)) == {"pack.pdf"}


def test_new_reading_rules_read_every_file_again(settings, papers, fake_embedder, monkeypatch):
    """An index built by older reading or passage rules (PIPELINE_VERSION) is rebuilt whole by the next run, not
    kept as 'unchanged' because the files are."""
    Indexer(settings, embedder=fake_embedder).run([papers])
    counts = assert_consistent(settings)
    monkeypatch.setattr(stores, "PIPELINE_VERSION", "next")
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert (len(report.indexed), len(report.unchanged)) == (2, 0)
    assert open_snapshot(settings).manifest.pipeline_version == "next"
    assert assert_consistent(settings) == counts
    again = Indexer(settings, embedder=fake_embedder).run([papers])
    assert (len(again.indexed), len(again.unchanged)) == (0, 2)


def test_rebuild_starts_clean(settings, papers, fake_embedder):
    Indexer(settings, embedder=fake_embedder).run([papers])
    counts = assert_consistent(settings)
    report = Indexer(settings, embedder=fake_embedder).run([papers], rebuild=True)
    assert len(report.indexed) == 2
    assert assert_consistent(settings) == counts
    assert len(list((settings.data_dir / "docs").iterdir())) == 2


def bad_inputs(folder: Path, good: Path) -> dict[str, str]:
    """Write every kind of bad file beside the good ones; map file name -> expected reason."""
    data = good.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "not-really.pdf").write_bytes(b"<html>Error 404: not found</html>")
    (folder / "zero-pages.pdf").write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000))
    with pymupdf.open(good) as doc:
        doc.save(folder / "encrypted.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    shutil.copy(good, folder / "copy-of-pack.pdf")
    (folder / "scanned.pdf").write_bytes(make_pdf(folder / "scan.tmp", [PageSpec(image_only=True)] * 2).read_bytes())
    (folder / "scan.tmp").unlink()
    return {
        "truncated.pdf": "truncated PDF",
        "empty.pdf": "empty file",
        "not-really.pdf": "not a PDF",
        "zero-pages.pdf": "PDF has no pages",
        "corrupt.pdf": "PDF",
        "encrypted.pdf": "encrypted PDF",
        "copy-of-pack.pdf": "duplicate of already indexed pack.pdf",
        "scanned.pdf": "no text layer on pages 1-2",
    }


def test_bad_input_fails_alone_with_a_reason_and_the_rest_is_indexed(settings, papers, fake_embedder, tmp_path):
    Indexer(settings, embedder=fake_embedder).run([papers / "pack.pdf"])
    expected = bad_inputs(papers, papers / "pack.pdf")
    missing = tmp_path / "no-such-folder"
    report = Indexer(settings, embedder=fake_embedder).run([papers, missing])
    assert [d.file for d in report.indexed] == ["fostering.pdf"]
    assert [d.file for d in report.unchanged] == ["pack.pdf"]
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert reasons.pop("no-such-folder") == "path not found"
    assert set(reasons) == set(expected)
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name]
    assert set(assert_consistent(settings)) == {"pack.pdf", "fostering.pdf"}


def test_a_file_that_turns_bad_keeps_its_indexed_version(settings, papers, fake_embedder):
    Indexer(settings, embedder=fake_embedder).run([papers])
    before = open_snapshot(settings)
    (papers / "fostering.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00" * 100)
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert [Path(f.path).name for f in report.failed] == ["fostering.pdf"]
    after = open_snapshot(settings)
    assert sorted(after.passages) == sorted(before.passages)
    assert {d.file for d in after.manifest.documents} == {"pack.pdf", "fostering.pdf"}


def test_a_file_replaced_while_it_is_read_is_read_again_whole(settings, papers, fake_embedder):
    """The file is replaced (a new version saved over it) just after its bytes were read: the indexer notices the
    file is not the one it read, reads it again, and indexes the new version, never a mix of the two."""
    Indexer(settings, embedder=fake_embedder).run([papers])
    target = papers / "fostering.pdf"
    replaced = []

    def save_over(step: str) -> None:
        if step == "bytes read" and not replaced:
            replaced.append(step)
            small_report(target.with_name("new.tmp"), "Adoption", pages=3).replace(target)

    os.utime(target, ns=(1, 1))  # changed since indexed, so it is read this run
    report = Indexer(settings, embedder=fake_embedder, checkpoint=save_over).run([target])
    assert replaced and [d.file for d in report.indexed] == ["fostering.pdf"] and not report.failed
    snapshot = open_snapshot(settings)
    text = " ".join(p.text for p in snapshot.passages.values() if p.file == "fostering.pdf")
    assert "Adoption" in text and "Fostering" not in text
    assert snapshot.manifest.by_path()[str(target)].pages == 3


def test_a_file_that_keeps_changing_while_read_is_refused_and_its_indexed_version_kept(
    settings, papers, fake_embedder, monkeypatch
):
    """A file still being written (every read finds it changed again) is refused for this run with the reason;
    the version indexed before stays, the other files are indexed, and the next run, once it holds still,
    indexes it."""
    from indexer import pipeline

    Indexer(settings, embedder=fake_embedder).run([papers])
    before = {p.id for p in open_snapshot(settings).passages.values() if p.file == "fostering.pdf"}
    target = papers / "fostering.pdf"
    small_report(papers / "adoption.pdf", "Adoption")
    growing = []
    read_bytes = pipeline.read_bytes

    def read_while_more_arrives(path: Path) -> bytes:
        data = read_bytes(path)
        if path.name == target.name:
            growing.append(path.name)
            with target.open("ab") as still_arriving:
                still_arriving.write(b"%% more bytes arriving\n")
        return data

    monkeypatch.setattr(pipeline, "read_bytes", read_while_more_arrives)
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    monkeypatch.undo()
    assert len(growing) == 3
    assert [(Path(f.path).name, f.reason) for f in report.failed] == [
        (
            "fostering.pdf",
            "changed while being read, 3 times (still being copied or saved?); left as it was: index it again "
            "when it is complete",
        )
    ]
    assert [d.file for d in report.indexed] == ["adoption.pdf"]
    assert {p.id for p in open_snapshot(settings).passages.values() if p.file == "fostering.pdf"} == before
    later = Indexer(settings, embedder=fake_embedder).run([papers])
    assert [d.file for d in later.indexed] == ["fostering.pdf"] and not later.failed


def test_the_next_file_is_read_while_one_embeds(settings, papers):
    """Read-ahead: while the first file's passages embed, the second file is read ("file read" reached); the
    embedder here waits for that (10 s at most), so a run that reads only after embedding is caught waiting."""
    import threading

    second_read = threading.Event()
    reads = 0

    def checkpoint(step: str) -> None:
        nonlocal reads
        if step == "file read":
            reads += 1
            if reads == 2:
                second_read.set()

    waited: list[bool] = []

    class WaitingEmbedder(HashEmbedder):
        def embed(self, texts: list[str]):
            if not waited:
                waited.append(second_read.wait(10))
            return super().embed(texts)

    report = Indexer(settings, embedder=WaitingEmbedder(), checkpoint=checkpoint).run([papers])
    assert report.ok and len(report.indexed) == 2
    assert waited == [True]


def test_a_crash_while_publishing_leaves_the_previous_index(settings, papers, fake_embedder, monkeypatch):
    Indexer(settings, embedder=fake_embedder).run([papers])
    before = assert_consistent(settings)
    small_report(papers / "extra.pdf", "Transport")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing the lexical index")

    monkeypatch.setattr(IndexStore, "_write_lexical", crash)
    with pytest.raises(KeyboardInterrupt):
        Indexer(settings, embedder=fake_embedder).run([papers])
    assert assert_consistent(settings) == before
    monkeypatch.undo()
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert [d.file for d in report.indexed] == ["extra.pdf"]
    assert set(assert_consistent(settings)) == {"pack.pdf", "fostering.pdf", "extra.pdf"}
    leftovers = [p.name for p in (settings.data_dir / "generations").iterdir() if p.name.startswith(".")]
    assert leftovers == []


# The first new file's artifacts, then the second's (the first is reused), then each step of publishing.
def killed_at(settings, papers: Path, points: list[str], timeout: int, question: str | None = None) -> list[dict]:
    """Index `papers` killed at each of `points` in turn (tests/kill_points.py): its JSON line for each point,
    with the index's answer to `question` after the kill when one is given."""
    driver = Path(__file__).resolve().parent / "kill_points.py"
    env = {**os.environ, **({"KILL_POINTS_QUESTION": question} if question else {})}
    completed = subprocess.run(
        [sys.executable, str(driver), str(settings.data_dir), str(papers), *points],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        env=env,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]


KILL_POINTS = ["artifacts saved", "artifacts saved#2", *PUBLISH_STEPS]


@pytest.mark.slow  # a driver process of its own, about 12 s
def test_killing_qa_index_at_any_moment_leaves_a_complete_index(settings, papers, fake_embedder, tmp_path):
    """SIGKILL at each named step of a run (after a file's artifacts, and at every step of publishing): the
    index answers as before or as after, never half; finishing the run gives exactly a clean build's passages."""
    Indexer(settings, embedder=fake_embedder).run([papers])
    before = assert_consistent(settings)
    for n in range(3):
        small_report(papers / f"more-{n}.pdf", f"Topic {n}", pages=6)
    after = {**before, **{f"more-{n}.pdf": None for n in range(3)}}
    outcomes = killed_at(settings, papers, KILL_POINTS, timeout=300)
    assert [o["point"] for o in outcomes] == KILL_POINTS
    for outcome in outcomes:
        assert outcome["killed"], f"the run never reached {outcome['point']!r}"
        assert outcome["agree"], f"after a kill at {outcome['point']!r} the stores disagree"
        documents = outcome["documents"]
        assert documents == before or set(documents) == set(after), (outcome["point"], documents)
    # Killed before CURRENT names the new generation: the old one stands; killed after: the new one does.
    switched = PUBLISH_STEPS.index("current switched")
    assert all(o["documents"] == before for o in outcomes[: 2 + switched])
    assert set(outcomes[2 + switched]["documents"]) == set(after)
    report = Indexer(settings, embedder=fake_embedder).run([papers])
    assert report.ok
    finished = open_snapshot(settings)
    clean = make_settings(tmp_path / "clean")
    Indexer(clean, embedder=fake_embedder).run([papers])
    assert [(p.id, p.text) for p in finished.passages.values()] == [
        (p.id, p.text) for p in open_snapshot(clean).passages.values()
    ]
    assert len(assert_consistent(settings)) == 5


# A full run of the sample corpus, killed at 22 points: as each of its five papers is read, embedded and saved (the
# first embedding of a run is the next paper's, those before it being saved), then at every step of publishing.
CORPUS_KILL_POINTS = [
    point for n in range(1, 6) for point in (f"file read#{n}", "passages embedded", "artifacts saved")
] + list(PUBLISH_STEPS)


@pytest.mark.slow  # reads the sample corpus about 20 times, about a minute
def test_killing_a_full_run_of_the_sample_corpus_at_22_points_loses_nothing(settings, papers, fake_embedder, tmp_path):
    """After each kill the previous index answers exactly as before; finishing the run gives exactly the passages a
    clean build gives, none duplicated, none missing."""
    from conftest import CORPUS

    Indexer(settings, embedder=fake_embedder).run([papers])
    before = assert_consistent(settings)
    question = "How many schools used Grangewaters?"
    answer_before = (
        QAService(settings, embedder=fake_embedder).ask(question).model_dump(mode="json", exclude={"timings_ms"})
    )
    for pdf in sorted(CORPUS.glob("*.pdf")):
        shutil.copy(pdf, papers / pdf.name)
    outcomes = killed_at(settings, papers, CORPUS_KILL_POINTS, timeout=900, question=question)
    assert [o["point"] for o in outcomes] == CORPUS_KILL_POINTS
    switched = len(outcomes) - len(PUBLISH_STEPS) + PUBLISH_STEPS.index("current switched")
    for n, outcome in enumerate(outcomes):
        assert outcome["killed"], f"the run never reached {outcome['point']!r}"
        assert outcome["agree"], f"after a kill at {outcome['point']!r} the stores disagree"
        if n < switched:  # not yet published: the previous index, answering exactly as before
            assert outcome["documents"] == before, outcome["point"]
            assert outcome["answer"] == answer_before, outcome["point"]
    assert Indexer(settings, embedder=fake_embedder).run([papers]).ok
    clean = make_settings(tmp_path / "clean")
    Indexer(clean, embedder=fake_embedder).run([papers])
    finished, built = open_snapshot(settings), open_snapshot(clean)
    assert finished is not None and built is not None
    assert [(p.id, p.text) for p in finished.passages.values()] == [(p.id, p.text) for p in built.passages.values()]
    assert assert_consistent(settings) == {doc.file: doc.passages for doc in built.manifest.documents}


@pytest.mark.slow
@pytest.mark.model
def test_killing_the_real_qa_index_at_random_moments_leaves_a_complete_index(settings, papers, tmp_path, embedder):
    """The installed command, the real model, SIGKILL at moments no checkpoint chose (seeded, so a failure can be
    run again): the index answers as before or as after every time, and a last run completes it."""
    import random
    import signal
    import time

    Indexer(settings, embedder=embedder).run([papers])
    before = assert_consistent(settings)
    for n in range(3):
        small_report(papers / f"more-{n}.pdf", f"Topic {n}", pages=6)
    (tmp_path / "none.toml").write_text("")
    env = {**os.environ, "QA_DATA_DIR": str(settings.data_dir), "QA_CONFIG": str(tmp_path / "none.toml")}
    command = [sys.executable, "-m", "cli", "index", str(papers)]
    rng = random.Random(1)
    for _ in range(3):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.0, 9.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        counts = assert_consistent(settings)
        assert counts == before or set(counts) == set(before) | {f"more-{n}.pdf" for n in range(3)}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert len(assert_consistent(settings)) == 5


def run_cli(args, data_dir: Path, config: Path, fake_embedder):
    env = {"QA_DATA_DIR": str(data_dir), "QA_CONFIG": str(config)}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False, obj=AppContext(embedder=fake_embedder))


def test_cli_index_docs_and_exit_codes(papers, tmp_path, fake_embedder):
    data_dir = tmp_path / "cli-data"
    config = tmp_path / "config.toml"
    config.write_text(f'[index]\npaths = ["{papers}"]\n')
    ok = run_cli(["index"], data_dir, config, fake_embedder)
    assert ok.exit_code == 0, ok.output
    assert "indexed 2, unchanged 0, removed 0, failed 0" in ok.output
    listing = run_cli(["docs", "--json"], data_dir, config, fake_embedder)
    docs = json.loads(listing.output)["documents"]
    pack = next(d for d in docs if d["file"] == "pack.pdf")
    assert (pack["meeting_date"], pack["pages"], pack["committee"]) == (
        "2023-03-14",
        8,
        "Children's Services Overview and Scrutiny Committee",
    )
    assert pack["passages"] > 5
    table = run_cli(["docs"], data_dir, config, fake_embedder)
    assert "pack.pdf" in table.output and "2023-03-14" in table.output
    (papers / "broken.pdf").write_bytes(b"not a pdf at all")
    failed = run_cli(["index"], data_dir, config, fake_embedder)
    assert failed.exit_code == 1
    assert f"failed: {papers / 'broken.pdf'}: not a PDF" in failed.output
    assert "indexed 0, unchanged 2, removed 0, failed 1" in failed.output
    usage = run_cli(["index", "--no-such-flag"], data_dir, config, fake_embedder)
    assert usage.exit_code == 2
    config.write_text("[index]\npathz = []\n")
    bad_config = run_cli(["docs"], data_dir, config, fake_embedder)
    assert bad_config.exit_code == 2
    assert "index.pathz: unknown setting" in bad_config.output


def test_two_data_dirs_never_interfere(papers, tmp_path, fake_embedder):
    one = make_settings(tmp_path / "one")
    two = make_settings(tmp_path / "two")
    Indexer(one, embedder=fake_embedder).run([papers / "pack.pdf"])
    Indexer(two, embedder=fake_embedder).run([papers / "fostering.pdf"])
    assert set(assert_consistent(one)) == {"pack.pdf"}
    assert set(assert_consistent(two)) == {"fostering.pdf"}


def test_answering_across_many_new_generations_does_not_pile_up_open_files_or_threads(settings, papers, fake_embedder):
    """Each upload publishes a generation; the service closes those no request can still be using, so its Chroma
    threads and file handles stay level however many papers are added."""
    import threading

    import psutil

    Indexer(settings, embedder=fake_embedder).run([papers])
    service = QAService(settings, embedder=fake_embedder)
    service.ask("How many schools used Grangewaters?")

    def counts() -> tuple[int, int]:
        return psutil.Process().num_fds(), threading.active_count()

    def publish(n: int) -> None:
        small_report(papers / f"added-{n}.pdf", f"Topic {n}", pages=1)
        assert Indexer(settings, embedder=fake_embedder).run([papers]).ok
        service.ask("How many schools used Grangewaters?")

    for n in range(3):  # the service settles: the current generation and the one just replaced stay open
        publish(n)
    settled = counts()
    for n in range(3, 9):
        publish(n)
    fds, threads = counts()
    assert fds <= settled[0] + 4 and threads <= settled[1] + 2, (settled, (fds, threads))


FULL_DISK = """
import json, resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
from core.errors import QAError
from core.settings import Settings
from indexer.pipeline import Indexer, SilentProgress
from fakes import HashEmbedder
settings = Settings()
settings.index.data_dir = Path(sys.argv[1])
try:
    report = Indexer(settings, embedder=HashEmbedder()).run([Path(sys.argv[2])])
    print(json.dumps({"failed": [f.reason for f in report.failed], "error": None}))
except QAError as exc:
    print(json.dumps({"failed": [], "error": str(exc)}))
"""


@pytest.mark.slow  # two driver processes of their own
def test_a_full_disk_while_indexing_names_the_cause_keeps_the_last_index_and_a_later_run_recovers(
    settings, papers, fake_embedder
):
    Indexer(settings, embedder=fake_embedder).run([papers])
    before = assert_consistent(settings)
    small_report(papers / "more.pdf", "Topic more", pages=2)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}

    def index_with_room(size: int) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", FULL_DISK, str(settings.data_dir), str(papers), str(size)],
            capture_output=True, text=True, timeout=300, env=env, check=True,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])

    # No room even for the new paper's embeddings: it fails alone, naming the cause.
    tiny = index_with_room(1024)
    assert tiny["error"] is None and len(tiny["failed"]) == 1
    assert tiny["failed"][0] == f"could not be stored in {settings.data_dir} (File too large): free some space"
    assert assert_consistent(settings) == before
    # Room for the paper, none for the new generation's vector store: the run fails, saying so; the last index stays.
    cramped = index_with_room(64 * 1024)
    assert (
        cramped["error"]
        and "could not be written" in cramped["error"]
        and "previous index is still served" in (cramped["error"])
    )
    assert assert_consistent(settings) == before
    # With room again, `qa index` recovers: the new paper is in.
    assert Indexer(settings, embedder=fake_embedder).run([papers]).ok
    assert set(assert_consistent(settings)) == {*before, "more.pdf"}


def test_a_generation_that_cannot_be_read_leaves_a_running_service_on_the_last_good_one(
    settings, papers, fake_embedder
):
    Indexer(settings, embedder=fake_embedder).run([papers])
    service = QAService(settings, embedder=fake_embedder)
    good = service.ask("How many schools used Grangewaters?")
    small_report(papers / "more.pdf", "Topic more", pages=1)
    Indexer(settings, embedder=fake_embedder).run([papers])
    newest = IndexStore(settings).current_generation()
    assert newest is not None
    (IndexStore(settings).generation_path(newest) / "manifest.json").write_text("{ damaged")
    assert service.ask("How many schools used Grangewaters?").answer == good.answer  # still served
    assert service.snapshot().generation != newest


@pytest.mark.parametrize(
    "part, damage, served_meanwhile",
    [
        ("register.sqlite3", "file is not a database", True),
        ("chroma/chroma.sqlite3", "file is not a database", False),
        ("lexical/ids.json", "Expecting value: line 1 column 1 (char 0)", True),
        (
            "vectors.npy",
            "This file contains pickled (object) data. If you trust the file you can load it unsafely using "
            "the `allow_pickle=` keyword argument or `pickle.load()`.",
            True,
        ),
    ],
)
def test_qa_index_publishes_a_damaged_generation_again_from_the_stored_passages(
    part, damage, served_meanwhile, papers, tmp_path, fake_embedder
):
    """A published generation damaged on disk (its register, its Chroma database, its lexical index): opening it is
    a StoreError naming the generation; the service answering from it goes on from what it holds in memory (the
    register, the lexical index) or says the vector store cannot answer and what to do (a 503 over HTTP). A plain
    `qa index` (no file changed) says what is damaged and publishes the generation again from the stored passages
    and vectors, reading and embedding nothing; the running service picks it up and answers as before."""
    from core.errors import StoreError

    data_dir = tmp_path / "cli-data"
    config = tmp_path / "config.toml"
    config.write_text(f'[index]\npaths = ["{papers}"]\n')
    assert run_cli(["index"], data_dir, config, fake_embedder).exit_code == 0
    settings = make_settings(data_dir, [papers])
    service = QAService(settings, embedder=fake_embedder)
    question = "How many schools used Grangewaters?"
    before = service.ask(question).model_dump(exclude={"timings_ms"})
    damaged = IndexStore(settings).current_generation()
    assert damaged is not None
    target = IndexStore(settings).generation_path(damaged) / part
    if target.suffix == ".npy":
        # A memory-mapped file is replaced, not rewritten in place: truncating a file under a process that maps it
        # kills that process (SIGBUS), which is why a published generation's files are never written again.
        target.with_name("garbage").write_bytes(b"\x00 garbage " * 64)
        target.with_name("garbage").replace(target)
    else:
        target.write_bytes(b"\x00 garbage " * 64)
    with pytest.raises(StoreError, match=damaged):
        open_snapshot(settings)
    if served_meanwhile:
        assert service.ask(question).model_dump(exclude={"timings_ms"}) == before
    else:
        with pytest.raises(StoreError, match=r"the embedded vector store does not answer .*run `qa index`"):
            service.ask(question)

    result = run_cli(["index"], data_dir, config, fake_embedder)
    assert result.exit_code == 0, result.output
    assert f"warning: {IndexStore(settings).generation_path(damaged)}: damaged ({damage}): published again" in (
        result.output
    )
    assert "indexed 0, unchanged 2, removed 0, failed 0" in result.output
    assert IndexStore(settings).current_generation() != damaged
    assert set(assert_consistent(settings)) == {"pack.pdf", "fostering.pdf"}
    assert service.ask(question).model_dump(exclude={"timings_ms"}) == before


def test_a_publish_writes_to_chroma_only_the_documents_added_and_answers_as_a_fresh_build(
    tmp_path, sample_pack_pdf, fake_embedder
):
    """Passage ids are content-addressed, so a new generation starts from a copy of the current one's Chroma folder:
    the added paper's passages are written, the removed one's deleted, the rest untouched; the index answers exactly
    as one built from nothing, and the generation before still answers from its own folder."""
    papers = papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    settings = make_settings(tmp_path / "data", [papers])
    first = Indexer(settings, embedder=fake_embedder).run()
    assert first.vectors_written == first.passages > 0
    before = open_snapshot(settings)
    assert before is not None
    ferry = make_pdf(
        papers / "ferry.pdf",
        [PageSpec(["Ferry Report", *wrap("The Tilbury ferry timetable changes in April. " + FILLER)], footer="Page 1")],
    )
    second = Indexer(settings, embedder=fake_embedder).run()
    added = [p for p in open_snapshot(settings).passages.values() if p.file == "ferry.pdf"]  # type: ignore[union-attr]
    assert second.vectors_written == len(added) > 0
    fresh = make_settings(tmp_path / "fresh", [papers])
    Indexer(fresh, embedder=fake_embedder).run()
    questions = ["When does the ferry timetable change?", "What did we decide about Grangewaters?"]
    service, rebuilt = QAService(settings, embedder=fake_embedder), QAService(fresh, embedder=fake_embedder)
    for question in questions:
        assert service.ask(question).model_dump(exclude={"timings_ms"}) == rebuilt.ask(question).model_dump(
            exclude={"timings_ms"}
        )
    assert service.snapshot().vector_count() == len(service.snapshot().passages)
    # The generation before is untouched: its own folder, its own passages, still searchable.
    assert before.vector_count() == first.passages
    assert set(before.nearest(before.vectors[0], 5, None)) <= set(before.passages)
    ferry.unlink()
    third = Indexer(settings, embedder=fake_embedder).run()
    snapshot = service.snapshot()
    assert third.vectors_written == 0 and snapshot.generation == third.generation
    assert snapshot.vector_count() == len(snapshot.passages) == first.passages
    assert not snapshot.collection.get(where={"file": "ferry.pdf"}, include=[])["ids"]
    rebuilt_all = Indexer(settings, embedder=fake_embedder).run(rebuild=True)
    assert rebuilt_all.vectors_written == first.passages  # --rebuild writes every vector again
    before.close()


def test_a_run_with_another_model_embeds_every_indexed_paper_again_not_only_those_named(settings, papers):
    """Vectors of two models (or precisions) never share an index, so a run whose model differs from the index's
    embeds everything again; a run naming one file (an upload) still publishes every paper whose file is there."""
    Indexer(settings, embedder=HashEmbedder()).run([papers])
    before = sorted(d.file for d in open_snapshot(settings).manifest.documents)

    class AnotherModel(HashEmbedder):
        name = "another-model"

    upload = small_report(papers.parent / "uploads" / "adoption.pdf", "Adoption")
    report = Indexer(settings, embedder=AnotherModel()).run([upload])
    snapshot = open_snapshot(settings)
    assert sorted(d.file for d in snapshot.manifest.documents) == sorted([*before, "adoption.pdf"])
    assert snapshot.manifest.embedding_model == "another-model" and len(report.indexed) == len(before) + 1


def test_papers_are_embedded_at_the_passage_precision_whatever_embedder_is_given(settings):
    """A service's embedder computes questions in float32; what indexes an upload through it embeds at
    `embedding.precision`, under the name `qa index` publishes with, on the same cached export."""
    from indexer.embed import Embedder, for_passages, model_exports

    indexing = Embedder(settings.embedding, export_dir=model_exports(settings))
    service = Embedder(settings.embedding, export_dir=model_exports(settings), precision="float32")
    passages = for_passages(service)
    assert isinstance(passages, Embedder) and passages.precision == settings.embedding.precision == "bfloat16"
    assert passages.name == indexing.name != service.name and passages.export_dir == service.export_dir
    assert for_passages(indexing) is indexing
    assert Indexer(settings, embedder=service).embedder.name == indexing.name
    fake = HashEmbedder()
    assert for_passages(fake) is fake
