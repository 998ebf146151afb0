"""The HTTP service, wired once in create_app(settings): one QAService, one paper library, thin routes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.routing import Match

from api import errors
from api.access import RateLimiter
from api.audit import AuditLog
from api.feedback import FeedbackStore
from api.feedback_routes import router as feedback_router
from api.limits import SMALL_BODY, BodyLimit
from api.routes import router
from core.errors import StoreError
from core.settings import Settings
from indexer.library import PaperLibrary
from qa.service import QAService

log = logging.getLogger(__name__)


def create_app(settings: Settings, service: QAService | None = None) -> FastAPI:
    """The application, with its one QAService (models loaded once), its paper library and routes."""
    # FastAPIOffline serves the /docs and /redoc assets itself: the intranet may have no internet for a CDN.
    app = FastAPIOffline(
        title="Council papers QA",
        version="0.1.0",
        description="Answers from council committee papers: every claim a verbatim quote with its page.",
    )
    app.state.settings = settings
    app.state.service = service or QAService(settings)
    app.state.rate_limiter = RateLimiter(settings.api.requests_per_minute)
    # Answering is CPU-bound: threads beyond the cores only add switching, so the rest wait their turn.
    app.state.answer_slots = threading.BoundedSemaphore(settings.api.answer_slots)
    app.state.library = PaperLibrary(settings, app.state.service.embedder)
    app.state.audit = AuditLog.open(settings)
    app.state.feedback = FeedbackStore.open(settings)  # <data_dir>/feedback.sqlite3, old rows pruned
    try:
        for job in app.state.library.resume():
            log.warning(
                "%s was uploaded but never indexed (the service stopped?): indexing it now, job %s", job.file, job.id
            )
    except StoreError as exc:  # the service still starts, and /ready says why it cannot answer
        log.error("uploads waiting to be indexed were not resumed: %s", exc)
    if not settings.api.keys:
        log.warning(
            "no API keys are configured (api.keys): the service answers anyone who can reach it, "
            "and refuses uploads and deletes"
        )
    upload_limit = settings.api.max_upload_bytes + 2**20  # the PDF plus room for the multipart framing
    app.add_middleware(
        BodyLimit,
        limit_for=lambda method, path: upload_limit if (method, path) == ("POST", "/documents") else SMALL_BODY,
        wait_s=settings.api.body_wait_s,
    )
    if settings.api.cors_origins:  # added last, so outermost: refusals carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Highlight", "X-Page-Count", "X-Page-Label"],  # the widget's page viewer reads them
        )
    errors.install(app)

    @app.middleware("http")
    async def log_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """One line a request: method, path, status and time; the query string only with `api.log_queries` (a
        topic or a quote there can hold personal details). Keys are never logged."""
        started = time.perf_counter()
        response = await call_next(request)
        query = f"?{request.url.query}" if settings.api.log_queries and request.url.query else ""
        took = (time.perf_counter() - started) * 1000
        log.info("%s %s%s %d %.0f ms", request.method, request.url.path, query, response.status_code, took)
        return response

    @app.middleware("http")
    async def allow_every_method(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """A 405's `Allow` names every method the path answers (Starlette names only its first route's)."""
        response = await call_next(request)
        if response.status_code == 405:
            methods = {
                method
                for route in (*router.routes, *feedback_router.routes)  # included without a prefix
                if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE
                for method in route.methods or ()
            }
            if methods:
                response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    app.include_router(router)
    app.include_router(feedback_router)
    _state_configured_limits(app, settings)
    app.router.on_startup.append(app.state.library.open)  # again, when a lifespan is started once more
    app.router.on_shutdown.append(app.state.library.close)  # the job under way finishes, its process ends
    return app


def _state_configured_limits(app: FastAPI, settings: Settings) -> None:
    """The OpenAPI schema says what config limits: a question's `maxLength` is api.max_question_chars (the
    request models cannot know it), so clients and schema-driven tests see the limit the service applies."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for model in ("AskRequest", "FeedbackRequest"):
                question = schema["components"]["schemas"][model]["properties"]["question"]
                question["maxLength"] = min(
                    question.get("maxLength", settings.api.max_question_chars), settings.api.max_question_chars
                )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
