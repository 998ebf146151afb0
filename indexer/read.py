"""Read a PDF, text or Markdown file into pages of lines, with printed page labels and no footers."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from core.errors import ReadError
from core.text import document_words, join_broken_words, reading_form

# Footers and headers sit in these top/bottom fractions of the page height.
_FOOTER_ZONE = 0.88
_HEADER_ZONE = 0.055
_PAGE_FOOTER = re.compile(r"^\s*(?:page|pg\.?)\s+([0-9]{1,4}|[ivxlcdm]{1,8})\s*(?:of\s+\d+)?\s*$", re.I)
_BARE_NUMBER = re.compile(r"^\s*-?\s*([0-9]{1,4})\s*-?\s*$")
_BLANK_PAGE = re.compile(r"^\s*this page (?:is )?intentionally (?:been )?left blank\.?\s*$", re.I)
_DIGITS = re.compile(r"\d+")
# A running header or footer is set apart from the body: at least this many line heights of space between
# it and the nearest body line (a table row near the foot of the page sits right under the row above it).
_RUNNING_GAP = 0.9
# Text drawn twice within this many points of itself is one line printed over (a generator's fake bold).
_OVERPRINT = 2.0
# Text flags: pymupdf's defaults for text, but ligatures spelled out ("ﬁ" -> "fi").
_TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_PRESERVE_LIGATURES

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@dataclass
class Line:
    text: str
    top: float = 0.0  # fraction of the page's height, as displayed, where the line starts (0 = top)
    bottom: float = 0.0
    gap_above: float = 1.0  # space to the line above on its page, in line heights (1.0 when unknown)
    gap_below: float = 1.0


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


@dataclass(frozen=True)
class ReadLimits:
    """What one file may cost to read (`index.max_pages`, `max_page_chars`, `max_read_seconds`, `max_read_mib`):
    a file past any of them is refused with a ReadError naming the limit, and the run goes on with the next file.
    The memory limit is enforced by the process reading (indexer.reader_process); here it only names the cause
    when an allocation fails."""

    max_pages: int = 2000
    max_page_chars: int = 100_000
    max_seconds: float = 120.0
    max_mib: int = 2048

    def memory_reason(self, where: str = "") -> str:
        return f"reading needed more than index.max_read_mib ({self.max_mib} MiB) of memory{where}; refused"


# MuPDF reports an allocation it could not make as "malloc (N bytes) failed" (or calloc, realloc).
_OUT_OF_MEMORY = re.compile(r"\b(?:malloc|calloc|realloc)\b.*\bfailed|out of memory", re.I)


def read_document(path: Path, data: bytes | None = None, limits: ReadLimits | None = None) -> SourceDocument:
    """Read one file into pages; raise ReadError with a one-line reason if it cannot be used or passes `limits`."""
    if data is None:
        data = read_bytes(path)
    if not data:
        raise ReadError("empty file (0 bytes)")
    limits = limits or ReadLimits()
    suffix = path.suffix.lower()
    if suffix == ".pdf" or data[:1024].lstrip().startswith(b"%PDF"):
        source = _read_pdf(path, data, limits)
    elif suffix in {".txt", ".md", ".markdown", ".text"}:
        source = _read_text(path, data)
    else:
        raise ReadError(f"unsupported file type '{suffix or '(none)'}' (expected .pdf, .txt or .md)")
    if len(source.pages) > limits.max_pages:
        raise ReadError(f"{len(source.pages)} pages: more than index.max_pages ({limits.max_pages}); refused")
    for page in source.pages:
        if len(page.text) > limits.max_page_chars:
            raise ReadError(
                f"page {page.index} holds {len(page.text):,} characters of text, more than index.max_page_chars "
                f"({limits.max_page_chars:,}); refused"
            )
    return source


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


def _read_pdf(path: Path, data: bytes, limits: ReadLimits) -> SourceDocument:
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
        if doc.page_count > limits.max_pages:  # refused before a page is read
            raise ReadError(f"{doc.page_count} pages: more than index.max_pages ({limits.max_pages}); refused")
        if doc.is_repaired and b"%%EOF" not in data[-2048:]:
            raise ReadError("truncated PDF (no end-of-file marker; the file was cut short)")
        has_labels = bool(doc.get_page_labels())
        raw_pages: list[tuple[list[Line], str | None]] = []
        started = time.monotonic()
        try:
            for page in doc.pages():
                raw_pages.append((_pdf_lines(page), (page.get_label() if has_labels else None) or None))
                if time.monotonic() - started > limits.max_seconds:
                    raise ReadError(
                        f"reading took more than index.max_read_seconds ({limits.max_seconds:g} s), at page "
                        f"{len(raw_pages)} of {doc.page_count}; refused"
                    )
        except ReadError:
            raise
        except MemoryError:
            raise ReadError(limits.memory_reason(f", at page {len(raw_pages) + 1}")) from None
        except Exception as exc:
            if _OUT_OF_MEMORY.search(str(exc)):
                raise ReadError(limits.memory_reason(f", at page {len(raw_pages) + 1}")) from None
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
    """A page's lines in reading order, positioned as the page is displayed (its /Rotate applied)."""
    height = page.rect.height or 1.0  # page.rect is the displayed rectangle
    rotate = page.rotation_matrix  # text coordinates are the unrotated page's
    lines: list[Line] = []
    drawn: list[tuple[str, pymupdf.Rect]] = []
    for block in page.get_text("dict", flags=_TEXT_FLAGS)["blocks"]:
        for line in block.get("lines", []):
            text = _CONTROL.sub("", reading_form("".join(span["text"] for span in line["spans"]))).rstrip()
            if not text.strip():
                continue
            box = pymupdf.Rect(line["bbox"]) * rotate
            if any(text == seen and _same_place(box, place) for seen, place in drawn):
                continue  # the same text drawn again a fraction of a point over: bold faked by overprinting
            drawn.append((text, box))
            lines.append(Line(text=text, top=box.y0 / height, bottom=box.y1 / height))
    _measure_gaps(lines)
    return lines


