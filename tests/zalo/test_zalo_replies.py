"""Replies through the fake OA API: splitting, buttons, retries and token refresh."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.zalo.helpers import LONG_ANSWER, Harness, make_event

pytestmark = pytest.mark.asyncio


async def test_long_answer_is_split_in_two_messages(harness: Harness) -> None:
    assert len(LONG_ANSWER) >= 3000
    await harness.post(make_event("long"))
    await harness.settle()
    texts = [m["message"]["text"] for m in harness.fake.delivered()]
    assert len(texts) == 2
    assert all(len(t) <= 2000 for t in texts)
    assert all(t.endswith(".") for t in texts)  # cut on a sentence boundary
    assert " ".join(texts) == LONG_ANSWER


@pytest.mark.parametrize("keyword", ["hotline", "quick"])
async def test_buttons_become_template_with_phone_url_and_query(harness: Harness, keyword: str) -> None:
    event = make_event(keyword, user_id="u5")
    await harness.post(event)
    await harness.settle()
    (sent,) = harness.fake.delivered()
    assert sent["recipient"] == {"message_id": event["message"]["msg_id"]}
    message = sent["message"]
    assert message["text"]
    attachment = message["attachment"]
    assert attachment["type"] == "template"
    assert attachment["payload"]["buttons"] == [
        {"title": "Gọi 1900 1234", "type": "oa.open.phone", "payload": {"phone_code": "19001234"}},
        {
            "title": "Trang web",
            "type": "oa.open.url",
            "payload": {"url": "https://example.org/ocop"},
        },
        {"title": "Chào", "type": "oa.query.show", "payload": "/greet"},
    ]


def _write_tokens(path: str, access: str, refresh: str, expires_at: float) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"access_token": access, "refresh_token": refresh, "expires_at": expires_at}, f)


async def test_expired_token_is_refreshed_once_and_stored(
    make_harness: Callable[..., Any], tmp_path: Any
) -> None:
    token_file = str(tmp_path / "zalo_tokens.json")
    _write_tokens(token_file, "AT-1", "RT-1", time.time() - 60)
    harness = await make_harness(token_store=token_file)
    harness.fake.expire()
    # Several concurrent turns all see the expired token: one refresh only.
    results = await asyncio.gather(*(harness.post(make_event(f"m{i}")) for i in range(5)))
    assert [r[0] for r in results] == [200] * 5
    await harness.settle()
    (refresh,) = harness.fake.refresh_calls()
    assert refresh.body == {
        "app_id": "1234567890",
        "grant_type": "refresh_token",
        "refresh_token": "RT-1",
    }
    assert refresh.headers["secret_key"] == "app-secret-xyz"
    with open(token_file, encoding="utf-8") as f:
        stored = json.load(f)
    assert (stored["access_token"], stored["refresh_token"]) == ("AT-2", "RT-2")
    assert stored["expires_at"] > time.time() + 80000
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert len(harness.fake.delivered()) == 5
    assert {c.headers["access_token"] for c in harness.fake.message_calls()} == {"AT-2"}


@pytest.mark.parametrize("mode", ["216", "401"])
async def test_rejected_token_refreshes_and_retries_once(
    make_harness: Callable[..., Any], tmp_path: Any, mode: str
) -> None:
    harness = await make_harness()  # expiry unknown: token is trusted until rejected
    harness.fake.expire(mode)
    await harness.post(make_event("xin chào"))
    await harness.settle()
    assert len(harness.fake.refresh_calls()) == 1
    calls = harness.fake.message_calls()
    assert [c.headers["access_token"] for c in calls] == ["AT-1", "AT-2"]
    assert [m["message"]["text"] for m in harness.fake.delivered()] == ["echo: xin chào"]
    with open(tmp_path / "zalo_tokens.json", encoding="utf-8") as f:
        assert json.load(f)["refresh_token"] == "RT-2"
    # A new channel (restart) starts from the stored pair, not the spent seed.
    harness2 = await make_harness()
    await harness2.post(make_event("lần hai"))
    await harness2.settle()
    assert len(harness.fake.refresh_calls()) == 1
    assert harness.fake.message_calls()[-1].headers["access_token"] == "AT-2"


async def test_transient_5xx_is_retried(harness: Harness) -> None:
    harness.fake.fail_5xx = 2
    await harness.post(make_event("thử lại"))
    await harness.settle()
    assert len(harness.fake.message_calls()) == 3
    assert len(harness.fake.delivered()) == 1


async def test_persistent_5xx_gives_up_without_crashing(harness: Harness) -> None:
    harness.fake.fail_5xx = 100
    status, _, _ = await harness.post(make_event("thử lại"))
    assert status == 200
    await harness.settle()
    assert len(harness.fake.message_calls()) == 3
    assert harness.fake.delivered() == []
    assert len(harness.agent.received) == 1


async def test_network_error_is_retried_then_logged(make_harness: Callable[..., Any]) -> None:
    harness = await make_harness(api_base="http://127.0.0.1:9")  # nothing listens there
    status, _, _ = await harness.post(make_event("alo"))
    assert status == 200
    await harness.settle()
    assert len(harness.agent.received) == 1
