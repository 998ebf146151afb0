"""The HTTP service: thin routes over QAService, wired once in create_app(settings)."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.access import RateLimiter, require
from api.limits import SMALL_BODY, BodyLimit
from api.schemas import AskRequest, DocumentList, Health, Readiness
from qa.models import Answer, DocumentRecord, Passage
from qa.pages import PageNotFound, page_png
from qa.service import NotIndexedError, QAService
from qa.settings import Settings
from qa.uploads import Job, PaperLibrary, UploadRefused

log = logging.getLogger(__name__)


def _service(request: Request) -> QAService:
    return request.app.state.service


router = APIRouter()
reader = [Depends(require("reader"))]


@router.post("/ask", response_model=Answer, dependencies=reader)
def ask(body: AskRequest, request: Request) -> Answer:
    """Answer a question from the papers, every claim a quote with its page; or abstain."""
    _check_length(body, request)
    with request.app.state.answer_slots:
        return _service(request).ask(body.question, body.filters, body.top_k)


def _check_length(body: AskRequest, request: Request) -> None:
    limit = request.app.state.settings.api.max_question_chars
    if len(body.question) > limit:
        raise HTTPException(422, f"question: longer than {limit} characters")


def _sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/ask/stream", dependencies=reader, response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}})
def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    """The /ask answer as server-sent events: `answer` (text, a line at a time), `citations`, then `done` (the whole response)."""
    _check_length(body, request)
    service = _service(request)

    def events():
        yield _sse("started", {"question": body.question})  # the widget shows progress at once
        try:
            with request.app.state.answer_slots:
                answer = service.ask(body.question, body.filters, body.top_k)
        except NotIndexedError as exc:
            yield _sse("error", {"detail": str(exc)})
            return
        for line in answer.answer.splitlines(keepends=True):
            yield _sse("answer", {"text": line})
        payload = answer.model_dump(mode="json")
        yield _sse("citations", payload["citations"] or payload["see_also"])
        yield _sse("done", payload)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/documents", response_model=DocumentList, dependencies=reader)
def documents(request: Request) -> DocumentList:
    """The papers: indexed ones with their details, and uploads still being indexed or removed."""
    return DocumentList(documents=request.app.state.library.catalogue(_service(request).snapshot().manifest.documents))


UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/documents", status_code=202, response_model=Job, openapi_extra=UPLOAD_SCHEMA)
async def upload_document(request: Request, caller: str = Depends(require("editor"))) -> Job:
    """Store an uploaded PDF (multipart field `file`) and index it in the background; follow the job at /jobs/{id}."""
    # The form is read here, after the key is checked (a body parameter would be read before), and BodyLimit caps it.
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile):
        raise HTTPException(422, "file: a multipart field `file` holding the PDF is needed")
    data = await upload.read(request.app.state.settings.api.max_upload_bytes + 1)  # one byte over is enough to refuse
    try:
        job = await run_in_threadpool(request.app.state.library.add, upload.filename or "upload.pdf", data)
    except UploadRefused as exc:
        raise HTTPException(exc.status, str(exc)) from None
    log.info("%s uploaded %s: job %s", caller, job.file, job.id)
    return job


@router.get("/jobs/{job_id}", response_model=Job, dependencies=reader)
def job(job_id: str, request: Request) -> Job:
    """Progress and outcome of an indexing job."""
    found = request.app.state.library.job(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


def _indexed_document(doc_id: str, request: Request) -> DocumentRecord:
    doc = _service(request).snapshot().documents().get(doc_id)
    if doc is None:
        raise HTTPException(404, f"no indexed document {doc_id}")
    return doc


def _indexed_file(doc_id: str, request: Request) -> DocumentRecord:
    doc = _indexed_document(doc_id, request)
    if not Path(doc.path).is_file():  # removed from disk, and the index without it not yet published
        raise HTTPException(404, f"{doc.file} is no longer on disk; run `qa index` to drop it from the index")
    return doc


@router.delete("/documents/{doc_id}", status_code=202, response_model=Job)
def delete_document(doc_id: str, request: Request, caller: str = Depends(require("editor"))) -> Job:
    """Remove an uploaded document from the index (in the background); papers from the configured folders stay."""
    doc = _indexed_document(doc_id, request)
    library = request.app.state.library
    if not library.is_upload(Path(doc.path)):
        raise HTTPException(409, f"{doc.file} comes from the configured papers folder: remove it there and run `qa index`")
    job = library.remove(Path(doc.path), doc_id)
    log.info("%s deleted %s (%s): job %s", caller, doc.file, doc_id, job.id)
    return job


@router.get("/documents/{doc_id}/file", response_class=FileResponse, dependencies=reader)
def document_file(doc_id: str, request: Request) -> FileResponse:
    """The PDF itself; a citation's url adds #page=N to open it at the quoted page."""
    doc = _indexed_file(doc_id, request)
    return FileResponse(doc.path, media_type="application/pdf", filename=doc.file,
                        content_disposition_type="inline")


