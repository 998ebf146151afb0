"""The sample corpus, indexed for real: sentences land on the right page, label, section and meeting.

Expected pages were read off the PDFs' own text (pymupdf page by page), not from this project's output.
"""

from __future__ import annotations

import datetime as dt

import pytest

from indexer.stores import open_snapshot

pytestmark = pytest.mark.corpus

OCT17 = "Agenda reports pack 10th-Oct-2017 Childrens Services Overview and Scrutiny Committee.pdf"
NOV14 = "Agenda reports pack 11th-Nov-2014 Childrens Services Overview and Scrutiny Committee.pdf"
OCT21 = "Agenda reports pack 12th-Oct-2021 Childrens Services Overview and Scrutiny Committee.pdf"
FEB18 = "Agenda reports pack 13th-Feb-2018 Childrens Services Overview and Scrutiny Committee.pdf"
ANNUAL = "Children and Young People Partnership Annual Report 2014-15.pdf"

# (sentence, file, pdf page, printed label, section, meeting date recorded, decision status)
SENTENCES = [
    (
        "the club met every Monday from 6:30pm – 8:00pm in the Thurrock Lifestyle Solutions building, on Derwent Parade",
        OCT17,
        6,
        "6",
        "Minute 48: Youth Cabinet and Youth Work Report 2016/17",
        "2017-07-11",
        None,
    ),
    (
        "There were plans for a net increase, in the number of in-house foster carers, of 45 foster families over 3 years.",
        OCT17,
        10,
        "10",
        "Minute 51: Children Looked After Placement Commissioning",
        "2017-07-11",
        None,
    ),
    (
        "withdraw from the current Eastern Regional contract when it ends in 2018",
        OCT17,
        10,
        "10",
        "Minute 51: Children Looked After Placement Commissioning",
        "2017-07-11",
        "resolved",
    ),
    (
        "A total of 217 representations were received in the reporting period",
        OCT17,
        21,
        "21",
        "Item 7: 2016/17 Annual Complaints and Representations Report > Appendix 1 > 6. Summary of Representations",
        "2017-10-10",
        None,
    ),
    (
        "The Children's Safeguarding Board are currently undertaking three Serious Case Reviews",
        OCT17,
        11,
        "11",
        "Item 5: Items Raised by Thurrock Local Safeguarding Children Board",
        "2017-10-10",
        None,
    ),
    (
        "Members requested that Cabinet reviews their decision to declare Grangewaters as a surplus",
        OCT21,
        10,
        "10",
        "Minute 6: SEND Education and Residential Placements",
        "2021-07-13",
        "not agreed",
    ),
    (
        "Catherine Wilson answered that the framework had two elements",
        OCT21,
        10,
        "10",
        "Minute 7: Supported Accommodation for 18-24 Year Olds",
        "2021-07-13",
        None,
    ),
    (
        "the LSCP participated in activities with children and young people at the Young Voices Grangewaters Activity Day",
        OCT21,
        19,
        "19",
        "Item 6: Report from Thurrock Local Safeguarding Childrens Partnership (LSCP) > 2. Introduction and Background",
        "2021-10-12",
        None,
    ),
    (
        "Item deferred to the next Children’s Services Overview and Scrutiny",
        FEB18,
        14,
        "14",
        "Minute 75: Children's Social Care Performance",
        "2017-12-12",
        "deferred",
    ),
    (
        "two reports – Fostering Recruitment and Brighter Futures",
        FEB18,
        14,
        "14",
        "Minute 77: Work Programme",
        "2017-12-12",
        "deferred",
    ),
    (
        "Thurrock Local Safeguarding Children Board’s (LSCB) Annual Report for 1st April",
        FEB18,
        15,
        "15",
        "Item 6: Thurrock LSCB Annual Report 2016 - 2017",
        "2018-02-13",
        None,
    ),
    (
        "Social Care Update on Post Ofsted Action Plan (Deferred)",
        FEB18,
        124,
        "124",
        "Work Programme 2017/18",
        "2018-02-13",
        None,
    ),
    (
        "Councillor Curtis declared a non-pecuniary interest in the general business of the meeting",
        NOV14,
        6,
        "6",
        "Minute 3: Declaration of Interests",
        "2014-07-15",
        None,
    ),
    (
        "In Rotherham schools raised the alert over the years about children as young as 11, 12 and 13",
        NOV14,
        83,
        "83",
        "Item 8: Child Sexual Exploitation and the Jay report – implications for Thurrock > 2. Introduction and Background",
        "2014-11-11",
        None,
    ),
    (
        "Out of its population of 157,700, there are 42,800 children under the age of 19",
        ANNUAL,
        2,
        "2",
        "Background to Children's Services",
        None,
        None,
    ),
    ("A total of 76 actions formed the delivery programme for 2014/5.", ANNUAL, 1, "1", None, None, None),
    # Issue 11: pages of Key Stage 4 and 5 results were put under "6. Key Stage 2" (two headings in a row read as
    # a list), and agenda page ranges leaked into an item's title ("... 1 July 2021 55 -").
    (
        "At The Ockendon Academy and Studio School the overall pass rate was 93%",
        OCT17,
        34,
        "34",
        'Item 8: Schools Performance > 9. Key Stage 5 - "A" level results',
        "2017-10-10",
        None,
    ),
    (
        "The focused visit is not a judgement inspection; Ofsted as an outcome of the focused visit publishes a letter.",
        OCT21,
        56,
        "56",
        "Item 10: Ofsted Focused Visit on children at risk from extra-familial harm 30 June - 1 July 2021",
        "2021-10-12",
        None,
    ),
]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def snapshot(corpus_settings):
    return open_snapshot(corpus_settings)


