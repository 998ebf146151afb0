"""The evaluation suite: metrics on hand-made results, the report and gate, and a whole run on a fixture pack."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import AppContext, cli
from eval import report as reports
from eval.gold import GoldQuestion
from eval.metrics import CitedPage, QuestionResult, calibration_table, compute, meets

from conftest import papers_with_pack


def result(
    id="q001",
    answerable=True,
    abstained=False,
    correct=True,
    ranked=(("a.pdf", 1),),
    gold=(("a.pdf", 1),),
    cited=(("a.pdf", 1, True),),
    latency=10.0,
    kind="figure",
) -> QuestionResult:
    return QuestionResult(
        id=id,
        question="?",
        kind=kind,
        split="dev",
        answerable=answerable,
        abstained=abstained,
        answer="x",
        correct=correct,
        citations=[
            CitedPage(file=f, page=p, quote="q", faithful=ok, on_gold_page=(f, p) in gold) for f, p, ok in cited
        ],
        ranked_pages=list(ranked),
        gold_pages=list(gold) if answerable else [],
        latency_ms=latency,
    )


def test_retrieval_metrics():
    results = [
        result(ranked=[("a.pdf", 1), ("a.pdf", 2)]),  # gold first
        result(ranked=[("a.pdf", 5), ("a.pdf", 1)], cited=()),  # gold second
        result(ranked=[("b.pdf", 1)] * 1 + [("a.pdf", 9)], cited=()),  # never
        result(answerable=False, abstained=True, ranked=[("a.pdf", 1)], cited=()),  # not counted in retrieval
    ]
    m = compute(results)
    assert (
        m["hit_at_1"] == pytest.approx(1 / 3)
        and m["hit_at_3"] == pytest.approx(2 / 3)
        and m["hit_at_10"] == pytest.approx(2 / 3)
    )
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["ndcg_at_10"] == pytest.approx((1 + 1 / math.log2(3) + 0) / 3)


def test_citation_and_answer_metrics():
    results = [
        result(cited=[("a.pdf", 1, True), ("a.pdf", 7, True)]),  # one of two citations on a gold page
        result(cited=[("a.pdf", 3, False)], correct=False),  # unfaithful, off the gold page, wrong
        result(abstained=True, correct=False, cited=()),  # a false abstention
        result(answerable=False, abstained=False, cited=[("a.pdf", 2, True)]),
        result(answerable=False, abstained=True, cited=()),
    ]
    m = compute(results)
    assert m["faithfulness"] == pytest.approx(3 / 4)
    assert m["citation_precision"] == pytest.approx(1 / 3)
    assert m["citation_recall"] == pytest.approx(1 / 3)
    assert m["correctness"] == pytest.approx(1 / 3)
    assert m["false_abstention"] == pytest.approx(1 / 3)
    assert m["abstention_unanswerable"] == pytest.approx(1 / 2)


def test_latency_percentiles_and_threshold_directions():
    m = compute([result(latency=float(ms)) for ms in range(1, 101)])
    assert m["latency_p50_ms"] == pytest.approx(50.5) and m["latency_p95_ms"] == pytest.approx(95.05)
    assert meets("hit_at_1", 0.9, 0.85) and not meets("hit_at_1", 0.8, 0.85)
    assert meets("false_abstention", 0.04, 0.05) and not meets("false_abstention", 0.06, 0.05)
    assert not meets("hit_at_1", None, 0.5)


def test_report_judges_gate_and_targets_and_shows_deltas(tmp_path):
    ours = [result(id="q001"), result(id="q003", ranked=[("b.pdf", 2)], cited=(), correct=False)]
    naive = [result(id="q001", ranked=[("b.pdf", 2)], cited=()), result(id="q003", ranked=[("b.pdf", 2)], cited=())]
    before = reports.build(ours[:1], None, {}, {}, Path("gold.jsonl"))
    report = reports.build(
        ours, naive, {"hit_at_1": 0.9, "faithfulness": 1.0}, {"hit_at_1": 0.85}, Path("gold.jsonl"), before
    )
    assert report["gate"]["hit_at_1"] == {"threshold": 0.9, "value": 0.5, "ok": False}
    assert report["gate"]["faithfulness"]["ok"]
    assert [f["id"] for f in report["failures"]] == ["q003"]
    assert report["deltas"]["all:hit_at_1"] == pytest.approx(-0.5)
    assert reports.gate_failures(report) == ["hit_at_1 = 50% is below the threshold 90%"]
    text = reports.markdown(report)
    assert (
        "| hit_at_1 | 50% (-50 pts) |" in text and "naive, held-out" in text and "**q003**" in text and "FAILED" in text
    )
    json_path, md_path = reports.write(report, tmp_path / "reports")
    assert json.loads(json_path.read_text())["gate"]["hit_at_1"]["ok"] is False
    assert (tmp_path / "reports" / "latest.md").read_text() == md_path.read_text()


def test_blind_test_questions_are_scored_but_never_listed(tmp_path):
    blind = tmp_path / "blind.jsonl"
    blind.write_text("{}\n")
    ours = [
        result(id="q001"),
        result(id="bA01", cited=(), correct=False).model_copy(update={"split": "blind-dev"}),
        result(id="bB01", cited=(), correct=False).model_copy(update={"split": "blind-test"}),
        result(id="bB02").model_copy(update={"split": "blind-test"}),
    ]
    report = reports.build(
        ours, None, {}, {}, Path("gold.jsonl"), blind_file=blind, blind_targets={"correctness": 0.85}
    )
    assert report["systems"]["ours"]["blind-test"]["questions"] == 2
    assert report["systems"]["ours"]["blind-test"]["correctness"] == pytest.approx(0.5)
    assert report["systems"]["ours"]["all"]["questions"] == 1  # the own set only: what the gate judges
    assert report["blind_targets"]["correctness"] == {"target": 0.85, "value": 0.5, "met": False}
    assert [f["id"] for f in report["failures"]] == ["bA01"]
    assert {r["id"] for r in report["results"]["ours"]} == {"q001", "bA01"}
    text = reports.markdown(report)
    assert "bB01" not in text and "bB02" not in text and report["blind_sha256"] in text


def test_hard_negatives_lead_types_and_recency_are_scored():
    def with_(r, **fields):
        return r.model_copy(update=fields)

    results = [
        with_(result(answerable=False, abstained=True, cited=()), hard_negative=True, missing_named=True),
        with_(result(answerable=False, abstained=True, cited=()), hard_negative=True),  # refused, nothing named
        with_(result(answerable=False), hard_negative=True, partial=True, missing_named=True),
        with_(result(answerable=False), hard_negative=True, missing_named=True),  # answered as if it knew
        with_(result(), answer_type="number"),  # the quote "q" holds no number
        with_(result(), answer_type="person").model_copy(
            update={
                "citations": [
                    CitedPage(file="a.pdf", page=1, quote="Councillor Okafor", faithful=True, on_gold_page=True)
                ]
            }
        ),
        with_(result(gold=(("new.pdf", 2),), cited=(("new.pdf", 2, True),)), recency=True),
        with_(result(gold=(("new.pdf", 2),), cited=(("old.pdf", 9, True),)), recency=True),
    ]
    m = compute(results)
    assert m["hard_negatives_handled"] == pytest.approx(2 / 4)
    assert m["lead_holds_type"] == pytest.approx(1 / 2)
    assert m["recency_newest"] == pytest.approx(1 / 2)


def test_correctness_needs_one_alternative_of_every_group_as_whole_words():
    q = GoldQuestion(
        id="q1", question="?", answerable=True, kind="figure", must_contain=[["92", "ninety-two"], ["foster"]]
    )
    assert q.is_correct("There are 92 approved Foster carers")
    assert not q.is_correct("There are 92 approved carers")
    posts = GoldQuestion(id="q2", question="?", answerable=True, kind="figure", must_contain=[["15"], ["£37m"]])
    assert posts.is_correct("15 posts and £37m of savings")
    for wrong in ("In 2015, £37m", "15.4 FTE and £37m", "150 posts and £37m", "15 posts and £37million"):
        assert not posts.is_correct(wrong), wrong


def test_held_out_third_is_chosen_by_id_and_never_the_questions_tuned_on():
    def split(n: int) -> str:
        return GoldQuestion(id=f"q{n:03d}", question="?", answerable=False, kind="unanswerable").split

    assert {split(n) for n in range(1, 61)} == {"dev"}  # used to tune the answerer before the split existed
    assert [split(n) for n in (61, 62, 63, 66, 110, 111, 134)] == [
        "dev",
        "dev",
        "held-out",
        "held-out",
        "dev",
        "held-out",
        "held-out",
    ]


def test_faithfulness_needs_the_quote_on_the_page_it_names(tmp_path):
    from eval.faithful import quote_on_page

    from pdfs import PageSpec, make_pdf

    pdf = make_pdf(
        tmp_path / "two.pdf",
        [
            PageSpec(["The lease of the boathouse would end in"], footer="Page 1"),
            PageSpec(["September 2024 after negotiations with the landlord."], footer="Page 2"),
        ],
    )
    assert quote_on_page("The lease of the boathouse", pdf, 1)
    assert quote_on_page("boathouse would end in September 2024 after", pdf, 1)  # runs over the break
    assert not quote_on_page("boathouse would end in September 2024", pdf, 2)  # does not start on page 2
    assert not quote_on_page(
        "in September 2024 after negotiations with the landlord.", pdf, 1
    )  # one stray word on page 1
    assert not quote_on_page("The lease of the garage", pdf, 1)


FIXTURE_GOLD = [
    {
        "id": "q001",
        "question": "How many schools used the outdoor education centre?",
        "answerable": True,
        "kind": "figure",
        "expected": [{"file": "pack.pdf", "pages": [3]}],
        "quotes": [{"file": "pack.pdf", "page": 3, "text": "The Chair asked how many schools had used the centre"}],
        "must_contain": [["41"]],
    },
    {
        "id": "q002",
        "question": "What did we decide about Grangewaters?",
        "answerable": True,
        "kind": "decision",
        "expected": [{"file": "pack.pdf", "pages": [4]}],
        "quotes": [
            {"file": "pack.pdf", "page": 4, "text": "That the Committee agree to the proposed lease extension."}
        ],
        "must_contain": [["lease extension"]],
    },
    {
        "id": "q003",
        "question": "How much will the council spend on resurfacing potholes in Stanford-le-Hope?",
        "answerable": False,
        "kind": "unanswerable",
    },
]


@pytest.fixture
def eval_config(tmp_path, sample_pack_pdf) -> Path:
    papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(q) for q in FIXTURE_GOLD) + "\n")
    config = tmp_path / "config.toml"
    config.write_text("""
