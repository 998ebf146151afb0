"""Archives of N copies of the sample corpus for bench/growth_bench.py, each copy a set of distinct meetings.

    python bench/archive.py --copies 4 --out /tmp/archive    # copies 0-3 of every paper

Copy k of a paper is the paper typeset again line by line (each line's text at its place and size, in the reading
order of the original, so the reader and structure see what they see in the original), with every written date
("14 March 2023", "10th October 2017") moved on by 7*k days and every committee name the papers give (where a
line prints it whole) prefixed "Area k", so no two copies record the same meeting of the same committee. Pages
turned by /Rotate are kept as they are. Copy 0 is typeset too, unchanged, so 1x is the same kind of file as
every other size.

The committee names are read from the papers by this project's own reader (`read_document` and `structure`):
nothing here names a council or a committee.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.text import fold_quotes  # noqa: E402  (after the path is set)

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE = re.compile(rf"\b(\d{{1,2}})(st|nd|rd|th)?(\s+)({MONTHS})(,?\s+)(\d{{4}})\b")


def shifted_dates(text: str, days: int) -> str:
    """Every written date in `text` moved on by `days`, written as it was (ordinal suffix, spacing)."""

    def shift(match: re.Match[str]) -> str:
        day, suffix, space, month, comma, year = match.groups()
        try:
            moved = dt.datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date() + dt.timedelta(days=days)
        except ValueError:
            return match.group(0)
        if suffix:
            suffix = "th" if 11 <= moved.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(moved.day % 10, "th")
        return f"{moved.day}{suffix or ''}{space}{moved.strftime('%B')}{comma}{moved.year}"

    return DATE.sub(shift, text) if days else text


def committees_of(papers: list[Path]) -> list[str]:
    """The committee names the papers give, as this project's reader finds them; longest first."""
    from indexer.read import read_document
    from indexer.structure import structure_document

    names = {structure_document(read_document(path)).committee for path in papers}
    return sorted((name for name in names if name), key=len, reverse=True)


def copy_paper(source: Path, target: Path, k: int, committees: list[str]) -> Path:
    """Write copy k of one paper (see the module docstring)."""
    font = pymupdf.Font("helv")
    original = pymupdf.open(source)
    out = pymupdf.open()
    for number, page in enumerate(original):
        if page.rotation:
            out.insert_pdf(original, from_page=number, to_page=number)
            continue
        new = out.new_page(width=page.rect.width, height=page.rect.height)
        writer = pymupdf.TextWriter(new.rect)
        for block in page.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                spans = [s for s in line["spans"] if s["text"].strip()]
                if not spans:
                    continue
                text = "".join(s["text"] for s in line["spans"]).strip()
                if k:
                    text = shifted_dates(fold_quotes(text), 7 * k)
                    for name in committees:  # in any letter case: a heading may print it in capitals
                        text = re.sub(re.escape(name), lambda m: f"Area {k} {m.group(0)}", text, flags=re.I)
                writer.append(spans[0]["origin"], text, font=font, fontsize=max(1.0, spans[0]["size"]))
        writer.write_text(new)
    labels = original.get_page_labels()
    if labels:
        out.set_page_labels(labels)
    out.set_metadata({**original.metadata, "title": (original.metadata.get("title") or source.stem) + f" ({k})"})
    target.parent.mkdir(parents=True, exist_ok=True)
    out.save(target, garbage=3, deflate=True)
    return target


def build(papers: list[Path], copies: int, out: Path) -> list[Path]:
    """Copies 0..copies-1 of every paper under `out/copy-KK/`, written once (kept for the next run)."""
    committees = committees_of(papers)
    written = []
    for k in range(copies):
        for paper in papers:
            name = shifted_dates(paper.name, 7 * k) if k else paper.name
            target = out / f"copy-{k:02d}" / f"{k:02d} {name}"
            if not target.exists():
                copy_paper(paper, target, k, committees)
            written.append(target)
    return written


def main() -> None:
    from core.settings import load_settings
    from eval.naive import corpus_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    papers = sorted(corpus_dir(load_settings(ROOT / "config.toml")).glob("*.pdf"))
    print(f"{len(build(papers, args.copies, args.out))} papers in {args.out}")


if __name__ == "__main__":
    main()
