"""Card changes made in the console: validated, versioned, audited, then written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from console.cardfiles import (
    CardError,
    append_block,
    emit_card,
    file_for_topic,
    locate,
    problems_after,
    replace_block,
)
from console.history import audit, version, write_versioned

FORM_FIELDS = ("id", "topic", "answer", "valid_from", "contact")
SOURCE_FIELDS = ("title", "issuer", "date", "number", "article")


def lines_of(text: str) -> list[str]:
    """Non-empty lines of a text area, stripped, without repeats."""
    return list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))


def raw_from_form(form: dict[str, str], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A card mapping from the edit form (fields the form lacks are kept from `base`)."""
    raw = {k: v for k, v in (base or {}).items() if k != "__line__"}
    for key in FORM_FIELDS:
        raw[key] = (form.get(key) or "").strip()
    raw["questions"] = lines_of(form.get("questions", ""))
    raw["related"] = [r for r in (form.get("related") or "").replace(",", " ").split() if r]
    source = {k: v for k, v in dict(raw.get("source") or {}).items() if k != "__line__"}
    for key in SOURCE_FIELDS:
        source[key] = (form.get(f"source_{key}") or "").strip()
    raw["source"] = source
    return raw


def _dump(raw: dict[str, Any] | None) -> str | None:
    """A card mapping as JSON for the audit log."""
    if raw is None:
        return None
    return json.dumps({k: v for k, v in raw.items() if k != "__line__"}, ensure_ascii=False, sort_keys=True)


def _write(engine: Engine, folder: Path, name: str, text: str, user: str, note: str) -> int:
    """Validate the folder with the new file text, then write it as a new version."""
    problems = problems_after(folder, name, text)
    if problems:
        raise CardError(problems)
    return write_versioned(engine, folder, name, text, user, note)


def create_card(engine: Engine, folder: Path, user: str, raw: dict[str, Any]) -> str:
    """Write a new card to the file of its topic (or staff.yml); the file name."""
    if raw.get("id") and locate(folder, str(raw["id"])):
        raise CardError([f"id {raw['id']} đã có"])
    name = file_for_topic(folder, str(raw.get("topic") or ""))
    path = folder / name
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    _write(engine, folder, name, append_block(current, emit_card(raw)), user, f"thêm thẻ {raw.get('id')}")
    audit(engine, user, "card.create", f"{name}#{raw.get('id')}", None, _dump(raw))
    return name


def update_card(engine: Engine, folder: Path, user: str, card_id: str, raw: dict[str, Any]) -> str:
    """Rewrite one card's block (its id may not change here); the file name."""
    found = locate(folder, card_id)
    if found is None:
        raise CardError([f"không tìm thấy thẻ {card_id}"])
    raw = {**raw, "id": card_id}
    text = (folder / found.name).read_text(encoding="utf-8")
    old_lines = text.splitlines()[found.start : found.end]
    new_text = replace_block(text, found.start, found.end, emit_card(raw, found.raw, old_lines))
    _write(engine, folder, found.name, new_text, user, f"sửa thẻ {card_id}")
    audit(engine, user, "card.update", f"{found.name}#{card_id}", _dump(found.raw), _dump(raw))
    return found.name


def add_questions(engine: Engine, folder: Path, user: str, card_id: str, questions: list[str]) -> int:
    """Add questions as paraphrases of a card; how many were new."""
    found = locate(folder, card_id)
    if found is None:
        raise CardError([f"không tìm thấy thẻ {card_id}"])
    have = [str(q) for q in found.raw.get("questions") or []]
    new = [q for q in dict.fromkeys(q.strip() for q in questions) if q and q not in have]
    if new:
        update_card(engine, folder, user, card_id, {**found.raw, "questions": have + new})
    return len(new)


def revert(engine: Engine, folder: Path, user: str, version_id: int) -> str:
    """Give a card file back the content it had before change `version_id` (saving the current one)."""
    from console.content import split_path

    row = version(engine, version_id)
    if row is None or split_path(row.path)[0] != "cards":
        raise CardError([f"không có phiên bản {version_id} của thẻ"])
    name = split_path(row.path)[1]
    path = folder / name
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    content = row.content if row.content is not None else "cards: []\n"  # the change created the file
    _write(engine, folder, name, content, user, f"hoàn tác #{version_id}")
    audit(engine, user, "card.revert", f"cards/{name}@{version_id}", current, row.content)
    return name
