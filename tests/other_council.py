"""Papers of an invented second council in other publishing systems' styles (issue 11): a ModernGov agenda pack
(front sheet with "Date:", a contents page, minutes headed "Minutes of a meeting of ...", minutes numbered
"23   Title" without an ITEM cover, "RESOLVED that ...", a report headed only "Agenda Item 4", a Part II item)
and CMIS-style printed minutes ("Minute No. 45 - Title" or "45/24 Title", "Resolved: That ...").

Nothing here is from a real council; the structure parser must read it with no setting naming this council.
"""

from __future__ import annotations

from pathlib import Path

from pdfs import FILLER, PageSpec, make_pdf, wrap

COUNCIL = "Riverbank Borough Council"
PANEL = "Adult Social Care and Health Scrutiny Panel"

FRONT = [
    COUNCIL,
    PANEL,
    "Date:   Tuesday, 5 March 2024",
    "Time:   6.30 pm",
    "Venue:   Council Chamber, Town Hall, Riverbank",
    "Membership:",
    "Councillors P. Okafor (Chair), R. Lindqvist (Vice-Chair), S. Patel and T. O'Neill",
    "Contact: Democratic Services, 01632 960123, democratic.services@riverbank.example",
    "Part I - Items open to the public",
]
CONTENTS = [
    "Agenda",
    "Item   Page",
    "1.   Apologies for Absence",
    "2.   Declarations of Interest",
    "3.   Minutes of the Previous Meeting   1 - 2",
    "To approve the minutes of the meeting held on 16 January 2024.",
    "4.   Home Care Market Sustainability   3 - 4",
    "5.   Exclusion of the Press and Public",
    "Part II - Items not open to the public",
    "6.   Care Home Contract Award   5 - 5",
]
MINUTES_1 = [
    "Minutes of a meeting of the Adult Social Care and Health Scrutiny Panel held on Tuesday, 16 January 2024 at",
    "6.30 pm in the Council Chamber, Town Hall",
    "Present: Councillors P. Okafor (Chair), R. Lindqvist and S. Patel",
    "Also present: J. Mensah, Director of Adult Social Services",
    "23   Apologies for Absence",
    "Apologies for absence were received from Councillor T. O'Neill.",
    "24   Declarations of Interest",
    "There were no declarations of interest.",
    "25   Minutes",
    "RESOLVED that the minutes of the meeting held on 14 November 2023 be approved as a correct record.",
    "26   Day Opportunities Review",
    *wrap("The Director introduced the review of day opportunities for adults with learning disabilities. " + FILLER),
    "Councillor Patel asked how many people attended the Meadow Lane day centre each week and was told that",
    "84 people attended, most of them three days a week.",
    "RESOLVED that:",
    "(1) the consultation on the future of the Meadow Lane day centre be extended to 29 February 2024; and",
    "(2) a further report on day opportunities be brought to the Panel in June 2024.",
]
MINUTES_2 = [
    "27   Carers Strategy",
    *wrap("The Panel received an update on the Carers Strategy. " + FILLER),
    "The Panel noted that 1,240 unpaid carers were registered with the carers' support service in December 2023.",
    "RESOLVED that the Carers Strategy update be noted.",
    "The meeting closed at 8.05 pm.",
    "Chair",
]
REPORT_1 = [
    "Agenda Item 4",
    COUNCIL,
    f"Report to: {PANEL}",
    "Date of meeting: 5 March 2024",
    "Report of: Director of Adult Social Services",
    "Title: Home Care Market Sustainability",
    "Contact officer: Jane Doe, Head of Commissioning, 01632 960456",
    "1. Purpose of the Report",
    "1.1 This report updates the Panel on the sustainability of the home care market.",
    "2. Recommendations",
    "2.1 That the Panel notes the report and comments on the proposed fee uplift.",
    "3. Background",
    "3.1 The council commissions 9,800 hours of home care each week from 14 providers.",
    *wrap("3.2 Providers have reported rising costs of recruitment and fuel. " + FILLER),
]
REPORT_2 = [
    "4. Proposed Fee Uplift",
    "4.1 The proposed uplift for 2024/25 is 6.5 per cent, at a cost of £1.9 million in a full year.",
    *wrap("4.2 The uplift has been modelled against the national cost of care exercise. " + FILLER),
    "5. Implications",
    "5.1 Financial: the uplift is contained within the budget agreed by Council in February 2024.",
    "Background papers: none",
]
PART_II = [
    "Agenda Item 6",
    "NOT FOR PUBLICATION",
    "This report contains exempt information as defined in paragraph 3 of Part 1 of Schedule 12A",
    "of the Local Government Act 1972.",
    "Title: Care Home Contract Award",
    "1. Summary",
    "1.1 The Panel is asked to note the outcome of the tender for residential care beds.",
]


def moderngov_pack(path: Path) -> Path:
    """Front sheet and contents without page numbers, then pages printed "Page 1" to "Page 5"."""
    pages = [
        PageSpec(FRONT),
        PageSpec(CONTENTS),
        PageSpec(MINUTES_1, footer="Page 1"),
        PageSpec(MINUTES_2, footer="Page 2"),
        PageSpec(REPORT_1, footer="Page 3"),
        PageSpec(REPORT_2, footer="Page 4"),
        PageSpec(PART_II, footer="Page 5"),
    ]
    return make_pdf(path, pages, title="Agenda document for Adult Social Care and Health Scrutiny Panel")


def cmis_minutes(path: Path, numbering: str) -> Path:
    """Printed Cabinet minutes as a text file; `numbering` is "Minute No. {n} -" or "{n}/24"."""

    def heading(n: int, title: str) -> str:
        return f"{numbering.format(n=n)} {title}"

    pages = [
        [
            "CABINET",
            "MINUTES of the meeting held on Wednesday 7 February 2024 at 7.00 pm",
            "Present: Councillors A. Byrne (Leader), C. Dube and E. Ferreira",
            heading(45, "Revenue Budget 2024/25"),
            "The Cabinet considered the draft revenue budget and the responses to the budget consultation.",
            "Resolved: That a net revenue budget of £212.4 million for 2024/25 be recommended to Council.",
        ],
        [
            heading(46, "Libraries Strategy"),
            "Members asked for more detail on opening hours at the smaller branch libraries.",
            "Resolved: That consideration of the Libraries Strategy be deferred to the next meeting.",
            "The meeting ended at 8.20 pm.",
        ],
    ]
    path.write_text("\f".join("\n".join(lines) for lines in pages) + "\n", encoding="utf-8")
    return path
