"""The optional LLM answerer: the model writes the answer, and every quote it gives is checked against its passage."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError, PromptError
from core.records import Citation, Passage
from core.settings import LLMSettings
from qa.citations import CitationBuilder
from qa.retrieve import Retrieval
from qa.sentences import split_sentences
from qa.specifics import not_given
from qa.terms import Terms

log = logging.getLogger(__name__)

_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|without|refused|rejected|declined|unresolved|"
    r"\w+n't)\b",
    re.I,
)
_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})
# A claim must say what its quote says: most of its content words are in the quote ...
_MIN_SUPPORT = 0.6
# ... and the quote is long enough to say something on its own.
_MIN_QUOTE_WORDS = 5
PROMPT_FILES = ("answer_system.md", "answer_user.md", "passage.md")


@dataclass
class Claim:
    """One sentence of the model's answer, with the quote and the passage number it cites."""

    text: str
    quote: str
    passage: int


def build_llm(settings: LLMSettings) -> Any:
    """A llama-index LLM for the configured backend; never a default that would call a hosted service."""
    if settings.backend == "openai":
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=settings.model,
            api_base=settings.base_url,
            api_key=settings.api_key or "none",
            is_chat_model=True,
            timeout=settings.timeout_s,
            max_retries=0,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            context_window=8192,
        )
    if settings.backend == "ollama":
        from llama_index.llms.ollama import Ollama

        return Ollama(
            model=settings.model,
            base_url=settings.base_url,
            request_timeout=settings.timeout_s,
            temperature=settings.temperature,
            json_mode=True,
            additional_kwargs={"num_predict": settings.max_tokens},
        )
    raise ConfigError(f"llm.backend: no LLM for {settings.backend!r}")


class LLMAnswerer:
    """Asks the model for claims with quotes; returns only claims whose quotes check, or None to fall back."""

    def __init__(self, settings: LLMSettings, llm: Any = None, terms: Terms | None = None):
        self.settings = settings
        self.system_prompt, self.user_template, self.passage_template = load_prompts(Path(settings.prompt_dir))
        self.llm = llm if llm is not None else build_llm(settings)
        self.terms = terms or Terms()

    def messages(
        self, question: str, passages: list[Passage], citations: CitationBuilder, missing: Sequence[str] = ()
    ) -> list[Any]:
        """The system prompt and the user message: the question, the numbered passages, and what the passages do
        not give (`missing`: the question's periods, stages and names none of them meets), for the model to say
        first instead of answering as if they gave it."""
        from llama_index.core.llms import ChatMessage, MessageRole

        blocks = [
            self.passage_template.format(n=i, source=citations.describe(p), text=_neutralise(p).strip())
            for i, p in enumerate(passages, start=1)
        ]
        lacking = f"{not_given(list(missing))}. Say so first, then give what they do say." if missing else ""
        user = self.user_template.format(question=question, passages="\n".join(blocks), missing=lacking)
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=self.system_prompt),
            ChatMessage(role=MessageRole.USER, content=user),
        ]

    def answer(
        self, retrieval: Retrieval, citations: CitationBuilder, missing: Sequence[str] = ()
    ) -> tuple[str, list[Citation]] | None:
        """The model's answer with only the claims whose quotes check, or None to keep the extractive answer.
        `missing`: what the papers do not give, told to the model (see `messages`)."""
        passages = [c.passage for c in retrieval.candidates[: self.settings.passages]]
        if not passages:
            return None
        try:
            messages = self.messages(retrieval.question.text, passages, citations, missing)
            reply = self.llm.chat(messages).message.content or ""
        except Exception as exc:  # timeouts, refused connections, 5xx: the extractive answer stands
            log.warning("LLM answerer failed (%s: %s); using the extractive answer", type(exc).__name__, exc)
            return None
        claims = parse_claims(reply)
        cited: list[Citation] = []
        sentences = []
        for claim in claims:
            citation = self._check(claim, passages, citations, len(cited) + 1)
            if citation is None:
                log.info("dropped a claim whose quote does not check: %r", claim.quote[:80])
                continue
            existing = next(
                (c for c in cited if c.passage_id == citation.passage_id and c.quote == citation.quote), None
            )
            if existing is None:
                cited.append(citation)
                existing = citation
            sentences.append(f"{claim.text.strip()} [{existing.n}]")
        if not cited:
            return None
        return " ".join(sentences), cited

    def _check(self, claim: Claim, passages: list[Passage], citations: CitationBuilder, n: int) -> Citation | None:
        """A citation for the claim if its quote is verbatim in the passage it names and supports the claim."""
        if not 1 <= claim.passage <= len(passages) or not claim.quote.strip() or not claim.text.strip():
            return None
        passage = passages[claim.passage - 1]
        span = locate(claim.quote, passage.text)
        if span is None or any(start < span[1] and span[0] < end for start, end in _instructions_in(passage)):
            return None
        quoted = passage.text[span[0] : span[1]]
        if not self._supports(quoted, claim.text):
            return None
        return citations.cite(n, passage, span[0], span[1])

    def _supports(self, quote: str, claim: str) -> bool:
        """The claim adds no figure, no negation and few words that the quote does not have."""
        if len(quote.split()) < _MIN_QUOTE_WORDS:
            return False
        if not set(_figures(claim)) <= set(_figures(quote)):
            return False  # a figure the quote does not print is invented
        if bool(_NEGATION.search(claim)) != bool(_NEGATION.search(quote)):
            return False  # "did not approve" is not supported by "approved", nor the reverse
        claim_terms = set(self.terms.of(claim))
        if not claim_terms:
            return False
        return len(claim_terms & set(self.terms.of(quote))) / len(claim_terms) >= _MIN_SUPPORT


