"""The sentence picker's feature names and fitted weights (index/answer.json, written by `make tune`).

weights = PickWeights.load()            # the fitted file, or defaults
weights.vector() @ candidate.features   # a sentence's score
weights.accepts(score, margin, confidence, typed)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("answer.json")
FEATURES = (
    "dense",  # cosine of question and sentence embeddings
    "dense_rank",  # the same, relative to the candidates (1 for the closest, 0 for the farthest)
    "coverage",  # IDF-weighted share of the question's content words in the sentence
    "context",  # the same share in the sentence with its document title and the sentence before
    "phrase",  # share of the question's word pairs the sentence has
    "run",  # IDF-weighted share of the question in its longest run of words in the sentence
    "document_match",  # the question names a document number that the sentence's document states
    "passage",  # the passage's retrieval score, relative to the best passage
    "list_missing",  # the question asks for a list, the sentence enumerates nothing
    "province_match",  # the sentence names the province asked about
    "star_match",  # the sentence states the star level asked about
    "local",  # no province asked; the sentence is about one province
    "target_mismatch",  # a target asked and none stated (in the sentence, the one before, the title), or the reverse
    "heading",  # a heading, caption or byline (no closing punctuation), or its document's title
    "related",  # a teaser of another article
)
# What the parsed question fixes, the sentence must state; a sentence that does not is
# no candidate (these are checks of the question's type, not of its words):
#   the province asked (in the sentence, the one before it or the title), the year asked
#   (there or in the passage), the star level asked, the unit counted ("bao nhiêu chủ thể"),
#   the document number named (in what was retrieved of the sentence's document),
#   and the kind of answer: a figure for a count, a date, a duration, a person's name.


@dataclass(frozen=True)
class PickWeights:
    """Feature weights and the answer threshold (fitted by `make tune`, index/answer.json)."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "dense": 2.0,
            "dense_rank": 0.5,
            "coverage": 2.0,
            "context": 1.0,
            "phrase": 1.0,
            "run": 1.0,
            "document_match": 1.0,
            "passage": 0.5,
            "list_missing": -0.5,
            "province_match": 0.5,
            "star_match": 0.5,
            "local": -0.3,
            "target_mismatch": -0.5,
            "heading": -2.0,
            "related": -0.2,
        }  # fmt: skip
    )
    threshold: float = 2.0  # the best sentence must score this much to be an answer
    margin: float = 0.0  # ... and lead the best sentence of any other document by this much
    retrieval: float = 0.0  # weight of the retrieval's confidence (minus 1) added to that score
    min_confidence: float = 0.0  # below this retrieval confidence nothing is answered
    typed: float = 0.0  # added to the score when the sentence was checked to state the unit or agency asked
    neighbour_share: float = 0.8  # neighbours scoring this share of the best are kept
    max_sentences: int = 4
    max_words: int = 90

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> PickWeights:
        """Read fitted weights if the file exists (unknown features are ignored)."""
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        kept = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "weights" in kept:
            kept["weights"] = {
                **cls().weights,
                **{k: float(v) for k, v in kept["weights"].items() if k in FEATURES},
            }
        return cls(**kept)

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        """Write the weights as JSON."""
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    def accepts(self, score: float, margin: float, confidence: float, typed: bool = False) -> bool:
        """Is the best sentence an answer: score plus weighted retrieval confidence (plus the
        allowance of a typed question) over the threshold, lead over the margin?"""
        return (
            confidence >= self.min_confidence
            and score + self.retrieval * (confidence - 1.0) + (self.typed if typed else 0.0) >= self.threshold
            and margin >= self.margin
        )

    def vector(self) -> np.ndarray:
        """The weights in FEATURES order."""
        return np.array([self.weights.get(f, 0.0) for f in FEATURES], dtype=np.float32)
