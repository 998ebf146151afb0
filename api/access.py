"""Who may call what: API keys with roles, and a per-key request rate limit."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.errors import NotAuthenticated, NotPermitted, RateLimited

log = logging.getLogger(__name__)
# reader: public papers; member: public and restricted (exempt) papers; editor: a member who may upload and delete.
ROLES = {"reader": 1, "member": 2, "editor": 3}
# Declares the Bearer scheme in the OpenAPI document (the docs' Authorize button); checking is ours, below.
bearer = HTTPBearer(auto_error=False, description="An API key from api.keys: reader, member or editor")


def key_label(key: str) -> str:
    """A name for a key that is safe to log: never the key itself."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:8]


class RateLimiter:
    """At most `per_minute` requests per caller in any sliding minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        if not self.per_minute:
            return
        now = self.clock()
        with self._lock:
            if len(self._seen) > 1000:  # forget callers quiet for a minute, so the record stays small
                for quiet in [c for c, times in self._seen.items() if not times or now - times[-1] >= 60]:
                    del self._seen[quiet]
            seen = self._seen[caller]
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                retry = max(1, math.ceil(60 - (now - seen[0])))
                raise RateLimited(f"more than {self.per_minute} requests a minute; try again in {retry} s", retry)
            seen.append(now)


class require:  # lower case: it reads as a verb where routes use it, Depends(require("editor"))
    """A dependency admitting callers whose key has `role` (or better); with no keys configured, every reader.

    Its value is the caller's label (see `admit`).
    """

    def __init__(self, role: str):
        self.role = role

    def __call__(self, request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        return admit(request, credentials, self.role)


def is_member(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> bool:
    """Whether the caller may read restricted papers: a key whose role is member or editor. With no keys configured
    nobody may (the service then answers from public papers only). Keys are compared in constant time."""
    keys: dict[str, str] = request.app.state.settings.api.keys
    given = credentials.credentials if credentials else ""
    role = _role_of(keys, given)
    return role is not None and ROLES[role] >= ROLES["member"]


def _role_of(keys: dict[str, str], given: str) -> str | None:
    """The role of the key given, comparing it with every configured key in constant time (no early exit), so the
    time taken tells nothing of how much of a key was right."""
    found = None
    for key, role in keys.items():
        if hmac.compare_digest(key.encode(), given.encode()):
            found = role
    return found


def admit(request: Request, credentials: HTTPAuthorizationCredentials | None, role: str) -> str:
    """The caller's label if its key has `role` or better and it is within its rate; else NotAuthenticated (no or an
    unknown key), NotPermitted (a lesser role; or no keys configured and editor work asked) or RateLimited."""
    keys: dict[str, str] = request.app.state.settings.api.keys
    caller = request.client.host if request.client else "unknown"
    if keys:
        key = credentials.credentials if credentials else ""
        held = _role_of(keys, key)
        if held is None:
            raise NotAuthenticated("a valid API key is needed: Authorization: Bearer KEY")
        if ROLES[held] < ROLES[role]:
            raise NotPermitted(f"this key's role ({held}) may not do this; it needs {role}")
        caller = key_label(key)
    elif role == "editor":
        # With no keys the service answers anyone; changing what it holds still needs someone named.
        raise NotPermitted(
            "no API keys are configured (api.keys): uploads, deletes and feedback lists need an editor key"
        )
    request.app.state.rate_limiter.check(caller)
    log.debug("%s %s by %s", request.method, request.url.path, caller)
    return caller
