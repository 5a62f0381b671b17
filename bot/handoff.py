"""Human handoff on the Rasa side: staff take, reply and close; silence and the inactivity timeout.

A handoff is Rasa's own pause: `action_start_handoff` (actions/handoff.py) sets the slot
`handoff` to "waiting" and returns ConversationPaused, after which Rasa logs the user's messages
but runs no action. Everything staff do is appended to the same tracker, under the
conversation's lock, and sent through the user's own channel (socket.io room or Zalo OA API):

    take   slot handoff=active, handoff_staff=<name>; utter_handoff_taken to the user
    reply  BotUttered(text) with metadata {"handoff_staff": name, "delivered": ...}
    close  ConversationResumed, the slots cleared, utter_handoff_back, action_listen

The channels' guard calls `after_silent_turn` when a turn produced no reply: in a handed-off
conversation that silence is intended (no apology), unless nobody wrote for the inactivity
timeout (OCOP_HANDOFF_TIMEOUT_MINUTES, default 30): then the assistant resumes, says it is
back and answers the message.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
WAITING, ACTIVE = "waiting", "active"
STAFF_KEY = "handoff_staff"  # metadata key of a staff message; also the slot naming who took it
TIMEOUT_ENV = "OCOP_HANDOFF_TIMEOUT_MINUTES"
ZALO_WINDOW_ENV = "ZALO_REPLY_WINDOW_HOURS"
ZALO_WINDOW_HOURS = 168.0  # 7 days after the user's last message (docs/zalo.md)
MAX_REPLY_CHARS = 2000
_ACTIVITY = (UserUttered, BotUttered, ConversationPaused)


def timeout_seconds() -> float:
    """The inactivity timeout of a handoff (0 or less: never)."""
    return float(os.environ.get(TIMEOUT_ENV, "30")) * 60


def zalo_window_seconds() -> float:
    """How long after the user's last message the OA may still message them."""
    return float(os.environ.get(ZALO_WINDOW_ENV, ZALO_WINDOW_HOURS)) * 3600


def is_handed_off(tracker: DialogueStateTracker | None) -> bool:
    """The conversation is paused for staff (by a handoff, or by staff answering in Zalo's inbox)."""
    return tracker is not None and tracker.is_paused()


def timed_out(tracker: DialogueStateTracker, limit: float | None = None) -> bool:
    """Nobody (user, staff or assistant) wrote for the timeout before the latest user message."""
    limit = timeout_seconds() if limit is None else limit
    events = list(tracker.events)
    last_user = next((i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), None)
    if limit <= 0 or last_user is None:
        return False
    before = [e.timestamp for e in events[:last_user] if isinstance(e, _ACTIVITY)]
    return bool(before) and events[last_user].timestamp - max(before) > limit


