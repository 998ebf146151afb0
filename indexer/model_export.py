"""The embedding model exported to OpenVINO IR, made offline from the model's own files and cached.

`exported_model(settings, path, export_dir)` -> `openvino.Model`: the sentence-transformers model at `path`
(transformer and pooling; vectors are normalised by the caller) traced by `openvino.convert_model` with dynamic
batch and length, and saved in float32 under `<export_dir>/<key>/model.xml` (+ model.bin, about 90 MB for MiniLM).
The key digests the model directory's file names, sizes and modification times, the OpenVINO version and
`EXPORT_VERSION`, so another or changed model, or another runtime, is exported again.

Exporting needs torch and sentence-transformers and takes a few seconds; a process that finds the export reads it
in a fraction of a second and never imports either. Two processes exporting at once each write a folder of their
own and rename it into place: one wins, the other's is dropped. A folder that cannot be written (a read-only data
directory) is passed over with a warning: the export is used from memory. A damaged export is made again.
Errors: ModelError when the model cannot be loaded or exported.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.settings import EmbeddingSettings

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when what is exported changes (its inputs, outputs or pooling)
MODEL_FILE = "model.xml"


def export_key(path: Path) -> str:
    """16 hex digits over the model's files (relative name, size, mtime), OpenVINO's version and EXPORT_VERSION."""
    import openvino

    digest = hashlib.sha256(f"{EXPORT_VERSION}|{openvino.__version__}".encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"|{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def exported_model(settings: EmbeddingSettings, path: Path, export_dir: Path | None) -> Any:
    """The model as OpenVINO IR: read from `export_dir` when exported before, else exported (and saved there)."""
    import openvino as ov

    core = ov.Core()
    folder = export_dir / export_key(path) if export_dir is not None else None
    if folder is not None and (folder / MODEL_FILE).is_file():
        try:
            return core.read_model(str(folder / MODEL_FILE))
        except RuntimeError as exc:
            log.warning("%s: cannot read the model's export (%s); exporting it again", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
    model = _export(settings)
    if folder is not None:
        _save(model, folder)
    return model


def _export(settings: EmbeddingSettings) -> Any:
    import openvino as ov
    import torch

    from indexer.embed import load_sentence_transformer

    st = load_sentence_transformer(settings)
    prepare = getattr(st, "preprocess", None) or st.tokenize  # sentence-transformers 6 renamed tokenize
    example = {name: value for name, value in prepare(["a council", "papers"]).items() if torch.is_tensor(value)}

    class SentenceEmbedding(torch.nn.Module):
        """The model's forward pass as sentence-transformers runs it, to its pooled (unnormalised) embedding."""

        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                features["token_type_ids"] = token_type_ids
            return self.st(features)["sentence_embedding"]

    try:
        # Tracing warns of the branches it fixes (an attention mask given, not causal: true of every encoder input)
        # and of transformers' own deprecations; none is the user's to act on.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ov.convert_model(SentenceEmbedding().eval(), example_input=example)
    except Exception as exc:  # the converter raises many types for a model it cannot trace
        raise ModelError(f"embedding.model: cannot export {settings.model} to OpenVINO ({exc})") from exc


def _save(model: Any, folder: Path) -> None:
    import openvino as ov

    staging: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        staging.chmod(0o755)  # mkdtemp's 0700 would keep a service running as another user from reading it
        ov.save_model(model, str(staging / MODEL_FILE), compress_to_fp16=False)
        staging.rename(folder)  # OSError when another process put its export in place first: theirs is the same
        staging = None
    except (OSError, RuntimeError) as exc:
        if not folder.is_dir():
            log.warning("%s: cannot keep the model's export (%s); the next process makes it again", folder, exc)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
