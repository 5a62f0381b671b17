"""Hotline directory: find the right contact, answer with click-to-call buttons."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import add_feedback_buttons
from bot.text import CHAT_WORDS, CONTACT_WORDS, FUNCTION_WORDS, fold, words
from ops.metrics import record_answer

# Folded words that only say "I want a contact" (no topic): then ask what it is about.
GENERIC = FUNCTION_WORDS | CHAT_WORDS | CONTACT_WORDS
MAX_CONTACTS = 3
# "another number" after a contact answer: the next contact, not the same one again (cue in data).
CUES_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "cues.yml"
_CUES = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
ANOTHER = re.compile(_CUES["another_contact"])
PRIVATE = re.compile(_CUES["private_data"])  # ID-card numbers, home addresses: never given
CONTACT_REQUEST = re.compile(_CUES["contact_request"])  # "sdt", "liên hệ", "báo ở đâu"
CONTACT_FIELD = re.compile(_CUES["contact_field"])  # "số điện thoại", "email", "hotline" asked


def buttons_for(contact: Any) -> list[dict[str, str]]:
    """Call and e-mail buttons for one contact."""
    buttons = [
        {"title": f"📞 {shown}", "payload": uri}
        for shown, uri in zip(contact.phones_display, contact.tel_uris)
    ]
    if contact.email:
        buttons.append({"title": f"✉️ {contact.email}", "payload": f"mailto:{contact.email}"})
    return buttons


def contact_kwargs(contact: Any) -> dict[str, str]:
    """Template values for the contact responses."""
    return {
        "name": contact.name,
        "title": contact.title,
        "organisation": contact.organisation,
        "role": ", ".join(part for part in (contact.title, contact.organisation) if part),
        "phones": " – ".join(contact.phones_display),
        "email": contact.email or "—",
        "source": contact.source,
        "verified_on": str(contact.verified_on),
    }


def earlier_message(tracker: Tracker) -> str:
    """The user's message before the latest one ("" when there is none)."""
    texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    return texts[-2] if len(texts) >= 2 else ""


def contact_before(tracker: Tracker) -> str | None:
    """The contact given before the last one (its id), when the conversation gave two."""
    given = [
        e.get("value") for e in tracker.events if e.get("event") == "slot" and e.get("name") == "last_contact"
    ]
    given = [g for i, g in enumerate(given) if g and (i == 0 or g != given[i - 1])]
    return given[-2] if len(given) >= 2 else None


HONORIFIC = re.compile(_CUES["honorific"])  # "ông", "bà" before a name


def entity_values(tracker: Tracker) -> dict[str, list[str]]:
    """Entities of the latest message, grouped by type.

    A person found in one word that no honorific precedes ("làm" read as "Lâm") is dropped:
    one syllable alone is rarely a name, and a wrong person answers with someone else's number.
    """
    text = tracker.latest_message.get("text") or ""
    out: dict[str, list[str]] = {}
    for ent in tracker.latest_message.get("entities") or []:
        start, end = ent.get("start"), ent.get("end")
        if ent.get("entity") == "person" and isinstance(start, int) and isinstance(end, int):
            span, before = text[start:end], fold(text[:start]).lower()
            if len(span.split()) < 2 and not HONORIFIC.search(before):
                continue
        out.setdefault(ent.get("entity"), []).append(str(ent.get("value")))
    return out


def utter_contacts(dispatcher: CollectingDispatcher, contacts: list[Any], response: str) -> None:
    """Utter each contact with its buttons."""
    record_answer("contact")
    for contact in contacts[:MAX_CONTACTS]:
        dispatcher.utter_message(response=response, buttons=buttons_for(contact), **contact_kwargs(contact))
    add_feedback_buttons(dispatcher)  # the hotline answer can be rated (👍 / 👎)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+84|0)[\d .-]{8,13}\d")


def reverse_lookup(book: Any, text: str) -> list[Any]:
    """Contacts whose phone number or e-mail appears in the text (a phone number asked "là của ai")."""
    if book is None:
        return []
    emails = {e.lower() for e in _EMAIL.findall(text)}
    phones = {
        re.sub(r"\D", "", p).replace("84", "0", 1) if p.startswith("+") else re.sub(r"\D", "", p)
        for p in _PHONE.findall(text)
    }
    if not emails and not phones:
        return []
    return [
        c
        for c in book.contacts
        if (c.email and c.email.lower() in emails) or phones & {re.sub(r"\D", "", p) for p in c.phones}
    ]


