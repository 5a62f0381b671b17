"""The hotline a refusal names: the contact of the question's topic, else the OCOP line."""

from __future__ import annotations

from typing import Any, Protocol

OCOP_CONTACT_QUERY = "đường dây nóng ngành nông nghiệp OCOP"


class ContactDirectory(Protocol):
    """What the pipeline needs of the contact table: the hotline that fits a topic."""

    def lookup(self, text: str, entities: dict[str, list[str]] | None = None) -> Any:  # noqa: ANN401
        """Contacts for a text (`.contacts`)."""
        ...

    def general(self) -> list[Any]:
        """The general hotlines."""
        ...


def hotline_text(book: ContactDirectory | None, query: str) -> str:
    """The hotline for a topic as "name – title, organisation: phones" (the OCOP line if none fits)."""
    if book is None:
        return ""
    contacts = book.lookup(query).contacts or book.lookup(OCOP_CONTACT_QUERY).contacts or book.general()
    if not contacts:
        return ""
    c = contacts[0]
    role = ", ".join(part for part in (c.title, c.organisation) if part)
    return f"{c.name} – {role}: {', '.join(c.phones_display)}"
