"""A PDF page rendered as an image, with a quote highlighted on it, so a member sees the quote in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import NotFound

_CHUNK_WORDS = 6  # a quote that is not found whole (it wraps oddly) is looked for in runs of this many words


def page_png(pdf_path: Path, page: int, quote: str | None = None, dpi: int = 110) -> bytes:
    """PNG of one page (1-based), the quote's words marked with highlight annotations; NotFound past the end."""
    import pymupdf

    with pymupdf.open(pdf_path) as pdf:
        if not 1 <= page <= len(pdf):
            raise NotFound(f"{Path(pdf_path).name} has pages 1-{len(pdf)}, not {page}")
        pdf_page = pdf[page - 1]
        for rect in _quote_rects(pdf_page, quote or ""):
            pdf_page.add_highlight_annot(rect)
        return pdf_page.get_pixmap(dpi=dpi, annots=True).tobytes("png")


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
