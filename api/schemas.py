"""Request bodies and small responses of the HTTP API; answers, citations and jobs are core.records."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.records import Decision, Meeting, PaperStatus, SearchFilters


class AskRequest(BaseModel):
    """POST /ask, as ../shared/contract.md gives it: only `question` is required."""

    # What /docs fills in for "Try it out" (the first example): a question the sample corpus answers, with no filter
    # that could leave it nothing to answer from; the second shows filters over a real range of meetings.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "What did we decide about Grangewaters?"},
                {
                    "question": "What did we decide about Grangewaters?",
                    "filters": {"since": "2021-01-01", "until": "2023-12-31"},
                    "top_k": 5,
                },
            ]
        },
    )

    question: str = Field(
        min_length=1,
        description="The question, in the member's own words (at most api.max_question_chars)",
        json_schema_extra={"pattern": r"\S"},  # not only spaces; checked by _has_words, whose message is plainer
    )
    filters: SearchFilters = Field(
        default_factory=SearchFilters, description="Hard limits on what the answer may come from"
    )
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to answer from (default retrieval.top_k)")

    @field_validator("question")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty: type a question in words")
        return value


class DocumentList(BaseModel):
    """GET /documents."""

    documents: list[PaperStatus] = Field(description="Indexed papers, then uploads still being indexed")


class Health(BaseModel):
    """GET /health."""

    status: str = Field(description="'ok' while the process answers")


class Readiness(BaseModel):
    """GET /ready: whether an index generation is loaded and its store answers."""

    ready: bool = Field(description="True when questions can be answered")
    generation: str | None = Field(None, description="The published index generation answers come from")
    documents: int = Field(0, description="Documents in it")
    passages: int = Field(0, description="Passages (vectors) in its store")
    reason: str | None = Field(None, description="Why it is not ready")


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: a message for the person using the service."""

    detail: str = Field(description="What went wrong and, where it can be, what to do")


class Suggestions(BaseModel):
    """GET /suggestions."""

    questions: list[str] = Field(description="Starter questions drawn from the indexed papers, best first")


class DecisionList(BaseModel):
    """GET /decisions: the decision register's entries on a topic, oldest first."""

    topic: str = Field(description="The topic asked about, as given")
    decisions: list[Decision] = Field(description="Each decision point (numbered resolutions apart), oldest first")


class MeetingList(BaseModel):
    """GET /meetings."""

    meetings: list[Meeting] = Field(description="The meetings the papers know of, oldest first")
