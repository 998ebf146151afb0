"""Citations: a verbatim quote of a passage, the page it is printed on, and a link that opens that page."""

from __future__ import annotations

from indexer.passages import strip_span
from qa.models import Citation, DocumentRecord, DocumentRef, Passage

# Fewer words than this before a page break inside a quote are a heading left at the foot of the page.
_HEADING_WORDS = 6


def document_ref(doc: DocumentRecord) -> DocumentRef:
    return DocumentRef(id=doc.id, file=doc.file, title=doc.title, committee=doc.committee, meeting_date=doc.meeting_date)


def page_url(url_base: str, doc_id: str, page: int) -> str:
    return f"{url_base.rstrip('/')}/documents/{doc_id}/file#page={page}"


def cite(n: int, passage: Passage, start: int, end: int, documents: dict[str, DocumentRecord], url_base: str) -> Citation:
    """A citation of passage.text[start:end]: verbatim, with the page the quote starts on."""
    start, end = strip_span(passage.text, start, end)
    breaks = [s.offset for s in passage.pages if start < s.offset < end]
    if breaks and len(passage.text[start : breaks[0]].split()) < _HEADING_WORDS:
        # Only a heading sits before the page break: the quote, and the link, belong to the next page.
        start, end = strip_span(passage.text, breaks[0], end)
        breaks = breaks[1:]
    if breaks and len(passage.text[breaks[-1] : end].split()) < _HEADING_WORDS + 2:
        # Only a few words run on past the last page break (often the next page's heading): end at the break.
        start, end = strip_span(passage.text, start, breaks[-1])
    span = passage.page_at(start)
    return Citation(
        n=n, quote=" ".join(passage.text[start:end].split()), page=span.page, page_label=span.label,
        section=passage.section, meeting_date=passage.meeting_date, url=page_url(url_base, passage.doc_id, span.page),
        document=document_ref(documents[passage.doc_id]), passage_id=passage.id,
    )
