"""Answers on a fixture pack indexed into real Chroma and BM25: quotes, pages, decisions, filters, abstention.

What MiniLM retrieves is tested with the real model (`service`); the command line's contract and the filters'
plumbing with the fake embedder (`fake_service`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import AppContext, cli
from core.errors import NotIndexedError
from core.records import SearchFilters
from qa.answer import ABSTAIN_TEXT
from qa.service import QAService

from conftest import assert_quote_on_page, indexed_settings, make_settings, papers_with_pack
from pdfs import FILLER, PageSpec, make_pdf, wrap


@pytest.fixture(scope="module")
def papers(tmp_path_factory, sample_pack_pdf) -> Path:
    folder = papers_with_pack(tmp_path_factory.mktemp("papers"), sample_pack_pdf)
    # The same options section republished in a later pack: a near-duplicate that must not be quoted twice.
    make_pdf(
        folder / "republished.pdf",
        [
            PageSpec(
                [
                    "Riverside Play Centre Review (republished)",
                    "3. Issues, Options and Analysis of Options",
                    *wrap("3.1 The preferred option is to extend weekend opening to 6pm from April. " + FILLER),
                ],
                footer="Page 3",
            )
        ],
        title="Riverside Play Centre Review (republished)",
    )
    return folder


@pytest.fixture(scope="module")
def service(tmp_path_factory, papers, embedder) -> QAService:
    settings = indexed_settings(tmp_path_factory.mktemp("answer-data"), [papers], embedder)
    return QAService(settings, embedder=embedder)


@pytest.fixture(scope="module")
def fake_service(tmp_path_factory, papers, fake_embedder) -> QAService:
    settings = indexed_settings(tmp_path_factory.mktemp("answer-fake-data"), [papers], fake_embedder)
    return QAService(settings, embedder=fake_embedder)


def search(service: QAService, question: str, filters: SearchFilters | None = None, top_k: int = 5):
    generation = service._current()
    plan = generation.planner.plan(generation.planner.parse(question), filters)
    return generation.retriever.search(plan, top_k), plan, generation


def test_decision_question_answers_with_the_resolutions_their_status_and_the_minuted_meeting(service, papers):
    answer = service.ask("What did we decide about Grangewaters?")
    assert not answer.abstained
    first = answer.citations[0]
    assert first.section == "Minute 13: Grangewaters Outdoor Education Centre"
    assert (first.page, first.page_label) == (4, "14")
    assert first.meeting_date == dt.date(2023, 1, 10)  # the minuted meeting, not the pack's
    assert first.document.meeting_date == dt.date(2023, 3, 14)
    assert first.document.file == "pack.pdf"
    assert first.url == f"/documents/{first.document.id}/file#page=4"
    quotes = " ".join(c.quote for c in answer.citations)
    assert "agree to the proposed lease extension" in quotes
    assert "Members requested that Cabinet reviews the decision to close the boathouse" in quotes
    assert "resolved" in answer.answer and "not agreed" in answer.answer
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.answer
        assert_quote_on_page(citation, papers / citation.document.file)


def test_figure_question_quotes_the_sentence_with_the_figure(service, papers):
    answer = service.ask("How many schools used the outdoor education centre last year?")
    first = answer.citations[0]
    assert "41 schools" in first.quote
    assert (first.page, first.page_label) == (3, "13")
    assert_quote_on_page(first, papers / "pack.pdf")


def test_figure_in_a_table_is_quoted_from_its_row(service, papers):
    answer = service.ask("How many visits did the Riverside Play Centre have in 2022?")
    assert any("15,950" in c.quote and c.page_label == "15" for c in answer.citations)
    for citation in answer.citations:
        assert_quote_on_page(citation, papers / citation.document.file)


def test_quote_running_over_a_page_break_names_the_page_it_starts_on(service, papers):
    answer = service.ask("When does the lease of the boathouse end?")
    first = answer.citations[0]
    assert "boathouse would end in" in first.quote and "September 2024" in first.quote
    assert (first.page, first.page_label) == (3, "13")
    assert_quote_on_page(first, papers / "pack.pdf")


def test_boilerplate_never_reaches_an_answer(service):
    answer = service.ask("What is the Wi-Fi password for the Civic Offices?")
    assert all(c.page != 2 for c in answer.citations + answer.see_also)
    assert all("password" not in c.quote for c in answer.citations + answer.see_also)


def test_question_the_papers_do_not_answer_abstains_and_offers_the_nearest_passages(service):
    answer = service.ask("How much will the council spend on resurfacing potholes in Stanford-le-Hope?")
    assert answer.abstained
    # The place, then the words this small pack never uses, are named as what the papers lack.
    assert answer.missing[0] == "Stanford-le-Hope" and {"resurfacing", "potholes"} <= set(answer.missing)
    assert answer.answer.startswith("The papers don't give Stanford-le-Hope, ") and answer.answer.endswith(ABSTAIN_TEXT)
    assert not answer.partial
    assert answer.citations == []
    assert answer.see_also and all(c.quote for c in answer.see_also)


def test_filters_that_leave_no_paper_say_so_rather_than_that_the_papers_do_not_answer(fake_service):
    """A mistyped committee or dates past every meeting leave nothing to search: the answer names the filters and
    says nothing was searched, not the papers' silence (which a member would take as an answer)."""
    question = "What is the preferred option for weekend opening at the play centre?"
    for filters, named in [
        (
            SearchFilters(committee="Planing Committee"),
            [
                'this filter (the committee "Planing Committee")',
                "name.",
                "The papers name these committees: Children's Services",
            ],
        ),
        (
            SearchFilters(since=dt.date(2030, 1, 1), doc_type="report"),
            [
                "these filters together",
                "standalone reports only and meetings since 1 January 2030",
                "paper or the dates",
            ],
        ),
        (SearchFilters(document="no-such-file.pdf"), ['the document "no-such-file.pdf"', "document's name"]),
    ]:
        answer = fake_service.ask(question, filters)
        assert answer.abstained and answer.filtered_out and not answer.citations and not answer.missing, filters
        assert "nothing was searched" in answer.answer and all(n in answer.answer for n in named), answer.answer
    # Filters that leave papers keep the ordinary answer, and so does a question the papers left do not answer.
    kept = SearchFilters(committee="childrens services overview & scrutiny committee")
    assert fake_service.ask(question, kept).citations and not fake_service.ask(question, kept).filtered_out
    assert "nothing was searched" not in fake_service.ask("Who won the 1966 World Cup?", kept).answer