def _same_place(a: pymupdf.Rect, b: pymupdf.Rect) -> bool:
    return abs(a.x0 - b.x0) <= _OVERPRINT and abs(a.y0 - b.y0) <= _OVERPRINT


def _measure_gaps(lines: list[Line]) -> None:
    """Each line's space to the rows above and below it on the page, in line heights. Lines side by side
    (table cells, a footer's left and right parts) make one row."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: line.top):
        middle = (line.top + line.bottom) / 2
        if rows and middle < max(other.bottom for other in rows[-1]):
            rows[-1].append(line)
        else:
            rows.append([line])
    for line in lines:
        line.gap_above = line.gap_below = 99.0  # nothing above or below it
    for above, below in itertools.pairwise(rows):
        size = max(min(x.bottom - x.top for x in [*above, *below]), 1e-6)
        gap = max(0.0, min(x.top for x in below) - max(x.bottom for x in above)) / size
        for line in above:
            line.gap_below = gap
        for line in below:
            line.gap_above = gap


def _read_text(path: Path, data: bytes) -> SourceDocument:
    text = reading_form(decode_text(data))
    if "\x00" in text:
        raise ReadError("not a text file (binary content: NUL characters after decoding)")
    text = _CONTROL.sub("", text)  # bells, escapes and backspaces print nothing; kept, they would reach quotes
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


_BOMS = (  # longest first: UTF-32 LE's mark begins with UTF-16 LE's
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(data: bytes) -> str:
    """A text file's characters: by its byte-order mark (UTF-8/16/32); UTF-16 without one by its zero bytes; else
    UTF-8; else Windows-1252, which English-language papers are saved in; else the encoding charset-normalizer
    finds (for the rest).

    Raises ReadError naming the encoding problem."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                reason = f"not valid {encoding.upper()} text at byte {exc.start}, though it starts with that mark"
                raise ReadError(reason) from None
    if b"\x00" in data:
        # UTF-16 without a mark: text in the Latin range leaves every other byte zero.
        for encoding, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
            if zeros and zeros.count(0) >= 0.9 * len(zeros):
                try:
                    return data.decode(encoding)
                except UnicodeDecodeError:
                    break
    for encoding in ("utf-8", _WESTERN):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or not _CONTROL.search(text):
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ReadError("not a text file (binary content: no text encoding fits its bytes)")
    return str(best)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_WESTERN = "cp1252"