@router.get("/documents/{doc_id}/pages/{page}.png", dependencies=reader,
            responses={200: {"content": {"image/png": {}}}})
def page_image(doc_id: str, page: int, request: Request, quote: str | None = Query(None, max_length=2000)) -> Response:
    """One page as an image, with `quote` highlighted where it is printed."""
    doc = _indexed_file(doc_id, request)
    try:
        image = page_png(Path(doc.path), page, quote)
    except PageNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/passages/{passage_id}", response_model=Passage, dependencies=reader)
def passage(passage_id: str, request: Request) -> Passage:
    """One indexed passage, with its pages and section."""
    found = _service(request).snapshot().passages.get(passage_id)
    if found is None:
        raise HTTPException(404, f"no passage {passage_id}")
    return found


STATIC = Path(__file__).resolve().parent / "static"


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
def ready(request: Request):
    """Readiness: an index generation is loaded and its store answers."""
    try:
        snapshot = _service(request).snapshot()
        vectors = snapshot.vector_count()
    except NotIndexedError as exc:
        return JSONResponse(Readiness(ready=False, reason=str(exc)).model_dump(), status_code=503)
    return Readiness(ready=True, generation=snapshot.generation, documents=len(snapshot.manifest.documents),
                     passages=vectors)


def create_app(settings: Settings, service: QAService | None = None) -> FastAPI:
    """The application, with its one QAService (models loaded once) and routes."""
    # FastAPIOffline serves the /docs and /redoc assets itself: the intranet may have no internet for a CDN.
    app = FastAPIOffline(title="Council papers QA", version="0.1.0",
                         description="Answers from council committee papers: every claim a verbatim quote with its page.")
    app.state.settings = settings
    app.state.service = service or QAService(settings)
    app.state.rate_limiter = RateLimiter(settings.api.requests_per_minute)
    # Answering is CPU-bound: threads beyond the cores only add switching, so the rest wait their turn.
    app.state.answer_slots = threading.BoundedSemaphore(settings.api.answer_slots)
    app.state.library = PaperLibrary(settings, app.state.service.embedder)
    for job in app.state.library.resume():
        log.warning("%s was uploaded but never indexed (the service stopped?): indexing it now, job %s", job.file, job.id)
    if not settings.api.keys:
        log.warning("no API keys are configured (api.keys): the service answers anyone who can reach it, "
                    "and refuses uploads and deletes")
    upload_limit = settings.api.max_upload_bytes + 2**20  # the PDF plus room for the multipart framing
    app.add_middleware(BodyLimit, limit_for=lambda method, path: upload_limit if (method, path) == ("POST", "/documents")
                       else SMALL_BODY)
    if settings.api.cors_origins:  # added last, so outermost: refusals carry CORS headers too
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(NotIndexedError)
    def _not_indexed(request: Request, exc: NotIndexedError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    app.include_router(router)
    return app
