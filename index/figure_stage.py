"""The statistics-table stage of the pipeline: figures, reasoning over them, and follow-ups.

    stage = FigureStage(figures, parser, provenance, merged, refuse)
    q = stage.with_context(q, context)          # "cộng lại?", "cộng với Sóc Trăng?" on the last figures
    reply = stage.answer(q, context)            # Reply("statistic", ...), a refusal, or None
    reply = stage.with_figure_part(card, q, parts)  # a card plus the figure a later part asks for

A question that states a figure the table contradicts gets the table's figures; a figure of a
province merged in 2025 that predates the merger carries a note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.text import search_words
from index.figures import FigureAnswerer
from index.parse import Ask, Question, QuestionParser
from index.provenance import Provenance
from index.reply import Reply
from index.stats import known_scopes
from index.units import asked_unit

if TYPE_CHECKING:
    from index.pipeline import Context


class FigureStage:
    """Routes figure questions to the table (index/figures.py) and reads their context."""

    def __init__(
        self,
        figures: FigureAnswerer,
        parser: QuestionParser,
        provenance: Provenance,
        merged: dict[str, dict[str, str]],
        refuse: Callable[..., Reply],
    ) -> None:
        """The table's answerer, the parser, provenance, the 2025 mergers and the refusal maker."""
        self.figures, self.parser, self.provenance, self.merged, self.refuse = (
            figures, parser, provenance, merged, refuse
        )  # fmt: skip

    def parse(self, text: str) -> Question:
        """The typed question of a prepared text (the places the table knows are not unknown)."""
        return self.parser.parse(text, frozenset(known_scopes(self.figures.table)))

    def answer(self, q: Question, context: Context) -> Reply | None:
        """The table's reply: a contradicted premise, a figure or a reasoning, or a refusal, or None."""
        premise = self.figures.premise(q)
        if premise is not None:  # a figure stated as a fact that the table does not have
            return dataclasses.replace(premise, question=q.text)
        return self._table(q, context)

    def with_context(self, q: Question, context: Context) -> Question:
        """A reasoning follow-up ("cộng lại?", "tỉnh nào hơn?") on the previous figures' measure."""
        if not context.last_question:
            return q
        base = self.parse(context.last_question)
        stars = (
            tuple(dict.fromkeys(base.stars + q.stars)) if q.ask == Ask.SUM else base.stars
        )  # "cộng thêm hạng kia"
        return dataclasses.replace(
            base,
            ask=q.ask,
            text=q.text,
            folded=q.folded,
            scopes=tuple(dict.fromkeys((context.figure_scopes or base.scopes) + q.scopes)),
            stars=stars,
            lowest=q.lowest,
        )

    def with_figure_part(self, card: Reply, q: Question, parts: list[str]) -> Reply:
        """A card's (or a target's) reply, plus the table's figure when a later part asks for one.

        A target asked of a decision, then "hiện nay toàn quốc được mấy?": the card answers the
        first part; the last part, read with the places and star levels of the whole question, is
        a figure question the table answers.
        """
        if len(parts) < 2:
            return card
        part = self.parse(parts[-1])
        if not part.metric_named and q.metric_named:  # "…; bây giờ được mấy?": the measure of the whole
            cued = bool(self.parser.figure.search(part.folded))
            part = dataclasses.replace(part, metric=q.metric, metric_named=True, figure=part.figure or cued)
        if not (part.figure and part.kind == "actual" and part.ask == Ask.OTHER):
            return card
        part = dataclasses.replace(part, scopes=part.scopes or q.scopes, stars=part.stars or q.stars)
        if not part.scopes or not self.figures.covers(part):
            return card
        figure = self.figures.answer(part)
        if figure is None or figure.kind != "statistic":
            return card
        return dataclasses.replace(
            card, refs=card.refs + figure.refs, notes=card.notes + tuple(figure.messages())
        )

    def _table(self, q: Question, context: Context) -> Reply | None:
        """A reply from the statistics table, or a refusal for a place or reasoning it has nothing for."""
        if not (q.is_figure_question or q.ask in (Ask.COMPARE, Ask.SUM, Ask.RANK)):
            return None
        if not self.figures.covers(q):
            return None  # it asks about something the table does not count ("phần trăm lao động")
        if q.locality:
            return None  # "huyện Cai Lậy có mấy sản phẩm": the table counts provinces, not districts
        unit = asked_unit(q.folded)
        measure = search_words(self.figures.labels.unit(q.metric, q.star))
        if not q.metric_named and unit not in (None, "%") and unit.split()[0] not in measure:
            return None  # "bao nhiêu điểm" of a product count: something the measure does not count
        if "money" in q.wants and (unit is None or unit.split()[0] not in measure):
            return None  # "giá bao nhiêu một hộp": the table counts no money (points supported it does)
        if self.parser.percent and self.parser.percent.search(q.folded) and not q.metric.startswith("ty_le"):
            if q.ask not in (Ask.PROGRESS, Ask.SHARE):
                return None  # a share is asked, the measure is a count
        reply = self.figures.answer(q, context.figure_scopes if q.ask != Ask.FIGURE else ())
        if reply is not None:
            return dataclasses.replace(reply, question=q.text, notes=reply.notes + self._merger_notes(reply))
        if q.unknown_provinces and not self.provenance.mentioned(q.unknown_provinces[0], in_cards=False):
            unit = self.figures.labels.unit(q.metric, q.star).strip()
            return self.refuse(q, "utter_stat_missing", scope=q.unknown_provinces[0], unit=unit)
        if (q.ask in (Ask.COMPARE, Ask.DIFFERENCE, Ask.SUM) and len(q.scopes) >= 2) or q.ask == Ask.RANK:
            return self.refuse(q, "utter_stat_cannot_compute")  # the table lacks the figures to reason over
        return None

    def _merger_notes(self, reply: Reply) -> tuple[tuple[str, dict[str, str]], ...]:
        """The merger note when a figure of a merged province predates the merger."""
        for ref in reply.refs:
            row = self.provenance.row(ref)
            merger = self.merged.get(row.scope) if row is not None else None
            if merger and row.as_of and row.as_of < merger["date"]:
                return (("utter_kb_note_merger", {"province": row.scope, "merger": merger["merger"]}),)
        return ()
