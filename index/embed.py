"""Sentence embeddings: a sentence-transformers model loaded once, offline by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from index.settings import Settings


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    model_id: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return L2-normalised float32 vectors for queries."""

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return L2-normalised float32 vectors for passages."""


class ModelMissingError(RuntimeError):
    """The configured embedding model cannot be loaded."""


def model_id_of(settings: Settings) -> str:
    """Return a stable id for the configured model (marker file or hub id)."""
    marker = Path(settings.model) / "ocop_model.json"
    if marker.is_file():
        import json

        return str(json.loads(marker.read_text(encoding="utf-8")).get("model_id", settings.model))
    return Path(settings.model).name if Path(settings.model).exists() else settings.model


class SentenceEmbedder:
    """sentence-transformers model with e5-style query/passage prompts."""

    def __init__(self, settings: Settings) -> None:
        """Load the model (1-2 s); refuses the hub unless settings.allow_hub."""
        if not settings.allow_hub:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            if not Path(settings.model).exists():
                raise ModelMissingError(
                    f"embedding model folder {settings.model!r} not found; run `make model` "
                    "(or set OCOP_ALLOW_HUB=1 and OCOP_EMBED_MODEL to a hub id)"
                )
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, settings.threads))
        self._settings = settings
        try:
            self._model = SentenceTransformer(settings.model, device="cpu")
        except Exception as exc:  # noqa: BLE001 - report any loader failure clearly
            raise ModelMissingError(f"cannot load embedding model {settings.model!r}: {exc}") from exc
        self.model_id = model_id_of(settings)
        dim_fn = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_fn())

    def _encode(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        """Encode with a prompt prefix, normalised."""
        vecs = self._model.encode(
            [prefix + t for t in texts],
            batch_size=16,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode queries ("query: " prompt)."""
        return self._encode(texts, self._settings.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Encode passages ("passage: " prompt)."""
        return self._encode(texts, self._settings.passage_prompt, progress)
