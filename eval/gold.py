"""Gold questions: what a member asks, where the papers answer it (pages, exact quotes, terms), or that they don't."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import GoldFileError
from core.records import Answer

GOLD_FILE = Path(__file__).resolve().parent / "questions.jsonl"
Kind = Literal["decision", "figure", "person", "date", "cross", "general", "unanswerable"]
Split = Literal["dev", "held-out", "blind-dev", "blind-test"]
AnswerType = Literal["number", "person", "date", "place", "decision", "reason", "yes_no", "findings", "list", "other"]
# The held-out part, a fixed third chosen by id: every third question from q061 to q110, and every
# question from q111 on. q001-q060 are all dev: they were used to tune the answerer before the split existed.
FIRST_UNSEEN, HELD_OUT_EVERY, ALL_HELD_OUT_FROM = 61, 3, 111


class ExpectedPages(BaseModel):
    """Pages of one file that state the answer."""

    file: str
    pages: list[int]


class GoldQuote(BaseModel):
    """Text copied exactly from a gold page."""

    file: str
    page: int
    text: str


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    question: str
    answerable: bool
    kind: Kind
    expected: list[ExpectedPages] = Field(default_factory=list)
    quotes: list[GoldQuote] = Field(default_factory=list)
    must_contain: list[list[str]] = Field(default_factory=list)  # every group needs one of its alternatives
    notes: str = ""
    # The blind set's fields (eval/blind-sources/SCHEMA.md).
    answer_type: AnswerType | None = None
    hard_negative: bool = False  # the topic is in the papers, the specific asked (`missing`) is not
    recency: bool = False  # about the current, latest or next: answered from the newest papers
    missing: list[str] = Field(default_factory=list)
    nearest: list[GoldQuote] = Field(default_factory=list)  # what the papers give instead
    sampled_page: dict[str, str | int] | None = None  # the page of the seeded sample it was written from
    given_split: Split | None = Field(None, alias="split")  # the blind set names each question's split

    @property
    def split(self) -> Split:
        if self.given_split:
            return self.given_split
        digits = "".join(c for c in self.id if c.isdigit())
        number = int(digits) if digits else 0
        held_out = number >= ALL_HELD_OUT_FROM or (number >= FIRST_UNSEEN and number % HELD_OUT_EVERY == 0)
        return "held-out" if held_out else "dev"

    def expects(self, file: str, page: int) -> bool:
        return any(e.file == file and page in e.pages for e in self.expected)

    def is_correct(self, text: str) -> bool:
        """The text holds one alternative of every required group, as whole words (case-insensitive)."""
        return all(any(_term(term).search(text) for term in group) for group in self.must_contain)


def _term(term: str) -> re.Pattern:
    """A required term as a whole word or number: '15' matches '15 posts', not '2015', '15.4' or '150'."""
    term = term.strip()
    before = r"(?<![\w])" if term[:1].isalnum() else ""
    after = r"(?![\w]|[.,]\d)" if term[-1:].isalnum() else ""
    return re.compile(before + re.escape(term) + after, re.I)


def load_gold(path: Path = GOLD_FILE) -> list[GoldQuestion]:
    """Read a JSON-lines gold file; GoldFileError naming the file, or the line of a record that does not validate."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFileError(f"gold questions: cannot read {path} ({getattr(exc, 'strerror', None) or exc})") from None
    questions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                questions.append(GoldQuestion.model_validate(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise GoldFileError(f"gold questions: {path}:{number}: {exc}") from None
    return questions


def first_citation_on_expected_page(question: GoldQuestion, answer: Answer) -> bool:
    return bool(answer.citations) and question.expects(answer.citations[0].document.file, answer.citations[0].page)


def load_eval_gold(own: Path, blind: Path | None) -> list[GoldQuestion]:
    """The project's own gold questions, then the blind set's (when configured), as one evaluation scores them."""
    return load_gold(own) + (load_gold(blind) if blind is not None else [])
