"""Knowledge answers: a thin action over the question-answering pipeline (index/pipeline.py)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.feedback import add_feedback_buttons
from actions.handoff import offers_handoff
from actions.hotline import CONTACT_FIELD, entity_values, lookup_and_answer, reverse_lookup
from bot.entities import find_provinces, find_stars
from bot.text import clean_user_text, search_words
from index.hotline_hint import OCOP_CONTACT_QUERY, hotline_text
from index.pipeline import AnswerPipeline, Context
from index.reply import Reply
from ops.metrics import record_answer, watch_index

logger = logging.getLogger(__name__)
MESSAGE_LIMIT = 4000  # characters read from a message; the query is its question (≤ 500)


def context_of(tracker: Tracker) -> Context:
    """What the conversation remembers of its last knowledge answer."""
    return Context(
        tracker.get_slot("last_question") or "",
        tuple(tracker.get_slot("answer_refs") or ()),
        tuple(tracker.get_slot("figure_scopes") or ()),
    )


def utter(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """Utter every response of a reply with its values."""
    for response, kwargs in reply.messages():
        dispatcher.utter_message(response=response, **kwargs)
    if reply.answered:  # an answer can be rated (👍 / 👎)
        add_feedback_buttons(dispatcher)


def reply_slots(reply: Reply, context: Context) -> list[EventType]:
    """Remember the question, what answered it and the places of its figures, for follow-ups."""
    if reply.kind == "followup":
        return []
    question = reply.question
    if not reply.answered and not find_provinces(question) and not find_stars(question):
        return []  # a refused message with nothing a follow-up could change keeps the context
    events: list[EventType] = [SlotSet("last_question", question), SlotSet("pending", None),
                               SlotSet("answer_refs", list(reply.refs)),
                               SlotSet("answer_confidence", round(float(reply.confidence), 3))]  # fmt: skip
    provinces = [m.value for m in find_provinces(question)]
    stars = find_stars(question)
    if provinces:
        events.append(SlotSet("province", provinces[0]))
    if stars:
        events.append(SlotSet("star", stars[0].value))
    if reply.kind == "statistic":
        scopes = list(dict.fromkeys([*context.figure_scopes, *provinces]))[-3:]
        events.append(SlotSet("figure_scopes", scopes))
    return events


async def answer_with_pipeline(
    pipeline: AnswerPipeline | None,
    contacts: Any,
    text: str,
    context: Context,
    dispatcher: CollectingDispatcher,
) -> Reply | None:
    """Answer a message through the pipeline (off the event loop); None if it is unavailable."""
    if pipeline is None:
        dispatcher.utter_message(
            response="utter_kb_unavailable", contact=hotline_text(contacts, OCOP_CONTACT_QUERY)
        )
        record_answer("unavailable")
        return None
    reply = await resources.in_encoder_thread(pipeline.answer, text, context)
    watch_index(pipeline)
    record_answer(reply.kind)
    logger.info("answered by %s %s (%.3f)", reply.kind, ",".join(reply.refs), reply.confidence)
    utter(dispatcher, reply)
    return reply


async def answer_if_known(
    pipeline: AnswerPipeline | None, text: str, tracker: Tracker, dispatcher: CollectingDispatcher
) -> list[EventType] | None:
    """The pipeline's answer and its slots when it has one; None (nothing uttered) when it refuses."""
    if pipeline is None:
        return None
    context = context_of(tracker)
    reply = await resources.in_encoder_thread(pipeline.answer, text, context)
    watch_index(pipeline)
    if not reply.answered:
        return None  # the caller answers otherwise (and counts that answer)
    record_answer(reply.kind)
    utter(dispatcher, reply)
    return reply_slots(reply, context)


@offers_handoff
class ActionAnswerKnowledge(Action):
    """Answer figures, plans and programme questions."""

    def __init__(self, pipeline: AnswerPipeline | None = None, contacts: Any = None) -> None:
        """Use the given pipeline and contacts, or the server's shared ones."""
        self._pipeline, self._contacts = pipeline, contacts

    def name(self) -> str:
        """Action name."""
        return "action_answer_knowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answer the latest user message."""
        text = clean_user_text(tracker.latest_message.get("text") or "", MESSAGE_LIMIT)
        contacts = self._contacts if self._contacts is not None else resources.load_contacts().value
        if reverse_lookup(contacts, text):  # a phone number: whose is it?
            return lookup_and_answer(contacts, text, {}, dispatcher, "ask_person", None)
        pipeline = self._pipeline if self._pipeline is not None else resources.load_knowledge().value
        if contacts is not None and CONTACT_FIELD.search(" ".join(search_words(text))):
            prepared = (await resources.in_encoder_thread(pipeline.prepare, text))[0] if pipeline else text
            if pipeline is None or not pipeline.parse(prepared).figure:  # a number asked, not a figure
                return lookup_and_answer(
                    contacts, text, entity_values(tracker), dispatcher, "ask_contact", None
                )
        context = context_of(tracker)
        reply = await answer_with_pipeline(pipeline, contacts, text, context, dispatcher)
        return reply_slots(reply, context) if reply is not None else []