def _finish_pages(raw_pages: list[tuple[list[Line], str | None]]) -> tuple[list[Page], list[int]]:
    """Take printed labels from footers, drop footers and running headers, join words broken over lines,
    flag blank pages."""
    labels = _printed_labels(raw_pages)
    running = _running_lines(raw_pages)
    vocabulary = document_words([line.text for lines, _ in raw_pages for line in lines])
    pages: list[Page] = []
    no_text: list[int] = []
    for index, (lines, pdf_label) in enumerate(raw_pages, start=1):
        at, footer_label = labels[index - 1]
        kept = [
            line.text
            for j, line in enumerate(lines)
            if j != at and not (_in_margin(line) and _normal(line.text) in running)
        ]
        kept = join_broken_words(kept, vocabulary)
        label = footer_label or pdf_label
        if not lines:
            no_text.append(index)
            pages.append(Page(index=index, label=label, lines=[], blank=True, has_text=False))
            continue
        blank = not kept or (len(kept) == 1 and bool(_BLANK_PAGE.match(kept[0])))
        pages.append(Page(index=index, label=label, lines=[] if blank else kept, blank=blank))
    return pages, no_text


def _in_footer(line: Line) -> bool:
    return line.top >= _FOOTER_ZONE or line.bottom >= 0.999


def _in_header(line: Line) -> bool:
    return line.bottom <= _HEADER_ZONE or line.top <= 0.0


def _in_margin(line: Line) -> bool:
    return _in_footer(line) or _in_header(line)


def _set_apart(line: Line) -> bool:
    """Space between the line and the body: below a header, above a footer."""
    return (line.gap_above if _in_footer(line) else line.gap_below) >= _RUNNING_GAP


def _printed_labels(raw_pages: list[tuple[list[Line], str | None]]) -> list[tuple[int | None, str | None]]:
    """Per page: which line is the printed page number, and its number.

    "Page N" in a header or footer wins; else a lone number in the footer, set apart from the body, and
    among several the one that keeps the document's sequence (its number minus the page index is the most
    common such offset), so a table's last cell near the foot of the page is not taken for the label."""
    candidates: list[list[tuple[int, str, bool]]] = []  # (line index, label, "Page N")
    for lines, _ in raw_pages:
        found = []
        for j, line in enumerate(lines):
            page_form = _PAGE_FOOTER.match(line.text)
            if page_form and _in_margin(line):
                found.append((j, page_form.group(1), True))
                continue
            bare = _BARE_NUMBER.match(line.text)
            if bare and _in_footer(line) and _set_apart(line):
                found.append((j, bare.group(1), False))
        candidates.append(found)
    offsets: Counter[int] = Counter()
    for index, found in enumerate(candidates, start=1):
        offsets.update({int(label) - index for _, label, _ in found if label.isdigit()})
    chosen: list[tuple[int | None, str | None]] = []
    for index, found in enumerate(candidates, start=1):
        if not found:
            chosen.append((None, None))
            continue

        def rank(candidate: tuple[int, str, bool], index: int = index) -> tuple[bool, int, float]:
            j, label, page_form = candidate
            agreeing = offsets[int(label) - index] if label.isdigit() else 0
            return page_form, agreeing, raw_pages[index - 1][0][j].bottom

        j, label, _ = max(found, key=rank)
        chosen.append((j, label))
    return chosen


def _normal(text: str) -> str:
    return _DIGITS.sub("#", " ".join(text.split()).lower())


def _running_lines(raw_pages: list[tuple[list[Line], str | None]]) -> set[str]:
    """Running headers and footers (digits as '#'): lines in the header or footer zone of many pages, set
    apart from the body, whose text either repeats exactly or whose number follows the pages (a footer
    "Annual report 2015 | 7"). A table row whose figures change from page to page is body text."""
    pages_with: dict[str, set[int]] = {}
    texts: dict[str, Counter[str]] = {}
    offsets: dict[str, Counter[int]] = {}
    for index, (lines, _) in enumerate(raw_pages, start=1):
        for line in lines:
            if not _in_margin(line) or not _set_apart(line) or _BLANK_PAGE.match(line.text):
                continue
            key = _normal(line.text)
            if index in pages_with.setdefault(key, set()):
                continue
            pages_with[key].add(index)
            texts.setdefault(key, Counter())[" ".join(line.text.split()).lower()] += 1
            offsets.setdefault(key, Counter()).update({int(n) - index for n in _DIGITS.findall(line.text)})
    threshold = max(3, int(0.4 * len(raw_pages)))
    running = set()
    for key, pages in pages_with.items():
        if len(pages) < threshold:
            continue
        same_text = texts[key].most_common(1)[0][1]
        in_sequence = offsets[key].most_common(1)[0][1] if offsets[key] else 0
        if same_text >= threshold or in_sequence >= threshold:
            running.add(key)
    return running
