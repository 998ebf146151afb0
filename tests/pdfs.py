"""Build small real PDFs for tests: lines of text per page, optional printed footers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

PAGE_WIDTH, PAGE_HEIGHT = 595, 842
LINE_HEIGHT = 12


@dataclass
class PageSpec:
    lines: list[str] = field(default_factory=list)
    footer: str | None = None  # e.g. "Page 5", printed at the bottom
    header: str | None = None  # printed at the very top
    image_only: bool = False  # a scanned page: an image and no text layer
    # Text at (x, y) as the page is displayed, y from the top, in points: table cells, a row near the foot.
    placed: list[tuple[float, float, str]] = field(default_factory=list)
    # A landscape page stored as a portrait page turned by /Rotate (90 or 270), its text drawn turned the
    # other way so that it reads upright on screen, as Word and Excel export landscape sections.
    rotate: int = 0
    # Text in a Unicode font (pymupdf's built-in Droid Sans Fallback): ligature characters, curly quotes.
    unicode: bool = False


def make_pdf(
    path: Path, pages: list[PageSpec], title: str | None = None, page_labels: list[dict] | None = None
) -> Path:
    doc = pymupdf.open()
    for spec in pages:
        page = doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        if spec.image_only:
            pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
            pixmap.set_rect(pixmap.irect, (200, 200, 200))
            page.insert_image(pymupdf.Rect(50, 50, 300, 300), pixmap=pixmap)
            continue
        _write_page(page, spec)
    if title:
        doc.set_metadata({"title": title})
    if page_labels:
        doc.set_page_labels(page_labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path


def _write_page(page: pymupdf.Page, spec: PageSpec) -> None:
    font = "helv"
    if spec.unicode:
        font = "unicode"
        page.insert_font(fontname=font, fontbuffer=pymupdf.Font("cjk").buffer)
    page.set_rotation(spec.rotate)
    to_stored = page.derotation_matrix  # displayed position -> position on the unrotated page
    width, height = page.rect.width, page.rect.height  # as displayed
    page.set_rotation(0)

    def put(x: float, y: float, text: str, size: float) -> None:
        page.insert_text(pymupdf.Point(x, y) * to_stored, text, fontsize=size, fontname=font, rotate=spec.rotate)

    if spec.header:
        put(50, 30, spec.header, 9)
    y = 60
    for line in spec.lines:
        if y > height - 80:
            raise ValueError("too many lines for one fixture page")
        put(50, y, line, 10)
        y += LINE_HEIGHT
    for x, y_at, text in spec.placed:
        put(x, y_at, text, 10)
    if spec.footer:
        put(width / 2 - 27, height - 40, spec.footer, 9)
    page.set_rotation(spec.rotate)


def wrap(text: str, width: int = 95) -> list[str]:
    """Hard-wrap prose the way a PDF's text layer does."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


FILLER = (
    "Members discussed the report at length and officers answered questions about the budget, "
    "the staffing position and the timetable for the work that would follow over the coming months. "
)


