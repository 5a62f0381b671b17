"""How figures are written: units by measure and star level, the figure line (data/stats/labels.yml).

labels = Labels.load()
labels.unit("san_pham", "4")      # " sản phẩm OCOP 4 sao"
number(17400), number(2.9)        # "17.400", "2,9"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

LABELS_FILE = Path(__file__).resolve().parent.parent / "data" / "stats" / "labels.yml"


@dataclass(frozen=True)
class Labels:
    """How figures are written (data/stats/labels.yml)."""

    units: dict[str, dict[str, str]]
    figure: str
    figure_undated: str
    target: str
    rank_item: str
    joiner: str
    and_: str

    @classmethod
    def load(cls, path: Path = LABELS_FILE) -> Labels:
        """Read the label file."""
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        units = {m: {str(k): v for k, v in u.items()} for m, u in d["units"].items()}
        return cls(
            units, d["figure"], d["figure_undated"], d["target"], d["rank_item"], d["joiner"], d["and"]
        )

    def listing(self, names: list[str]) -> str:
        """Names as a list is written ("A, B và C")."""
        return ", ".join(names[:-1]) + self.and_ + names[-1] if len(names) > 2 else self.and_.join(names)

    def unit(self, metric: str, star: str) -> str:
        """The unit words of a measure (" sản phẩm OCOP 4 sao")."""
        by_star = self.units.get(metric, {})
        return by_star.get(star) or by_star.get("", f" {metric}")


def number(value: float) -> str:
    """A figure as Vietnamese writes it (17400 -> "17.400", 2.9 -> "2,9")."""
    if value == int(value):
        return f"{int(value):,}".replace(",", ".")
    return f"{value:g}".replace(".", ",")
