"""The one place the service's errors (core.errors) become HTTP statuses, for every route and the stream."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    EvalError,
    GoldFileError,
    IndexBusyError,
    InvalidRequest,
    NotAPDF,
    NotAuthenticated,
    NotFound,
    NotIndexedError,
    NotPermitted,
    QAError,
    RateLimited,
    ReadError,
    StoreError,
    TooLarge,
)

log = logging.getLogger(__name__)

# Error class -> status; a class not listed takes its nearest listed ancestor's (core.errors draws the tree).
STATUS: dict[type[QAError], int] = {
    QAError: 500,
    ConfigError: 500,  # the service is misconfigured: nothing the caller can change
    InvalidRequest: 422,
    TooLarge: 413,
    NotAPDF: 415,
    AccessDenied: 403,
    NotAuthenticated: 401,
    NotPermitted: 403,
    RateLimited: 429,
    NotFound: 404,
    Conflict: 409,
    NotIndexedError: 503,  # nothing to answer from yet: try again once `qa index` has run
    IndexBusyError: 503,
    ReadError: 422,
    StoreError: 503,
    GoldFileError: 500,
    EvalError: 500,
}
INTERNAL = "internal error: the service could not answer this (its log has the details for the administrators)"


def status_of(error: BaseException) -> int:
    """The HTTP status for an error: its class's in STATUS, else its nearest ancestor's; 500 for anything else."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def detail_of(error: BaseException) -> str:
    """What the caller is told: a QAError's own message; for anything else, only that it failed (it is logged)."""
    return str(error) if isinstance(error, QAError) else INTERNAL


def headers_of(error: BaseException) -> dict[str, str]:
    """Headers a status needs: how to authenticate (401), when to try again (429)."""
    if isinstance(error, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return {}


def install(app: FastAPI) -> None:
    """Answer every QAError as {"detail": message} with its status and headers."""

    @app.exception_handler(QAError)
    def _qa_error(request: Request, exc: QAError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse({"detail": detail_of(exc)}, status_code=status, headers=headers_of(exc))
