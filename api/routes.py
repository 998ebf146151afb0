"""The HTTP routes: each reads its request, calls the service or the paper library, and returns a record.

Errors are raised as core.errors and turned into statuses by api.errors, for every route alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.access import is_member, require
from api.audit import AuditLog
from api.errors import FieldErrors, detail_of, documented, status_of
from api.schemas import (
    AskRequest,
    DecisionList,
    DocumentList,
    Health,
    MeetingList,
    Readiness,
    Suggestions,
)
from core.errors import InvalidRequest, NotIndexedError, StoreError
from core.records import Answer, IsoDate, Job, MeetingDetail, Passage, RegisterStatus, SearchFilters
from indexer.library import PaperLibrary
from qa.service import QAService

log = logging.getLogger(__name__)
router = APIRouter(route_class=FieldErrors)
reader = [Depends(require("reader"))]
STATIC = Path(__file__).resolve().parent / "static"


def _service(request: Request) -> QAService:
    service: QAService = request.app.state.service
    return service


def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def _library(request: Request) -> PaperLibrary:
    library: PaperLibrary = request.app.state.library
    return library


def _check_length(body: AskRequest, request: Request) -> None:
    limit = request.app.state.settings.api.max_question_chars
    if len(body.question) > limit:
        raise InvalidRequest(f"question: longer than {limit} characters")


@router.post("/ask", response_model=Answer, responses=documented(400, 408, 413, 503))
def ask(
    body: AskRequest, request: Request, caller: str = Depends(require("reader")), members: bool = Depends(is_member)
) -> Answer:
    """Answer a question from the papers, every claim a quote with its page; or abstain. A key without members'
    rights is answered from public papers only; a quote from a restricted paper says so (`restricted`)."""
    _check_length(body, request)
    with request.app.state.answer_slots:
        answer = _service(request).ask(body.question, body.filters, body.top_k, members=members)
    _audit(request).restricted_cited(caller, answer, "POST /ask")
    return answer


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/ask/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **documented(400, 408, 413, 503)},
)
def ask_stream(
    body: AskRequest, request: Request, caller: str = Depends(require("reader")), members: bool = Depends(is_member)
) -> StreamingResponse:
    """The /ask answer as server-sent events: `started`, `answer` (text, a line at a time), `citations`, then `done`
    (the whole response). Any failure after `started` ends the stream with an `error` event: {detail, status}."""
    _check_length(body, request)
    service = _service(request)

    def events() -> Iterator[str]:
        yield _sse("started", {"question": body.question})  # the widget shows progress at once
        try:
            with request.app.state.answer_slots:
                answer = service.ask(body.question, body.filters, body.top_k, members=members)
            _audit(request).restricted_cited(caller, answer, "POST /ask/stream")
            payload = answer.model_dump(mode="json")
            for line in answer.answer.splitlines(keepends=True):
                yield _sse("answer", {"text": line})
            yield _sse("citations", payload["citations"] or payload["see_also"])
            yield _sse("done", payload)
        except Exception as exc:  # any failure: the widget must be told, not left waiting on a cut stream
            if status_of(exc) >= 500:
                log.exception("/ask/stream failed")
            yield _sse("error", {"detail": detail_of(exc), "status": status_of(exc)})

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/decisions", response_model=DecisionList, dependencies=reader, responses=documented(422, 503))
def decisions(
    request: Request,
    q: str = Query(
        "",
        max_length=500,
        description="The topic, in the member's words; empty for every decision within the dates",
        examples=["Grangewaters"],
    ),
    since: IsoDate | None = Query(None, description="Only meetings on or after this date (YYYY-MM-DD)"),
    until: IsoDate | None = Query(None, description="Only meetings on or before this date (YYYY-MM-DD)"),
    status: RegisterStatus | None = Query(None, description="Only decisions with this status"),
    members: bool = Depends(is_member),
) -> DecisionList:
    """The decision register's entries on a topic: each numbered resolution on its own, oldest first."""
    found = _service(request).decisions(q, SearchFilters(since=since, until=until), status, members=members)
    return DecisionList(topic=q, decisions=found)


