"""A score on the 100-point OCOP scale read as the star level it earns ("65 điểm thì mấy sao?").

    scale = StarScale.load()                              # data/stats/star_scale.yml
    scale.asked("cham duoc 65 diem thi dat may sao")      # Score(65.0, 65.0) (None: none asked about)
    scale.level(65)                                       # Level(stars=3, low=50, high=69)

The thresholds are data (with the card that states them and its legal source); the wording of
the reply is in the domain (`utter_star_for_score`, `utter_star_certified`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

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
        """The score a folded text names ("65 diem" -> 65; "duoi 30 diem" -> just under 30), if any."""
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