def load_prompts(prompt_dir: Path) -> tuple[str, str, str]:
    """The system prompt, the user template and the passage template; PromptError naming a missing file."""
    texts = []
    for name in PROMPT_FILES:
        path = prompt_dir / name
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise PromptError(
                f"llm.prompt_dir: cannot read {path} ({exc.strerror or exc}); it must hold {', '.join(PROMPT_FILES)}"
            ) from None
    return texts[0], texts[1], texts[2]


def parse_claims(reply: str) -> list[Claim]:
    """Claims from the model's JSON reply (tolerating code fences or prose around it); [] if there are none."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return []
    try:
        data = json.loads(reply[start : end + 1])
    except json.JSONDecodeError:
        return []
    claims = []
    for item in data.get("claims", []) if isinstance(data, dict) else []:
        if isinstance(item, dict):
            number = item.get("passage")
            if isinstance(number, str) and number.strip().isdigit():
                number = int(number)
            if isinstance(number, int) and not isinstance(number, bool):
                claims.append(Claim(str(item.get("text", "")), str(item.get("quote", "")), number))
    return claims


def _figures(text: str) -> list[str]:
    """Numbers as whole tokens, thousands separators dropped: '£15,000' gives '15000', never '1'."""
    return [m.replace(",", "") for m in _FIGURE.findall(text)]


def locate(quote: str, text: str) -> tuple[int, int] | None:
    """Where `quote` occurs in `text`, ignoring differences of whitespace and of curly or straight quote marks."""
    wanted = " ".join(quote.translate(_QUOTE_CHARS).split()).strip(" \"'")
    if not wanted:
        return None
    flat, positions = [], []
    previous_space = True
    for i, char in enumerate(text.translate(_QUOTE_CHARS)):
        if char.isspace():
            if not previous_space:
                flat.append(" ")
                positions.append(i)
            previous_space = True
            continue
        flat.append(char)
        positions.append(i)
        previous_space = False
    found = "".join(flat).find(wanted)
    if found < 0:
        return None
    return positions[found], positions[found + len(wanted) - 1] + 1


def _instructions_in(passage: Passage) -> list[tuple[int, int]]:
    """Spans of sentences in a document that address the reader as a model: injection attempts, never evidence."""
    return [(s.start, s.end) for s in split_sentences(passage) if s.instruction]


def _neutralise(passage: Passage) -> str:
    """The passage as the model sees it: injection attempts withheld, and no way to close its <passage> tag."""
    text = passage.text
    for start, end in reversed(_instructions_in(passage)):
        text = f"{text[:start]}[sentence withheld: it addressed an AI]{text[end:]}"
    return re.sub(r"</?\s*passage\b[^>]*>", "", text, flags=re.I)
