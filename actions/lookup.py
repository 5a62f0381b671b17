"""The contact action: the directory first; people it does not list are looked up in the documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.handoff import offers_handoff
from actions.hotline import (
    CONTACT_REQUEST,
    PRONOUN,
    contact_before,
    earlier_message,
    entity_values,
    lookup_and_answer,
    reverse_lookup,
    utter_contacts,
)
from actions.knowledge import answer_if_known, answer_with_pipeline, context_of, reply_slots
from bot.text import clean_user_text, fold, search_words

_NAMES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "data/language/names.yml").read_text("utf-8")
)
SURNAMES = frozenset(_NAMES["surnames"])


def person_in(text: str) -> str:
    """The person's name a message writes (three or more capitalised words from a family name), or ""."""
    words = re.findall(r"[^\W\d_]+", text)
    for i, w in enumerate(words):
        if fold(w).lower() in SURNAMES and w[0].isupper() and not w.isupper():
            run = [w]
            for nxt in words[i + 1 :]:
                if not (nxt[0].isupper() and not nxt.isupper()):
                    break
                run.append(nxt)
            if len(run) >= 3:
                return " ".join(run)
    return ""


@offers_handoff
class ActionLookupContact(Action):
    """Answer hotline, phone, e-mail and person questions from the contact table."""

    def __init__(self, contacts: Any = None, pipeline: Any = None) -> None:
        """Use the given contact book and index, or the server's shared ones."""
        self._contacts = contacts
        self._pipeline = pipeline

    def name(self) -> str:
        """Action name."""
        return "action_lookup_contact"

    def _knowledge(self) -> Any:  # noqa: ANN401 - an AnswerPipeline or None
        """The question-answering pipeline (the server's shared one unless one was given)."""
        return self._pipeline if self._pipeline is not None else resources.load_knowledge().value

    def _person_in_documents(self, book: Any, text: str, entities: dict[str, list[str]], last: Any) -> bool:
        """Tell whether an ask_person question is about someone the directory does not list."""
        if book is None or not book.contacts or reverse_lookup(book, text):
            return False
        if last and PRONOUN.search(fold(text).lower()):
            return False  # "ông ấy là ai": the person of the previous answer
        match = book.lookup(text, entities)
        return match.kind == "none" or not match.contacts

    @staticmethod
    def _documents_first(book: Any, text: str, entities: dict[str, list[str]], pending: Any) -> bool:  # noqa: ANN401
        """A contact question that asks no contact field and that the directory cannot match."""
        if (
            book is None
            or pending
            or CONTACT_REQUEST.search(fold(text).lower())
            or reverse_lookup(book, text)
        ):
            return False
        match = book.lookup(text, entities)
        return match.kind == "none" or not match.contacts

    async def _checks_unlisted_person(self, book: Any, text: str) -> bool:  # noqa: ANN401
        """Does the message check the post of a person the directory does not list?"""
        pipeline = self._knowledge()
        verifies = pipeline.parser.verifies_post if pipeline is not None else None
        if book is None or verifies is None or not verifies.search(" ".join(search_words(text))):
            return False
        prepared = (await resources.in_encoder_thread(pipeline.prepare, text))[0]
        person = pipeline.picker.checks.checked_person(pipeline.parse(prepared))
        return bool(person) and not any(person in fold(c.name).lower() for c in book.contacts if c.name)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Look up the latest message."""
        book = self._contacts if self._contacts is not None else resources.load_contacts().value
        text = clean_user_text(tracker.latest_message.get("text") or "", 500)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        pending, last = tracker.get_slot("pending"), tracker.get_slot("last_contact")
        entities = entity_values(tracker)
        if intent in ("ask_contact", "ask_person") and not CONTACT_REQUEST.search(fold(text).lower()):
            pipeline = self._knowledge()
            prepared = (
                (await resources.in_encoder_thread(pipeline.prepare, text))[0] if pipeline is not None else ""
            )
            q = pipeline.parse(prepared) if pipeline is not None else None
            document = q is not None and bool(
                pipeline.parser.asks_document and pipeline.parser.asks_document.search(q.folded)
            )
            event = q is not None and bool(
                pipeline.parser.event_person and pipeline.parser.event_person.search(q.folded)
            )
            if q is not None and (
                q.stars or q.figure or document or event or {"count", "date"} & set(q.wants)
            ):
                # "... đạt OCOP mấy sao?", "nghị định nào …?", "có mấy phần?", "ai chủ trì buổi …?",
                # "hội chợ tổ chức ngày nào?": no contact asked
                reply = await answer_with_pipeline(pipeline, book, text, context_of(tracker), dispatcher)
                return reply_slots(reply, context_of(tracker)) if reply is not None else []
        if await self._checks_unlisted_person(book, text):
            # "ông X là giám đốc sở phải không?" of someone the directory does not list: the
            # documents say X's own post (or the refusal gives a hotline), never the post's holder
            await answer_with_pipeline(self._knowledge(), book, text, context_of(tracker), dispatcher)
            return []
        if intent == "ask_contact" and not last and self._documents_first(book, text, entities, pending):
            # who led a meeting in the news: no contact field asked and no contact matched;
            # the documents answer when they can, else the directory's fallback below does
            answered = await answer_if_known(self._knowledge(), text, tracker, dispatcher)
            if answered is not None:
                return answered
        if intent == "ask_person" and self._person_in_documents(book, text, entities, last):
            # "<a leader quoted in the news> là ai?": such people are in the documents, not the
            # directory; the documents answer (with their source) or the refusal gives a hotline
            await answer_with_pipeline(self._knowledge(), book, text, context_of(tracker), dispatcher)
            return []
        person = person_in(text)
        if person and book is not None and CONTACT_REQUEST.search(fold(text).lower()):
            if not any(fold(person).lower() in fold(c.name).lower() for c in book.contacts if c.name):
                # a number or e-mail of someone the directory does not list: never another contact's
                dispatcher.utter_message(response="utter_contact_unlisted_person", person=person)
                utter_contacts(dispatcher, book.general(), "utter_contact")
                return [SlotSet("pending", None)]
        return lookup_and_answer(
            book,
            text,
            entities,
            dispatcher,
            intent,
            pending,
            last,
            earlier_message(tracker),
            contact_before(tracker),
        )
