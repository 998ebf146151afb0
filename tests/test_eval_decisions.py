"""The evaluation's decisions section: the register against points read by hand, topic timelines, whole
resolutions; and a whole `qa eval` run that reports it, the test split as aggregates only."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from cli.main import AppContext, cli
from core.errors import GoldFileError
from core.records import Answer, RegisterEntry
from eval.decisions import (
    GoldDecisionQuestion,
    GoldPoint,
    load_decision_gold,
    same_words,
    score_question,
    score_register,
)

from conftest import papers_with_pack

DAY = dt.date(2023, 1, 10)


def point(minute: str, number: str, text: str, status: str = "resolved") -> GoldPoint:
    return GoldPoint(
        meeting_date=DAY, pack="pack.pdf", minute=minute, point=number, status=status, pdf_page=4,
        printed_page="14", text=text,
    )  # fmt: skip


def entry(minute: str, number: str | None, text: str, status: str = "resolved", doc: str = "pack") -> RegisterEntry:
    return RegisterEntry(
        meeting_date=DAY, committee="C", minute=minute, point=number, text=text, status=status, doc_id=doc,
        file=f"{doc}.pdf", page=4, page_label="14", passage_id="p", start=0, end=len(text),
    )  # fmt: skip


def test_same_words_ignores_the_points_number_spaces_quotes_and_case_but_not_other_words():
    assert same_words("2) That the Committee agree to the  proposed lease extension.", "That the committee agree to "
                      "the proposed lease extension.")  # fmt: skip
    assert same_words("1.1 That members note the ‘plan’.", "That members note the 'plan'.")
    assert not same_words("That the Committee agree to the lease.", "That the Committee reject the boathouse plan.")
    assert not same_words("", "anything")
    # A point cut short, or two points run together, is not the same point.
    assert not same_words("That the report be noted.", "That the report be noted and a further update be provided.")
    assert not same_words("1. That the plan be noted. 2. That the lease be extended.", "That the plan be noted.")


def test_the_register_is_scored_against_the_points_read_by_hand():
    gold = [
        point("13", "1", "That the Committee note the usage figures.", "noted"),
        point("13", "2", "That the Committee agree to the proposed lease extension."),
        point("14", "", "Item deferred to the next meeting.", "deferred"),
    ]
    entries = [
        entry("13", "1", "1) That the Committee note the usage figures.", "noted"),
        entry("13", "1", "1) That the Committee note the usage figures.", "noted", doc="minutes"),  # printed twice
        entry("13", "2", "2) That the Committee agree to the proposed lease extension.", "noted"),  # wrong status
        entry("13", None, "Members thanked the officers for the report."),  # not a decision point
    ]
    scored = score_register(entries, gold)
    assert scored["precision"] == pytest.approx(2 / 3)  # the twin counts once; the thanks is not a point
    assert scored["recall"] == pytest.approx(2 / 3)  # the deferral was missed
    assert scored["status_accuracy"] == pytest.approx(1 / 2)
    assert scored["per_meeting"] == {"2023-01-10": {"gold": 3, "register": 3}}


def test_an_answer_holds_the_whole_resolution_only_when_it_quotes_every_point():
    question = GoldDecisionQuestion(
        id="dq01", split="dev", question="?", meeting_date=DAY, minute="13",
        points=["That the Committee note the usage figures.", "That the Committee agree to the lease extension."],
        statuses=["noted", "resolved"],
    )  # fmt: skip
    whole = Answer(
        question="?", answer="On 10 January 2023, noted: “1) That the Committee note the usage figures.” [1]\n"
        "- resolved: “2) That the Committee agree to the lease extension.” [2]", citations=[], abstained=False,
    )  # fmt: skip
    assert score_question(whole, question) == {"id": "dq01", "whole_resolution": True, "status_words": True}
    half = whole.model_copy(update={"answer": "noted: “That the Committee note the usage figures.” [1]"})
    assert score_question(half, question) == {"id": "dq01", "whole_resolution": False, "status_words": False}
    # The status must label the point, not merely appear in a quote ("be noted", "UNRESOLVED").
    mislabelled = whole.model_copy(update={"answer": whole.answer.replace("noted:", "resolved:")})
    assert score_question(mislabelled, question)["status_words"] is False


def test_a_bad_gold_record_is_named_by_file_line_and_field(tmp_path):
    (tmp_path / "points.jsonl").write_text('{"meeting_date": "2023-01-10", "pack": "p.pdf"}\n')
    (tmp_path / "topics.jsonl").write_text("")
    (tmp_path / "questions.jsonl").write_text("")
    with pytest.raises(GoldFileError, match=r"points.jsonl, line 1: minute: Field required"):
        load_decision_gold(tmp_path)
    (tmp_path / "points.jsonl").write_text("")
    (tmp_path / "topics.jsonl").unlink()
    with pytest.raises(GoldFileError, match=r"topics\.jsonl: cannot be read"):
        load_decision_gold(tmp_path)


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def decisions_config(tmp_path, sample_pack_pdf):
    """The sample pack, one own gold question, and a decisions gold folder written by hand for it."""
    papers_with_pack(tmp_path / "papers", sample_pack_pdf)
    write_jsonl(tmp_path / "gold.jsonl", [{"id": "q001", "question": "What did we decide about Grangewaters?",
                "answerable": True, "kind": "decision", "expected": [{"file": "pack.pdf", "pages": [4]}],
                "quotes": [], "must_contain": [["lease"]]}])  # fmt: skip
    gold = tmp_path / "decisions"
    gold.mkdir()
    day = "2023-01-10"
    texts = [
        ("1", "That the Committee note the usage figures for Grangewaters.", "noted"),
        ("2", "That the Committee agree to the proposed lease extension.", "resolved"),
        ("3", "Members requested that Cabinet reviews the decision to close the boathouse.", "not agreed"),
    ]
    points = [
        {"meeting_date": day, "pack": "pack.pdf", "minute": "13", "point": n, "status": s, "pdf_page": 4,
         "printed_page": "14", "text": t} for n, t, s in texts
    ] + [{"meeting_date": day, "pack": "pack.pdf", "minute": "14", "point": "", "status": "deferred", "pdf_page": 4,
          "printed_page": "14", "text": "Item deferred to the next meeting of the Committee on 14 March 2023."}
    ]  # fmt: skip
    write_jsonl(gold / "points.jsonl", points)
    grangewaters = [{"meeting_date": day, "minute": "13", "point": n, "status": s, "printed_page": "14"}
                    for n, _, s in texts]  # fmt: skip
    write_jsonl(gold / "topics.jsonl", [
        {"id": "dt01", "split": "dev", "topic": "Grangewaters", "entries": grangewaters},
        {"id": "dt02", "split": "test", "topic": "Riverside Play Centre opening hours", "none_expected": True},
    ])  # fmt: skip
    write_jsonl(gold / "questions.jsonl", [
        {"id": "dq01", "split": "dev", "question": "What did the committee decide about Grangewaters?",
         "meeting_date": day, "minute": "13", "points": [t for _, t, _ in texts], "statuses": [s for *_, s in texts]},
    ])  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text('[index]\npaths = ["papers"]\ndata_dir = "data"\n[eval]\ngold_file = "gold.jsonl"\n'
                      'blind_file = ""\ndecisions_dir = "decisions"\nreport_dir = "reports"\n')  # fmt: skip
    return config


def test_qa_eval_reports_the_decisions_section_with_the_test_split_as_aggregates(decisions_config, fake_embedder):
    tmp_path, day = decisions_config.parent, "2023-01-10"
    result = CliRunner().invoke(cli, ["--config", str(decisions_config), "eval", "--no-naive"],
                                obj=AppContext(embedder=fake_embedder))  # fmt: skip
    assert result.exit_code == 0, result.output
    decisions = json.loads((tmp_path / "reports" / "latest.json").read_text())["decisions"]
    assert decisions["register"]["precision"] == decisions["register"]["recall"] == 1.0
    assert decisions["register"]["status_accuracy"] == 1.0
    assert decisions["register"]["per_meeting"] == {day: {"gold": 4, "register": 4}}
    dev, test = decisions["splits"]["dev"], decisions["splits"]["test"]
    assert (dev["topic_precision"], dev["topic_recall"], dev["whole_resolution"]) == (1.0, 1.0, 1.0)
    assert [t["id"] for t in dev["topic_results"]] == ["dt01"]
    assert test["topics"] == 1 and "topic_results" not in test  # aggregates only
    assert test["quiet_when_none"] == 1.0
    markdown = (tmp_path / "reports" / "latest.md").read_text()
    assert "## Decisions" in markdown and f"| {day} | 4 | 4 |" in markdown


def test_the_decisions_gate_fails_naming_the_metric(decisions_config, fake_embedder, monkeypatch):
    monkeypatch.setenv("QA_EVAL__DECISIONS_GATE", '{"topic_recall": 1.0, "whole_resolution": 1.5}')
    result = CliRunner().invoke(cli, ["--config", str(decisions_config), "eval", "--gate", "--no-naive"],
                                obj=AppContext(embedder=fake_embedder))  # fmt: skip
    assert result.exit_code == 1
    assert "decisions whole_resolution = 100% is below the threshold 150%" in result.stderr
    assert "topic_recall" not in result.stderr  # met
    monkeypatch.setenv("QA_EVAL__DECISIONS_GATE", '{"topic_recal": 0.5}')
    result = CliRunner().invoke(
        cli, ["--config", str(decisions_config), "eval"], obj=AppContext(embedder=fake_embedder)
    )
    assert result.exit_code == 2 and "topic_recal" in result.stderr
