"""How an answer cites its document: the date and the source line."""

from __future__ import annotations

from typing import Any


def format_date(value: Any) -> str:
    """ISO date (yyyy-mm-dd, yyyy-mm or yyyy) -> Vietnamese dd/mm/yyyy form."""
    text = str(value or "").strip()
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"{parts[1]}/{parts[0]}"
    return text


def source_line(meta: dict[str, Any]) -> str:
    """Publisher (and original sources for our summaries) for the answer's source line."""
    publisher = str(meta.get("publisher") or "").strip()
    site = str(meta.get("source_site") or "").strip()
    if not publisher or "không rõ" in publisher:
        author = str(meta.get("author") or "").strip()
        publisher = f"“{meta.get('title', '')}”" + (f" – {author}" if author else "")
    sources = meta.get("sources") or []
    if sources:
        return f"{publisher} – " + "; ".join(str(s) for s in sources[:2])
    if site and site.lower() not in publisher.lower() and "không rõ" not in site:
        return f"{publisher} ({site})"
    return publisher
