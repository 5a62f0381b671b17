"""Content files staff edit as text (cards, statistics rows, contacts): validated like the
running assistant reads them, written as versions, revertible."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine

from console.cardfiles import CardError, problems_after
from console.config import ConsoleConfig
from console.history import audit, version, write_versioned

AREAS = ("cards", "stats", "contacts")
_LINES = re.compile(r"(:\d+:|dòng \d+|line \d+)")
_documents: dict[str, dict[str, str]] = {}


def root_of(cfg: ConsoleConfig, area: str) -> Path:
    """The folder of an area's files."""
    if area == "cards":
        return cfg.cards_dir
    if area == "stats":
        return cfg.stats_dir
    if area == "contacts":
        return cfg.contacts_file.parent
    raise CardError([f"không có vùng nội dung {area}"])


def files_of(cfg: ConsoleConfig, area: str) -> list[str]:
    """The editable file names of an area."""
    if area == "contacts":
        return [cfg.contacts_file.name] if cfg.contacts_file.is_file() else []
    pattern = "*.yml" if area == "cards" else "*.csv"
    folder = root_of(cfg, area)
    return sorted(p.name for p in folder.glob(pattern)) if folder.is_dir() else []


def split_path(stored: str) -> tuple[str, str]:
    """(area, file name) of a stored version path ("stats/ocop_stats.csv"; a bare name is a card file)."""
    area, _, name = stored.partition("/")
    return (area, name) if name and area in AREAS else ("cards", stored)


def _contact_problems(name: str, text: str) -> list[str]:
    """What the contact book reports for a table text (the action server's loader)."""
    from actions.contacts import ContactBook

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        return list(ContactBook.load(path).errors)


def _stats_problems(cfg: ConsoleConfig, name: str, text: str) -> list[str]:
    """What the statistics table reports for a CSV text (quotes checked against the documents)."""
    from index.stats import document_texts, parse_csv

    key = str(cfg.docs_dir)
    if key not in _documents:
        _documents[key] = document_texts(cfg.docs_dir)
    return parse_csv(text, name, _documents[key])[1]


def problems(cfg: ConsoleConfig, area: str, name: str, text: str | None) -> list[str]:
    """Problems the file would bring that it does not have now (None: the file removed)."""
    if area == "cards":
        return problems_after(cfg.cards_dir, name, text)
    path = root_of(cfg, area) / name
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    check = _contact_problems if area == "contacts" else lambda n, t: _stats_problems(cfg, n, t)
    before = {_LINES.sub("#", p) for p in check(name, current)} if current else set()
    return [p for p in check(name, text or "") if _LINES.sub("#", p) not in before]


def save_text(engine: Engine, cfg: ConsoleConfig, user: str, area: str, name: str, text: str) -> int:
    """Validate and write a whole file as a new version; the version id of the old content."""
    if name not in files_of(cfg, area):
        raise CardError([f"không sửa được tệp {area}/{name}"])
    text = text.replace("\r\n", "\n")
    found = problems(cfg, area, name, text)
    if found:
        raise CardError(found)
    path = root_of(cfg, area) / name
    before = path.read_text(encoding="utf-8")
    version_id = write_versioned(engine, root_of(cfg, area), name, text, user, f"sửa tệp {name}", area)
    audit(engine, user, f"{area}.edit", f"{area}/{name}", before, text)
    return version_id


def revert_to(engine: Engine, cfg: ConsoleConfig, user: str, version_id: int) -> str:
    """Give a file back its content before change `version_id` (the current one is kept as a version)."""
    row = version(engine, version_id)
    if row is None:
        raise CardError([f"không có phiên bản {version_id}"])
    area, name = split_path(row.path)
    folder = root_of(cfg, area)
    path = folder / name
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    content = row.content if row.content is not None else ("cards: []\n" if area == "cards" else "")
    found = problems(cfg, area, name, content)
    if found:
        raise CardError(found)
    write_versioned(engine, folder, name, content, user, f"hoàn tác #{version_id}", area)
    audit(engine, user, f"{area}.revert", f"{area}/{name}@{version_id}", current, row.content)
    return f"{area}/{name}"
