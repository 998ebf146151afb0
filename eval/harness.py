"""Run the gold questions through this project's answerer and through the naive llama-index pipeline."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.records import Answer
from core.settings import Settings
from eval.faithful import quote_on_page
from eval.gold import GoldQuestion
from eval.metrics import CitedPage, QuestionResult
from qa.retrieve import Retrieval
from qa.service import QAService

RANK_DEPTH = 10  # pages ranked for hit@k, MRR and nDCG


def _result(
    question: GoldQuestion,
    answer_text: str,
    abstained: bool,
    cited: list[tuple[str, Path, int, str]],
    ranked: list[tuple[str, int]],
    latency_ms: float,
    partial: bool = False,
    missing: list[str] | None = None,
    confidence: float | None = None,
) -> QuestionResult:
    citations = [
        CitedPage(
            file=file,
            page=page,
            quote=quote,
            faithful=quote_on_page(quote, path, page),
            on_gold_page=question.expects(file, page),
        )
        for file, path, page, quote in cited
    ]
    unique = list(dict.fromkeys(ranked))  # each page once, where it first ranks
    quotes = " ".join(c.quote for c in citations)
    return QuestionResult(
        id=question.id,
        question=question.question,
        kind=question.kind,
        split=question.split,
        answerable=question.answerable,
        abstained=abstained,
        answer=answer_text,
        correct=question.answerable and not abstained and question.is_correct(f"{answer_text} {quotes}"),
        citations=citations,
        ranked_pages=unique[:RANK_DEPTH],
        gold_pages=[(e.file, p) for e in question.expected for p in e.pages],
        latency_ms=latency_ms,
        answer_type=question.answer_type,
        hard_negative=question.hard_negative,
        recency=question.recency,
        partial=partial,
        missing_named=_names_missing(question, answer_text, missing or []),
        confidence=confidence,
    )


def _names_missing(question: GoldQuestion, answer_text: str, missing: list[str]) -> bool:
    """Whether the answer's `missing` list names one of the specifics the gold set says the papers lack (either
    holding the other, ignoring case: "2018/19" names "2018/19", "the 2018/19 figure" too)."""
    said = [m.lower().strip() for m in missing if len(m.strip()) >= 3]
    return any(m in g or g in m for g in (x.lower().strip() for x in question.missing) for m in said)


def ranked_pages(answer: Answer, retrieval: Retrieval) -> list[tuple[str, int]]:
    """Pages in the order a reader meets them: the cited pages, then each retrieved passage's best page."""
    pages = [(c.document.file, c.page) for c in answer.citations]
    for candidate in retrieval.candidates:
        passage = candidate.passage
        start = candidate.sentences[0].start if candidate.sentences else 0
        pages.append((passage.file, passage.page_at(start).page))
    return pages


def lead_confidence(answer: Answer, retrieval: Retrieval) -> float | None:
    """The learned ranker's probability for the passage the first citation quotes; None without a ranker, without
    citations, or when that passage came from elsewhere (a decision found in the minutes)."""
    if not answer.citations:
        return None
    lead = answer.citations[0].passage_id
    return next((c.probability for c in retrieval.candidates if c.passage.id == lead), None)


def run_ours(
    service: QAService, gold: list[GoldQuestion], progress: Callable[[], None] = lambda: None
) -> list[QuestionResult]:
    """Ask this project every gold question, as `qa ask` would, and score what comes back."""
    service.warm_up()
    paths = service.indexed_files()
    results = []
    for question in gold:
        started = time.perf_counter()
        answer, retrieval = service.answer_with_retrieval(question.question, depth=RANK_DEPTH)
        latency = (time.perf_counter() - started) * 1000
        cited = [(c.document.file, paths[c.document.file], c.page, c.quote) for c in answer.citations]
        results.append(
            _result(
                question,
                answer.answer,
                answer.abstained,
                cited,
                ranked_pages(answer, retrieval),
                latency,
                answer.partial,
                answer.missing,
                lead_confidence(answer, retrieval),
            )
        )
        progress()
    return results


def run_naive(
    settings: Settings, gold: list[GoldQuestion], progress: Callable[[], None] = lambda: None
) -> list[QuestionResult]:
    """One Document per page, default SentenceSplitter, VectorStoreIndex, same embedder: its top 2 chunks answer."""
    from eval.naive import build_naive_index, corpus_dir

    corpus = corpus_dir(settings)
    with tempfile.TemporaryDirectory() as tmp:
        index, _, _ = build_naive_index(corpus, Path(tmp), settings.embedding)
        answerer, ranker = index.as_retriever(similarity_top_k=2), index.as_retriever(similarity_top_k=RANK_DEPTH)
        answerer.retrieve("warm up")
        results = []
        for question in gold:
            started = time.perf_counter()
            nodes = answerer.retrieve(question.question)
            latency = (time.perf_counter() - started) * 1000
            ranked = [(n.node.metadata["file"], n.node.metadata["page"]) for n in ranker.retrieve(question.question)]
            cited = [
                (
                    n.node.metadata["file"],
                    corpus / n.node.metadata["file"],
                    n.node.metadata["page"],
                    n.node.get_content(),
                )
                for n in nodes
            ]
            text = "\n".join(n.node.get_content() for n in nodes)
            results.append(_result(question, text, False, cited, ranked, latency))
            progress()
    return results
