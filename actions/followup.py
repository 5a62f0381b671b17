"""Follow-ups: "còn Tiền Giang?", "thế còn 5 sao?", or the topic after a clarification."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.hotline import entity_values, lookup_and_answer
from actions.knowledge import KnowledgeAnswerer, question_slots
from bot.entities import find_provinces, find_stars, replace_span
from bot.text import clean_user_text


def rewrite(previous: str, text: str) -> str | None:
    """Reuse the previous question with the province / star level of the follow-up."""
    new_provinces = find_provinces(text)
    new_stars = find_stars(text)
    if not new_provinces and not new_stars:
        return None
    question = previous
    if new_stars:
        old = find_stars(question)
        star = f"{new_stars[0].value} sao"
        question = replace_span(question, old[0], star) if old else f"{question.rstrip(' ?')} {star}?"
    if new_provinces:
        old = find_provinces(question)
        name = new_provinces[0].value
        question = replace_span(question, old[0], name) if old else f"{name}: {question}"
    return question


def _names_contact(entities: dict[str, list[str]]) -> bool:
    """Tell whether a follow-up names an agency, a contact topic or a person."""
    return any(entities.get(kind) for kind in ("agency", "topic", "person"))


class ActionFollowup(Action):
    """Route a short follow-up to the pending contact request or the last question."""

    def __init__(self, retriever: Any = None, contacts: Any = None) -> None:
        """Use the given storage, or the server's shared one."""
        self._retriever, self._contacts = retriever, contacts

    def name(self) -> str:
        """Action name."""
        return "action_followup"

    def answerer(self, contacts: Any) -> KnowledgeAnswerer:
        """The knowledge answerer on the injected or shared index."""
        retriever = self._retriever if self._retriever is not None else resources.load_knowledge().value
        return KnowledgeAnswerer(retriever, contacts)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer the follow-up."""
        text = clean_user_text(tracker.latest_message.get("text") or "", 500)
        contacts = self._contacts if self._contacts is not None else resources.load_contacts().value
        pending = tracker.get_slot("pending")
        if pending == "contact":
            return lookup_and_answer(
                contacts, text, entity_values(tracker), dispatcher, "ask_contact", pending
            )
        previous = tracker.get_slot("last_question")
        # "còn Tiềng Giang?": the follow-up's typos corrected like a question's
        question = rewrite(previous, (await self.answerer(contacts).prepare(text))[0]) if previous else None
        entities = entity_values(tracker)
        if question is None and contacts is not None and _names_contact(entities):
            # "bên tổ kiểm tra công vụ ạ" after a contact answer: the contact, not a passage
            if contacts.lookup(text, entities).contacts:
                return lookup_and_answer(contacts, text, entities, dispatcher, "ask_contact", None)
        if question is None and not previous and len(text.split()) >= 4:
            question = (await self.answerer(contacts).prepare(text))[0]  # a whole question as a follow-up
        if question is None:
            provinces = find_provinces(text)
            if provinces:
                dispatcher.utter_message(response="utter_kb_need_question", province=provinces[0].value)
            elif contacts is not None and contacts.lookup(text, entity_values(tracker)).contacts:
                return lookup_and_answer(
                    contacts, text, entity_values(tracker), dispatcher, "ask_contact", None
                )
            else:
                dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        await self.answerer(contacts).answer(question, dispatcher, "ask_ocop_stats")
        return question_slots(question)
