"""The typed question a message is parsed into (index/parse.py): what the pipeline routes on.

q = Question("Sóc Trăng: số 4 sao?", "soc trang: so 4 sao?", ("Sóc Trăng",), ("4",))
q.star, q.is_figure_question        # "4", False (figure is set by the parser)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

NATIONAL = "Việt Nam"


class Ask(str, Enum):
    """What a question asks for."""

    FIGURE = "figure"
    COMPARE = "compare"
    DIFFERENCE = "difference"
    RANK = "rank"
    SUM = "sum"
    TREND = "trend"
    PROGRESS = "progress"
    SHARE = "share"
    AVERAGE = "average"
    SOURCE = "source"
    WHEN = "when"
    OTHER = "other"


# Asks that reason over figures (the table answers them; the actions' follow-ups use the first four).
REASONING_ASKS = (Ask.COMPARE, Ask.DIFFERENCE, Ask.SUM, Ask.RANK)
FIGURE_ASKS = (*REASONING_ASKS, Ask.TREND, Ask.PROGRESS, Ask.SHARE, Ask.AVERAGE)


@dataclass(frozen=True)
class Question:
    """The parsed question (what the pipeline routes on)."""

    text: str
    folded: str
    scopes: tuple[str, ...] = ()
    stars: tuple[str, ...] = ()
    metric: str = "san_pham"
    metric_named: bool = False
    kind: str = "actual"
    period: str = ""
    ask: Ask = Ask.OTHER
    figure: bool = False
    document_numbers: tuple[str, ...] = ()
    unknown_provinces: tuple[str, ...] = field(default=())
    as_of: str = ""  # "2024-11" or "2019": the date an actual figure is asked for
    content: frozenset[str] = frozenset()  # folded words the cues do not explain
    years: tuple[str, ...] = ()  # years named ("2021", "2025")
    values: tuple[float, ...] = ()  # other numbers named ("165 sản phẩm", "thêm 170")
    wants: tuple[str, ...] = ()  # what kind of sentence answers: "count", "date", "person", "list"...
    lowest: bool = False  # a ranking asked from the bottom ("tỉnh nào ít nhất")
    reached: bool = False  # asks what was reached, not aimed at ("thực tế đã đạt", "đến nay")
    locality: str = ""  # a district, town or commune named ("huyện Cai Lậy" -> "cai lay"), folded

    @property
    def star(self) -> str:
        """The first star level asked ("3+" when none: every certified product)."""
        return self.stars[0] if self.stars else ("3+" if self.metric == "san_pham" else "")

    @property
    def is_figure_question(self) -> bool:
        """Asks for one or more figures (or a reasoning over them)."""
        return self.ask in FIGURE_ASKS or self.figure
