"""Where an answer came from: the source and date of statistics rows, cards and passages.

provenance = Provenance(table, cards, doc_meta, cite)
provenance.about(("stat:tg-2023-sp-3",), when=False)   # Reply("followup", "utter_followup_source", ...)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from index.card_match import CardMatcher
from index.reply import Reply
from index.sentence import provinces_in
from index.source import format_date, source_line
from index.stats import StatRow, StatsSource


class Provenance:
    """Describes the sources and dates of what answered (for "nguồn của số đó?")."""

    def __init__(
        self,
        table: StatsSource,
        cards: CardMatcher,
        doc_meta: Callable[[str], dict[str, Any]],
        cite: Callable[[StatRow], str],
        index: Callable[[], Any] = lambda: None,
    ) -> None:
        """The stores the references point into, how a statistics row is cited, the loaded index."""
        self.table, self.cards, self.doc_meta, self.cite, self.index = table, cards, doc_meta, cite, index
        self._corpus_of: object = None  # the index the lowercase corpus text was built from
        self._corpus = ""

    def _corpus_text(self) -> str:
        """The loaded index's passages as one lowercase text (rebuilt only after an index reload)."""
        index = self.index()
        if index is not None and self._corpus_of is not index:
            self._corpus_of = index
            self._corpus = "\n".join(
                f"{r.get('title', '')} {' '.join(r['sentences'])}" for r in index.rows
            ).lower()
        return self._corpus

    def mentioned(self, term: str, in_cards: bool = True) -> bool:
        """Whether a document (or a card) writes a term: a decision number, a province."""
        low = term.lower()
        if low in self._corpus_text():
            return True
        return in_cards and any(
            low in f"{c.answer} {c.source.title}".lower() for c in self.cards.store.cards()
        )

    def number_elsewhere(self, number: str, places: tuple[str, ...]) -> tuple[str, str, str] | None:
        """(sentence, document, its place) when the documents state the provincial document
        `number` (".../QĐ-UBND") only of places other than those asked ("Quyết định 1397" of
        Sóc Trăng, asked of An Giang). National documents (QĐ-TTg, NĐ-CP) belong to no province."""
        index = self.index()
        if index is None or not places:
            return None
        pattern = re.compile(rf"(?<![\d/]){re.escape(number)}/[\w.-]*UBND")  # a provincial document
        found: list[tuple[str, str, str]] = []
        for r in index.rows:
            sentences = r["sentences"]
            for i, sentence in enumerate(sentences):
                if not pattern.search(sentence):
                    continue
                where = provinces_in(sentence) or provinces_in(sentences[i - 1] if i else "")
                if not where:
                    where = frozenset({self.doc_meta(r["doc_id"]).get("province") or ""}) - {""}
                if where & set(places) or not where:
                    return None  # stated of a place asked, or of no place we can tell
                found.append((sentence, r["doc_id"], sorted(where)[0]))
        return found[0] if found else None

    def row(self, ref: str) -> StatRow | None:
        """The statistics row of a "stat:id" reference."""
        if not ref.startswith("stat:"):
            return None
        rid = ref.split(":", 1)[1]
        return next((r for r in self.table.rows() if r.id == rid), None)

    def about(self, refs: tuple[str, ...], when: bool) -> Reply | None:
        """Where the answers of `refs` came from (or as of when); None if none is known."""
        sources, dates = [], []
        for ref in refs:
            kind, _, key = ref.partition(":")
            if kind == "stat" and (row := self.row(ref)) is not None:
                sources.append(self.cite(row) + (f" (“{row.quote}”)" if row.quote else ""))
                dates.append(format_date(row.as_of) if row.as_of else "")
            elif kind == "card" and (card := self.cards.get(key)) is not None:
                sources.append(f"{card.source.title} ({card.source.issuer}, {format_date(card.source.date)})")
                dates.append(format_date(card.source.date))
            elif kind == "doc":
                meta = self.doc_meta(key)
                sources.append(
                    f"{source_line(meta)}: “{meta.get('title', key)}”, {format_date(meta.get('date'))}"
                )
                dates.append(format_date(meta.get("date")))
        if not sources:
            return None
        joined = "; ".join(dict.fromkeys(sources))
        if when and any(dates):
            return Reply(
                "followup",
                "utter_followup_when",
                {"dates": ", ".join(dict.fromkeys(d for d in dates if d)), "sources": joined},
                refs,
                1.0,
            )
        return Reply("followup", "utter_followup_source", {"sources": joined}, refs, 1.0)


def stats_cite(doc_meta: Callable[[str], dict[str, Any]]) -> Callable[[StatRow], str]:
    """How a statistics row is cited: its own source, else its document's publisher and title."""

    def cite(row: StatRow) -> str:
        if row.source:
            return row.source
        meta = doc_meta(row.doc)
        date = format_date(meta.get("date"))
        line = source_line(meta)
        title = str(meta.get("title", row.doc))
        line = line if title in line else f"{line}, “{title}”"
        return line + (f", {date}" if date else "")

    return cite
