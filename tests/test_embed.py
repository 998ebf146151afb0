"""The embedder's backends: OpenVINO against sentence-transformers' own vectors, its tokenizer, its cached export."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.settings import PassageSettings, Settings
from indexer import model_export
from indexer.embed import Embedder, _Tokenizer, load_sentence_transformer, model_path
from indexer.passages import PassageBuilder
from indexer.read import read_document
from indexer.stores import embedding_text
from indexer.structure import structure_document

pytestmark = pytest.mark.model

LONG = " ".join(
    f"Paragraph {n}: the Committee noted the report on school place planning in the borough." for n in range(40)
)


@pytest.fixture(scope="module")
def texts(sample_pack_pdf: Path, embedder: Embedder) -> list[str]:
    """The sample pack's passages as the indexer embeds them, a text past 256 word-pieces, and two tiny ones."""
    document = structure_document(read_document(sample_pack_pdf))
    passages = [
        embedding_text(p) for p in PassageBuilder(PassageSettings(), embedder.count_tokens).build(document, "d")
    ]
    return [*passages, LONG, "Grangewaters", "  RESOLVED  "]


@pytest.fixture(scope="module")
def torch_float32(texts: list[str]) -> np.ndarray:
    settings = Settings().embedding.model_copy(update={"backend": "torch"})
    return Embedder(settings, precision="float32").embed(texts)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


def test_openvino_float32_gives_sentence_transformers_vectors(texts, torch_float32, export_dir):
    """The default backend's float32 (what questions are embedded in): cosine >= 0.99999 to sentence-transformers'
    own vectors, text by text, including a text truncated at 256 word-pieces."""
    vectors = Embedder(Settings().embedding, export_dir=export_dir, precision="float32").embed(texts)
    assert vectors.shape == torch_float32.shape and vectors.dtype == np.float32
    assert float((vectors * torch_float32).sum(axis=1).min()) >= 0.99999


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_bfloat16_embeds_the_same_vectors_to_cosine_0_9999_and_is_kept_apart(backend, texts, torch_float32, export_dir):
    """`embedding.precision = "bfloat16"` (the passages' default): unit vectors at cosine >= 0.9999 to float32's,
    under a name of its own, so an index or the embedding cache never mixes the two."""
    settings = Settings().embedding.model_copy(update={"backend": backend, "precision": "bfloat16"})
    half = Embedder(settings, export_dir=export_dir)
    brief = half.embed(texts)
    assert brief.dtype == np.float32 and np.allclose(np.linalg.norm(brief, axis=1), 1.0, atol=1e-5)
    assert float((torch_float32 * brief).sum(axis=1).min()) >= 0.9999
    assert half.name == f"{Embedder(settings, precision='float32').name}#bfloat16-{backend}"
    # Each backend's bfloat16 apart: they round differently.
    other = settings.model_copy(update={"backend": "torch" if backend == "openvino" else "openvino"})
    assert Embedder(other, export_dir=export_dir).name != half.name


def test_the_tokenizer_reads_texts_as_sentence_transformers_does(texts):
    """Word-piece counts and the model's inputs (ids, mask, types; 256 at most) match sentence-transformers'."""
    settings = Settings().embedding
    reference = load_sentence_transformer(settings)
    ours = Embedder(settings)
    assert ours.count_tokens(texts) == [
        len(ids) for ids in reference.tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    ]
    assert ours.max_tokens == reference.max_seq_length == 256
    batch = _Tokenizer(model_path(settings), 256).batch(texts)
    expected = (getattr(reference, "preprocess", None) or reference.tokenize)(texts)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(batch[name], expected[name].numpy())


EMBED_ONE = """
import json, sys
from pathlib import Path
from core.settings import Settings
from indexer.embed import Embedder
vector = Embedder(Settings().embedding, export_dir=Path(sys.argv[1]), precision="float32").embed(["Grangewaters"])
loaded = {"torch": "torch" in sys.modules, "st": "sentence_transformers" in sys.modules}
print(json.dumps({"vector": vector[0].tolist(), **loaded}))
"""