[index]
paths = ["papers"]
data_dir = "data"
[eval]
gold_file = "gold.jsonl"
blind_file = ""
decisions_dir = ""
report_dir = "reports"
[eval.gate]
faithfulness = 1.0
citation_recall = 0.5
""")
    return config


@pytest.mark.model
@pytest.mark.slow
def test_qa_eval_scores_both_systems_and_passes_the_gate(eval_config):
    """The real model on both sides: ours, and the naive llama-index pipeline (which embeds with it)."""
    result = CliRunner().invoke(cli, ["--config", str(eval_config), "eval", "--gate"])
    assert result.exit_code == 0, result.output
    latest = json.loads((eval_config.parent / "reports" / "latest.json").read_text())
    ours, naive = latest["systems"]["ours"]["all"], latest["systems"]["naive"]["all"]
    assert ours["faithfulness"] == 1.0 and ours["citation_recall"] == 1.0 and ours["abstention_unanswerable"] == 1.0
    assert naive["abstention_unanswerable"] == 0.0
    assert {r["id"] for r in latest["results"]["ours"]} == {"q001", "q002", "q003"}
    assert (eval_config.parent / "reports" / "latest.md").read_text().startswith("# Evaluation report")


def test_qa_eval_gate_fails_naming_the_metric(eval_config, monkeypatch, fake_embedder):
    monkeypatch.setenv("QA_EVAL__GATE", '{"hit_at_1": 1.5}')
    result = CliRunner().invoke(
        cli, ["--config", str(eval_config), "eval", "--gate", "--no-naive"], obj=AppContext(embedder=fake_embedder)
    )
    assert result.exit_code == 1
    assert "hit_at_1" in result.stderr and "below the threshold" in result.stderr
    assert "naive" not in json.loads((eval_config.parent / "reports" / "latest.json").read_text())["systems"]


def test_unknown_gate_metric_is_a_config_error(eval_config, monkeypatch):
    monkeypatch.setenv("QA_EVAL__GATE", '{"hit_at_one": 0.5}')
    result = CliRunner().invoke(cli, ["--config", str(eval_config), "eval"])
    assert result.exit_code == 2
    assert "eval.gate" in result.stderr and "hit_at_one" in result.stderr


def test_calibration_of_the_lead_bins_confidence_against_hit_at_1():
    results = [
        result(id="a").model_copy(update={"confidence": 0.1}),  # right page first
        result(id="b", ranked=(("a.pdf", 2),)).model_copy(update={"confidence": 0.15}),  # wrong page first
        result(id="c").model_copy(update={"confidence": 0.9}),
        result(id="d", abstained=True).model_copy(update={"confidence": 0.95}),  # no answer: not counted
        result(id="e"),  # no confidence (a decision from the minutes): not counted
    ]
    rows = calibration_table(results)
    assert [(r["bin"], r["questions"], r["observed"]) for r in rows] == [("0.0-0.2", 2, 0.5), ("0.8-1.0", 1, 1.0)]
    assert rows[0]["predicted"] == pytest.approx(0.125)
