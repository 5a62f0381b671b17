"""Answer cards edited in their YAML files: one card's block replaced, new cards appended.

Files stay the source of truth: the console rewrites only the block of the card it
changes (comments elsewhere in the file are kept), validates the whole folder with
index/cards.py before writing, and writes atomically; the running assistant's CardStore
sees the new modification time and reloads at the next question.
"""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from index.cards import Card, _LineLoader, check_links, parse_cards

STAFF_FILE = "staff.yml"
HEADER = "# Answer cards written in the staff console (schema: index/cards.py).\ncards:\n"
KEY_ORDER = (
    "id",
    "topic",
    "questions",
    "answer",
    "source",
    "valid_from",
    "superseded_by",
    "related",
    "needs",
    "contact",
)
SOURCE_ORDER = ("title", "number", "issuer", "date", "article")
_TOP_ENTRY = re.compile(r"^- ", re.M)
_KEY = re.compile(r"^(?:- |  )([A-Za-z_]+):")
_PLAIN = re.compile(r"^[^\W_][\w .\-/]*$")


class CardError(ValueError):
    """A change that would make the cards invalid; `problems` name file and line."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems for the page."""
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Located:
    """A card's raw mapping and the lines of its block in its file (0-based, end exclusive)."""

    name: str
    raw: dict[str, Any]
    start: int
    end: int


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _plain(text: str) -> str:
    """A scalar written plain when YAML reads it back as the same text, else quoted."""
    text = str(text)
    if _PLAIN.match(text):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return _q(text)


def key_lines(block: list[str]) -> dict[str, list[str]]:
    """The lines of each top-level key of a card block ("- id: x" counts as key id)."""
    found: dict[str, list[str]] = {}
    key = None
    for line in block:
        m = _KEY.match(line)
        if m:
            key = m.group(1)
            found[key] = []
        if key is not None:
            found[key].append(line.rstrip("\n"))
    return found


def _strip(value: Any) -> Any:
    """A raw value without the loader's line numbers."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "__line__"}
    return value


def emit_card(
    raw: dict[str, Any], old: dict[str, Any] | None = None, old_lines: list[str] | None = None
) -> str:
    """The YAML block of one card, in the files' style (ends with a blank line); a key whose
    value did not change keeps its old lines, so a diff shows only what changed."""
    kept = key_lines(old_lines or []) if old else {}
    lines = [f"- id: {raw['id']}"]
    keys = [k for k in KEY_ORDER if k != "id"] + sorted(set(raw) - set(KEY_ORDER) - {"__line__"})
    for key in keys:
        value = raw.get(key)
        if value in (None, "", [], {}):
            continue
        if old and key in kept and _strip(old.get(key)) == _strip(value):
            lines.extend(kept[key])
        elif key == "answer":
            body = textwrap.wrap(" ".join(str(value).split()), 100) or [""]
            lines.append("  answer: >-")
            lines.extend(f"    {line}" for line in body)
        elif isinstance(value, dict):
            order = [k for k in SOURCE_ORDER if k in value] + sorted(
                set(value) - set(SOURCE_ORDER) - {"__line__"}
            )
            inner = ", ".join(f"{k}: {_q(value[k])}" for k in order if value[k] not in (None, ""))
            lines.append(f"  {key}: {{{inner}}}")
        elif isinstance(value, list) and key == "questions":
            lines.append("  questions:")
            lines.extend(f"    - {_q(q)}" for q in value)
        elif isinstance(value, list):
            lines.append(f"  {key}: [{', '.join(_plain(v) for v in value)}]")
        else:
            lines.append(f"  {key}: {_plain(value)}")
    return "\n".join(lines) + "\n\n"


def _entries(text: str) -> list[dict[str, Any]]:
    """The raw card mappings of a file (with __line__), [] when unreadable."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return []
    entries = data.get("cards") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def locate(folder: Path, card_id: str) -> Located | None:
    """Where a card is written: file, raw mapping and block lines."""
    for path in sorted(folder.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        starts = [m.start() for m in _TOP_ENTRY.finditer(text)]
        start_lines = [text.count("\n", 0, s) for s in starts]
        for raw in _entries(text):
            if str(raw.get("id")) != card_id:
                continue
            start = raw["__line__"] - 1
            later = [n for n in start_lines if n > start]
            end = later[0] if later else len(lines)
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1  # comments and blank lines before the next card belong to it
            return Located(path.name, raw, start, end)
    return None


def replace_block(text: str, start: int, end: int, block: str) -> str:
    """The file text with lines [start, end) replaced by a card block."""
    lines = text.splitlines(keepends=True)
    rest = "".join(lines[end:]).lstrip("\n")
    return "".join(lines[:start]) + (block if rest else block.rstrip("\n") + "\n") + rest


def append_block(text: str | None, block: str) -> str:
    """A file's text with a card appended (a new file gets the header)."""
    if not text:
        return HEADER + block
    return text.rstrip("\n") + "\n\n" + block


def problems_after(folder: Path, name: str, text: str | None) -> list[str]:
    """Problems the folder would have with `name` holding `text` (None: removed), less those it has now."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))}
    before = _store_problems(texts)
    if text is None:
        texts.pop(name, None)
    else:
        texts[name] = text
    after = _store_problems(texts)
    old = {re.sub(r":\d+:", ":", p) for p in before}
    return [p for p in after if re.sub(r":\d+:", ":", p) not in old]


def _store_problems(texts: dict[str, str]) -> list[str]:
    """What CardStore would report for these files (parsing, duplicate ids, unknown related)."""
    cards: list[Card] = []
    errors: list[str] = []
    for name in sorted(texts):
        found, problems = parse_cards(texts[name], name)
        cards.extend(found)
        errors.extend(problems)
    return errors + check_links(cards)[1]


def slug(text: str) -> str:
    """An ASCII file-name form of a topic ("tham gia" -> "tham-gia")."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def file_for_topic(folder: Path, topic: str) -> str:
    """Where a new card of a topic goes: the file holding that topic's cards, else <topic>.yml if
    it exists, else staff.yml."""
    for path in sorted(folder.glob("*.yml")):
        if any(
            str(raw.get("topic", "")).strip() == topic.strip() for raw in _entries(path.read_text("utf-8"))
        ):
            return path.name
    candidate = f"{slug(topic)}.yml"
    return candidate if (folder / candidate).is_file() else STAFF_FILE
