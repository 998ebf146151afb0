"""The naive llama-index pipeline we compare against: one Document per page, default splitter, Chroma, same embedder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import EmbeddingSettings, Settings


def configure_llama_index(embedding: EmbeddingSettings) -> Any:
    """Point llama-index at our embedding model and a mock LLM, so it never reaches for OpenAI."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms.mock import MockLLM
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from indexer.embed import model_path

    LlamaSettings.llm = MockLLM()
    LlamaSettings.embed_model = HuggingFaceEmbedding(model_name=str(model_path(embedding)), device=embedding.device)
    return LlamaSettings


def corpus_dir(settings: Settings) -> Path:
    """The folder of PDFs the config names first (a file's folder if it names a file)."""
    first = Path(settings.index.paths[0])
    return first if first.is_dir() else first.parent


def build_naive_index(corpus: Path, data_dir: Path, embedding: EmbeddingSettings) -> tuple[Any, list[Any], int]:
    """Index every PDF page as a Document with file and page metadata; returns (index, nodes, pages)."""
    import chromadb
    import pymupdf
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    configure_llama_index(embedding)
    documents = []
    for path in sorted(corpus.glob("*.pdf")):
        with pymupdf.open(path) as pdf:
            for number, page in enumerate(pdf, start=1):
                documents.append(Document(text=page.get_text(), metadata={"file": path.name, "page": number}))
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    client = chromadb.PersistentClient(path=str(data_dir), settings=ChromaSettings(anonymized_telemetry=False))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("naive", embedding_function=None))
    index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store))
    return index, nodes, len(documents)
