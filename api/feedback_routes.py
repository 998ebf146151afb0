"""POST /feedback (anyone who may ask) and GET /feedback (editors): the chat widget's thumbs, over api.feedback.

These routes tell a bad body or query as the project's InvalidRequest naming the field ({"detail": "comment: ..."},
422 through api.errors) rather than FastAPI's list of errors, so the widget can show the message as it is.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from api.access import require
from api.errors import FieldErrors, documented
from api.feedback import FeedbackList, FeedbackRecord, FeedbackRequest, FeedbackStore
from core.errors import InvalidRequest
from core.records import IsoTime

router = APIRouter(route_class=FieldErrors, tags=["feedback"])


def _store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.feedback
    return store


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackRecord,
    dependencies=[Depends(require("reader"))],
    responses=documented(400, 408, 413, 503),
)
def add_feedback(body: FeedbackRequest, request: Request) -> FeedbackRecord:
    """Store a member's thumbs up or down (and comment) on one answer, with the question, answer and citations."""
    limit = request.app.state.settings.api.max_question_chars
    if len(body.question) > limit:
        raise InvalidRequest(f"question: longer than {limit} characters")
    return _store(request).add(body)


@router.get(
    "/feedback",
    response_model=FeedbackList,
    dependencies=[Depends(require("editor"))],
    responses=documented(503),
)
def list_feedback(
    request: Request,
    helpful: bool | None = Query(None, description="Only thumbs up (true) or only thumbs down (false)"),
    since: IsoTime | None = Query(
        None, description="Only feedback from this time on (ISO date or time; UTC unless it names a zone)"
    ),
    limit: int = Query(100, ge=1, le=1000, description="At most this many, newest first"),
) -> FeedbackList:
    """Stored feedback, newest first (editors only): `qa feedback export` drafts gold questions from it."""
    return FeedbackList(feedback=_store(request).list(helpful=helpful, since=since, limit=limit))
