"""The search plan: what a question's dates and the filters allow, in Python and in Chroma's filter language alike."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from core.records import PageSpan, Passage, SearchFilters
from qa import retrieve
from qa.plan import PassageSet, passes, permitted
from qa.service import QAService

JAN, MAR = dt.date(2023, 1, 10), dt.date(2023, 3, 14)  # the sample pack: minutes of 10 January, papers for 14 March


def passage(meeting: dt.date | None, **fields) -> Passage:
    return Passage(
        id="d-0001",
        doc_id="d",
        file="f.pdf",
        text="t",
        pages=[PageSpan(offset=0, page=1)],
        meeting_date=meeting,
        **fields,
    )


@pytest.mark.parametrize(
    "filters, kept",
    [
        (SearchFilters(since=JAN), True),
        (SearchFilters(until=JAN), True),
        (SearchFilters(since=JAN, until=JAN), True),
        (SearchFilters(since=JAN + dt.timedelta(days=1)), False),
        (SearchFilters(until=JAN - dt.timedelta(days=1)), False),
    ],
)
def test_filter_dates_are_inclusive(filters, kept):
    assert passes(passage(JAN), filters) is kept


def test_undated_passages_fail_date_filters_and_boilerplate_never_passes():
    assert not passes(passage(None), SearchFilters(since=JAN))
    assert passes(passage(None), SearchFilters())
    assert not permitted(passage(JAN, boilerplate=True), None, None, frozenset())
    assert not permitted(passage(JAN), None, None, frozenset(), decisions_only=True)
    assert permitted(passage(JAN, pack_date=MAR), None, frozenset({MAR}), frozenset())  # printed in that meeting's pack
    assert not permitted(passage(JAN), None, frozenset({MAR}), frozenset())
    assert permitted(passage(None), None, frozenset({MAR}), frozenset({"d"}))  # a report whose period was named


@pytest.fixture(scope="module")
def generation(pack_index, fake_embedder):
    return QAService(pack_index, embedder=fake_embedder)._current()


@pytest.fixture(scope="module", params=["pack", "restricted, members", "restricted, public"])
def any_generation(request, pack_index, restricted_index, fake_embedder):
    """The sample pack's generation, and a generation with restricted papers as members and as the public see it
    (a view whose vector rows have gaps where restricted passages are left out)."""
    if request.param == "pack":
        return QAService(pack_index, embedder=fake_embedder)._current()
    return QAService(restricted_index, embedder=fake_embedder)._current(members=request.param.endswith("members"))


def cases(passages):
    days = sorted({d for p in passages.values() for d in (p.meeting_date, p.pack_date) if d})
    edges = [d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1)]
    yield SearchFilters(), "anything"
    for day in edges:
        yield SearchFilters(since=day), "anything"
        yield SearchFilters(until=day), "anything"
        yield SearchFilters(since=day, until=day), "anything"
    yield SearchFilters(committee="CHILDREN'S SERVICES OVERVIEW AND SCRUTINY COMMITTEE"), "anything"
    yield SearchFilters(committee="Planning Committee"), "anything"
    yield SearchFilters(doc_type="agenda_pack"), "anything"
    yield SearchFilters(doc_type="report"), "anything"
    yield SearchFilters(document="pack.pdf", until=JAN), "anything"
    yield SearchFilters(document=next(iter(passages.values())).doc_id), "anything"
    yield SearchFilters(committee="children’s services overview and scrutiny committee", since=MAR), "anything"
    yield SearchFilters(committee="Childrens Services Overview & Scrutiny Committee"), "anything"
    yield SearchFilters(committee="Planning Committee", doc_type="report"), "anything"
    yield SearchFilters(doc_type="minutes", document="pack.pdf"), "what did the March meeting decide?"
    yield SearchFilters(), "what happened at the January 2023 meeting?"  # the question's own dates limit the search
    yield SearchFilters(), "what did the March meeting decide?"
    yield SearchFilters(since=MAR), "what was said in 2023?"


def test_the_dense_search_finds_the_allowed_passages_nearest_the_question(generation):
    """Chroma is asked without a filter and the plan's limits applied after (or, for a narrow plan, an exact search
    over the allowed passages' vectors): either way its candidates are the allowed passages nearest the question,
    as an exact search of them ranks them, for every filter and date case, with decisions only or not."""
    retriever, compared, narrow = generation.retriever, 0, 0
    snapshot = generation.snapshot

    def closeness(ids: list[str]) -> list[float]:
        return [float(snapshot.vectors[snapshot.vector_rows[pid]] @ plan.vector) for pid in ids]

    for filters, question in cases(generation.snapshot.passages):
        for decisions_only in (False, True):
            plan = generation.planner.plan(generation.planner.parse(question), filters, decisions_only)
            found = retriever.dense_candidates(plan)
            assert set(found) <= plan.allowed, (filters, question, decisions_only)
            exact = retriever.nearest_allowed(plan, retriever.settings.candidates)
            # The same closeness, place by place (passages equally close may come in either order).
            assert closeness(found) == pytest.approx(closeness(exact), abs=1e-5), (filters, question, decisions_only)
            assert len(found) == min(len(plan.allowed), retriever.settings.candidates)
            compared += 1
            narrow += len(plan.allowed) * 4 <= len(generation.snapshot.vector_rows)
    assert compared > 40 and 0 < narrow < compared  # both ways of searching were taken


@pytest.mark.parametrize("full_pass_share", [1, 10**9])
def test_exact_and_lexical_searches_rank_the_allowed_passages_as_testing_each_one_does(
    any_generation, monkeypatch, full_pass_share
):
    """The exact dense search and BM25's candidates read the plan's rows and mask (a PassageSet), not its ids:
    they rank exactly the allowed passages a walk over every passage ranks, best first, ties in the generation's
    order, whether the exact search gathers the allowed rows (a few) or scores all and picks them after (many)."""
    monkeypatch.setattr(retrieve, "FULL_PASS_SHARE", full_pass_share)
    generation = any_generation
    retriever, snapshot = generation.retriever, generation.snapshot
    wanted, compared = retriever.settings.candidates, 0
    for filters, question in cases(snapshot.passages):
        for decisions_only in (False, True):
            plan = generation.planner.plan(generation.planner.parse(question), filters, decisions_only)
            similarity = {pid: float(snapshot.vectors[row] @ plan.vector) for pid, row in snapshot.vector_rows.items()}
            closest = sorted(plan.allowed, key=lambda pid: (-similarity[pid], snapshot.vector_rows[pid]))[:wanted]
            exact = retriever.nearest_allowed(plan, wanted)
            assert [similarity[pid] for pid in exact] == pytest.approx([similarity[pid] for pid in closest], abs=1e-6)
            assert set(exact) <= plan.allowed and len(exact) == len(closest)
            # Ties in the generation's order: equally close passages come by their rows.
            for a, b in itertools.pairwise(exact):
                if similarity[a] == similarity[b]:
                    assert snapshot.vector_rows[a] < snapshot.vector_rows[b]
            compared += bool(exact)

            tokens = [alt for t in plan.stems for alt in sorted(retriever.terms.alternatives(t))]
            scores = snapshot.lexical.get_scores(tokens)
            order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
            ids = snapshot.lexical_ids
            best = [ids[i] for i in order if scores[i] > 0 and ids[i] in plan.allowed][:wanted]
            ranked, lexical_scores = retriever.lexical_candidates(plan)
            assert ranked == best, (filters, question, decisions_only)
            assert lexical_scores == {ids[i]: float(scores[i]) for i in order[: 4 * wanted] if scores[i] > 0}
    assert compared > 30


def test_a_committee_typed_without_its_apostrophe_or_with_an_ampersand_is_found(generation):
    planner = generation.planner
    question = planner.parse("what happened?")
    exact = planner.plan(question, SearchFilters(committee="CHILDREN'S SERVICES OVERVIEW AND SCRUTINY COMMITTEE"))
    assert exact.allowed
    for typed in (
        "childrens services overview & scrutiny committee",
        "Children’s  Services Overview AND Scrutiny Committee",
    ):
        plan = planner.plan(question, SearchFilters(committee=typed))
        assert plan.allowed == exact.allowed and plan.filters == exact.filters  # spelt as the papers spell it
    assert not planner.plan(question, SearchFilters(committee="Children Services Overview and Scrutiny")).allowed


def test_a_committee_is_found_from_part_of_its_name_when_only_one_committee_holds_it(fake_embedder):
    from core.lexicon import CouncilVocabulary
    from qa.plan import Planner
    from qa.terms import Terms

    names = ["Health Overview and Scrutiny Committee", "Children’s Overview & Scrutiny Committee", "Planning Committee"]
    passages = {
        f"d{n}-0000": passage(JAN, committee=name).model_copy(update={"id": f"d{n}-0000", "doc_id": f"d{n}"})
        for n, name in enumerate(names)
    }
    planner = Planner(
        passages,
        [],
        fake_embedder,
        Terms(),
        CouncilVocabulary(),
        {pid: i for i, pid in enumerate(passages)},
        [*passages],
    )

    def named(typed: str) -> str | None:
        found = planner.as_papers_name(SearchFilters(committee=typed))
        return found.committee if found else None

    assert named("childrens overview and scrutiny") == names[1]  # no "Committee", no apostrophe, "and" for "&"
    assert named("HEALTH OVERVIEW") == names[0] and named("planning") == names[2]
    assert named("overview and scrutiny committee") == "overview and scrutiny committee"  # two hold it: unchanged
    assert named("scrutiny comm") == "scrutiny comm"  # words, not letters
    plan = planner.plan(planner.parse("what happened?"), SearchFilters(committee="health overview & scrutiny"))
    assert set(plan.allowed) == {"d0-0000"} and plan.filters.committee == names[0]


def test_a_passage_set_is_a_read_only_set_of_ids_over_rows():
    mask = np.array([True, False, True, True])
    allowed = PassageSet(mask, {"a": 0, "b": 1, "c": 2, "d": 3}, ["a", "b", "c", "d"])
    assert allowed == frozenset({"a", "c", "d"}) and len(allowed) == 3 and list(allowed) == ["a", "c", "d"]
    assert "a" in allowed and "b" not in allowed and "zz" not in allowed and 0 not in allowed
    assert allowed.rows.tolist() == [0, 2, 3]
    assert allowed & {"a", "b"} == frozenset({"a"}) and isinstance(allowed - {"a"}, frozenset)
    with pytest.raises(ValueError):
        allowed.mask[1] = True


def test_an_unfiltered_search_asks_chroma_without_a_filter(generation, monkeypatch):
    """The filtered Chroma query tests every passage's metadata (357 ms a question at 64x the sample,
    bench/results/dense-query.md): a broad plan never makes one."""
    asked = []
    nearest = generation.snapshot.nearest
    monkeypatch.setattr(generation.snapshot, "nearest", lambda v, n, where: asked.append(where) or nearest(v, n, where))
    plan = generation.planner.plan(generation.planner.parse("What did we decide about Grangewaters?"))
    assert generation.retriever.dense_candidates(plan)
    assert asked and all(where is None for where in asked)


def test_a_small_archive_is_searched_by_meaning_exactly_without_chroma(pack_index, fake_embedder, monkeypatch):
    """Up to `retrieval.exact_search_up_to` passages, the dense search ranks every allowed vector itself: Chroma's
    approximate index, rebuilt as each process opens it, is never asked, so every process answers alike."""
    settings = pack_index.model_copy(deep=True)
    settings.retrieval.exact_search_up_to = 20_000
    generation = QAService(settings, embedder=fake_embedder)._current()
    monkeypatch.setattr(generation.snapshot, "nearest", lambda *args: pytest.fail("Chroma was asked"))
    retriever = generation.retriever
    for filters, question in cases(generation.snapshot.passages):
        plan = generation.planner.plan(generation.planner.parse(question), filters)
        assert retriever.dense_candidates(plan) == retriever.nearest_allowed(plan, retriever.settings.candidates)
    assert generation.retriever.search(generation.planner.plan(generation.planner.parse("weekend opening"))).candidates


def test_the_planners_indexes_allow_exactly_what_testing_every_passage_allows(any_generation):
    """The plan's allowed ids come from indexes made once a generation (by meeting, document, committee, kind of
    paper, meeting recorded): exactly what testing each passage with `permitted` allows, for every filter and date
    case, with decisions only or not; in a public view too, whose restricted passages are never allowed."""
    planner, passages = any_generation.planner, any_generation.snapshot.passages
    for filters, question in cases(passages):
        for decisions_only in (False, True):
            for given in (filters, None):
                plan = planner.plan(planner.parse(question), given, decisions_only)
                scanned = {
                    pid
                    for pid, p in passages.items()
                    if permitted(p, given, plan.date_limit, plan.period_docs, decisions_only)
                }
                assert set(plan.allowed) == scanned, (given, question, decisions_only)


def test_a_questions_dates_limit_it_to_the_meetings_they_name(generation):
    plan = generation.planner.plan(generation.planner.parse("what happened at the January 2023 meeting?"))
    assert plan.date_limit == frozenset({JAN}) and plan.named_meetings == frozenset({JAN})
    assert "2023" not in " ".join(plan.topic) and "januari" not in plan.topic  # the date words picked the meeting
    passages = generation.snapshot.passages
    assert {passages[pid].meeting_date for pid in plan.allowed} == {
        JAN
    }  # the minutes of 10 January, not March's papers
    unknown = generation.planner.plan(generation.planner.parse("what happened in 1999?"))
    assert unknown.date_limit is None and len(unknown.allowed) == len(
        generation.planner.plan(generation.planner.parse("what happened?")).allowed
    )  # a year the papers hold nothing for limits nothing


@pytest.mark.parametrize(
    "question, named",
    [
        ("what was in the minutes of 10 January 2023?", {JAN}),  # a meeting on the very day named
        ("what happened in January 2023?", {JAN}),
        ("what happened in 2023?", {JAN, MAR}),
        ("what did the March meeting say?", {MAR}),  # a month without a year: that month's meetings
        ("what did the January meeting say?", {JAN}),
        ("what happened in December 2022?", set()),
    ],
)
def test_the_meetings_a_question_names(generation, question, named):
    assert generation.planner.plan(generation.planner.parse(question)).named_meetings == named


@pytest.fixture(scope="module")
def report_planner(fake_embedder):
    """A planner over one standalone report for 2014/15 (April 2014 to March 2015) and one meeting in March 2015."""
    from core.lexicon import CouncilVocabulary
    from core.records import DocumentRecord
    from qa.plan import Planner
    from qa.terms import Terms

    report = DocumentRecord(
        id="r",
        file="r.pdf",
        path="/r.pdf",
        sha256="x",
        title="Annual report 2014/15",
        doc_type="report",
        period="2014/15",
        pages=1,
        passages=1,
        indexed_at=dt.datetime(2026, 1, 1),
    )
    passages = {
        "r-0000": Passage(id="r-0000", doc_id="r", file="r.pdf", text="t", pages=[PageSpan(offset=0, page=1)]),
        "p-0000": passage(dt.date(2015, 3, 10)).model_copy(update={"id": "p-0000", "doc_id": "p"}),
    }
    return Planner(
        passages,
        [report],
        fake_embedder,
        Terms(),
        CouncilVocabulary(),
        {pid: i for i, pid in enumerate(passages)},
        [*passages],
    )


@pytest.mark.parametrize(
    "question, reports",
    [
        ("what did the report say in 2014?", {"r"}),
        ("what happened in 2017?", set()),  # a year the report does not cover
        ("what was reported on 1 April 2014?", {"r"}),  # the first day of its period
        ("what was reported on 31 March 2015?", {"r"}),  # the last
        ("what was reported on 31 March 2014?", set()),  # the day before it began
        ("what did the March meeting say?", set()),  # a month without a year names meetings, not reporting periods
        ("what happened in March 2015?", {"r"}),
    ],
)
def test_a_questions_dates_pick_the_reports_whose_period_they_fall_in(report_planner, question, reports):
    assert report_planner.plan(report_planner.parse(question)).period_docs == reports


def test_the_plan_keeps_the_questions_phrases_and_the_filters_as_the_papers_spell_them(generation):
    plan = generation.planner.plan(
        generation.planner.parse("what about family hubs funding?"),
        SearchFilters(committee="children's services overview and scrutiny committee"),
    )
    assert plan.topic == ["famili", "hub", "fund"] and plan.pairs == [("famili", "hub"), ("hub", "fund")]
    assert plan.filters is not None and plan.filters.committee == "Children's Services Overview and Scrutiny Committee"


def test_a_document_filter_by_id_or_file_name_limits_the_dense_search(generation):
    doc_id = next(iter(generation.snapshot.documents()))
    for document in (doc_id, "pack.pdf", "nope.pdf"):
        plan = generation.planner.plan(generation.planner.parse("anything"), SearchFilters(document=document))
        found = generation.retriever.dense_candidates(plan)
        assert set(found) <= plan.allowed and bool(found) is (document != "nope.pdf")
        assert all(
            document in (generation.snapshot.passages[pid].doc_id, generation.snapshot.passages[pid].file)
            for pid in found
        )


@pytest.fixture(scope="module")
def with_a_report(tmp_path_factory, sample_pack_pdf, fake_embedder):
    """The sample pack and a standalone report for 2022/23, indexed: a period to search by."""
    from conftest import indexed_settings, papers_with_pack
    from pdfs import FILLER, PageSpec, make_pdf, wrap

    papers = papers_with_pack(tmp_path_factory.mktemp("plan-papers"), sample_pack_pdf)
    make_pdf(
        papers / "annual.pdf",
        [
            PageSpec(
                ["Play Services Annual Report 2022/23", *wrap("The play service ran 40 holiday schemes. " + FILLER)]
            )
        ],
        title="Play Services Annual Report 2022/23",
    )
    settings = indexed_settings(tmp_path_factory.mktemp("plan-data"), [papers], fake_embedder)
    return QAService(settings, embedder=fake_embedder)._current()


def test_periods_and_meetings_limit_the_dense_search(with_a_report):
    generation = with_a_report
    for question in (
        "what happened in 2023?",
        "what happened in January 2023?",
        "what happened in 2022?",
        "what did the March meeting say?",
        "what happened in 2019?",
    ):
        plan = generation.planner.plan(generation.planner.parse(question))
        found = generation.retriever.dense_candidates(plan)
        assert set(found) <= plan.allowed, question
        assert len(found) == min(len(plan.allowed), generation.retriever.settings.candidates), question
    plan = generation.planner.plan(generation.planner.parse("what happened in 2022?"))
    assert plan.period_docs and plan.date_limit == frozenset()  # the report's period, and no meeting of 2022
