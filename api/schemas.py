"""Request bodies of the HTTP API; responses are the typed records of qa.models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qa.models import SearchFilters
from qa.uploads import PaperStatus


class AskRequest(BaseModel):
    """POST /ask, as ../shared/contract.md gives it: only `question` is required."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    filters: SearchFilters = Field(default_factory=SearchFilters)
    top_k: int | None = Field(None, ge=1, le=50)


class DocumentList(BaseModel):
    documents: list[PaperStatus]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    generation: str | None = None
    documents: int = 0
    passages: int = 0
    reason: str | None = None