def test_the_last_meetings_decisions_keep_to_the_filters(fake_service):
    """ "What did the committee decide at its last meeting?" with a committee filter answers from that committee's
    last minuted meeting; a committee no paper names leaves nothing to search, not another committee's decisions."""
    question = "What did the committee decide at its last meeting?"
    kept = fake_service.ask(question, SearchFilters(committee="childrens services overview & scrutiny committee"))
    assert kept.citations and not kept.abstained
    other = fake_service.ask(question, SearchFilters(committee="Planning Committee"))
    assert other.abstained and not other.citations and "nothing was searched" in other.answer


def test_near_duplicate_passages_are_not_returned_twice(service):
    answer = service.ask("What is the preferred option for weekend opening at the play centre?")
    assert "extend weekend opening to 6pm" in answer.citations[0].quote
    retrieval = search(service, "preferred option weekend opening 6pm")[0]
    texts = [c.passage.text for c in retrieval.candidates if "extend weekend opening to 6pm" in c.passage.text]
    assert len(texts) == 1
    assert len({c.quote for c in answer.citations}) == len(answer.citations)


@pytest.mark.parametrize(
    "filters, allowed",
    [
        (SearchFilters(committee="children's services overview and scrutiny committee"), {"pack.pdf"}),
        (SearchFilters(doc_type="report"), {"republished.pdf"}),
        (SearchFilters(document="republished.pdf"), {"republished.pdf"}),
        (SearchFilters(document="no-such-file.pdf"), set()),
    ],
)
def test_filters_limit_both_halves_of_the_search_alike(fake_service, filters, allowed):
    """Every filter limits both halves of the hybrid search alike: what comes back is only what is allowed."""
    retrieval, plan, generation = search(fake_service, "preferred option weekend opening play centre", filters, 20)
    assert {c.passage.file for c in retrieval.candidates} == allowed
    passages = generation.snapshot.passages
    assert {passages[pid].file for pid in plan.allowed} == allowed
    dense, (lexical, _) = generation.retriever.dense_candidates(plan), generation.retriever.lexical_candidates(plan)
    assert {passages[pid].file for pid in dense} == {passages[pid].file for pid in lexical} == allowed


def test_date_filters_limit_answers_to_meetings_in_range(service):
    later = service.ask("What did we decide about Grangewaters?", SearchFilters(since=dt.date(2023, 3, 1)))
    assert all(
        c.meeting_date is None or c.meeting_date >= dt.date(2023, 3, 1) for c in later.citations + later.see_also
    )
    earlier = service.ask("What did we decide about Grangewaters?", SearchFilters(until=dt.date(2023, 1, 31)))
    assert earlier.citations and all(c.meeting_date == dt.date(2023, 1, 10) for c in earlier.citations)


def test_dates_in_the_question_pick_the_meeting(service):
    january = service.ask("What was discussed about the centre at the January 2023 meeting?")
    assert january.citations and all(c.meeting_date == dt.date(2023, 1, 10) for c in january.citations)
    march = service.ask("What was reported about the play centre in March 2023?")
    assert march.citations and all(c.meeting_date == dt.date(2023, 3, 14) for c in march.citations)