def find(snapshot, sentence: str, file: str):
    """The passage holding the sentence, and the offset where the sentence starts in it."""
    wanted = flat(sentence)
    for passage in snapshot.passages.values():
        if passage.file != file:
            continue
        text = flat(passage.text)
        if wanted in text:
            # Map the offset in whitespace-collapsed text back to the raw text.
            prefix_words = len(text[: text.index(wanted)].split())
            raw = passage.text
            offset = 0
            for _ in range(prefix_words):
                while raw[offset].isspace():
                    offset += 1
                while offset < len(raw) and not raw[offset].isspace():
                    offset += 1
            while raw[offset].isspace():
                offset += 1
            return passage, offset
    raise AssertionError(f"no passage of {file} holds {sentence!r}")


def test_all_five_documents_are_indexed_with_their_meetings(snapshot):
    docs = {d.file: d for d in snapshot.manifest.documents}
    assert {f: (str(d.meeting_date) if d.meeting_date else None, d.pages) for f, d in docs.items()} == {
        OCT17: ("2017-10-10", 96),
        NOV14: ("2014-11-11", 108),
        OCT21: ("2021-10-12", 112),
        FEB18: ("2018-02-13", 124),
        ANNUAL: (None, 16),
    }
    assert docs[ANNUAL].doc_type == "report" and docs[ANNUAL].period == "2014/15"
    assert docs[ANNUAL].title == "Children and Young People's Partnership annual report 2014/15"
    assert all(
        d.committee == "Children's Services Overview and Scrutiny Committee" for f, d in docs.items() if f != ANNUAL
    )


@pytest.mark.parametrize(
    ("sentence", "file", "page", "label", "section", "meeting", "status"), SENTENCES, ids=[s[0][:40] for s in SENTENCES]
)
def test_sentence_is_on_the_right_page_section_and_meeting(
    snapshot, sentence, file, page, label, section, meeting, status
):
    passage, offset = find(snapshot, sentence, file)
    span = passage.page_at(offset)
    assert (span.page, span.label) == (page, label)
    assert passage.section == section
    assert (passage.meeting_date.isoformat() if passage.meeting_date else None) == meeting
    assert passage.decision_status == status
    assert passage.decision == (status is not None)
    assert not passage.boilerplate


def test_a_sentence_over_a_page_break_starts_on_its_first_page(snapshot):
    passage, offset = find(
        snapshot, "This is the annual report for Thurrock Council on the operation of the Children's Social Care", OCT17
    )
    assert passage.page_at(offset).page == 13
    tail, tail_offset = find(snapshot, "2016 – 31st March 2017. It is a statutory requirement to produce", OCT17)
    assert tail.id == passage.id
    assert tail.page_at(tail_offset).page == 14
    assert (
        passage.section
        == "Item 7: 2016/17 Annual Complaints and Representations Report > 2. Introduction and Background"
    )


def test_front_matter_in_every_pack_is_boilerplate(snapshot):
    for file in (OCT17, NOV14, OCT21, FEB18):
        passage, offset = find(snapshot, "Wi-Fi is available throughout the Civic Offices.", file)
        assert passage.boilerplate and passage.page_at(offset).label is None
        flowchart, _ = find(snapshot, "DECLARING INTERESTS FLOWCHART", file) if file != NOV14 else (passage, 0)
        assert flowchart.boilerplate


def test_no_footer_or_blank_page_text_leaks_into_passages(snapshot):
    import re

    footer = re.compile(r"^\s*Page \d+\s*$", re.M)
    for passage in snapshot.passages.values():
        assert not footer.search(passage.text), passage.id
        assert "intentionally left blank" not in passage.text


def test_passages_are_sized_for_minilm(snapshot, embedder):
    from indexer.stores import embedding_text

    words = [len(p.text.split()) for p in snapshot.passages.values()]
    assert max(words) <= 250
    assert all(embedder.count_tokens([embedding_text(p)])[0] <= 254 for p in snapshot.passages.values())


def test_decisions_found_in_each_pack_minutes(snapshot):
    decided = {}
    for passage in snapshot.passages.values():
        if passage.decision:
            decided.setdefault(passage.file, set()).add(passage.decision_status)
    assert decided[OCT21] >= {"resolved", "not agreed"}
    assert decided[FEB18] >= {"resolved", "deferred"}
    assert "resolved" in decided[OCT17] and "resolved" in decided[NOV14]
    assert ANNUAL not in decided
    meeting = {p.meeting_date for p in snapshot.passages.values() if p.decision and p.file == FEB18}
    assert meeting == {dt.date(2017, 12, 12)}