def sample_pack(path: Path) -> Path:
    """A small agenda pack: unnumbered front pages, minutes of an earlier meeting, a report with a table.

    Printed page numbers run 13-18 on PDF pages 3-8, as in a pack extracted from a longer run.
    """
    agenda = [
        "Children's Services Overview and Scrutiny Committee",
        "The meeting will be held at 7.00 pm on 14 March 2023",
        "Committee Room 1, Civic Offices",
        "Agenda",
        "1   Apologies for Absence",
        "2   Minutes   13 - 14",
        "5   Riverside Play Centre Review   15 - 16",
        "6   Work Programme   17 - 17",
        "Queries regarding this Agenda or notification of apologies:",
        "Agenda published on: 6 March 2023",
        "Information for members of the public and councillors",
        "Access to Information and Meetings",
        "Members of the public can attend all meetings of the council and its committees.",
    ]
    front = [
        "Thurrock Council Wi-Fi",
        "Wi-Fi is available throughout the Civic Offices.",
        "Enter the password Thurrock to connect to the Wi-Fi network.",
        "Evacuation Procedures",
        "In the case of an emergency, you should evacuate the building using the nearest exit.",
    ]
    minutes_1 = [
        "Minutes of the Meeting of the Children's Services Overview and Scrutiny Committee held on 10",
        "January 2023 at 7.00 pm",
        "Present: Councillors Ada Lovelace (Chair), Brian Keys (Vice-Chair)",
        "12. Minutes",
        "The minutes of the meeting held on 8 November 2022 were approved as a correct record.",
        "13. Grangewaters Outdoor Education Centre",
        *wrap(FILLER * 3),
        "The Chair asked how many schools had used the centre and was told that 41 schools had visited in",
        "the last year, with the remainder of the discussion recorded below for the Committee.",
        *wrap(FILLER * 2),
        "The Strategic Lead explained that the lease of the boathouse would end in",
    ]
    minutes_2 = [
        "September 2024 and that negotiations with the landlord were continuing this spring.",
        "RESOLVED:",
        "1) That the Committee note the usage figures for Grangewaters.",
        "2) That the Committee agree to the proposed lease extension.",
        "UNRESOLVED:",
        "3) Members requested that Cabinet reviews the decision to close the boathouse.",
        "14. Youth Cabinet Update",
        "Item deferred to the next meeting of the Committee on 14 March 2023.",
        "The meeting finished at 8.40 pm",
        "Approved as a true and correct record",
        "CHAIR",
    ]
    report_1 = [
        "Agenda Item 5",
        "14 March 2023   ITEM: 5",
        "Children's Services Overview and Scrutiny Committee",
        "Riverside Play Centre Review",
        "Wards and communities affected: All   Key Decision: Non-key",
        "Report of: Grace Hopper, Strategic Lead for Play",
        "This report is public",
        "1. Recommendation(s)",
        "1.1 That the Committee comment on the proposed opening hours.",
        "2. Introduction and Background",
        *wrap(
            "2.1 The Riverside Play Centre opened in 2019 and now welcomes families from across the borough. " + FILLER
        ),
        "Attendance by year",
        "Year   Visits   Change",
        "2021   12,400   -",
        "2022   15,950   28.6%",
        "2023   17,010   6.6%",
    ]
    report_2 = [
        "3. Issues, Options and Analysis of Options",
        *wrap("3.1 The preferred option is to extend weekend opening to 6pm from April. " + FILLER),
        "Appendix 1 - Consultation responses",
        *wrap("Parents said the centre was clean and welcoming and asked for more toddler sessions. " + FILLER),
    ]
    work_programme = [
        "14 March 2023   ITEM: 6",
        "Children's Services Overview and Scrutiny Committee",
        "Work Programme",
        "Report of: Democratic Services",
        "Topic   Lead Officer   Meeting",
        "School Places Update   Ann Other   June 2023",
        "Fostering Recruitment   Sam Person   June 2023",
    ]
    pages = [
        PageSpec(agenda),
        PageSpec(front),
        PageSpec(minutes_1, footer="Page 13"),
        PageSpec(minutes_2, footer="Page 14"),
        PageSpec(report_1, footer="Page 15"),
        PageSpec(report_2, footer="Page 16"),
        PageSpec(work_programme, footer="Page 17"),
        PageSpec(["This page is intentionally left blank"], footer="Page 18"),
    ]
    return make_pdf(path, pages, title="Fixture pack")


def small_pack(
    path: Path,
    committee: str,
    meeting: str,
    title: str,
    body: list[str],
    unicode: bool = False,
    first_label: int = 5,
) -> Path:
    """A two-page agenda pack: the agenda (no page number), then one report with its cover block, printed
    "Page {first_label}". `meeting` is written as the papers do: "14 March 2023"."""
    agenda = [
        committee,
        f"The meeting will be held at 7.00 pm on {meeting}",
        "Agenda",
        f"5   {title}   {first_label} - {first_label}",
        "Queries regarding this Agenda or notification of apologies:",
    ]
    report = [
        f"{meeting}   ITEM: 5",
        committee,
        title,
        "Wards and communities affected: All   Key Decision: Non-key",
        "Report of: Corporate Director of Children's Services",
        "1. Introduction and Background",
        *body,
    ]
    pages = [PageSpec(agenda, unicode=unicode), PageSpec(report, footer=f"Page {first_label}", unicode=unicode)]
    return make_pdf(path, pages)


def minutes_pack(
    path: Path,
    committee: str,
    meeting: str,
    minutes_of: str,
    minutes: list[str],
    items: list[tuple[str, str, list[str]]],
) -> Path:
    """An agenda pack for `meeting` that prints the minutes of the meeting held on `minutes_of` (one page, "Page 3")
    and then one report per item, `(number, title, body)`, printed from "Page 4". Dates are written as the papers
    do: "14 March 2023"."""
    label = 4
    lines = []
    for number, title, _ in items:
        lines.append(f"{number}   {title}   {label} - {label}")
        label += 1
    agenda = [
        committee,
        f"The meeting will be held at 7.00 pm on {meeting}",
        "Agenda",
        "2   Minutes   3 - 3",
        *lines,
        "Queries regarding this Agenda or notification of apologies:",
    ]
    heading = [f"Minutes of the Meeting of the {committee} held on {minutes_of} at 7.00 pm"]
    pages = [PageSpec(agenda), PageSpec(heading + minutes + ["The meeting finished at 8.40 pm"], footer="Page 3")]
    for n, (number, title, body) in enumerate(items):
        report = [
            f"{meeting}   ITEM: {number}",
            committee,
            title,
            "Wards and communities affected: All   Key Decision: Non-key",
            "Report of: Corporate Director of Children's Services",
            "1. Introduction and Background",
            *body,
        ]
        pages.append(PageSpec(report, footer=f"Page {4 + n}"))
    return make_pdf(path, pages)


