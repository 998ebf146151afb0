"""A PDF page rendered as an image, with a quote highlighted on it, so a member sees the quote in place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import NotFound

_CHUNK_WORDS = 6  # a quote that is not found whole (it wraps oddly) is looked for in runs of this many words


@dataclass(frozen=True)
class PageImage:
    """One rendered page: the PNG, the highlight's box (top and bottom as fractions of the page's height, left and
    right of its width, from the top left; None when there is no quote or it was not found), and the file's page
    count."""

    png: bytes
    highlight: tuple[float, float, float, float] | None  # top, bottom, left, right
    pages: int


def page_png(pdf_path: Path, page: int, quote: str | None = None, dpi: int = 110) -> PageImage:
    """One page (1-based) as a PNG, the quote's words marked with highlight annotations; NotFound past the end."""
    import pymupdf

    with pymupdf.open(pdf_path) as pdf:
        if not 1 <= page <= len(pdf):
            raise NotFound(f"{Path(pdf_path).name} has pages 1-{len(pdf)}, not {page}")
        pdf_page = pdf[page - 1]
        rects = _quote_rects(pdf_page, quote or "")
        for rect in rects:
            pdf_page.add_highlight_annot(rect)
        png = pdf_page.get_pixmap(dpi=dpi, annots=True).tobytes("png")
        highlight = None
        if rects:
            # Measured on the page as displayed (rotation applied), so a viewer can scroll the image to it.
            shown = [pymupdf.Quad(r).rect * pdf_page.rotation_matrix for r in rects]
            height, width = pdf_page.rect.height or 1.0, pdf_page.rect.width or 1.0
            top, bottom = min(r.y0 for r in shown), max(r.y1 for r in shown)
            left, right = min(r.x0 for r in shown), max(r.x1 for r in shown)
            highlight = (
                round(max(0.0, top / height), 4),
                round(min(1.0, bottom / height), 4),
                round(max(0.0, left / width), 4),
                round(min(1.0, right / width), 4),
            )
        return PageImage(png, highlight, len(pdf))


def _quote_rects(pdf_page: Any, quote: str) -> list[Any]:
    words = quote.split()
    if not words:
        return []
    whole = pdf_page.search_for(" ".join(words), quads=True)
    if whole:
        return whole
    rects: list[Any] = []
    for i in range(0, len(words), _CHUNK_WORDS):
        rects += pdf_page.search_for(" ".join(words[i : i + _CHUNK_WORDS]), quads=True)
    return rects


def redacted_copy(pdf_path: Path, pages: list[int], folder: Path, key: str) -> Path:
    """A copy of the PDF with `pages` (1-based) emptied, for callers who may not read them (an exempt report inside
    a public pack): same page count, so page numbers still agree. Written once into `folder` as `<key>.pdf` (the
    key names the file's content and the pages, so a stale copy is never served)."""
    import pymupdf

    target = folder / f"{key}.pdf"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with pymupdf.open(pdf_path) as pdf:
        for number in pages:
            if 1 <= number <= len(pdf):
                page = pdf[number - 1]
                page.add_redact_annot(page.rect)
                page.apply_redactions(images=pymupdf.PDF_REDACT_IMAGE_REMOVE)  # type: ignore[attr-defined]
        pdf.set_metadata({})  # the title or subject may name the exempt report
        partial = folder / f".{key}.{os.getpid()}.pdf"
        pdf.save(partial, garbage=4, deflate=True)
    os.replace(partial, target)  # whole or not at all, for readers racing the first request
    return target
