"""Passages: sizes, section boundaries, and quotes attributed to the page they are really on."""

import pytest

from core.settings import PassageSettings
from core.text import searchable_text, sentence_spans, word_count
from indexer.passages import PassageBuilder
from indexer.read import read_document
from indexer.structure import structure_document


def build_passages(pdf, count_tokens):
    return PassageBuilder(PassageSettings(), count_tokens).build(structure_document(read_document(pdf)), "doc")


@pytest.fixture
def passages(sample_pack_pdf, fake_embedder):
    return build_passages(sample_pack_pdf, fake_embedder.count_tokens)


def test_a_passage_crossing_a_page_break_knows_where_each_page_starts(passages):
    crossing = [p for p in passages if len(p.pages) > 1]
    assert crossing, "the fixture has a minute that runs over a page break"
    passage = next(p for p in crossing if "boathouse would end in" in p.text)
    assert [(s.page, s.label) for s in passage.pages] == [(3, "13"), (4, "14")]
    before = passage.text.index("The Strategic Lead explained")
    after = passage.text.index("September 2024 and that negotiations")
    assert passage.page_at(before).label == "13"
    assert passage.page_at(after).label == "14"
    assert passage.page_text(4).startswith("September 2024")
    assert "The Strategic Lead explained" in passage.page_text(3)
    assert "September 2024" not in passage.page_text(3)  # each page's own text, not what follows it
    assert passage.page_text(3) + passage.page_text(4) == passage.text and passage.page_text(5) == ""


def test_passages_never_cross_a_section_boundary(passages):
    for passage in passages:
        assert passage.text.count("RESOLVED:") <= 1
        if passage.minute == "13":
            assert "Youth Cabinet Update" not in passage.text
    sections = [p.section for p in passages]
    assert sections.index("Minute 14: Youth Cabinet Update") > sections.index(
        "Minute 13: Grangewaters Outdoor Education Centre"
    )


def test_passages_fit_the_embedder(sample_pack_pdf, embedder):
    """Counted by MiniLM's own tokeniser: text beyond its 256 word-pieces would be silently ignored."""
    for passage in build_passages(sample_pack_pdf, embedder.count_tokens):
        assert word_count(passage.text) <= 250
        tokens = embedder.count_tokens([passage.context + "\n" + searchable_text(passage.text)])[0]
        assert tokens <= 254, passage.id


def test_long_sections_split_at_sentences_into_sized_passages(fake_embedder):
    from pathlib import Path

    from indexer.read import SourceDocument
    from indexer.structure import Context, Segment, SourceLine, StructuredDocument

    sentences = [f"Sentence number {i} talks about the school improvement plan in some detail." for i in range(80)]
    lines = [SourceLine(page=1 + i // 40, label=str(1 + i // 40), text=s) for i, s in enumerate(sentences)]
    doc = StructuredDocument(
        SourceDocument(Path("x.pdf"), "0", "pdf", []),
        "report",
        "T",
        None,
        None,
        None,
        [Segment(Context(section_path=("Long",)), lines)],
    )
    passages = PassageBuilder(PassageSettings(), fake_embedder.count_tokens).build(doc, "d")
    assert len(passages) > 1
    assert all(80 <= word_count(p.text) <= 250 for p in passages)
    assert all(p.text.startswith("Sentence number") and p.text.endswith("detail.") for p in passages)
    assert " ".join(" ".join(p.text.split()) for p in passages) == " ".join(sentences)


def test_sentence_spans_respect_abbreviations_and_list_items():
    text = "Cllr. Smith asked about item 3. The answer was e.g. clear.\n- 1.1 That the report be noted."
    pieces = [text[s.start : s.end].strip() for s in sentence_spans(text)]
    assert pieces == [
        "Cllr. Smith asked about item 3.",
        "The answer was e.g. clear.",
        "- 1.1 That the report be noted.",
    ]


def test_searchable_text_drops_conversion_markup():
    assert (
        searchable_text("view on your [iPad](#) or\n[Android Device](#) a mechanism^[1]")
        == "view on your iPad or Android Device a mechanism"
    )


def test_passage_ids_are_stable(sample_pack_pdf, fake_embedder):
    first, second = (build_passages(sample_pack_pdf, fake_embedder.count_tokens) for _ in range(2))
    assert [(p.id, p.text) for p in first] == [(p.id, p.text) for p in second]
