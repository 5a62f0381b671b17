"""Webhook behaviour over real HTTP: authentication, acknowledgement, routing of events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.forget import forget_sender
from bot.channels.zalo import sign_event
from tests.zalo.fake_zalo import APP_ID
from tests.zalo.helpers import OA_SECRET, Harness, make_event

pytestmark = pytest.mark.asyncio


async def test_health_routes(harness: Harness) -> None:
    for path in ("/webhooks/zalo/", "/webhooks/zalo/webhook"):
        async with harness.http().get(harness.url + path) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"


async def test_signed_text_event_gets_exactly_one_reply(harness: Harness) -> None:
    event = make_event("xin chào", user_id="8123456789012345678")
    status, body, latency = await harness.post(event)
    assert status == 200 and body["status"] == "accepted"
    await harness.settle()
    delivered = harness.fake.delivered()
    # A reply to the user's message (recipient.message_id), which Zalo counts as a free reply.
    assert delivered == [
        {"recipient": {"message_id": event["message"]["msg_id"]}, "message": {"text": "echo: xin chào"}}
    ]
    (call,) = harness.fake.message_calls()
    assert call.headers["access_token"] == "AT-1"
    (msg,) = harness.agent.received
    assert msg.sender_id == "8123456789012345678"
    assert msg.input_channel == "zalo"
    assert msg.message_id == event["message"]["msg_id"]
    assert msg.metadata["zalo"]["event_name"] == "user_send_text"


async def test_ack_does_not_wait_for_the_turn(harness: Harness) -> None:
    harness.agent.delay = 3.0
    status, _, latency = await harness.post(make_event("chậm"))
    assert status == 200 and latency < 1.0
    assert harness.fake.requests == []  # the reply is still being prepared
    await harness.settle()
    assert len(harness.fake.delivered()) == 1


async def test_forged_signature_is_403_and_nothing_sent(harness: Harness) -> None:
    status, _, _ = await harness.post(make_event("hi"), secret="not-the-oa-secret")
    assert status == 403
    tampered = make_event("hi")
    good = sign_event(APP_ID, json.dumps(tampered), tampered["timestamp"], OA_SECRET)
    tampered["message"]["text"] = "tampered"
    status, _, _ = await harness.post(tampered, signature=good)
    assert status == 403
    await harness.settle()
    assert harness.fake.requests == []
    assert harness.agent.received == []


async def test_missing_signature_is_401(harness: Harness) -> None:
    status, _, _ = await harness.post(make_event("hi"), sign=False)
    assert status == 401
    await harness.settle()
    assert harness.fake.requests == [] and harness.agent.received == []


@pytest.mark.parametrize("offset_s", [-301, +120])
async def test_stale_or_future_timestamp_is_403(harness: Harness, offset_s: int) -> None:
    ts = int((time.time() + offset_s) * 1000)
    status, _, _ = await harness.post(make_event("hi", timestamp_ms=ts))
    assert status == 403
    await harness.settle()
    assert harness.fake.requests == []


async def test_app_id_mismatch_is_403(harness: Harness) -> None:
    event = make_event("hi")
    event["app_id"] = "999"
    body = json.dumps(event).encode()
    # Even correctly signed for the other app id, the event is not for us.
    signature = sign_event("999", body, event["timestamp"], OA_SECRET)
    status, _, _ = await harness.post(event, raw=body, signature=signature)
    assert status == 403


async def test_non_json_body_is_400(harness: Harness) -> None:
    status, _, _ = await harness.post({"timestamp": "1"}, raw=b"this is not json {")
    assert status == 400
    status, _, _ = await harness.post({"timestamp": "1"}, raw=b"[1, 2, 3]")
    assert status == 400


async def test_unconfigured_channel_rejects_everything(make_harness: Callable[..., Any]) -> None:
    harness = await make_harness(oa_secret_key="")
    status, _, _ = await harness.post(make_event("hi"))
    assert status == 403


async def test_duplicate_msg_id_gets_one_reply(harness: Harness) -> None:
    event = make_event("lặp lại", msg_id="dup-1")
    first = await harness.post(event)
    second = await harness.post(event)
    assert first[0] == 200 and second[0] == 200
    assert second[1]["status"] == "duplicate"
    await harness.settle()
    assert len(harness.fake.delivered()) == 1
    assert len(harness.agent.received) == 1


@pytest.mark.parametrize(
    "event_name", ["user_send_image", "user_send_sticker", "user_send_location", "user_send_file"]
)
async def test_media_event_becomes_unsupported_media_intent(harness: Harness, event_name: str) -> None:
    event = make_event(None, user_id="u7", event_name=event_name)
    event["message"]["attachments"] = [{"type": event_name[10:], "payload": {"url": "https://x"}}]
    status, _, _ = await harness.post(event)
    assert status == 200
    await harness.settle()
    (msg,) = harness.agent.received
    assert msg.text == "/zalo_unsupported_media"
    assert msg.sender_id == "u7"
    assert msg.metadata["zalo"]["attachment_types"] == [event_name[10:]]
    assert len(harness.fake.delivered()) == 1


async def test_follow_becomes_greet(harness: Harness) -> None:
    event = make_event(None, event_name="follow")
    del event["sender"], event["message"]
    event["follower"] = {"id": "u-follow"}
    status, _, _ = await harness.post(event)
    assert status == 200
    await harness.settle()
    (msg,) = harness.agent.received
    assert (msg.text, msg.sender_id) == ("/greet", "u-follow")


@pytest.mark.parametrize(
    "event_name",
    [
        "oa_send_text",
        "oa_send_image",
        "user_received_message",
        "user_seen_message",
        "unfollow",
        "some_future_event",
    ],
)
async def test_echoes_and_receipts_are_ignored(harness: Harness, event_name: str) -> None:
    event = make_event("echo from OA", event_name=event_name)
    event["sender"] = {"id": "oa-42"}
    event["recipient"] = {"id": "u1"}
    status, _, _ = await harness.post(event)
    assert status == 200
    await harness.settle()
    assert harness.agent.received == []
    assert harness.fake.requests == []


async def test_user_withdraw_forgets_the_sender(harness: Harness) -> None:
    store = harness.agent.tracker_store
    for sender in ("u9", "u10"):
        await store.save(DialogueStateTracker.from_events(sender, [UserUttered("chào")]))
    calls: list[tuple[Any, str]] = []

    async def spy(tracker_store: Any, sender_id: str) -> bool:
        calls.append((tracker_store, sender_id))
        return await forget_sender(tracker_store, sender_id)

    harness.channel.forget = spy
    harness.agent.lock_store = InMemoryLockStore()  # deletion runs under the conversation lock
    event = make_event(None, user_id="u9", event_name="user_withdraw")
    del event["message"]
    status, _, _ = await harness.post(event)
    assert status == 200
    await harness.settle()
    assert calls == [(store, "u9")]
    assert "u9" not in store.store and "u10" in store.store
    assert harness.agent.received == [] and harness.fake.requests == []
