"""Gold questions: what a member asks, where the papers answer it (pages, exact quotes, terms), or that they don't."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.models import Answer

GOLD_FILE = Path(__file__).resolve().parent / "questions.jsonl"
Kind = Literal["decision", "figure", "person", "date", "cross", "general", "unanswerable"]
Split = Literal["dev", "held-out"]
HELD_OUT_EVERY = 3  # a fixed third, chosen by id: q003, q006, ... are never used to tune anything


class ExpectedPages(BaseModel):
    file: str
    pages: list[int]


class GoldQuote(BaseModel):
    """Text copied exactly from a gold page."""

    file: str
    page: int
    text: str


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    answerable: bool
    kind: Kind
    expected: list[ExpectedPages] = Field(default_factory=list)
    quotes: list[GoldQuote] = Field(default_factory=list)
    must_contain: list[list[str]] = Field(default_factory=list)  # every group needs one of its alternatives
    notes: str = ""

    @property
    def split(self) -> Split:
        digits = "".join(c for c in self.id if c.isdigit())
        return "held-out" if digits and int(digits) % HELD_OUT_EVERY == 0 else "dev"

    def expects(self, file: str, page: int) -> bool:
        return any(e.file == file and page in e.pages for e in self.expected)

    def is_correct(self, text: str) -> bool:
        """The text holds one alternative of every required group (case-insensitive)."""
        lowered = text.lower()
        return all(any(term.lower() in lowered for term in group) for group in self.must_contain)


def load_gold(path: Path = GOLD_FILE) -> list[GoldQuestion]:
    """Read a JSON-lines gold file, naming the line of any record that does not validate."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                questions.append(GoldQuestion.model_validate(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None
    return questions


def first_citation_on_expected_page(question: GoldQuestion, answer: Answer) -> bool:
    return bool(answer.citations) and question.expects(answer.citations[0].document.file, answer.citations[0].page)


def any_citation_on_expected_page(question: GoldQuestion, answer: Answer) -> bool:
    return any(question.expects(c.document.file, c.page) for c in answer.citations)
