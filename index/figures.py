"""Answers from the statistics table: one figure, comparisons, rankings, sums, trends, targets.

    figures = FigureAnswerer(table, labels, cite)
    reply = figures.answer(question)     # Reply("statistic", "utter_stat_compare", {...}) or None

Every figure carries its own date and source. The wording lives in the domain's
responses (the reply names one and passes values) and in data/stats/labels.yml.
"""

from __future__ import annotations

from collections.abc import Callable

from index.labels import Labels, number
from index.parse import Ask, Question
from index.reply import Reply
from index.source import format_date
from index.stats import StatRow, StatsSource, latest, matching, scopes
from index.table_coverage import TableCoverage


class FigureAnswerer:
    """Reasons over the statistics table for a parsed question."""

    def __init__(self, table: StatsSource, labels: Labels, cite: Callable[[StatRow], str]) -> None:
        """`cite(row)` gives the row's source line (decision, plan or article)."""
        self.table, self.labels, self.cite = table, labels, cite
        self.coverage = TableCoverage(table, labels)

    def covers(self, q: Question) -> bool:
        """Whether the table counts what the question asks (index/table_coverage.py)."""
        return self.coverage.covers(q)

    def amount(self, row: StatRow) -> str:
        """Qualifier, value and unit ("thêm 170 sản phẩm OCOP từ 3 sao trở lên")."""
        value = number(row.value) + (f"–{number(row.value_max)}" if row.value_max else "")
        qualifier = f"{row.qualifier} " if row.qualifier else ""
        return f"{qualifier}{value}{self.labels.unit(row.metric, row.star)}"

    def line(self, row: StatRow) -> str:
        """One figure with its date and source."""
        kw = {"scope": row.scope, "amount": self.amount(row), "source": self.cite(row), "period": row.period}
        if row.kind == "target":
            return self.labels.target.format(**kw)
        if not row.as_of:
            return self.labels.figure_undated.format(**kw)
        return self.labels.figure.format(as_of=format_date(row.as_of), **kw)

    def _rows(self, q: Question, scope_list: tuple[str, ...] | list[str]) -> list[StatRow]:
        """The newest row of the asked measure for each scope (as of the asked date, if any)."""
        found = []
        for s in scope_list:
            rows = matching(self.table, s, q.metric, q.star, q.kind, q.period)
            if q.as_of and q.kind == "actual":
                rows = [r for r in rows if r.as_of.startswith(q.as_of)]
            if rows:
                found.append(rows[-1])
        return found

    def _reply(self, response: str, rows: list[StatRow], q: Question, **kwargs: str) -> Reply:
        """A statistic reply citing its rows; a note when their dates differ."""
        dates = sorted({r.as_of for r in rows if r.as_of})
        notes = []
        if len(dates) > 1 and len(rows) > 1:
            notes.append(
                ("utter_stat_dates_differ", {"dates": self.labels.and_.join(format_date(d) for d in dates)})
            )
        kwargs.setdefault("figures", self.labels.joiner.join(self.line(r) for r in rows))
        return Reply("statistic", response, kwargs, tuple(f"stat:{r.id}" for r in rows), 1.0, tuple(notes))

    def answer(self, q: Question, context_scopes: tuple[str, ...] = ()) -> Reply | None:
        """A reply from the table, or None when the table cannot answer this question."""
        named = q.scopes or context_scopes
        if q.ask == Ask.RANK:
            return self.rank(q)
        if q.ask in (Ask.COMPARE, Ask.DIFFERENCE) and len(named) >= 2:
            return self.compare(q, named)
        if q.ask == Ask.SUM and (len(named) >= 2 or (len(q.stars) >= 2 and len(named) == 1)):
            return self.total(q, named)
        if not q.scopes:
            return None
        if q.ask == Ask.TREND:
            return self.trend(q, q.scopes[0])
        if q.ask == Ask.PROGRESS:
            return self.progress(q, q.scopes[0])
        if q.ask == Ask.SHARE:
            return self.share(q, q.scopes[0])
        if q.ask == Ask.AVERAGE:
            return self.average(q, q.scopes[0])
        if q.figure or q.ask in (Ask.COMPARE, Ask.DIFFERENCE, Ask.SUM):
            return self.single(q)
        return None

    def premise(self, q: Question) -> Reply | None:
        """The table's figures when a question states another figure as a fact ("vì sao X có 10 ... rồi").

        Only for a stated count of one measure of one place that the table has and that none of
        its rows of that measure states (a special level counts: "đề nghị 5 sao" for "5 sao").
        """
        if not q.values or len(q.scopes) != 1 or q.is_figure_question or q.ask != Ask.OTHER:
            return None
        if not (q.stars or q.metric_named):
            return None
        scope, star = q.scopes[0], q.star
        rows = [
            r for r in self.table.rows() if r.scope == scope and r.metric == q.metric and r.kind == "actual"
        ]
        near = [r for r in rows if r.star == star] or self._special_levels(scope, q.metric, star)
        if not near or any(r.value in q.values for r in rows):
            return None
        return self._reply("utter_stat_premise", sorted(near, key=lambda r: r.as_of)[-2:], q, scope=scope)

    def _special_levels(self, scope: str, metric: str, star: str) -> list[StatRow]:
        """Actual rows of a special level of `star` ("đề nghị 5 sao" for "5 sao"), oldest first."""
        return sorted(
            (r for r in self.table.rows() if r.scope == scope and r.metric == metric and r.kind == "actual"
             and star and r.star.startswith(star) and r.star != star),
            key=lambda r: r.as_of,
        )  # fmt: skip

    def single(self, q: Question) -> Reply | None:
        """The newest figure of each named scope (of each star level asked)."""
        if len(q.stars) > 1:
            rows = [
                r
                for s in q.scopes
                for st in q.stars
                if (r := latest(self.table, s, q.metric, st, q.kind, q.period))
            ]
            return self._reply("utter_stat_figures", rows, q) if rows else None
        if q.kind == "target" and not q.stars:  # "mục tiêu đến 2025": every target of that plan
            rows = [
                r for s in q.scopes for r in self.table.rows()
                if r.scope == s and r.kind == "target" and r.metric == q.metric and (not q.period or r.period == q.period)
            ]  # fmt: skip
            if len(rows) > 1:
                return self._reply("utter_stat_figures", rows, q)
        rows = self._rows(q, q.scopes)
        if (
            not rows and len(q.scopes) == 1 and q.kind == "actual"
        ):  # "có 5 sao chưa": what the table has of it
            near = self._special_levels(q.scopes[0], q.metric, q.star)
            return self._reply("utter_stat_none_but", near, q, scope=q.scopes[0],
                               unit=self.labels.unit(q.metric, q.star).strip()) if near else None  # fmt: skip
        if not rows:
            return None
        if len(rows) == 1:
            r = rows[0]
            response = "utter_stat_target" if r.kind == "target" else "utter_stat_figure"
            return self._reply(response, rows, q, scope=r.scope, amount=self.amount(r),
                               as_of=format_date(r.as_of), period=r.period, source=self.cite(r))  # fmt: skip
        return self._reply("utter_stat_figures", rows, q)

    def compare(self, q: Question, named: tuple[str, ...]) -> Reply | None:
        """Which of two (or more) scopes has more, and by how much."""
        rows = self._rows(q, named)
        if len(rows) < 2:
            return None
        ordered = sorted(rows, key=lambda r: r.value, reverse=True)
        more, less = ordered[0], ordered[-1]
        unit = self.labels.unit(q.metric, q.star)
        if more.value == less.value:
            return self._reply("utter_stat_compare_equal", rows, q, unit=unit.strip())
        approx = any(r.qualifier for r in rows)
        return self._reply(
            "utter_stat_compare_approx" if approx else "utter_stat_compare", rows, q, more=more.scope, less=less.scope,
            difference=number(more.value - less.value) + unit, unit=unit.strip(),
        )  # fmt: skip

    def rank(self, q: Question) -> Reply | None:
        """The scopes ordered by the asked measure (named ones, else every province with it)."""
        names = [s for s in (q.scopes or scopes(self.table, q.metric, q.star, q.kind)) if s != "Việt Nam"]
        rows = sorted(self._rows(q, names), key=lambda r: r.value, reverse=True)
        if len(rows) < 2:
            return None
        items = [
            self.labels.rank_item.format(
                position=i + 1, scope=r.scope, amount=self.amount(r), as_of=format_date(r.as_of)
            )
            for i, r in enumerate(rows)
        ]
        sources = self.labels.joiner.join(dict.fromkeys(self.cite(r) for r in rows))
        response = "utter_stat_rank_low" if q.lowest else "utter_stat_rank"
        return self._reply(response, rows, q, ranking=self.labels.joiner.join(items), top=rows[0].scope, bottom=rows[-1].scope,
                           unit=self.labels.unit(q.metric, q.star).strip(), sources=sources)  # fmt: skip

    def total(self, q: Question, named: tuple[str, ...]) -> Reply | None:
        """The sum over scopes (or over star levels of one scope)."""
        if len(named) >= 2:
            rows = self._rows(q, named)
            if len(rows) < len(named):
                return None
            unit = self.labels.unit(q.metric, q.star)
        else:
            levels = [matching(self.table, named[0], q.metric, s, q.kind) for s in q.stars]
            dates = set.intersection(*({r.as_of for r in rows} for rows in levels)) if levels else set()
            if not dates:
                return None  # the levels are not all counted at one date
            when = max(dates)
            rows = [next(r for r in reversed(rows) if r.as_of == when) for rows in levels]
            unit = self.labels.unit(q.metric, "")
        value = sum(r.value for r in rows)
        approx = any(r.qualifier for r in rows)
        return self._reply("utter_stat_sum_approx" if approx else "utter_stat_sum", rows, q,
                           total=number(value) + unit, parts=self.labels.listing(list(dict.fromkeys(r.scope for r in rows))))  # fmt: skip

    def share(self, q: Question, scope: str) -> Reply | None:
        """What share of all certified products (3 stars and up) one star level is, at one date."""
        whole = latest(self.table, scope, q.metric, "3+")
        if whole is None or not q.stars or q.star == "3+":
            return None
        part = next(
            (r for r in matching(self.table, scope, q.metric, q.star) if r.as_of == whole.as_of), None
        )
        if part is None or not whole.value:
            return None  # no figure of that level at the date of the total
        share = number(round(100 * part.value / whole.value, 1))
        return self._reply("utter_stat_share", [part, whole], q, scope=scope, part=self.amount(part),
                           whole=self.amount(whole), share=share, as_of=format_date(whole.as_of))  # fmt: skip

    def average(self, q: Question, scope: str) -> Reply | None:
        """Certified products per producer (an average), from two figures of one date."""
        for producers in reversed(matching(self.table, scope, "chu_the", "")):
            products = next(
                (r for r in matching(self.table, scope, "san_pham", "3+") if r.as_of == producers.as_of), None
            )
            if products is not None and producers.value:
                ratio = number(round(products.value / producers.value, 2))
                return self._reply("utter_stat_average", [products, producers], q, scope=scope, ratio=ratio,
                                   products=self.amount(products), producers=self.amount(producers),
                                   as_of=format_date(producers.as_of))  # fmt: skip
        return None

    def trend(self, q: Question, scope: str) -> Reply | None:
        """The change between the oldest and the newest figure of one scope."""
        rows = matching(self.table, scope, q.metric, q.star, "actual")
        if len(rows) < 2:  # one date only: the figure, and why no change can be computed
            if not rows:
                return None
            r = rows[-1]
            return self._reply("utter_stat_trend_single", rows, q, scope=scope, amount=self.amount(r),
                               as_of=format_date(r.as_of), source=self.cite(r))  # fmt: skip
        first, last = rows[0], rows[-1]
        change = last.value - first.value
        response = (
            "utter_stat_trend_up"
            if change > 0
            else "utter_stat_trend_down"
            if change < 0
            else "utter_stat_trend_same"
        )
        return self._reply(response, [first, last], q, scope=scope, unit=self.labels.unit(q.metric, q.star).strip(),
                           first=number(first.value), first_date=format_date(first.as_of), last=number(last.value),
                           last_date=format_date(last.as_of), change=number(abs(change)))  # fmt: skip

    def progress(self, q: Question, scope: str) -> Reply | None:
        """The newest actual figure against the target, when the target has its own baseline."""
        targets = [
            t
            for t in matching(self.table, scope, q.metric, q.star, "target")
            if not q.years or t.period in q.years
        ]
        named = [t for t in targets if t.value in q.values]
        if not targets:
            stated = latest(self.table, scope, "vuot_chi_tieu", "")
            if stated is None:
                return None
            actual = latest(self.table, scope, q.metric, q.star, "actual")
            if actual is not None and actual.as_of == stated.as_of:  # the figure the ratio is of
                return self._reply("utter_stat_progress_stated_actual", [stated, actual], q, scope=scope,
                                   amount=self.amount(stated), actual=self.amount(actual),
                                   as_of=format_date(stated.as_of), source=self.cite(stated))  # fmt: skip
            return self._reply("utter_stat_progress_stated", [stated], q, scope=scope, amount=self.amount(stated),
                               as_of=format_date(stated.as_of), source=self.cite(stated))  # fmt: skip
        target = (named or sorted(targets, key=lambda t: t.period))[-1]
        by_deadline = [
            r for r in matching(self.table, scope, q.metric, q.star, "actual") if r.as_of[:4] <= target.period
        ]
        actual = by_deadline[-1] if by_deadline else None
        base = {"scope": scope, "target": self.amount(target), "period": target.period}
        if target.is_relative:  # no baseline: the newest figure of that measure is still worth giving
            newest = latest(self.table, scope, q.metric, q.star, "actual")
            return self._reply(
                "utter_stat_progress_relative", [target, *([newest] if newest else [])], q, **base
            )
        if actual is None:  # what the table does have of that level ("5 đang đề nghị công nhận 5 sao")
            near = [r for r in self.table.rows() if r.scope == scope and r.metric == q.metric and r.kind == "actual"
                    and r.star.startswith(q.star) and r.star != q.star]  # fmt: skip
            return self._reply("utter_stat_progress_no_actual", [target, *near], q, **base)
        reached = actual.value >= target.value
        return self._reply("utter_stat_progress_reached" if reached else "utter_stat_progress_short", [target, actual], q,
                           actual=self.amount(actual), as_of=format_date(actual.as_of),
                           gap=number(abs(target.value - actual.value)), **base)  # fmt: skip
