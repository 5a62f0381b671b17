"""The contact table: one staff-edited row per contact, read and validated line by line."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.text import fold

_HONORIFICS = {"ong", "ba", "anh", "chi", "co"}  # folded ông, bà, anh, chị, cô (not chú: Chu is a surname)


def _bare_name(name: str) -> str:
    """Name without a leading honorific ("Ông Văn A" -> "Văn A")."""
    first, _, rest = name.partition(" ")
    return rest if rest and fold(first) in _HONORIFICS else name


COLUMNS = (
    "id",
    "name",
    "title",
    "organisation",
    "province",
    "topics",
    "phones",
    "email",
    "source",
    "verified_on",
    "general",
    "topic_label",
)
REQUIRED = ("id", "name", "organisation")

_EMAIL_RE = re.compile(r"[^@\s;,]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _split(value: str) -> tuple[str, ...]:
    """Split a multi-value cell on ';' or new lines."""
    return tuple(p.strip() for p in re.split(r"[;\n]", value) if p.strip())


def phone_digits(raw: str) -> str | None:
    """Normalise a Vietnamese phone number (+84 allowed) to 0-prefixed digits, None if invalid."""
    digits = re.sub(r"[\s.\-()]", "", raw)
    digits = "0" + digits[3:] if digits.startswith("+84") else digits
    return digits if re.fullmatch(r"0\d{9}|02\d{9}|1[89]00\d{4}(\d{2})?", digits) else None


@dataclass(frozen=True)
class Contact:
    """One hotline row: a unit or a named official, with phones and email."""

    id: str
    name: str
    title: str
    organisation: str
    province: str
    topics: tuple[str, ...]
    phones: tuple[str, ...]
    email: str
    source: str
    verified_on: str
    general: bool = False
    topic_label: str = ""

    @property
    def is_person(self) -> bool:
        """Whether the row names a person (has a title or starts with an honorific)."""
        return bool(self.title) or _bare_name(self.name) != self.name

    @property
    def phones_display(self) -> tuple[str, ...]:
        """Phone numbers grouped for reading: 0913 979 245, 02963 957 006, 1900 1234."""
        return tuple(
            f"{d[:-6]} {d[-6:-3]} {d[-3:]}" if len(d) > 8 else f"{d[:4]} {d[4:]}"
            for d in map(phone_digits, self.phones)
            if d
        )

    @property
    def tel_uris(self) -> tuple[str, ...]:
        """Phone numbers as tel: URIs for call buttons."""
        return tuple(f"tel:{d}" for d in map(phone_digits, self.phones) if d)


def _parse_row(raw: dict[str, Any], where: str, seen: dict[str, str]) -> Contact | list[str]:
    """Validate one raw row; return the contact or the error messages."""
    get = {
        k: ";".join(map(str, v))
        if isinstance(v := raw.get(k), list)
        # YAML lists
        else ""
        if v is None
        else str(v).strip()
        for k in COLUMNS
    }
    errors = [f"{where}, trường {k}: thiếu giá trị bắt buộc" for k in REQUIRED if not get[k]]
    phones, emails, when = _split(get["phones"]), _split(get["email"]), get["verified_on"]
    errors += [
        f"{where}, trường phones: số điện thoại không hợp lệ: '{p}'" for p in phones if not phone_digits(p)
    ]
    errors += [f"{where}, trường email: không hợp lệ: '{e}'" for e in emails if not _EMAIL_RE.fullmatch(e)]
    if not phones and not emails:
        errors.append(f"{where}, trường phones/email: cần ít nhất một số điện thoại hoặc email")
    try:  # ISO 2024-11-06 or Vietnamese 06/11/2024
        ymd = re.sub(r"^(\d\d?)/(\d\d?)/(\d{4})$", r"\3-\2-\1", when).split("-")
        when = date(*map(int, ymd)).isoformat() if when else ""
    except (TypeError, ValueError):
        errors.append(f"{where}, trường verified_on: ngày không hợp lệ: '{when}'")
    if get["id"] in seen:
        errors.append(f"{where}, trường id: mã '{get['id']}' trùng với {seen[get['id']]}")
    if errors:
        return errors
    seen[get["id"]] = where
    return Contact(
        get["id"],
        get["name"],
        get["title"],
        get["organisation"],
        get["province"],
        _split(get["topics"]),
        phones,
        "; ".join(emails),
        get["source"],
        when,
        fold(get["general"]) in {"1", "x", "true", "yes", "co"},
        get["topic_label"],
    )


def _read_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Read CSV text (',' or Excel's ';' delimiter) into (line number, row) pairs."""
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=max(",;", key=first.count))
    header = [h.strip().lower() for h in next(reader, [])]
    rows, start = [], reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            rows.append((start, dict(zip(header, record, strict=False))))
        start = reader.line_num + 1
    return rows


def _read_yaml(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Read a YAML list of mappings into (line number, row) pairs."""
    import yaml  # only needed for YAML tables

    node, data = yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    if not isinstance(data, list) or node is None:
        raise ValueError("cần một danh sách liên hệ (list of mappings)")
    return [
        (
            n.start_mark.line + 1,
            {str(k).lower(): v for k, v in item.items()} if isinstance(item, dict) else {},
        )
        for item, n in zip(data, node.value, strict=False)
    ]


def _signature(path: Path | None) -> tuple[int, int] | None:
    """(mtime_ns, size) of the file, or None when it cannot be stat'ed."""
    with contextlib.suppress(OSError, AttributeError):
        return (stat := path.stat()).st_mtime_ns, stat.st_size  # type: ignore[union-attr]
    return None
