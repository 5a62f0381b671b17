"""Staff answering in Zalo's own OA inbox pause the assistant; echoes of our own sends do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered

from tests.zalo.helpers import Harness, make_event

pytestmark = pytest.mark.asyncio
DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain"))


def oa_event(text: str, user_id: str, msg_id: str) -> dict:
    """The event Zalo sends for a message the OA sent (sender: the OA, recipient: the user)."""
    event = make_event(text, user_id=user_id, event_name="oa_send_text", msg_id=msg_id)
    event["sender"], event["recipient"] = {"id": "oa-42"}, {"id": user_id}
    return event


async def test_an_oa_message_from_the_inbox_pauses_the_assistant_for_that_user(harness: Harness) -> None:
    harness.channel.oa_echo_grace = 0
    harness.agent.lock_store = InMemoryLockStore()
    harness.agent.tracker_store = InMemoryTrackerStore(DOMAIN)  # with the handoff slots
    status, body, _ = await harness.post(
        oa_event("Chào anh, tôi là cán bộ Sở NN&PTNT.", "u-staff", "oa-msg-1")
    )
    assert status == 200 and body["status"] == "accepted"
    await harness.settle()
    tracker = await harness.agent.tracker_store.retrieve("u-staff")
    assert tracker is not None and tracker.is_paused()
    assert tracker.get_slot("handoff") == "active" and tracker.get_slot("handoff_staff") == "Zalo OA"
    (staff,) = [e for e in tracker.events if isinstance(e, BotUttered)]
    assert (
        staff.text == "Chào anh, tôi là cán bộ Sở NN&PTNT." and staff.metadata["handoff_staff"] == "Zalo OA"
    )
    assert harness.agent.received == [] and harness.fake.requests == []  # no turn, nothing sent


async def test_the_echo_of_a_message_the_assistant_sent_changes_nothing(harness: Harness) -> None:
    harness.channel.oa_echo_grace = 0
    harness.agent.lock_store = InMemoryLockStore()
    harness.agent.tracker_store = InMemoryTrackerStore(DOMAIN)  # with the handoff slots
    status, _, _ = await harness.post(make_event("xin chào", user_id="u-echo"))
    await harness.settle()
    (sent,) = harness.fake.message_calls()
    sent_id = f"m{harness.fake.requests.index(sent) + 1}"  # the id the fake API returned
    status, _, _ = await harness.post(oa_event("echo: xin chào", "u-echo", sent_id))
    assert status == 200
    await harness.settle()
    assert await harness.agent.tracker_store.retrieve("u-echo") is None  # untouched: not staff