def test_decisions_list_every_status_oldest_first(service):
    found = service.decisions("Grangewaters")
    assert [(d.point, d.status) for d in found] == [("1", "noted"), ("2", "resolved"), ("3", "not agreed")]
    assert all(d.meeting_date == dt.date(2023, 1, 10) and d.minute == "13" for d in found)
    assert found[0].page_label == "14" and found[0].text.startswith("1) That the Committee note the usage figures")
    deferred = service.decisions("Youth Cabinet update")
    assert [d.status for d in deferred] == ["deferred"]


def test_top_k_limits_the_passages_answered_from(service):
    answer = service.ask("What did the Riverside Play Centre report say?", top_k=1)
    assert len({c.passage_id for c in answer.citations}) == 1


def test_timings_are_reported(service):
    answer = service.ask("What did we decide about Grangewaters?")
    t = answer.timings_ms
    assert t.retrieve > 0 and t.answer >= 0 and t.total >= t.retrieve


def test_asking_before_anything_is_indexed_says_to_run_index(tmp_path, fake_embedder):
    with pytest.raises(NotIndexedError, match="qa index"):
        QAService(make_settings(tmp_path / "empty"), embedder=fake_embedder).ask("anything")


# ---- the command line, per ../shared/contract.md (on the fake embedder's index)


