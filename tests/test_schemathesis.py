"""Property-based tests of the HTTP API against its own OpenAPI schema, with Schemathesis, in-process (ASGI).

Schemathesis reads the app's OpenAPI document and, for every operation, sends the schema's examples, its coverage
cases (boundaries, missing and wrong-typed values) and generated data, valid and invalid, then runs all its checks
on each response: no 5xx; only statuses the schema documents; content types, headers and bodies as the schema says;
invalid data refused with a 4xx and valid data accepted; a key the operation declares really needed. One check of
ours joins them: every error (4xx or 5xx) is JSON with a non-empty `detail` for the person using the service.

The requests go to the service over its own copy of the fixture pack (uploads and deletes change what it holds),
with the fake embedder, API keys configured and no rate limit. Each operation runs twice, its requests carrying the
editor's key (the editor-only routes are reached) and then a reader's (they refuse it); Schemathesis's `ignored_auth`
check sends each request again without a key and with a wrong one.

Run: pytest tests/test_schemathesis.py (7 to 15 s, about 6 s of it indexing the pack).

The schema is read at import from the same create_app over an empty data dir (with the same api limits: the schema
states api.max_question_chars), because Schemathesis's loader from a
fixture (schemathesis.pytest.from_fixture) fails under pytest 9.2 (it sets `Function._nodeid`, which pytest 9.2
no longer has); test_the_schema_tested_is_the_services checks it is the one the service under test serves.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.checks import CheckContext, CheckFunction, positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.core.transport import Response

from api.app import create_app
from qa.service import QAService

from conftest import indexed_settings, make_settings, papers_with_pack
from fakes import HashEmbedder


class ServiceUnderTest:
    """An ASGI app passing every request to `app`: Schemathesis's schema is loaded at import, before the fixtures
    build the service it tests, and its requests and its checks' probes all go to the schema's app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _schema_only_app(data_dir: Path) -> FastAPI:
    """create_app over an empty data dir: it serves the same /openapi.json (the document depends on no setting)."""
    settings = make_settings(data_dir)
    return create_app(settings, QAService(settings, embedder=HashEmbedder()))


# Schemathesis's own list of statuses that refuse invalid data, and 413: a body past the service's size limit
# (64 KB for JSON) is refused before anything in it is validated, whatever else is wrong with it.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                    "5xx",
                ]
            }
        }
    }
)

with tempfile.TemporaryDirectory(prefix="qa-openapi-") as _tmp:
    SERVICE = ServiceUnderTest(_schema_only_app(Path(_tmp) / "data"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", SERVICE, config=CONFIG)
    SERVICE.app.state.feedback.close()
    SERVICE.app = None  # until api_app builds the service


@pytest.fixture(scope="module")
def api_app(
    tmp_path_factory: pytest.TempPathFactory, sample_pack_pdf: Path, fake_embedder: HashEmbedder
) -> Iterator[FastAPI]:
    """The service over its own index of the fixture pack, with reader, member and editor keys and no rate limit."""
    root = tmp_path_factory.mktemp("schemathesis")
    settings = indexed_settings(root / "data", [papers_with_pack(root / "papers", sample_pack_pdf)], fake_embedder)
    settings.api.keys = {"reader-key": "reader", "member-key": "member", "editor-key": "editor"}
    settings.api.requests_per_minute = 0  # hundreds of requests a minute: the limit is test_api's to test
    settings.api.max_upload_mb = 0.5
    app = create_app(settings, QAService(settings, embedder=fake_embedder))
    SERVICE.app = app
    yield app
    SERVICE.app = None
    app.state.feedback.close()


def error_has_a_message(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx answers JSON {"detail": ...}: a message, or FastAPI's list of field errors each with one."""
    if response.status_code < 400:
        return None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        told = bool(detail) and all(isinstance(e, dict) and e.get("msg") for e in detail)
    else:
        told = isinstance(detail, str) and bool(detail.strip())
    if not told:
        raise AssertionError(
            f"{response.status_code} with body {response.text[:300]!r}: an error needs a JSON `detail` for the caller"
        )
    return True


# What the schema cannot say, per operation: the check it would need, left out there (and only there) with the
# reason. Every other check runs on these operations too.
SCHEMA_CANNOT_SAY: dict[str, tuple[CheckFunction, str]] = {
    "POST /documents": (
        positive_data_acceptance,
        "the schema can say 'binary' (and application/pdf), not 'a PDF': other bytes are refused with the 415 it "
        "documents",
    ),
}


def test_the_schema_tested_is_the_services(api_app):
    assert TestClient(api_app).get("/openapi.json").json() == schema.raw_schema


@schema.parametrize()
@pytest.mark.parametrize("key", ["editor-key", "member-key", "reader-key"])
@hypothesis.settings(
    max_examples=15,  # generated cases per operation and key, besides the schema's examples and coverage cases
    deadline=None,
    database=None,  # no example database: derandomize finds the same failures every run
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_keeps_to_its_schema(case: Case, key: str, api_app: FastAPI) -> None:
    """All of Schemathesis's checks (and error_has_a_message) on each response, the request carrying `key`; for an
    operation in SCHEMA_CANNOT_SAY, all but the one named there."""
    cannot = SCHEMA_CANNOT_SAY.get(f"{case.operation.method.upper()} {case.operation.path}")
    case.call_and_validate(
        headers={"Authorization": f"Bearer {key}"},
        additional_checks=[error_has_a_message],
        excluded_checks=[cannot[0]] if cannot else [],
    )
