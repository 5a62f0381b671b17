"""Staff answering in Zalo's own OA inbox: the OA's message pauses the assistant for that user.

Zalo sends an `oa_send_text` event (`oa_send_image`, ... for media) for every message the OA
sends: the sender is the OA, the recipient the user (docs/zalo.md "Staff answering in Zalo").
Messages our own connector sent are echoed the same way, so each id Zalo returns for our sends
is remembered in the de-duplication store (shared through Redis in production), and an event
for an id we did not send is a person writing from the OA inbox. Then, as for a console
handoff, the tracker gets the slots `handoff`=active and `handoff_staff`="Zalo OA", Rasa's
ConversationPaused, and the staff message itself: the assistant stays silent for that user until
staff close the conversation in the console or the inactivity timeout passes (bot/handoff.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from rasa.shared.core.events import BotUttered, ConversationPaused, SlotSet

from bot.channels.dedup import Deduplicator

logger = logging.getLogger(__name__)
OA_EVENT_PREFIX = "oa_send_"
ZALO_OA_STAFF = "Zalo OA"
ECHO_GRACE_SECONDS = 2.0  # our send's id is stored when Zalo answers; its echo may come right after


def sent_key(message_id: str) -> str:
    """De-duplication key of a message our connector sent."""
    return f"sent:{message_id}"


async def remember_sent(dedup: Deduplicator, message_id: str) -> None:
    """Record a message id Zalo returned for one of our sends."""
    await dedup.first_seen(sent_key(message_id))


def oa_event_user(event: dict[str, Any]) -> str | None:
    """The user an OA message went to (the event's recipient)."""
    recipient = event.get("recipient")
    value = recipient.get("id") if isinstance(recipient, dict) else None
    return str(value) if value not in (None, "") else None


def oa_message_text(event: dict[str, Any]) -> str:
    """The text of the OA's message, or its attachment types in brackets."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    if message.get("text"):
        return str(message["text"])
    kinds = [str(a.get("type")) for a in message.get("attachments") or [] if isinstance(a, dict)]
    return "[" + ", ".join(kinds or [str(event.get("event_name", "")).removeprefix(OA_EVENT_PREFIX)]) + "]"


async def handle_oa_message(
    event: dict[str, Any],
    dedup: Deduplicator,
    agent: Any,
    grace: float = ECHO_GRACE_SECONDS,  # noqa: ANN401
) -> bool:
    """Record a message staff sent from Zalo's OA inbox and pause the assistant; False for our echoes."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    msg_id = str(message.get("msg_id") or "")
    user = oa_event_user(event)
    if grace:
        await asyncio.sleep(grace)
    if not user or (msg_id and not await dedup.first_seen(sent_key(msg_id))):
        return False  # no user, or the echo of a message the assistant sent
    store = getattr(agent, "tracker_store", None)
    if store is None:
        logger.error("OA message to %s not recorded: no tracker store", user)
        return False
    lock_store = getattr(agent, "lock_store", None)
    async with lock_store.lock(user) if lock_store is not None else contextlib.nullcontext():
        tracker = await store.get_or_create_tracker(user)
        events: list[Any] = []
        if not tracker.is_paused():
            events = [
                SlotSet("handoff", "active"),
                SlotSet("handoff_staff", ZALO_OA_STAFF),
                ConversationPaused(),
            ]
        meta = {"handoff_staff": ZALO_OA_STAFF, "zalo_msg_id": msg_id or None, "delivered": True}
        events.append(BotUttered(oa_message_text(event), {}, meta))
        for item in events:
            tracker.update(item)
        await store.save(tracker)
    logger.info("staff wrote to %s from the Zalo OA inbox: the assistant pauses", user)
    return True