@router.get("/meetings", response_model=MeetingList, dependencies=reader, responses=documented(503))
def meetings(request: Request, members: bool = Depends(is_member)) -> MeetingList:
    """The meetings the papers know of, oldest first: date, committee, pack, whether its minutes are in the papers."""
    return MeetingList(meetings=_service(request).meetings(members=members))


@router.get("/meetings/{day}", response_model=MeetingDetail, dependencies=reader, responses=documented(404, 422, 503))
def meeting(day: IsoDate, request: Request, members: bool = Depends(is_member)) -> MeetingDetail:
    """One meeting (YYYY-MM-DD): its agenda items and the decisions its minutes record."""
    return _service(request).meeting(day, members=members)


@router.get("/suggestions", response_model=Suggestions, dependencies=reader, responses=documented(503))
def suggestions(request: Request, members: bool = Depends(is_member)) -> Suggestions:
    """A few starter questions drawn from the indexed papers (the last meeting, the next, recent decisions)."""
    return Suggestions(questions=_service(request).suggestions(members=members))


@router.get("/documents", response_model=DocumentList, dependencies=reader, responses=documented(503))
def documents(request: Request, members: bool = Depends(is_member)) -> DocumentList:
    """The papers: indexed ones with their details, and uploads still being indexed or removed."""
    papers = _service(request).snapshot(members).manifest.documents
    return DocumentList(documents=_library(request).catalogue(papers, members))


UPLOAD_FIELDS = {"file", "restricted"}
UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "contentMediaType": "application/pdf",
                            "description": "the PDF (other files are refused with 415)",
                        },
                        "restricted": {
                            "type": "boolean",
                            "default": False,
                            "description": "members only: an exempt paper, whatever its text says",
                        },
                    },
                },
                "encoding": {"file": {"contentType": "application/pdf"}},
            }
        },
    }
}


@router.post(
    "/documents",
    status_code=202,
    response_model=Job,
    openapi_extra=UPLOAD_SCHEMA,
    responses=documented(400, 408, 413, 415, 503),
)
async def upload_document(request: Request, caller: str = Depends(require("editor"))) -> Job:
    """Store an uploaded PDF (multipart field `file`) and index it in the background; follow the job at /jobs/{id}."""
    # The form is read here, after the key is checked (a body parameter would be read before), and BodyLimit caps it.
    form = await request.form(max_files=1, max_fields=4)
    unknown = sorted(set(form.keys()) - UPLOAD_FIELDS)
    if unknown:  # a misspelt "restricted" must not make an exempt paper public
        raise InvalidRequest(f"{unknown[0]}: unknown field (an upload has `file` and, optionally, `restricted`)")
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile):
        raise InvalidRequest("file: a multipart field `file` holding the PDF is needed")
    restricted = str(form.get("restricted", "false")).strip().lower()
    if restricted not in ("true", "false", "1", "0", "yes", "no", "on", "off", ""):
        raise InvalidRequest("restricted: true or false")
    data = await upload.read(request.app.state.settings.api.max_upload_bytes + 1)  # one byte over is enough to refuse
    job = await run_in_threadpool(
        _library(request).add, upload.filename or "upload.pdf", data, restricted in ("true", "1", "yes", "on")
    )
    log.info("%s uploaded %s: job %s", caller, job.file, job.id)
    _audit(request).record(caller, "upload", job.file + (" (restricted)" if job.restricted else ""), "POST /documents")
    return job


@router.get("/jobs/{job_id}", response_model=Job, dependencies=reader, responses=documented(404))
def job(job_id: str, request: Request, members: bool = Depends(is_member)) -> Job:
    """Progress and outcome of an indexing job."""
    return _library(request).job(job_id, members)


