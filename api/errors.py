"""The one place the service's errors (core.errors) become HTTP statuses, for every route and the stream.

A caller is told what it can act on. For 4xx, that is the error's own message (the id, field or file it names).
For 5xx, which the caller cannot fix, it is a short public message: the full one, which may hold server paths or
the vector store's address, goes to the log for the administrators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.schemas import ErrorBody
from core import errors
from core.errors import InvalidRequest, QAError, lookup

log = logging.getLogger(__name__)

# Error class -> status; a class not listed takes its nearest listed ancestor's (core.errors draws the tree).
STATUS: dict[type[QAError], int] = {
    QAError: 500,
    errors.InvalidRequest: 422,
    errors.TooLarge: 413,
    errors.NotAPDF: 415,
    errors.AccessDenied: 403,
    errors.NotAuthenticated: 401,
    errors.RateLimited: 429,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ReadError: 422,
    errors.NotIndexedError: 503,  # nothing to answer from yet: try again once `qa index` has run
    errors.IndexBusyError: 503,
    errors.StoreError: 503,
    errors.StoreUnavailable: 503,
}
INTERNAL = "internal error: the service could not answer this (its log has the details for the administrators)"
# What a caller is told of a 5xx; the class's own message goes to the log.
PUBLIC: dict[type[QAError], str] = {
    QAError: INTERNAL,
    errors.NotIndexedError: "nothing has been indexed yet: the service's administrators need to run `qa index`",
    errors.IndexBusyError: "the papers are being indexed just now; try again in a minute",
    errors.StoreError: "the index cannot be read just now (the service's log has the details for the administrators)",
    errors.StoreUnavailable: "the search database is not answering just now (restarting?); try again in a minute",
}
# Seconds a caller is asked to wait before trying a transient 503 again.
RETRY_AFTER_S = 10


def status_of(error: BaseException) -> int:
    """The HTTP status for an error: its class's in STATUS, else its nearest ancestor's; 500 for anything else."""
    return lookup(STATUS, error, 500)


def detail_of(error: BaseException) -> str:
    """What the caller is told: a 4xx error's own message; for a 5xx, its public message (a bug: INTERNAL)."""
    if isinstance(error, QAError) and status_of(error) < 500:
        return str(error)
    return lookup(PUBLIC, error, INTERNAL)


def headers_of(error: BaseException) -> dict[str, str]:
    """Headers a status needs: how to authenticate (401), when to try again (429, and a 503 that passes)."""
    if isinstance(error, errors.NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, errors.RateLimited):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, errors.StoreUnavailable | errors.IndexBusyError):
        return {"Retry-After": str(RETRY_AFTER_S)}
    return {}


def install(app: FastAPI) -> None:
    """Answer every QAError as {"detail": message} with its status and headers, and a bug as a JSON 500 too."""

    @app.exception_handler(QAError)
    def _qa_error(request: Request, exc: QAError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse({"detail": detail_of(exc)}, status_code=status, headers=headers_of(exc))

    @app.exception_handler(Exception)
    def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": INTERNAL}, status_code=500)


# Every keyed route may answer these: no or a wrong key (401), a role that may not (403), a bad field (422), too many
# requests (429); documented on every route so clients and the schema agree.
ALWAYS = (401, 403, 422, 429)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route for its OpenAPI entry: ALWAYS and `statuses`, each an ErrorBody."""
    return {status: {"model": ErrorBody} for status in sorted({*ALWAYS, *statuses})}


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """Validation errors as one line naming each field: 'comment: String should have at most 2000 characters'."""
    parts = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = "body" if error.get("type") == "json_invalid" else ".".join(loc) or "body"
        reason = "unknown field" if error.get("type") == "extra_forbidden" else str(error.get("msg", "invalid"))
        parts.append(f"{field}: {reason.removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


class FieldErrors(APIRoute):
    """FastAPI's request validation, raised as InvalidRequest naming the field (answered 422 {"detail": "..."} like
    every other error) rather than FastAPI's list of errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant)

        async def handle(request: Request) -> Response:
            # A parameter the route does not take is refused, not ignored: a misspelt filter ("untill") would
            # otherwise widen the answer silently.
            unknown = sorted(set(request.query_params) - known)
            if unknown:
                raise InvalidRequest(f"{unknown[0][:60]}: unknown query parameter")
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise InvalidRequest(describe_errors(exc.errors())) from None

        return handle


def _query_names(dependant: Any) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)
