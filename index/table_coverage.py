"""Whether the statistics table counts what a question asks ("nâng hạng" is not "tiềm năng").

    coverage = TableCoverage(table, labels)
    coverage.covers(question)   # False: the question has words no quote or unit of its measure explains

A word the cues (data/language/cues.yml) leave unexplained must stand, with a neighbour it
has in the question, in a quote or unit of the asked measure; otherwise the question goes on
to the cards and the documents.
"""

from __future__ import annotations

from bot.text import search_words
from index.labels import Labels
from index.parse import Ask, Question
from index.stats import StatsSource


class TableCoverage:
    """Word pairs of the table's quotes and units, by measure, rebuilt when the table reloads."""

    def __init__(self, table: StatsSource, labels: Labels) -> None:
        """The table and how its figures are written."""
        self.table, self.labels = table, labels
        self._pairs_of: object = None  # the rows the pair cache was built from (a reload replaces them)
        self._pair_cache: dict[str, frozenset[tuple[str, str]]] = {}

    def covers(self, q: Question) -> bool:
        """Whether every word the cues leave unexplained stands, with a neighbour it has in the
        question, in a quote or unit of the asked measure ("nâng hạng" is not "tiềm năng")."""
        if not q.content:
            return True
        pairs = set().union(
            *(self._pairs(m) for m in ({q.metric, "vuot_chi_tieu"} if q.ask == Ask.PROGRESS else {q.metric}))
        )
        words = q.folded.split()
        for i, w in enumerate(words):
            if w in q.content:
                left = (words[i - 1], w) if i else None
                right = (w, words[i + 1]) if i + 1 < len(words) else None
                if left not in pairs and right not in pairs:
                    return False
        return True

    def _pairs(self, metric: str) -> frozenset[tuple[str, str]]:
        """Word pairs of the quotes and units of one measure (once per version of the table)."""
        rows = self.table.rows()
        if self._pairs_of is not rows:
            self._pairs_of, self._pair_cache = rows, {}
        if metric not in self._pair_cache:
            found: set[tuple[str, str]] = set()
            for r in rows:
                if r.metric == metric:
                    w = search_words(f"{r.quote} {self.labels.unit(r.metric, r.star)}")
                    found.update(zip(w, w[1:]))
            self._pair_cache[metric] = frozenset(found)
        return self._pair_cache[metric]
