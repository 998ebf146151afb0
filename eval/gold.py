"""Gold questions: what a member asks, where the papers answer it, or that they don't."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from qa.models import Answer

GOLD_FILE = Path(__file__).resolve().parent / "questions.jsonl"


class ExpectedPages(BaseModel):
    file: str
    pages: list[int]


class GoldQuestion(BaseModel):
    id: str
    question: str
    answerable: bool
    kind: str
    expected: list[ExpectedPages] = Field(default_factory=list)
    evidence: str | None = None  # a phrase printed on the first expected page
    notes: str = ""

    def expects(self, file: str, page: int) -> bool:
        return any(e.file == file and page in e.pages for e in self.expected)


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
