"""Sentence embeddings: a sentence-transformers model loaded once, offline by default."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
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


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder: ONNX (int8 or fp32) when the folder has it, else torch."""
    if settings.backend == "torch" or not Path(settings.model).is_dir():
        return SentenceEmbedder(settings)  # hub ids always go through sentence-transformers
    return OnnxEmbedder(settings)


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
        self.model_id = model_id_of(settings)  # the reference backend: no suffix
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


class OnnxEmbedder:
    """The same model exported to ONNX (`index.onnx_export`): no torch, ~5x faster queries."""

    def __init__(self, settings: Settings) -> None:
        """Open the ONNX session (one intra-op thread by default) and the folder's tokenizer."""
        from index.onnx_export import FILES, onnx_path

        if settings.backend not in FILES:
            raise ModelMissingError(
                f"unknown embedding backend {settings.backend!r}; use torch, onnx or onnx-int8"
            )
        folder = Path(settings.model)
        path = onnx_path(folder, settings.backend)
        if not path.is_file():
            raise ModelMissingError(f"{path} not found; run `make model` (or set OCOP_EMBED_BACKEND=torch)")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, settings.threads)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001 - report any loader failure clearly
            raise ModelMissingError(f"cannot load ONNX model {path}: {exc}") from exc
        self._tokenizer.enable_truncation(_max_seq_length(folder))
        self._tokenizer.enable_padding()
        self._settings = settings
        self.model_id = f"{model_id_of(settings)} [{settings.backend}]"
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def _run(self, texts: list[str]) -> np.ndarray:
        """Tokenise one batch and run the graph."""
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _encode(self, texts: list[str], prefix: str, progress: bool) -> np.ndarray:
        """Encode in length-sorted batches (little padding), returned in input order.

        int8 graphs quantise activations per batch, so they run one text at a time: a
        passage then gets the same vector whatever it is built with (incremental builds).
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = 1 if self._settings.backend.endswith("int8") else 16
        batches = [order[i : i + size] for i in range(0, len(order), size)]
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        for batch in batches:
            out[batch] = self._run([prefix + texts[i] for i in batch])
        return np.ascontiguousarray(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Encode queries ("query: " prompt)."""
        return self._encode(texts, self._settings.query_prompt, False)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Encode passages ("passage: " prompt)."""
        return self._encode(texts, self._settings.passage_prompt, progress)


def _max_seq_length(folder: Path) -> int:
    """The folder's sentence-transformers max_seq_length (512 if not stated)."""
    import json

    cfg = folder / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text(encoding="utf-8")).get("max_seq_length", 512))
    return 512


class SentenceVectors:
    """Embeddings of passage sentences, computed once per sentence text (thread-safe cache)."""

    def __init__(self, embedder: Embedder | None, limit: int = 100_000) -> None:
        """Wrap the index's embedder (None: the dense signal is 0, as in unit tests without a model)."""
        self.embedder, self.limit = embedder, limit
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def of(self, sentences: Sequence[str]) -> list[np.ndarray | None]:
        """Vectors of the sentences (encoded in one batch for those not seen before)."""
        if self.embedder is None:
            return [None] * len(sentences)
        missing = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if missing:
            vectors = self.embedder.encode_passages(missing)
            with self._lock:
                if len(self._cache) + len(missing) > self.limit:
                    self._cache.clear()
                self._cache.update(zip(missing, vectors))
        return [self._cache.get(s) for s in sentences]
