"""The pipeline's fitted thresholds (index/pipeline.json, written by `make tune`).

tuning = PipelineTuning.load()        # defaults when the file is missing
tuning.card_threshold                 # 1.8
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index.card_match import CardWeights

TUNING_FILE = Path(__file__).with_name("pipeline.json")


@dataclass(frozen=True)
class PipelineTuning:
    """Thresholds of the pipeline (fitted by `make tune`, saved in index/pipeline.json)."""

    card_threshold: float = 1.3
    card_followup_threshold: float = 1.05
    card_single_word_dense: float = 0.93
    card_min_coverage: float = 0.5  # a card must speak to this share of the question's words
    card_second_part: float = 1.55  # a related card answers the other part of a two-part question
    card_weights: CardWeights = CardWeights()  # how the card score adds lexical overlap to similarity

    @classmethod
    def load(cls, path: Path = TUNING_FILE) -> PipelineTuning:
        """Read tuned values if the file exists."""
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            kept = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            if isinstance(kept.get("card_weights"), dict):
                kept["card_weights"] = CardWeights(**kept["card_weights"])
            return cls(**kept)
        return cls()


def stamp(path: Path) -> float:
    """A file's modification time (0 when missing)."""
    return path.stat().st_mtime if path.is_file() else 0.0