@pytest.fixture
def env(fake_service, monkeypatch, tmp_path):
    monkeypatch.setenv("QA_DATA_DIR", str(fake_service.settings.data_dir))
    monkeypatch.setenv("QA_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    return AppContext(embedder=fake_service.embedder)


def run(env: AppContext, args: list[str], stdin: str | None = None):
    return CliRunner().invoke(cli, args, input=stdin, obj=env)


def _check_contract(response: dict) -> None:
    assert set(response) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert isinstance(response["answer"], str) and isinstance(response["abstained"], bool)
    assert set(response["timings_ms"]) >= {"retrieve", "answer", "total"}
    for c in response["citations"]:
        assert set(c) >= {"n", "quote", "page", "page_label", "section", "meeting_date", "url", "document"}
        assert isinstance(c["page"], int) and c["page"] >= 1
        assert set(c["document"]) >= {"id", "file", "title", "committee", "meeting_date"}
        dt.date.fromisoformat(c["document"]["meeting_date"])
        assert "/" not in c["document"]["file"]


def test_cli_ask_json_prints_the_contract_response(env):
    result = run(env, ["ask", "What did we decide about Grangewaters?", "--json", "--until", "2023-02-01"])
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    _check_contract(response)
    assert response["citations"][0]["meeting_date"] == "2023-01-10"
    assert response["citations"][0]["page_label"] == "14"


def test_cli_ask_reads_one_question_per_line_from_stdin(env):
    stdin = "What did we decide about Grangewaters?\n\nHow many visits did the play centre have in 2022?\n"
    result = run(env, ["ask", "--json", "-"], stdin)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3  # one response per input line, the blank one included
    responses = [json.loads(line) for line in lines]
    for response in responses:
        _check_contract(response)
    assert responses[1]["abstained"] and responses[1]["citations"] == []
    assert responses[2]["question"] == "How many visits did the play centre have in 2022?"
    assert responses[2]["citations"]


def test_cli_ask_prints_a_readable_answer_with_its_citations(env):
    result = run(env, ["ask", "How many schools used the outdoor education centre?"])
    assert result.exit_code == 0, result.output
    assert "41 schools" in result.stdout and "[1]" in result.stdout and "page 13" in result.stdout


def test_cli_ask_rejects_an_empty_question(env):
    result = run(env, ["ask", "  "])
    assert result.exit_code == 2
    assert "QUESTION is empty" in result.output


def test_cli_ask_filters_by_document(env):
    result = run(
        env, ["ask", "What is the preferred option for weekend opening?", "--json", "--document", "republished.pdf"]
    )
    assert result.exit_code == 0, result.output
    citations = json.loads(result.stdout)["citations"]
    assert citations and all(c["document"]["file"] == "republished.pdf" for c in citations)


def test_cli_ask_rejects_a_bad_date(env):
    result = run(env, ["ask", "anything", "--since", "March 2023"])
    assert result.exit_code == 2
    assert "--since" in result.output


def test_cli_decisions_json(env):
    result = run(env, ["decisions", "Grangewaters", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["topic"] == "Grangewaters"
    first = payload["decisions"][0]
    assert set(first) >= {"meeting_date", "committee", "minute", "status", "text", "page", "page_label", "document"}
    assert (first["meeting_date"], first["minute"], first["status"], first["page"]) == (
        "2023-01-10",
        "13",
        "noted",
        4,
    )
    # The register: each numbered resolution on its own, with its own status.
    assert [(d["point"], d["status"]) for d in payload["decisions"]] == [
        ("1", "noted"),
        ("2", "resolved"),
        ("3", "not agreed"),
    ]
    only = json.loads(run(env, ["decisions", "Grangewaters", "--status", "not agreed", "--json"]).stdout)
    assert [d["point"] for d in only["decisions"]] == ["3"]
    later = json.loads(run(env, ["decisions", "Grangewaters", "--since", "2023-02-01", "--json"]).stdout)
    assert later["decisions"] == []
    # No topic: every decision of that status, with what happened next in words.
    deferred = run(env, ["decisions", "--status", "deferred"])
    assert deferred.exit_code == 0, deferred.output
    assert deferred.stdout.splitlines() == [
        "10 January 2023 · minute 14, “Youth Cabinet Update” · deferred · page 14 of pack.pdf",
        "    Item deferred to the next meeting of the Committee on 14 March 2023.",
        "    next: not seen in the papers indexed here, up to the meeting of 14 March 2023",
    ]
    assert (
        run(env, ["decisions", "--since", "2023-02-01"]).stdout
        == "No decisions were found in the minutes indexed here.\n"
    )


def test_cli_ask_on_an_empty_index_fails_with_a_message(env, monkeypatch, tmp_path):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "nothing"))
    result = run(env, ["ask", "anything"])
    assert result.exit_code == 1
    assert "qa index" in result.stderr


def test_decision_question_naming_only_a_meeting_lists_that_meetings_decisions(service):
    answer = service.ask("What did we decide at the January 2023 meeting?")
    assert not answer.abstained
    assert all(c.meeting_date == dt.date(2023, 1, 10) for c in answer.citations)
    # The register's points, each with its own status word; the meeting's deferral among them.
    assert "deferred" in answer.answer and ("resolved" in answer.answer or "noted" in answer.answer)


def test_a_question_that_is_only_a_date_abstains(service):
    assert service.ask("2023").abstained
    assert service.ask("  ").abstained


def test_a_quote_whose_page_holds_only_its_heading_starts_on_the_next_page():
    from core.records import DocumentRecord, PageSpan, Passage
    from qa.citations import CitationBuilder

    text = "Compliments\nThe council welcomes compliments from families and records each one carefully."
    passage = Passage(
        id="d-0001",
        doc_id="d",
        file="f.pdf",
        text=text,
        pages=[PageSpan(offset=0, page=25, label="25"), PageSpan(offset=12, page=26, label="26")],
    )
    doc = DocumentRecord(
        id="d",
        file="f.pdf",
        path="/f.pdf",
        sha256="x",
        title="T",
        doc_type="report",
        pages=30,
        passages=1,
        indexed_at=dt.datetime(2026, 1, 1),
    )
    citations = CitationBuilder({"d": doc})
    citation = citations.cite(1, passage, 0, len(text))
    assert (citation.page, citation.page_label) == (26, "26")
    assert citation.quote.startswith("The council welcomes")
    sentence_break = text.index("records")  # six words before the break: a sentence, not a heading
    long_before_break = citations.cite(
        1,
        passage.model_copy(update={"pages": [PageSpan(offset=0, page=25), PageSpan(offset=sentence_break, page=26)]}),
        0,
        len(text),
    )
    assert long_before_break.page == 25 and long_before_break.quote.startswith("Compliments")


def test_it_abstains_exactly_when_the_evidence_is_below_the_threshold(fake_service):
    """answer.abstain_below is a floor the evidence must reach: equal answers, a hair below abstains."""
    question = "How many schools used the outdoor education centre?"
    evidence = fake_service.ask(question).evidence
    assert evidence > 0

    def at(threshold: float):
        settings = fake_service.settings.model_copy(deep=True)
        settings.answer.abstain_below = threshold
        return QAService(settings, embedder=fake_service.embedder).ask(question)

    assert not at(evidence).abstained
    below = at(evidence + 1e-9)
    assert below.abstained and below.citations == [] and below.see_also


def test_a_decision_answer_gives_each_numbered_resolution_whole_with_its_status(service):
    answer = service.ask("What did we decide about Grangewaters?")
    lines = answer.answer.split("\n")
    assert lines[0].startswith("On 10 January 2023 (minute 13, “Grangewaters Outdoor Education Centre”), noted: “1)")
    assert lines[1].startswith("- resolved: “2) That the Committee agree to the proposed lease extension.”")
    assert lines[2].startswith("- not agreed: “3)")
    assert [c.quote.split(")")[0] for c in answer.citations] == ["1", "2", "3"]
    assert "RESOLVED" not in answer.citations[0].quote  # the point itself, not its block's heading
