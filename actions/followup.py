"""Follow-ups: "còn Tiền Giang?", "thế còn 5 sao?", "nộp ở đâu?", or the topic after a clarification."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.handoff import offers_handoff
from actions.hotline import earlier_message, entity_values, lookup_and_answer
from actions.knowledge import answer_with_pipeline, context_of, reply_slots
from bot.entities import find_provinces
from bot.text import clean_user_text
from index.pipeline import AnswerPipeline
from index.rewrite import rewrite
from ops.metrics import record_answer


def _after_contact(tracker: Tracker) -> bool:
    """Was the answer to the user's previous message a contact (it set `last_contact`)?"""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                return False
        elif users == 1 and event.get("event") == "slot" and event.get("name") == "last_contact":
            return bool(event.get("value"))
    return False


def _names_contact(entities: dict[str, list[str]]) -> bool:
    """Tell whether a follow-up names an agency, a contact topic or a person."""
    return any(entities.get(kind) for kind in ("agency", "topic", "person"))


@offers_handoff
class ActionFollowup(Action):
    """Route a short follow-up to the pending contact request or the last answer."""

    def __init__(self, pipeline: AnswerPipeline | None = None, contacts: Any = None) -> None:
        """Use the given pipeline and contacts, or the server's shared ones."""
        self._pipeline, self._contacts = pipeline, contacts

    def name(self) -> str:
        """Action name."""
        return "action_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer the follow-up."""
        text = clean_user_text(tracker.latest_message.get("text") or "", 500)
        contacts = self._contacts if self._contacts is not None else resources.load_contacts().value
        pending = tracker.get_slot("pending")
        entities = entity_values(tracker)
        if pending == "contact":
            return lookup_and_answer(contacts, text, entities, dispatcher, "ask_contact", pending)
        if _after_contact(tracker) and (find_provinces(text) or _names_contact(entities)):
            # "bên Tiền Giang gọi đâu?" after a hotline: the same kind of contact, elsewhere
            last = tracker.get_slot("last_contact")
            entities = {
                **entities,
                "province": [m.value for m in find_provinces(text)] or entities.get("province", []),
            }
            return lookup_and_answer(contacts, text, entities, dispatcher, "ask_contact", None, last,
                                     earlier_message(tracker))  # fmt: skip
        pipeline = self._pipeline if self._pipeline is not None else resources.load_knowledge().value
        context = context_of(tracker)
        previous = context.last_question
        question = None
        if previous and pipeline is not None:  # "còn Tiềng Giang?": typos corrected like a question's
            prepared = (await resources.in_encoder_thread(pipeline.prepare, text))[0]
            question = rewrite(previous, prepared, pipeline.parser)
        if question is None and contacts is not None and _names_contact(entities):
            # "<an agency> ạ" after a contact answer: the contact, not a passage
            if contacts.lookup(text, entities).contacts:
                return lookup_and_answer(contacts, text, entities, dispatcher, "ask_contact", None)
        if question is None and not previous and len(text.split()) < 4:  # nothing to follow up on
            if find_provinces(text):
                dispatcher.utter_message(
                    response="utter_kb_need_question", province=find_provinces(text)[0].value
                )
            elif contacts is not None and contacts.lookup(text, entities).contacts:
                return lookup_and_answer(contacts, text, entities, dispatcher, "ask_contact", None)
            else:
                dispatcher.utter_message(response="utter_ask_rephrase")
            record_answer("fallback")  # a question back: which question, or rephrase
            return []
        reply = await answer_with_pipeline(pipeline, contacts, question or text, context, dispatcher)
        return reply_slots(reply, context) if reply is not None else []
