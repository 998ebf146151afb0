"""Is a quote verbatim on the page it cites? Checked against the PDF's own text, not the index.

Both sides are compared in the reader's form (`core.text.reading_form`: ligatures spelled out, soft hyphens
dropped, every space a space) with whitespace collapsed and hyphens inside words ignored, since the reader
joins a word hyphenated over a line break. Nothing else is forgiven: a changed letter or word fails.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from core.text import reading_form, unhyphenated

_FOOTER = re.compile(r"(?m)^\s*Page \d+\s*$")
# A quote running over a page break names the page it starts on; the answerer moves a quote with fewer
# than six words before the break to the next page, so a real one has at least this many on its page.
_WORDS_ON_NAMED_PAGE = 4


def flat(text: str) -> str:
    """Text in the reader's form, whitespace collapsed to single spaces, hyphens inside words dropped."""
    return unhyphenated(" ".join(reading_form(text).split()))


def page_text(pdf_path: Path, page: int) -> str:
    """The text layer of one page (1-based); '' past the last page."""
    return _page_text(Path(pdf_path), Path(pdf_path).stat().st_mtime_ns, page)


@lru_cache(maxsize=4096)
def _page_text(pdf_path: Path, modified: int, page: int) -> str:
    import pymupdf

    with pymupdf.open(pdf_path) as pdf:
        return pdf[page - 1].get_text() if 1 <= page <= len(pdf) else ""


def quote_on_page(quote: str, pdf_path: Path, page: int) -> bool:
    """The quote is on the page (whitespace aside), or starts there and runs on over the page break."""
    wanted = flat(quote)
    if not wanted:
        return False
    here = page_text(pdf_path, page)
    if wanted in flat(here):
        return True
    # Over a page break the printed footer ("Page 13") sits between the two halves.
    this_page, next_page = (flat(_FOOTER.sub("", text)) for text in (here, page_text(pdf_path, page + 1)))
    joined = f"{this_page} {next_page}"
    at = joined.find(wanted)
    # It must start on the page it names with more than a stray word or two printed there.
    return 0 <= at < len(this_page) and len(joined[at : len(this_page)].split()) >= _WORDS_ON_NAMED_PAGE