def last_user_time(tracker: DialogueStateTracker, channel: str | None = None) -> float | None:
    """When the user last wrote (on `channel`, if given)."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and (channel is None or event.input_channel == channel):
            return event.timestamp
    return None


def output_for(input_channels: list[Any], channel: str | None) -> OutputChannel | None:
    """The output channel that reaches the user on their channel (None: it cannot push, e.g. REST)."""
    for input_channel in input_channels or []:
        if input_channel.name() == channel:
            return input_channel.get_output_channel()
    return None


def socket_connected(output: OutputChannel, sender: str) -> bool:
    """A web chat page of this conversation is connected now (its socket joined the session's room)."""
    manager = getattr(getattr(output, "sio", None), "manager", None)
    if hasattr(manager, "_publish"):  # a Redis manager: another Rasa process may hold the socket
        return True
    rooms = getattr(manager, "rooms", {}) or {}
    return any(rooms.get(ns, {}).get(sender) for ns in rooms)


async def deliver(output: OutputChannel | None, sender: str, message: dict[str, Any]) -> tuple[bool, str]:
    """Send one message; (delivered, reason when not: no_push, not_connected, send_failed)."""
    if output is None:  # the channel cannot reach the user outside a turn (REST)
        return False, "no_push"
    failed_before = getattr(output, "failed", 0)
    try:
        await output.send_response(sender, dict(message))
    except Exception:  # noqa: BLE001 - reported to the console, the tracker keeps the message
        logger.exception("handoff message to %s not delivered", sender)
        return False, "send_failed"
    if getattr(output, "failed", 0) > failed_before:  # the Zalo output logs and counts its failures
        return False, "send_failed"
    if hasattr(output, "sio") and not socket_connected(output, sender):
        return False, "not_connected"
    return True, ""


async def render(
    agent: Any, tracker: DialogueStateTracker, output_name: str, response: str, **values: Any
) -> dict:  # noqa: ANN401
    """A domain response as a message dict (text, buttons, ...), with its name for the console."""
    message = await agent.nlg.generate(response, tracker, output_name, **values) or {}
    return {**message, "utter_action": response}


def bot_event(message: dict[str, Any], **metadata: Any) -> BotUttered:
    """The tracker event of a message sent to the user."""
    data = {k: message.get(k) for k in ("buttons", "quick_replies", "attachment", "custom") if message.get(k)}
    meta = {k: v for k, v in metadata.items() if v is not None}
    if message.get("utter_action"):
        meta["utter_action"] = message["utter_action"]
    return BotUttered(message.get("text"), data, meta)


def resume_events() -> list[Event]:
    """Events that end a handoff (the bot message saying it is back is added by the caller)."""
    return [
        ConversationResumed(),
        SlotSet("handoff", None),
        SlotSet(STAFF_KEY, None),
        SlotSet("handoff_after_hours", None),
    ]


async def resume(
    agent: Any,
    tracker: DialogueStateTracker,
    output: OutputChannel | None,
    response: str,
    reason: str,  # noqa: ANN401
) -> tuple[bool, str]:
    """End the handoff in the tracker and tell the user the assistant is back."""
    for event in resume_events():
        tracker.update(event)
    name = output.name() if output is not None else "rest"
    message = await render(agent, tracker, name, response)
    delivered, why = await deliver(output, tracker.sender_id, message)
    tracker.update(bot_event(message, handoff_end=reason, delivered=delivered))
    tracker.update(ActionExecuted("action_listen"))  # the next message is read as a new turn
    logger.info("handoff of %s ended (%s)", tracker.sender_id, reason)
    return delivered, why


def current_agent() -> Any:  # noqa: ANN401 - rasa's Agent, or None outside a server
    """The running server's agent (None when there is none)."""
    try:
        from sanic import Sanic

        return Sanic.get_app().ctx.agent
    except Exception:  # noqa: BLE001 - several apps (tests) or none
        return None


async def after_silent_turn(sender: str, output: OutputChannel, agent: Any = None) -> bool:  # noqa: ANN401
    """True when a turn without reply is a handed-off one (no apology). After the inactivity
    timeout the handoff ends here: the assistant says it is back and answers the message."""
    agent = agent or current_agent()
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    tracker = await store.retrieve(sender)
    if not is_handed_off(tracker):
        return False
    if not timed_out(tracker):
        return True
    async with agent.lock_store.lock(sender):
        tracker = await store.retrieve(sender)
        if is_handed_off(tracker) and timed_out(tracker):
            await resume(agent, tracker, output, "utter_handoff_back_timeout", "timeout")
            await agent.processor._run_prediction_loop(output, tracker)  # answer the waiting message
            await store.save(tracker)
    return True


def within_zalo_window(tracker: DialogueStateTracker, channel: str | None, now: float | None = None) -> bool:
    """Zalo lets the OA message a user only for a while after their last message."""
    if channel != "zalo":
        return True
    last = last_user_time(tracker, "zalo")
    return last is not None and (now or time.time()) - last <= zalo_window_seconds()
