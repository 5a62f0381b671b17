"""Content files staff edit as text (cards, statistics rows, contacts, documents): validated
like the running assistant reads them, written as versions, revertible."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine

from console.cardfiles import CardError, problems_after
from console.config import ConsoleConfig
from console.history import audit, version, write_versioned

AREAS = ("cards", "stats", "contacts", "docs")
_LINES = re.compile(r"(:\d+:|dòng \d+|line \d+)")
_documents: dict[str, tuple[tuple, dict[str, str]]] = {}


def root_of(cfg: ConsoleConfig, area: str) -> Path:
    """The folder of an area's files."""
    if area == "cards":
        return cfg.cards_dir
    if area == "stats":
        return cfg.stats_dir
    if area == "contacts":
        return cfg.contacts_file.parent
    if area == "docs":
        return cfg.docs_dir
    raise CardError([f"không có vùng nội dung {area}"])


def files_of(cfg: ConsoleConfig, area: str) -> list[str]:
    """The editable file names of an area."""
    if area == "contacts":
        return [cfg.contacts_file.name] if cfg.contacts_file.is_file() else []
    if area == "docs":
        from index.ingest import SUFFIXES

        folder = cfg.docs_dir
        return (
            sorted(p.name for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
            if folder.is_dir()
            else []
        )
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


def document_texts(cfg: ConsoleConfig) -> dict[str, str]:
    """Document id -> text of the documents now (read again when a document file changed)."""
    from index.content_files import folder_files, stamp_of
    from index.stats import document_texts as read

    stamp = stamp_of(folder_files(cfg.docs_dir, "*"))
    key = str(cfg.docs_dir)
    if key not in _documents or _documents[key][0] != stamp:
        _documents[key] = (stamp, read(cfg.docs_dir))
    return _documents[key][1]


def _stats_problems(
    cfg: ConsoleConfig, name: str, text: str, documents: dict[str, str] | None = None
) -> list[str]:
    """What the statistics table reports for a CSV text (quotes checked against the documents)."""
    from index.stats import parse_csv

    return parse_csv(text, name, document_texts(cfg) if documents is None else documents)[1]


def _doc_problems(cfg: ConsoleConfig, name: str, text: str | None) -> list[str]:
    """A document the index cannot read, or statistics rows whose quote it would take away."""
    from console.app import messages
    from index.ingest import Document, html_to_text, make_passages, parse_front_matter

    msg = messages()["documents"]
    documents = dict(document_texts(cfg))
    stem = Path(name).stem
    if text is None:
        documents.pop(stem, None)
    else:
        try:
            meta, body = parse_front_matter(text)
        except Exception:  # noqa: BLE001 - YAML errors of any kind
            return [msg["front_matter"].format(name=name)]
        body = html_to_text(body) if Path(name).suffix.lower() in (".html", ".htm") else body
        if not make_passages(Document(stem, name, meta, body, "")):
            return [msg["no_passage"].format(name=name)]
        documents[stem] = body
    broken: list[str] = []
    for csv in sorted(cfg.stats_dir.glob("*.csv")) if cfg.stats_dir.is_dir() else []:
        table = csv.read_text(encoding="utf-8")
        before = {_LINES.sub("#", p) for p in _stats_problems(cfg, csv.name, table)}
        broken += [
            p for p in _stats_problems(cfg, csv.name, table, documents) if _LINES.sub("#", p) not in before
        ]
    return [msg["breaks_stats"].format(name=name), *broken] if broken else []


def problems(cfg: ConsoleConfig, area: str, name: str, text: str | None) -> list[str]:
    """Problems the file would bring that it does not have now (None: the file removed)."""
    if area == "cards":
        return problems_after(cfg.cards_dir, name, text)
    if area == "docs":
        return _doc_problems(cfg, name, text)
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
    if area == "docs":  # a document that did not exist before the change goes away again
        content = row.content
    found = problems(cfg, area, name, content)
    if found:
        raise CardError(found)
    write_versioned(engine, folder, name, content, user, f"hoàn tác #{version_id}", area)
    audit(engine, user, f"{area}.revert", f"{area}/{name}@{version_id}", current, row.content)
    return f"{area}/{name}"


def add_document(engine: Engine, cfg: ConsoleConfig, user: str, name: str, text: str, note: str) -> int:
    """Write an uploaded document (checked like the index reads it) as a new version; its version id."""
    found = problems(cfg, "docs", name, text)
    if found:
        raise CardError(found)
    cfg.docs_dir.mkdir(parents=True, exist_ok=True)
    version_id = write_versioned(engine, cfg.docs_dir, name, text, user, note, "docs")
    audit(engine, user, "docs.upload", f"docs/{name}", None, text)
    return version_id


def remove_document(engine: Engine, cfg: ConsoleConfig, user: str, name: str, note: str) -> int:
    """Remove a document (kept as a version, so it can be brought back); the version id."""
    if name not in files_of(cfg, "docs"):
        raise CardError([name])
    found = problems(cfg, "docs", name, None)
    if found:
        raise CardError(found)
    before = (cfg.docs_dir / name).read_text(encoding="utf-8")
    version_id = write_versioned(engine, cfg.docs_dir, name, None, user, note, "docs")
    audit(engine, user, "docs.remove", f"docs/{name}", before, None)
    return version_id