EXEMPT_MARKERS = [
    "NOT FOR PUBLICATION",
    "This report contains exempt information as defined in paragraph 3 of Part 1 of Schedule 12A to the Local",
    "Government Act 1972 (information relating to the financial or business affairs of any particular person).",
]


def exempt_pack(path: Path, committee: str = "Children's Services Overview and Scrutiny Committee") -> Path:
    """A public agenda pack (14 March 2023) holding one public report (item 5, "Page 5") and one exempt report
    (item 6, "Pages 6-7": its cover carries the statutory markers): only item 6 is restricted."""
    meeting = "14 March 2023"
    agenda = [
        committee,
        f"The meeting will be held at 7.00 pm on {meeting}",
        "Agenda",
        "5   Riverside Play Centre Review   5 - 5",
        "6   Boathouse Lease Negotiations   6 - 7",
        "Queries regarding this Agenda or notification of apologies:",
    ]
    public = [
        f"{meeting}   ITEM: 5",
        committee,
        "Riverside Play Centre Review",
        "Wards and communities affected: All   Key Decision: Non-key",
        "Report of: Corporate Director of Children's Services",
        "1. Introduction and Background",
        "1.1 The Riverside Play Centre welcomed 17,010 visits in 2023, up from 15,950 the year before.",
        "1.2 Weekend opening will be extended to 6pm from April so that more families can use the centre.",
    ]
    exempt_cover = [
        f"{meeting}   ITEM: 6",
        committee,
        "Boathouse Lease Negotiations",
        *EXEMPT_MARKERS,
        "Report of: Strategic Lead for Outdoor Education",
        "1. Introduction and Background",
        "1.1 The landlord of the Quillfeather boathouse has offered a renewed lease at a rent of 48,250 pounds a year.",
        "1.2 Officers recommend accepting the Quillfeather offer before the Marchbanks tender closes on 9 May 2023.",
    ]
    exempt_more = [
        "2. Issues and Options",
        "2.1 Declining the Quillfeather offer would leave the outdoor education programme without a boathouse.",
        "2.2 The Marchbanks consortium has indicated a rival bid of 51,900 pounds a year for the same site.",
    ]
    pages = [
        PageSpec(agenda),
        PageSpec(public, footer="Page 5"),
        PageSpec(exempt_cover, footer="Page 6"),
        PageSpec(exempt_more, footer="Page 7"),
    ]
    return make_pdf(path, pages)


def exempt_paper(path: Path, markers: bool = True) -> Path:
    """A standalone report, wholly exempt when `markers` (its first page carries them); its facts are found in no
    other fixture: the Zanthorpe children's home closure and its 23 staff."""
    lines = [
        "Cabinet",
        "Zanthorpe Children's Home: Staffing Review",
        *(EXEMPT_MARKERS if markers else []),
        "1. Summary",
        "1.1 The Zanthorpe children's home will close on 30 June 2023 and its 23 staff will be redeployed.",
        "1.2 Redeployment of the Zanthorpe staff will cost 312,400 pounds, met from the transformation reserve.",
    ]
    return make_pdf(path, [PageSpec(lines, footer="Page 1")])


def raw_pdf(path: Path, content: bytes, compress: bool = True, deflated: bool = False) -> Path:
    """A one-page PDF written byte by byte around `content` (the page's content stream, Helvetica as /F1; deflated
    here when `compress`, or already when `deflated`), so a
    test can hand the reader what no PDF library would write: streams that inflate to gigabytes, nesting
    thousands deep."""
    import zlib

    stream = zlib.compress(content, 9) if compress else content
    flate = b" /Filter /FlateDecode" if compress or deflated else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), flate) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(out)
    return path


def inflating_pdf(path: Path, mib: int = 256) -> Path:
    """A page whose content stream is about 1 MB on disk and `mib` MiB inflated, of graphics states saved and
    restored at once ("q Q"): laying it out keeps one call busy for seconds (7 s for 256 MiB here)."""
    import zlib

    packer = zlib.compressobj(1)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (An inflating page) Tj ET\n")]
    block = b"q Q " * (1 << 22)
    parts += [packer.compress(block) for _ in range(mib // 16)]
    parts.append(packer.flush())
    return raw_pdf(path, b"".join(parts), compress=False, deflated=True)


def text_bomb_pdf(path: Path, lines: int = 1_000_000) -> Path:
    """About 100 KB on disk whose one page draws `lines` lines of text: laying it out takes ~3 GB per million."""
    return raw_pdf(path, b"BT /F1 2 Tf 10 780 Td 2 TL " + b"(ABCDEFGHIJKLMNOPQRST ABCDEFGHIJ) ' " * lines + b"ET")


def nested_pdf(path: Path, depth: int = 200_000) -> Path:
    """A page whose graphics states are saved `depth` deep (q ... Q) around one line of text."""
    return raw_pdf(path, b"q " * depth + b"BT /F1 12 Tf 72 720 Td (Deep inside) Tj ET" + b" Q" * depth)