def related_contacts(contacts: list[Any], previous: Any) -> list[Any]:
    """Other contacts sharing words of their topics with `previous`, most shared first ("phản ánh")."""
    mine = {w for topic in previous.topics for w in words(topic)} - GENERIC
    shared = [
        (len(mine & {w for t in c.topics for w in words(t)}), i)
        for i, c in enumerate(contacts)
        if c.id != previous.id
    ]
    return [contacts[i] for n, i in sorted(shared, key=lambda x: (-x[0], x[1])) if n]


PRONOUN = re.compile(
    _CUES["person_pronoun"]
)  # "ông ấy", "họ": someone named before (one cue with the pipeline's)


def lookup_and_answer(
    book: Any,
    text: str,
    entities: dict[str, list[str]],
    dispatcher: CollectingDispatcher,
    intent: str,
    pending: str | None,
    last_contact: str | None = None,
    earlier: str = "",
    before: str | None = None,
) -> list[EventType]:
    """Resolve a contact request and utter the answer; return slot events.

    `earlier` is the user's message before this one: a request that names no topic ("gọi số
    nào?") after a problem was described is about that problem. `before` is the contact given
    before the last one: after "còn số nào khác?" offered another contact, "còn email?" may be
    about either, so both are given.
    """
    if book is None or not book.contacts:
        dispatcher.utter_message(response="utter_contacts_unavailable")
        record_answer("unavailable")
        return []
    book.reload_if_changed()
    if PRIVATE.search(fold(text).lower()):
        dispatcher.utter_message(response="utter_contact_private")
        record_answer("refusal")
        return [SlotSet("pending", None)]
    owners = reverse_lookup(book, text)
    if owners:  # "0919… là số của ai": the owner, who "ông ấy" then refers to
        utter_contacts(dispatcher, owners[:1], "utter_contact_person")
        return [SlotSet("pending", None), SlotSet("last_contact", owners[0].id)]
    previous = next((c for c in book.contacts if c.id == last_contact), None) if last_contact else None
    if previous is not None and ANOTHER.search(fold(text).lower()):
        # "còn số khác để phản ánh không?": a contact for the topic the message names, else the
        # next one for the previous topic; never the same number again
        named = book.lookup(text, entities).contacts
        same_topic = book.lookup(previous.topic_label or previous.organisation).contacts
        others = list(
            {
                c.id: c for c in [*named, *same_topic, *related_contacts(book.contacts, previous), *book.general()]
                if c.id != previous.id
            }.values()
        )  # fmt: skip
        if others:
            if len(previous.phones) > 1:  # all its numbers were given: say so before the next contact
                dispatcher.utter_message(response="utter_contact_all_numbers", **contact_kwargs(previous))
            dispatcher.utter_message(response="utter_contact_another")
            utter_contacts(dispatcher, others[:1], "utter_contact")
            return [SlotSet("pending", None), SlotSet("last_contact", others[0].id)]
    match = book.lookup(text, entities)
    topic_words = [w for w in words(text) if w not in GENERIC]
    if (
        (match.kind == "none" or not match.contacts)
        and previous
        and (PRONOUN.search(fold(text).lower()) or not topic_words)
    ):
        # a pronoun ("ông ấy", "bà ấy") or only a field ("còn email?"): the contact of the previous answer
        response = "utter_contact_email" if match.field == "email" else "utter_contact"
        asked = next((c for c in book.contacts if c.id == before), None) if before else None
        offered = asked is not None and bool(ANOTHER.search(fold(earlier).lower()))  # the last was another's
        utter_contacts(dispatcher, [asked, previous] if offered else [previous], response)
        return [SlotSet("pending", None)]
    if (match.kind == "none" or not match.contacts) and not topic_words and earlier:
        match = book.lookup(earlier)
    if match.kind == "none" or not match.contacts:
        if not topic_words and pending != "contact":
            dispatcher.utter_message(response="utter_ask_contact_topic")
            record_answer("fallback")
            return [SlotSet("pending", "contact")]
        if match.unknown_province:  # a province the table lacks: the directory has no contact there
            dispatcher.utter_message(response="utter_contact_other_province", province=match.unknown_province)
        else:
            dispatcher.utter_message(response="utter_contact_none")
        utter_contacts(dispatcher, book.general(), "utter_contact")
        return [SlotSet("pending", None)]
    if match.kind in ("person", "title") or intent == "ask_person":
        response = "utter_contact_email" if match.field == "email" else "utter_contact_person"
        utter_contacts(dispatcher, match.contacts[:1], response)
    elif match.field == "email":
        utter_contacts(dispatcher, match.contacts, "utter_contact_email")
    else:
        utter_contacts(dispatcher, match.contacts, "utter_contact")
    return [SlotSet("pending", None), SlotSet("last_contact", match.contacts[0].id)]