def test_the_export_is_made_once_sends_nothing_and_is_then_read_without_torch(tmp_path):
    """The first process exports the model into the folder (and leaves no telemetry consent or client id in its home
    folder: OpenVINO's converter reports to Google Analytics unless told not to); the next, a serving replica,
    embeds from that export without importing torch or sentence-transformers, and gives the same vector."""
    exports, home = tmp_path / "models", tmp_path / "home"
    home.mkdir()

    def embed_in_a_process() -> dict:
        env = {**os.environ, "HOME": str(home)}
        out = subprocess.run(
            [sys.executable, "-c", EMBED_ONE, str(exports)], capture_output=True, text=True, check=True, env=env
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = embed_in_a_process()
    (xml,) = exports.glob(f"*/{model_export.MODEL_FILE}")
    assert xml.parent.stat().st_mode & 0o755 == 0o755  # readable by a service running as another user
    assert list(home.iterdir()) == []
    again = embed_in_a_process()
    assert first["torch"] and not again["torch"] and not again["st"]
    np.testing.assert_allclose(again["vector"], first["vector"], atol=1e-6)


def test_a_damaged_export_is_made_again(tmp_path, caplog):
    exports = tmp_path / "models"
    Embedder(Settings().embedding, export_dir=exports).embed(["foster carers"])
    (xml,) = exports.glob(f"*/{model_export.MODEL_FILE}")
    xml.write_text("<net>broken")
    with caplog.at_level(logging.WARNING, logger="indexer.model_export"):
        vectors = Embedder(Settings().embedding, export_dir=exports).embed(["foster carers"])
    assert "cannot read the model's export" in caplog.text and str(xml.parent) in caplog.text
    assert vectors.shape == (1, 384) and "<net>broken" not in xml.read_text()


def test_an_export_folder_that_cannot_be_written_is_passed_over(tmp_path, caplog):
    """A data directory the process cannot write (here a file where the folder would be): the export is used from
    memory, with a warning naming the folder."""
    blocked = tmp_path / "models"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="indexer.model_export"):
        vectors = Embedder(Settings().embedding, export_dir=blocked).embed(["school places"])
    assert vectors.shape == (1, 384) and "cannot keep the model's export" in caplog.text
    assert blocked.read_text() == "not a folder"


def test_a_second_export_loses_the_race_quietly(tmp_path):
    """Two processes exporting at once: the second's rename fails; its staging folder is removed and the first's
    export stays."""
    import openvino as ov

    settings = Settings().embedding
    folder = tmp_path / "models" / model_export.export_key(model_path(settings))
    model = model_export.exported_model(settings, model_path(settings), tmp_path / "models")
    before = (folder / model_export.MODEL_FILE).stat().st_mtime_ns
    model_export._save(model, folder)
    assert [p.name for p in (tmp_path / "models").iterdir()] == [folder.name]
    assert (folder / model_export.MODEL_FILE).stat().st_mtime_ns == before
    assert isinstance(ov.Core().read_model(str(folder / model_export.MODEL_FILE)), ov.Model)


def test_the_openvino_backend_refuses_another_device():
    from core.errors import ModelError

    settings = Settings().embedding.model_copy(update={"device": "cuda"})
    with pytest.raises(ModelError, match=r'embedding\.device: the openvino backend runs on "cpu"'):
        Embedder(settings).embed(["x"])


def test_questions_embedded_on_many_threads_at_once_get_their_own_vectors(export_dir, texts):
    """A service embeds questions on its request threads at once: each gets the vector it gets alone (a shared
    infer request would mix them up or fail)."""
    from concurrent.futures import ThreadPoolExecutor

    questions = Embedder(Settings().embedding, export_dir=export_dir, precision="float32")
    alone = [questions.embed([text])[0] for text in texts]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda text: questions.embed([text])[0], texts * 4))
    for n, vector in enumerate(together):
        np.testing.assert_allclose(vector, alone[n % len(texts)], atol=1e-5)
