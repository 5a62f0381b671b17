"""Talk to a person: the offer, the start of a handoff, and the offer after two misses in a row.

    rule: intent request_human   -> action_offer_handoff   (explains what happens, confirm button)
    rule: intent handoff_confirm -> action_start_handoff   (slot handoff=waiting + ConversationPaused)
    @offers_handoff on the answering actions: after two refusals, or two 👎, in a row, the offer
    follows the answer.

Once paused, Rasa logs the user's messages but runs no action: the staff console takes the
conversation, replies and closes it through the Rasa server (bot/channels/handoff.py), which
resumes it. Outside office hours (actions/office_hours.py) the user is told when staff answer
and given the hotline; the request waits in the console's inbox. All text is in the domain
(domain/handoff.yml); the buttons and hours are data (data/handoff/office_hours.yml).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.office_hours import HOURS_FILE, OfficeHours, clock_from_env
from console.outcomes import ANSWERED, FALLBACKS, response_outcome

logger = logging.getLogger(__name__)
OFFER = "utter_handoff_offer"
WAITING, ACTIVE = "waiting", "active"
FEEDBACK_INTENT = "feedback"
_hours_cache: dict[str, Any] = {}


def office_hours() -> OfficeHours:
    """The office hours, read again when the file changes (staff edit it without a restart)."""
    stamp = HOURS_FILE.stat().st_mtime_ns if HOURS_FILE.exists() else 0
    if _hours_cache.get("stamp") != stamp:
        _hours_cache.update(stamp=stamp, hours=OfficeHours.load(HOURS_FILE) if stamp else OfficeHours())
    return _hours_cache["hours"]


def general_hotline(contacts: Any) -> str:  # noqa: ANN401 - a ContactBook or None
    """The general hotline as "name – title, organisation: phones" (empty when the table is missing)."""
    general = contacts.general() if contacts is not None else []
    if not general:
        return ""
    c = general[0]
    role = ", ".join(part for part in (c.title, c.organisation) if part)
    return f"{c.name} – {role}: {', '.join(c.phones_display)}"


def turn_kind(intent: str, entities: Iterable[dict[str, Any]], responses: Iterable[str]) -> str | None:
    """What a turn says about the user's luck: "down"/"up" (a rating), "miss" (refused or not
    understood), "hit" (answered), or None (chit-chat, a comment, anything else)."""
    if intent == FEEDBACK_INTENT:
        value = next((e.get("value") for e in entities if e.get("entity") == "feedback"), None)
        return value if value in ("up", "down") else None
    kinds = [response_outcome(r) for r in responses]
    if any(k == "refusal" for k in kinds) or any(r in FALLBACKS for r in responses):
        return "miss"
    return "hit" if any(k in ANSWERED for k in kinds) else None


def past_turns(events: list[dict[str, Any]]) -> list[str | None]:
    """The kind of each earlier turn since the last offer (an offer starts the count again)."""
    kinds: list[str | None] = []
    intent, entities, responses = None, [], []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if intent is not None:
                kinds.append(turn_kind(intent, entities, responses))
            parse = event.get("parse_data") or {}
            intent, entities, responses = (
                str((parse.get("intent") or {}).get("name") or ""),
                parse.get("entities") or [],
                [],
            )
        elif kind == "bot":
            name = (event.get("metadata") or {}).get("utter_action")
            if name == OFFER:
                kinds, intent = [], None
            elif name:
                responses.append(str(name))
    return kinds  # the open turn (the current one) is judged by the caller


def should_offer(tracker: Tracker, uttered: list[dict[str, Any]]) -> bool:
    """Two refusals in a row (among answered / refused turns), or two 👎 in a row (among ratings)."""
    if tracker.get_slot("handoff") or tracker.is_paused():
        return False
    latest = tracker.latest_message or {}
    current = turn_kind(
        str((latest.get("intent") or {}).get("name") or ""),
        latest.get("entities") or [],
        [str(m["response"]) for m in uttered if m.get("response")],
    )
    if current not in ("miss", "down"):
        return False
    same_sort = ("miss", "hit") if current == "miss" else ("down", "up")
    earlier = [k for k in past_turns(tracker.events) if k in same_sort]
    return bool(earlier) and earlier[-1] == current


def utter_offer(dispatcher: CollectingDispatcher) -> None:
    """The offer: what happens when staff take over, the office hours, a confirm button."""
    hours = office_hours()
    dispatcher.utter_message(response=OFFER, buttons=list(hours.buttons), **hours.describe())


def offers_handoff(cls: type[Action]) -> type[Action]:
    """Class decorator: after the action's own answer, offer a person after two misses in a row."""
    run = cls.run

    @functools.wraps(run)
    async def wrapped(
        self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await run(self, dispatcher, tracker, domain)
        try:
            if should_offer(tracker, dispatcher.messages):
                utter_offer(dispatcher)
        except Exception:  # noqa: BLE001 - the answer itself must never be lost
            logger.exception("could not decide on a handoff offer")
        return events

    cls.run = wrapped  # type: ignore[method-assign]
    return cls


class ActionOfferHandoff(Action):
    """The user asked for a person: explain what happens and offer the confirm button."""

    def name(self) -> str:
        """Action name."""
        return "action_offer_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Utter the offer."""
        utter_offer(dispatcher)
        return []


class ActionStartHandoff(Action):
    """Hand the conversation to staff: the slot says it waits, and the assistant pauses."""

    def __init__(self, clock: Any = None, contacts: Any = None) -> None:  # noqa: ANN401
        """Use the given clock and contacts (tests), or OCOP_CLOCK / the system clock and the server's."""
        self._clock, self._contacts = clock, contacts

    def name(self) -> str:
        """Action name."""
        return "action_start_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Tell the user what happens now (in or outside office hours), then pause."""
        now = (self._clock or clock_from_env()).now()
        hours = office_hours()
        is_open = hours.is_open(now)
        if is_open:
            dispatcher.utter_message(response="utter_handoff_started")
        else:
            contacts = self._contacts if self._contacts is not None else resources.load_contacts().value
            dispatcher.utter_message(
                response="utter_handoff_after_hours",
                contact=general_hotline(contacts),
                **hours.opening_values(now),
                **hours.describe(),
            )
        logger.info(
            "handoff requested by %s (%s office hours)", tracker.sender_id, "in" if is_open else "outside"
        )
        return [
            SlotSet("handoff", WAITING),
            SlotSet("handoff_staff", None),
            SlotSet("handoff_after_hours", not is_open),
            ConversationPaused(),
        ]
