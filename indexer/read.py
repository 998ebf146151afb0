"""Read a PDF, text or Markdown file into pages of lines, with printed page labels and no footers."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from core.errors import ReadError

# Footers and headers sit in these top/bottom fractions of the page height.
_FOOTER_ZONE = 0.88
_HEADER_ZONE = 0.055
_PAGE_FOOTER = re.compile(r"^\s*(?:page|pg\.?)\s+([0-9]{1,4}|[ivxlcdm]{1,8})\s*(?:of\s+\d+)?\s*$", re.I)
_BARE_NUMBER = re.compile(r"^\s*-?\s*([0-9]{1,4})\s*-?\s*$")
_BLANK_PAGE = re.compile(r"^\s*this page (?:is )?intentionally (?:been )?left blank\.?\s*$", re.I)
_DIGITS = re.compile(r"\d+")

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@dataclass
class Line:
    text: str
    top: float = 0.0  # fraction of page height where the line starts (0 = top)
    bottom: float = 0.0


@dataclass
class Page:
    index: int  # 1-based
    label: str | None
    lines: list[str]
    blank: bool = False  # "This page is intentionally left blank", or no text at all
    has_text: bool = True

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class SourceDocument:
    path: Path
    sha256: str
    kind: str  # "pdf" | "text"
    pages: list[Page]
    title: str | None = None  # from PDF metadata, used only when the text names none
    no_text_pages: list[int] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.path.name


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page_ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 7] -> "3-5, 7"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def read_document(path: Path, data: bytes | None = None) -> SourceDocument:
    """Read one file into pages; raise ReadError with a one-line reason if it cannot be used."""
    if data is None:
        data = read_bytes(path)
    if not data:
        raise ReadError("empty file (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".pdf" or data[:1024].lstrip().startswith(b"%PDF"):
        return _read_pdf(path, data)
    if suffix in {".txt", ".md", ".markdown", ".text"}:
        return _read_text(path, data)
    raise ReadError(f"unsupported file type '{suffix or '(none)'}' (expected .pdf, .txt or .md)")


def read_bytes(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise ReadError("is a directory")
        return path.read_bytes()
    except FileNotFoundError:
        raise ReadError("file not found") from None
    except PermissionError:
        raise ReadError("permission denied") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None


def _read_pdf(path: Path, data: bytes) -> SourceDocument:
    if b"%PDF" not in data[:1024]:
        raise ReadError(f"not a PDF (starts with {data[:8]!r})")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # pymupdf raises several types for broken files
        raise ReadError(f"corrupt or truncated PDF ({_short(exc)})") from None
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise ReadError("encrypted PDF (password required)")
        if doc.page_count == 0:
            raise ReadError("PDF has no pages")
        if doc.is_repaired and b"%%EOF" not in data[-2048:]:
            raise ReadError("truncated PDF (no end-of-file marker; the file was cut short)")
        has_labels = bool(doc.get_page_labels())
        raw_pages: list[tuple[list[Line], str | None]] = []
        try:
            for page in doc.pages():
                raw_pages.append((_pdf_lines(page), (page.get_label() if has_labels else None) or None))
        except Exception as exc:
            raise ReadError(f"corrupt PDF: page {len(raw_pages) + 1} cannot be read ({_short(exc)})") from None
        title = (doc.metadata or {}).get("title") or None
    pages, no_text = _finish_pages(raw_pages)
    if len(no_text) == len(pages):
        raise ReadError(f"no text layer on pages {page_ranges(no_text)} (scanned? run OCR first)")
    return SourceDocument(
        path=path, sha256=file_sha256(data), kind="pdf", pages=pages, title=title, no_text_pages=no_text
    )


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__


def _pdf_lines(page: pymupdf.Page) -> list[Line]:
    height = page.rect.height or 1.0
    lines: list[Line] = []
    for block in page.get_text("dict", flags=pymupdf.TEXTFLAGS_TEXT)["blocks"]:
        for line in block.get("lines", []):
            text = "".join(span["text"] for span in line["spans"]).rstrip()
            if text.strip():
                y0, y1 = line["bbox"][1], line["bbox"][3]
                lines.append(Line(text=text, top=y0 / height, bottom=y1 / height))
    return lines


def _read_text(path: Path, data: bytes) -> SourceDocument:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ReadError("not a text file (undecodable bytes)") from None
    if "\x00" in text:
        raise ReadError("not a text file (binary content)")
    chunks = text.split("\f")
    raw_pages: list[tuple[list[Line], str | None]] = []
    for chunk in chunks:
        rows = [row.rstrip() for row in chunk.splitlines()]
        rows = [row for row in rows if row.strip()]
        n = len(rows)
        # Plain text has no geometry: first line counts as header zone, last as footer zone.
        lines = [
            Line(row, top=(0.0 if i == 0 else 0.5), bottom=(1.0 if i == n - 1 else 0.5)) for i, row in enumerate(rows)
        ]
        raw_pages.append((lines, None))
    while len(raw_pages) > 1 and not raw_pages[-1][0]:
        raw_pages.pop()  # a trailing form feed is not a page
    pages, no_text = _finish_pages(raw_pages)
    if len(no_text) == len(pages):
        raise ReadError("no text in file")
    return SourceDocument(path=path, sha256=file_sha256(data), kind="text", pages=pages, no_text_pages=[])


def _finish_pages(raw_pages: list[tuple[list[Line], str | None]]) -> tuple[list[Page], list[int]]:
    """Take printed labels from footers, drop footers and running headers, flag blank pages."""
    repeated = _running_lines(raw_pages)
    pages: list[Page] = []
    no_text: list[int] = []
    for index, (lines, pdf_label) in enumerate(raw_pages, start=1):
        footer_label = None
        kept: list[str] = []
        for line in lines:
            in_footer = line.top >= _FOOTER_ZONE or line.bottom >= 0.999
            in_header = line.bottom <= _HEADER_ZONE or line.top <= 0.0
            match = _PAGE_FOOTER.match(line.text) or (_BARE_NUMBER.match(line.text) if in_footer else None)
            if match and (in_footer or in_header) and footer_label is None:
                footer_label = match.group(1)
                continue
            if (in_footer or in_header) and _normal(line.text) in repeated:
                continue
            kept.append(line.text)
        label = footer_label or pdf_label
        if not lines:
            no_text.append(index)
            pages.append(Page(index=index, label=label, lines=[], blank=True, has_text=False))
            continue
        blank = not kept or (len(kept) == 1 and bool(_BLANK_PAGE.match(kept[0])))
        pages.append(Page(index=index, label=label, lines=[] if blank else kept, blank=blank))
    return pages, no_text


def _normal(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.split()).lower())


def _running_lines(raw_pages: list[tuple[list[Line], str | None]]) -> set[str]:
    """Lines repeated in the header or footer zone of many pages: running headers and footers."""
    counts: Counter[str] = Counter()
    for lines, _ in raw_pages:
        seen = {
            _normal(line.text)
            for line in lines
            if (line.top >= _FOOTER_ZONE or line.bottom <= _HEADER_ZONE or line.top <= 0.0 or line.bottom >= 0.999)
            and not _BLANK_PAGE.match(line.text)
        }
        counts.update(seen)
    threshold = max(3, int(0.4 * len(raw_pages)))
    return {text for text, n in counts.items() if n >= threshold}
