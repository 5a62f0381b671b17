"""👍 / 👎 on answers: the quick replies under knowledge and hotline answers, and their action.

    add_feedback_buttons(dispatcher)            # after uttering an answer: its last message gets them
    ActionFeedback()                            # rule: intent feedback -> action_feedback
    ActionFeedbackReason()                      # rule: intent feedback_reason -> action_feedback_reason

Pressing a button sends `/feedback{"feedback":"up"}` (or "down"); Rasa stores the user event,
its entity and the `feedback` slot with the conversation, so the staff console attributes it to
the answer before it. A 👎 asks once, optionally, what was wrong; a new question instead is fine.
The buttons' titles and payloads are data (data/feedback.yml).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import offers_handoff

FEEDBACK_FILE = Path(__file__).resolve().parent.parent / "data" / "feedback.yml"


@functools.lru_cache(maxsize=1)
def feedback_data() -> dict[str, Any]:
    """data/feedback.yml: the buttons and where a mistaken "what was wrong" goes."""
    return yaml.safe_load(FEEDBACK_FILE.read_text(encoding="utf-8")) or {}


def feedback_buttons() -> tuple[dict[str, str], ...]:
    """The 👍 / 👎 buttons (data/feedback.yml)."""
    return tuple(
        {"title": str(b["title"]), "payload": str(b["payload"])} for b in feedback_data().get("buttons") or []
    )


def add_feedback_buttons(dispatcher: CollectingDispatcher) -> None:
    """Give the last message uttered so far the feedback buttons (after its own, such as 📞)."""
    if dispatcher.messages:
        last = dispatcher.messages[-1]
        last["buttons"] = [*(last.get("buttons") or []), *feedback_buttons()]


@offers_handoff
class ActionFeedback(Action):
    """Thank for a 👍; after a 👎, ask once what was wrong (optional)."""

    def name(self) -> str:
        """Action name."""
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Reply to the rating; the rating itself is already in the tracker (entity and slot)."""
        value = next(tracker.get_latest_entity_values("feedback"), None) or tracker.get_slot("feedback")
        dispatcher.utter_message(
            response="utter_feedback_reason" if value == "down" else "utter_feedback_thanks"
        )
        return []


def reason_was_asked(tracker: Tracker) -> bool:
    """Was the action before the latest message the 👎's question of what was wrong?"""
    events = list(tracker.events)
    user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    actions = [
        e.get("name")
        for e in reversed(events[: max(user, 0)])
        if e.get("event") == "action" and e.get("name") != "action_listen"
    ]
    return bool(actions) and actions[0] == "action_feedback" and tracker.get_slot("feedback") == "down"


def action_named(name: str) -> Action:
    """A new instance of the action class whose name() is `name` (the server's own actions)."""
    import importlib

    for module in ("actions.followup", "actions.knowledge", "actions.lookup", "actions.out_of_scope"):
        importlib.import_module(module)  # their classes become subclasses of Action
    todo = list(Action.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        try:
            action = cls()
            if action.name() == name:
                return action
        except (TypeError, NotImplementedError):  # an abstract or foreign action class
            continue
    raise LookupError(name)


class ActionFeedbackReason(Action):
    """After a 👎, thank for saying what was wrong; anywhere else the message is a question the NLU
    mistook for a reason, and the action of its next most likely intent answers it."""

    def name(self) -> str:
        """Action name."""
        return "action_feedback_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Thank, or answer the message with the action that answers its next intent."""
        if reason_was_asked(tracker):
            dispatcher.utter_message(response="utter_feedback_reason_thanks")
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        nxt = next(
            (i.get("name") for i in ranking if i.get("name") not in ("feedback", "feedback_reason")), None
        )
        target = (feedback_data().get("reroute") or {}).get(nxt, "action_out_of_scope")
        return await action_named(target).run(dispatcher, tracker, domain)
