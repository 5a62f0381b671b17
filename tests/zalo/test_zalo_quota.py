"""Replies linked to the user's message, and the free-reply accounting (count and window)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.channels.zalo_quota import (
    REASON_NO_MESSAGE,
    REASON_QUOTA,
    REASON_WINDOW,
    InMemoryReplyQuota,
    ReplyGrant,
    ReplyQuota,
)
from bot.channels.zalo_redis import RedisReplyQuota
from tests.zalo.helpers import make_event

pytestmark = pytest.mark.asyncio


async def _check_contract(quota: ReplyQuota, other: ReplyQuota) -> None:
    """``quota`` and ``other`` must share one count (two processes on one store)."""
    t0 = time.time() - 1000  # the user wrote 1,000 s ago; times below are relative to that
    await quota.note("u1", "m1", at=t0)
    assert await quota.claim("u1", "m1", now=t0 + 10) == ReplyGrant("m1", 1)
    assert await other.claim("u1", "m1", now=t0 + 20) == ReplyGrant("m1", 2)
    assert await quota.claim("u1", None, now=t0 + 30) == ReplyGrant("m1", 3)  # latest message
    assert await other.claim("u1", "m1", now=t0 + 40) == ReplyGrant(None, 3, REASON_QUOTA)
    await quota.note("u1", "m1", at=t0)  # a redelivered event does not reset the count
    assert (await quota.claim("u1", "m1", now=t0 + 50)).reason == REASON_QUOTA
    await other.note("u1", "m2", at=t0 + 60)  # a new user message: a new allowance
    assert await quota.claim("u1", None, now=t0 + 61) == ReplyGrant("m2", 1)
    assert await quota.claim("u1", "m2", now=t0 + 60 + 101) == ReplyGrant(None, 1, REASON_WINDOW)
    assert await quota.claim("u2", None, now=t0) == ReplyGrant(None, 0, REASON_NO_MESSAGE)
    assert (await quota.claim("u1", "never-seen", now=t0)).reason == REASON_NO_MESSAGE


async def test_in_memory_quota_counts_per_message_and_window() -> None:
    quota = InMemoryReplyQuota(limit=3, window=100)
    await _check_contract(quota, quota)


async def test_in_memory_quota_is_bounded() -> None:
    quota = InMemoryReplyQuota(limit=8, window=3600, max_messages=2)
    for i in range(5):
        await quota.note(f"u{i}", f"m{i}")
    assert len(quota._messages) == 2 and set(quota._latest) == {"u3", "u4"}


async def test_redis_quota_is_shared_between_instances(redis_url: str, redis_prefix: str) -> None:
    first = RedisReplyQuota(redis_url, limit=3, window=100, prefix=redis_prefix)
    second = RedisReplyQuota(redis_url, limit=3, window=100, prefix=redis_prefix)
    try:
        await _check_contract(first, second)
    finally:
        await first.close()
        await second.close()


async def test_redis_quota_fails_open_when_redis_is_down() -> None:
    quota = RedisReplyQuota("redis://127.0.0.1:1/0")
    await quota.note("u1", "m1")
    assert await quota.claim("u1", "m1") == ReplyGrant("m1", 0, "")
    await quota.close()


async def test_reply_carries_the_users_message_id(make_harness: Callable[..., Any]) -> None:
    harness = await make_harness()
    event = make_event("xin chào", user_id="u7")
    await harness.post(event)
    await harness.settle()
    (sent,) = harness.fake.delivered()
    assert sent["recipient"] == {"message_id": event["message"]["msg_id"]}
    assert harness.fake.reply_links() == [event["message"]["msg_id"]]
    assert harness.channel.client.stats == {"sent_linked": 1}


async def test_reply_after_the_quota_is_sent_unlinked_and_logged(
    make_harness: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    harness = await make_harness(free_replies=2)
    event = make_event("three", user_id="u8")
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo_output"):
        await harness.post(event)
        await harness.settle()
    msg_id = event["message"]["msg_id"]
    assert [m["message"]["text"] for m in harness.fake.delivered()] == ["part 1", "part 2", "part 3"]
    assert harness.fake.reply_links() == [msg_id, msg_id, None]
    assert harness.fake.delivered()[2]["recipient"] == {"user_id": "u8"}
    (record,) = [r for r in caplog.records if "outside the free reply window" in r.getMessage()]
    assert REASON_QUOTA in record.getMessage() and "2 of 2" in record.getMessage()
    assert harness.channel.client.stats["outside_free_window"] == 1
    async with harness.http().get(harness.url + "/webhooks/zalo/") as resp:
        replies = (await resp.json())["replies"]
    assert replies == {"sent_linked": 2, "outside_free_window": 1, "sent_unlinked": 1}
    # The user writes again: a new allowance, replies are linked to the new message.
    again = make_event("xin chào", user_id="u8")
    await harness.post(again)
    await harness.settle()
    assert harness.fake.reply_links()[-1] == again["message"]["msg_id"]


async def test_reply_after_the_window_is_sent_unlinked_and_logged(
    make_harness: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    # The user wrote 200 s ago (the webhook accepts 300 s) and the window is 100 s.
    harness = await make_harness(free_reply_hours=100 / 3600)
    event = make_event("xin chào", user_id="u9", timestamp_ms=int((time.time() - 200) * 1000))
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo_output"):
        await harness.post(event)
        await harness.settle()
    assert harness.fake.reply_links() == [None]
    assert any(REASON_WINDOW in r.getMessage() for r in caplog.records)


async def test_follow_greeting_has_no_message_to_reply_to(make_harness: Callable[..., Any]) -> None:
    harness = await make_harness()
    event = make_event(None, user_id="u10", event_name="follow", follower={"id": "u10"})
    del event["message"]
    await harness.post(event)
    await harness.settle()
    assert harness.fake.reply_links() == [None]
    assert harness.channel.client.stats["outside_free_window"] == 1


async def test_both_ids_when_configured(make_harness: Callable[..., Any]) -> None:
    harness = await make_harness(reply_link="both")
    event = make_event("xin chào", user_id="u11")
    await harness.post(event)
    await harness.settle()
    (sent,) = harness.fake.delivered()
    assert sent["recipient"] == {"user_id": "u11", "message_id": event["message"]["msg_id"]}


async def test_refused_link_is_resent_to_the_user_and_then_given_up(
    make_harness: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    harness = await make_harness()
    harness.fake.reject_links = True
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo_api"):
        for i in range(4):
            await harness.post(make_event(f"m{i}", user_id="u12"))
            await harness.settle()
    recipients = [c.body["recipient"] for c in harness.fake.message_calls()]
    # Three refused links, each resent to the user id; then replies are no longer linked.
    assert [("message_id" in r) for r in recipients] == [True, False] * 3 + [False]
    assert len(harness.fake.delivered()) == 4
    assert harness.fake.reply_links() == [None] * 4
    assert sum("refused the reply link" in r.getMessage() for r in caplog.records) == 3
    assert any("no longer linked" in r.getMessage() for r in caplog.records)
    assert harness.channel.client.stats["link_rejected"] == 3
