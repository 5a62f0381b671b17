"""The statistics table: every figure of the documents as a reviewed, validated row.

    table = StatsTable.load(Path("data/stats"), documents)   # documents: doc id -> text
    table.latest("An Giang", "san_pham", "4")                 # StatRow(value=14, as_of="2025-02", ...)

Rows live in `data/stats/*.csv` (one header line, then one figure a line). A row is
rejected, with its file and line, when a field is missing or malformed, when its quote
is not in its document, or when its value is not written in its quote; the other rows
keep working. The table reloads itself when a file changes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.text import fold
from index.content_files import folder_files, read_files, stamp_of

FIELDS = "id scope metric star value value_max qualifier kind period as_of doc source quote".split()
KINDS = ("actual", "target")
STARS = ("", "3+", "3", "4", "5", "5_tiem_nang", "5_de_nghi")
_DATE = re.compile(r"^(\d{4})(-\d{2})?(-\d{2})?$")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class StatRow:
    """One figure: what is counted, where, when, its value and the exact quote."""

    id: str
    scope: str
    metric: str
    star: str
    value: float
    value_max: float | None
    qualifier: str
    kind: str
    period: str
    as_of: str
    doc: str
    source: str
    quote: str
    where: str = ""

    @property
    def is_relative(self) -> bool:
        """A target stated as an increase ("thêm 170") has no baseline of its own."""
        return fold(self.qualifier) == "them"


class StatsSource(Protocol):
    """What the pipeline needs from a statistics table (real or in-memory)."""

    def rows(self) -> Sequence[StatRow]:
        """All valid rows."""
        ...

    def reload_if_changed(self) -> bool:
        """Re-read the files when they changed."""
        ...


def numbers_in(text: str) -> set[float]:
    """Numbers written in a text ("02" -> 2, "17.400" -> 17400, "2,9" -> 2.9)."""
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        raw = m.group()
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", raw):
            out.add(float(re.sub(r"[.,]", "", raw)))
        else:
            out.add(float(raw.replace(",", ".")))
    return out


def _norm(text: str) -> str:
    """Whitespace and dash variants folded for the quote check."""
    return re.sub(r"\s+", " ", text.replace("–", "-").replace("—", "-")).strip()


def parse_row(raw: dict[str, str], where: str, documents: Mapping[str, str]) -> StatRow | list[str]:
    """A validated row, or the problems found in it (each prefixed by file:line)."""
    get = {k: (raw.get(k) or "").strip() for k in FIELDS}
    problems = [
        f"{where}: missing {k}"
        for k in ("id", "scope", "metric", "value", "kind", "doc", "quote")
        if not get[k]
    ]
    if problems:
        return problems
    try:
        value = float(get["value"])
        value_max = float(get["value_max"]) if get["value_max"] else None
    except ValueError:
        return [f"{where}: value {get['value']!r} is not a number"]
    if get["kind"] not in KINDS:
        problems.append(f"{where}: kind must be one of {', '.join(KINDS)}, not {get['kind']!r}")
    if get["star"] not in STARS:
        problems.append(f"{where}: star must be one of {', '.join(s or '(empty)' for s in STARS)}")
    if get["as_of"] and not _DATE.match(get["as_of"]):
        problems.append(f"{where}: as_of {get['as_of']!r} is not yyyy, yyyy-mm or yyyy-mm-dd")
    text = documents.get(get["doc"])
    if text is None:
        problems.append(f"{where}: document {get['doc']!r} is not in data/docs")
    elif _norm(get["quote"]) not in _norm(text):
        problems.append(f"{where}: the quote is not in document {get['doc']}")
    if value not in numbers_in(get["quote"]):
        problems.append(f"{where}: the value {get['value']} is not written in the quote")
    if problems:
        return problems
    return StatRow(
        get["id"], get["scope"], get["metric"], get["star"], value, value_max, get["qualifier"],
        get["kind"], get["period"], get["as_of"], get["doc"], get["source"], get["quote"], where,
    )  # fmt: skip


def parse_csv(text: str, name: str, documents: Mapping[str, str]) -> tuple[list[StatRow], list[str]]:
    """Rows and problems of one CSV file (the header names the columns)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        return [], [f"{name}:1: missing columns {', '.join(missing)}"]
    rows: list[StatRow] = []
    errors: list[str] = []
    seen: set[str] = set()
    for raw in reader:
        where = f"{name}:{reader.line_num}"
        parsed = parse_row(raw, where, documents)
        if isinstance(parsed, list):
            errors.extend(parsed)
        elif parsed.id in seen:
            errors.append(f"{where}: duplicate id {parsed.id}")
        else:
            seen.add(parsed.id)
            rows.append(parsed)
    return rows, errors


class StatsTable:
    """Rows from CSV files, validated against the documents, reloaded on change."""

    def __init__(
        self, folder: Path | None, documents: Mapping[str, str], rows: Sequence[StatRow] = ()
    ) -> None:
        """Read `folder` (or hold the given rows: the in-memory table of tests)."""
        self.folder, self.documents = folder, documents
        self._rows: list[StatRow] = list(rows)
        self.errors: list[str] = []
        self._stamp: tuple = ()
        if folder is not None:
            self.reload_if_changed()

    @classmethod
    def load(cls, folder: Path, documents: Mapping[str, str]) -> StatsTable:
        """The table of a folder of CSV files."""
        return cls(folder, documents)

    def reload_if_changed(self) -> bool:
        """Re-read the files when one changed (a broken row is reported, the rest kept)."""
        if self.folder is None:
            return False
        files = folder_files(self.folder, "*.csv")
        stamp = stamp_of(files)
        if stamp == self._stamp:
            return False
        rows, errors = read_files(files, lambda text, name: parse_csv(text, name, self.documents))
        self._rows, self.errors, self._stamp = rows, errors, stamp
        return True

    def rows(self) -> Sequence[StatRow]:
        """All valid rows."""
        return self._rows


def matching(
    source: StatsSource, scope: str, metric: str, star: str, kind: str = "actual", period: str = ""
) -> list[StatRow]:
    """Rows of one scope and measure, oldest first (targets of `period` when given)."""
    found = [
        r
        for r in source.rows()
        if r.scope == scope and r.metric == metric and r.star == star and r.kind == kind
        and (not period or r.period == period)
    ]  # fmt: skip
    return sorted(found, key=lambda r: r.as_of)


def latest(
    source: StatsSource, scope: str, metric: str, star: str, kind: str = "actual", period: str = ""
) -> StatRow | None:
    """The newest row of one scope and measure."""
    found = matching(source, scope, metric, star, kind, period)
    return found[-1] if found else None


def scopes(source: StatsSource, metric: str, star: str, kind: str = "actual") -> list[str]:
    """Scopes having this measure, in table order."""
    return list(
        dict.fromkeys(r.scope for r in source.rows() if (r.metric, r.star, r.kind) == (metric, star, kind))
    )


def known_scopes(source: StatsSource) -> set[str]:
    """Every scope the table has a figure for."""
    return {r.scope for r in source.rows()}


def document_texts(docs_dir: Path) -> dict[str, str]:
    """Document id -> body text (for checking the quotes of the statistics rows)."""
    from index.ingest import load_documents

    return {d.doc_id: d.text for d in load_documents(docs_dir)} if docs_dir.is_dir() else {}