@router.delete("/documents/{doc_id}", status_code=202, response_model=Job, responses=documented(404, 409, 503))
def delete_document(doc_id: str, request: Request, caller: str = Depends(require("editor"))) -> Job:
    """Remove an uploaded document from the index (in the background); papers from the configured folders stay."""
    doc = _service(request).document(doc_id)
    job = _library(request).remove(doc)
    log.info("%s deleted %s (%s): job %s", caller, doc.file, doc_id, job.id)
    _audit(request).record(caller, "delete", doc.file, "DELETE /documents")
    return job


@router.get("/documents/{doc_id}/file", response_class=FileResponse, responses=documented(404, 503))
def document_file(
    doc_id: str, request: Request, caller: str = Depends(require("reader")), members: bool = Depends(is_member)
) -> FileResponse:
    """The PDF itself; a citation's url adds #page=N to open it at the quoted page. Without members' rights, a pack
    holding an exempt report comes with that report's pages empty."""
    doc, path = _service(request).readable_file(doc_id, members)
    if members and (doc.restricted or doc.restricted_pages):
        _audit(request).record(caller, "restricted", doc.file, "GET /documents/{doc_id}/file")
    return FileResponse(path, media_type="application/pdf", filename=doc.file, content_disposition_type="inline")


@router.get(
    "/documents/{doc_id}/pages/{page}.png",
    dependencies=reader,
    responses={200: {"content": {"image/png": {}}}, **documented(404, 503)},
)
def page_image(
    doc_id: str,
    page: int,
    request: Request,
    quote: str | None = Query(None, max_length=2000),
    members: bool = Depends(is_member),
) -> Response:
    """One page as an image, with `quote` highlighted where it is printed. Headers: `X-Page-Count` (pages in the
    file), `X-Page-Label` (the number printed on the page, when it has one) and, when the quote was found,
    `X-Highlight` ("top,bottom,left,right" as fractions of the page's height and width) so a viewer can open
    scrolled to it."""
    service = _service(request)
    image = service.page_image(doc_id, page, quote, members=members)
    headers = {"Cache-Control": "private, max-age=300", "X-Page-Count": str(image.pages)}
    if label := service.page_label(doc_id, page, members=members):
        headers["X-Page-Label"] = label
    if image.highlight:
        headers["X-Highlight"] = ",".join(str(x) for x in image.highlight)
    return Response(image.png, media_type="image/png", headers=headers)


@router.get("/passages/{passage_id}", response_model=Passage, responses=documented(404, 503))
def passage(
    passage_id: str, request: Request, caller: str = Depends(require("reader")), members: bool = Depends(is_member)
) -> Passage:
    """One indexed passage, with its pages and section."""
    found = _service(request).passage(passage_id, members)
    if found.restricted:
        _audit(request).record(caller, "restricted", f"{found.file} ({found.id})", "GET /passages/{passage_id}")
    return found


@router.get("/", response_class=FileResponse, include_in_schema=False)
def demo_page() -> FileResponse:
    """A demo page hosting the chat widget."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js", response_class=FileResponse, include_in_schema=False)
def widget_script() -> FileResponse:
    """The chat widget: one script tag adds it to any intranet page."""
    return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "max-age=300"})


@router.get("/widget.css", response_class=FileResponse, include_in_schema=False)
def widget_style() -> FileResponse:
    return FileResponse(STATIC / "widget.css", media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
def ready(request: Request) -> Readiness | JSONResponse:
    """Readiness: an index generation is loaded and its store answers."""
    try:
        snapshot = _service(request).snapshot(members=False)  # counts of what anyone may read
        snapshot.vector_count()  # the store answers
    except (NotIndexedError, StoreError) as exc:
        return JSONResponse(Readiness(ready=False, reason=detail_of(exc)).model_dump(), status_code=503)
    return Readiness(
        ready=True,
        generation=snapshot.generation,
        documents=len(snapshot.manifest.documents),
        passages=len(snapshot.passages),
    )
