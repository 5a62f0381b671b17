"""A score on the 100-point OCOP scale read as the star level it earns ("72 điểm là hạng mấy?").

    scale = StarScale.load()                              # data/stats/star_scale.yml
    scale.asked("duoc 72 diem la may sao")               # Score(72.0, 72.0) (None: none asked about)
    scale.level(72)                                       # Level(stars=4, low=70, high=89)

The thresholds are data (with the card that states them and its legal source); the wording of
the reply is in the domain (`utter_star_for_score`, `utter_star_certified`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from index.labels import number
from index.reply import Reply

if TYPE_CHECKING:
    from index.card_answers import CardAnswerer
    from index.question_types import Question

SCALE_FILE = Path(__file__).resolve().parent.parent / "data" / "stats" / "star_scale.yml"


@dataclass(frozen=True)
class Level:
    """One star level and its range of total scores."""

    stars: int
    low: int
    high: int
    note: str = ""  # a further response for this level ("utter_star_national")


@dataclass(frozen=True)
class Score:
    """A score named in a message: its value, the point whose level it has, and a bound's word."""

    value: float
    point: float  # "dưới 30": just under 30
    bound: str = ""  # the word shown before it ("dưới"), "" for the score itself


@dataclass(frozen=True)
class StarScale:
    """The star levels by total score, and how a message asks a score's level."""

    levels: tuple[Level, ...]
    certified_from: int
    maximum: int
    card: str  # the card stating the scale (its source is cited)
    score: re.Pattern[str]
    asks: re.Pattern[str]
    not_asks: re.Pattern[str]
    bounds: tuple[tuple[re.Pattern[str], str, float], ...] = ()  # "dưới 30 điểm": (words, shown, shift)

    @classmethod
    def load(cls, path: Path = SCALE_FILE) -> StarScale:
        """Read the scale file (a clear error names the file when it is broken)."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls(
                tuple(
                    Level(int(x["stars"]), int(x["low"]), int(x["high"]), str(x.get("note") or ""))
                    for x in data["levels"]
                ),
                int(data["certified_from"]),
                int(data["maximum"]),
                str(data["card"]),
                re.compile(data["score"]),
                re.compile(data["asks"]),
                re.compile(data["not_asks"]),
                tuple(
                    (re.compile(data[k]["words"]), str(data[k]["shown"]), shift)
                    for k, shift in (("below", -0.5), ("above", 0.5))
                    if k in data
                ),
            )
        except (OSError, KeyError, TypeError, ValueError, re.error, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: {exc}") from exc

    def named(self, folded: str) -> Score | None:
        """The score a folded text names ("72 diem" -> 72; "duoi 30 diem" -> just under 30), if any."""
        m = self.score.search(folded)
        if m is None:
            return None
        value = float(m.group(1).replace(",", "."))
        for words, shown, shift in self.bounds:
            if words.search(folded[: m.start()]):
                return Score(value, value + shift, shown)
        return Score(value, value)

    def asked(self, folded: str) -> Score | None:
        """The score whose star level (or certificate) a folded message asks about, if any."""
        if not self.asks.search(folded) or self.not_asks.search(folded):
            return None
        return self.named(folded)

    def level(self, score: float) -> Level | None:
        """The level of a total score (None when it is not a score on the scale)."""
        if score < 0 or score > self.maximum:
            return None
        for level in self.levels:
            if score < level.high + 1:
                return level
        return None


class ScoreStage:
    """The pipeline stage for a score asked about: its level, the certificate, the scale's card.

    stage = ScoreStage(StarScale.load(), card_answers)
    stage.answer(question, context_refs, short)   # Reply("card", "utter_star_for_score", ...) or None
    """

    def __init__(self, scale: StarScale, cards: CardAnswerer) -> None:
        """The scale and the card stage (for the scale's card and its source)."""
        self.scale, self.cards = scale, cards

    def answer(self, q: Question, refs: Sequence[str], short: bool) -> Reply | None:
        """The level of the score a question asks about (or a short "còn 92 điểm?" after the scale's
        card), whether it is certified, and the card; None when no score is asked about."""
        scale = self.scale
        score = scale.asked(q.folded)
        if score is None and short and f"card:{scale.card}" in refs:
            score = scale.named(q.folded)
        card = self.cards.cards.get(scale.card) if score is not None else None
        if card is None or score is None:
            return None
        base = self.cards.card_reply(card, 1.0, q.text)
        level = scale.level(score.point)
        notes = [(base.response, base.kwargs), *base.notes]
        shown = f"{score.bound} {number(score.value)}".strip()
        if level is None:
            first = ("utter_star_score_out_of_range", {"score": shown, "maximum": str(scale.maximum)})
        else:
            first = ("utter_star_for_score", {"score": shown, "stars": str(level.stars),
                                              "low": str(level.low), "high": str(level.high)})  # fmt: skip
            certified = (
                "utter_star_certified" if level.stars >= scale.certified_from else "utter_star_not_certified"
            )
            notes.insert(0, (certified, {"stars": str(level.stars), "least": str(scale.certified_from)}))
            if level.note:  # "từ 90 điểm": proposed to the Ministry, which recognises 5 stars
                notes.insert(1, (level.note, {"low": str(level.low)}))
        return Reply("card", first[0], first[1], base.refs, 1.0, tuple(notes), q.text)
