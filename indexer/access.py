"""Restricted papers: which papers, and which reports inside a public pack, only members may read.

A paper is restricted when its path matches `access.restricted_paths`, when it sits in the upload folder's
`restricted/` folder (an editor marked the upload so), or when its first `access.first_pages` pages carry every one
of `access.markers` (by default "NOT FOR PUBLICATION", "exempt information" and "Schedule 12A": the statutory wording
of an exempt report under the Local Government Act 1972, Schedule 12A). Inside a public pack, a report whose own first
pages carry the markers is restricted alone: its agenda item and the pages it covers.

The result is kept on the paper's DocumentRecord (`restricted`, `restricted_items`, `restricted_pages`), not in the
passages cached by content, with a fingerprint of the rules it was worked out under (`access_rules`): when the
`[access]` settings or the upload folder change, the next `qa index` reads every paper indexed under other rules
again (embedding nothing) and works its restriction out anew. `mark` applies it to the passages wherever they are
loaded.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.records import DocumentRecord, Passage
from core.settings import AccessSettings, Settings
from indexer.structure import StructuredDocument

RESTRICTED_UPLOADS = "restricted"  # the upload folder's subfolder for uploads an editor marked restricted


@dataclass(frozen=True)
class Restriction:
    """What of one paper is restricted: all of it, or some reports (agenda items) and the pages they cover."""

    whole: bool = False
    items: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()


def upload_folder(settings: Settings) -> Path:
    """Where uploads are kept: `api.upload_dir`, by default <data_dir>/uploads (restricted ones in `restricted/`)."""
    return Path(settings.api.upload_dir or settings.data_dir / "uploads").resolve()


def access_rules(settings: Settings) -> str:
    """Fingerprint of what decides a paper's restriction: the `[access]` settings and the upload folder (16 hex)."""
    rules = [settings.access.model_dump(mode="json"), str(upload_folder(settings))]
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:16]


def restriction(
    path: Path, structured: StructuredDocument, settings: AccessSettings, upload_dir: Path | None = None
) -> Restriction:
    """What of the paper at `path` is restricted, by its path and by the markers on its pages."""
    if _path_restricted(path, settings.restricted_paths, upload_dir):
        return Restriction(whole=True)
    pages = {p.index: p.text for p in structured.source.pages}
    first = sorted(pages)[: settings.first_pages]
    if _marked(" ".join(pages[i] for i in first), settings.markers):
        return Restriction(whole=True)
    item_pages: dict[str, set[int]] = {}
    for segment in structured.segments:
        item = segment.context.item
        if item and segment.context.part in ("report", "appendix", "work_programme"):
            item_pages.setdefault(item, set()).update(line.page for line in segment.lines)
    items, covered = [], set()
    for item, its_pages in item_pages.items():
        start = sorted(its_pages)[: settings.first_pages]
        if _marked(" ".join(pages.get(i, "") for i in start), settings.markers):
            items.append(item)
            covered |= its_pages
    return Restriction(items=tuple(items), pages=tuple(sorted(covered)))


def _path_restricted(path: Path, globs: Iterable[str], upload_dir: Path | None) -> bool:
    resolved = path.resolve()
    if upload_dir is not None and resolved.is_relative_to((upload_dir / RESTRICTED_UPLOADS).resolve()):
        return True
    return any(fnmatch.fnmatch(str(resolved), g) or fnmatch.fnmatch(path.name, g) for g in globs)


def _marked(text: str, markers: list[str]) -> bool:
    flat = " ".join(text.split()).lower()
    return bool(markers) and all(" ".join(m.split()).lower() in flat for m in markers)


def mark(passages: Iterable[Passage], doc: DocumentRecord) -> list[Passage]:
    """The passages with `restricted` set as their paper's record says: all of a restricted paper's; in a public
    pack, those of an exempt report's agenda item or on its pages."""
    items, pages = set(doc.restricted_items), set(doc.restricted_pages)
    out = []
    for p in passages:
        restricted = doc.restricted or (p.item in items) or bool(pages and {s.page for s in p.pages} <= pages)
        out.append(p if p.restricted == restricted else p.model_copy(update={"restricted": restricted}))
    return out
