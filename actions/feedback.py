"""👍 / 👎 on answers: the quick replies under knowledge and hotline answers, and their action.

    add_feedback_buttons(dispatcher)            # after uttering an answer: its last message gets them
    ActionFeedback()                            # rule: intent feedback -> action_feedback

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

FEEDBACK_FILE = Path(__file__).resolve().parent.parent / "data" / "feedback.yml"


@functools.lru_cache(maxsize=1)
def feedback_buttons() -> tuple[dict[str, str], ...]:
    """The 👍 / 👎 buttons (data/feedback.yml)."""
    data = yaml.safe_load(FEEDBACK_FILE.read_text(encoding="utf-8")) or {}
    return tuple({"title": str(b["title"]), "payload": str(b["payload"])} for b in data.get("buttons") or [])


def add_feedback_buttons(dispatcher: CollectingDispatcher) -> None:
    """Give the last message uttered so far the feedback buttons (after its own, such as 📞)."""
    if dispatcher.messages:
        last = dispatcher.messages[-1]
        last["buttons"] = [*(last.get("buttons") or []), *feedback_buttons()]


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
