"""Hotline values from the contact table, for responses and pages that name a contact's number.

A text names a contact field as `{<contact id>.<field>}`; the fields are `phone` (first
number, grouped for reading), `phones` (all numbers), `tel` (first number as a `tel:` URI for
a call button), `email`, `name` and `organisation`. The table (`OCOP_CONTACTS_FILE`, default
data/contacts.csv) is re-read when the file changes; a broken file keeps the last good
values, and its errors are logged by file and line. Used by the Rasa server's response
generator (bot/nlg.py), the service apology (bot/channels/guard.py) and the web page
(ops/web.py, and the page nginx serves in make prod: ops/nginx.py).

    values = ContactValues(Path("data/contacts.csv")).values()
    fill_text("Gọi {ag-ubnd-tong-hop.phone}", values)  # -> "Gọi 02963 957 006"
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path

from actions.contact_table import Contact, _parse_row, _read_csv, _read_yaml, _signature

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("phone", "phones", "tel", "email", "name", "organisation")
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\.(" + "|".join(FIELDS) + r")\}")


def contacts_file() -> Path:
    """The contact table the assistant serves (the same variable as the action server's)."""
    return Path(os.environ.get("OCOP_CONTACTS_FILE", ROOT / "data" / "contacts.csv"))


def contact_fields(contact: Contact) -> dict[str, str]:
    """The placeholder values of one contact, keyed `<id>.<field>`."""
    shown, tels = contact.phones_display, contact.tel_uris
    values = {
        "phone": shown[0] if shown else "",
        "phones": ", ".join(shown),
        "tel": tels[0] if tels else "",
        "email": contact.email,
        "name": contact.name,
        "organisation": contact.organisation,
    }
    return {f"{contact.id}.{field}": value for field, value in values.items()}


class ContactValues:
    """Placeholder values from the contact table, re-read when the file changes."""

    def __init__(self, path: Path | None = None) -> None:
        """Read from path (default: contacts_file()) on first use."""
        self.path = path or contacts_file()
        self._signature: tuple[int, int] | None = None
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def values(self) -> dict[str, str]:
        """The current values; the last good ones when the file is unreadable or has no valid row."""
        with self._lock:
            signature = _signature(self.path)
            if signature != self._signature:
                self._signature = signature
                fresh = self._read()
                self._values = fresh or self._values
            return self._values

    def _read(self) -> dict[str, str]:
        """Parse the table; bad rows are logged and skipped."""
        try:
            text = self.path.read_text(encoding="utf-8-sig")
            yaml_file = self.path.suffix.lower() in {".yml", ".yaml"}
            rows = (_read_yaml if yaml_file else _read_csv)(text)
        except Exception as exc:  # noqa: BLE001 - reported; the last good values stay
            logger.error("CONTACTS %s: %s", self.path, exc)
            return {}
        values: dict[str, str] = {}
        seen: dict[str, str] = {}
        for line, raw in rows:
            result = _parse_row(raw, f"{self.path.name}:{line}", seen)
            if isinstance(result, Contact):
                values |= contact_fields(result)
            else:
                logger.error("CONTACTS %s", "; ".join(result))
        return values


def placeholders(texts: Iterable[str]) -> set[str]:
    """The contact placeholders (`<id>.<field>`) used in some response texts."""
    return {f"{m.group(1)}.{m.group(2)}" for text in texts for m in PLACEHOLDER.finditer(text)}


_shared = ContactValues()


def shared_values() -> ContactValues:
    """The process-wide values (one table per Rasa process)."""
    return _shared


def fill_text(text: str, values: dict[str, str]) -> str:
    """Replace the contact placeholders of text that have a value (others stay as written)."""
    return PLACEHOLDER.sub(lambda m: values.get(f"{m.group(1)}.{m.group(2)}", m.group(0)), text)
