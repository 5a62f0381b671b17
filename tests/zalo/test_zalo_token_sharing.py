"""Several connector processes share one token pair: exactly one spends the single-use
refresh token, the others re-read the new pair (file store with flock, Redis with a lock)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from typing import Any

import pytest
from rasa.core.lock_store import InMemoryLockStore

from bot.channels.zalo_api import ZaloApiClient, ZaloApiError
from bot.channels.zalo_quota import InMemoryReplyQuota
from bot.channels.zalo_redis import RedisTokenStore
from bot.channels.zalo_shared import make_token_store, warn_if_unshared
from bot.channels.zalo_tokens import TokenStore, ZaloTokenError
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FakeZalo

pytestmark = pytest.mark.asyncio
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _client(fake: FakeZalo, **store: Any) -> ZaloApiClient:
    """A client seeded with AT-1/RT-1 (as every process is by its environment)."""
    return ZaloApiClient(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        access_token="AT-1",
        refresh_token="RT-1",
        api_base=fake.url,
        oauth_base=fake.url,
        backoff=0.01,
        **store,
    )


def _stores(kind: str, tmp_path: Any, redis_url: str | None, prefix: str | None) -> dict[str, Any]:
    """Client options naming one shared store of the given kind."""
    if kind == "file":
        return {"token_store": str(tmp_path / "zalo_tokens.json")}
    return {"redis_url": redis_url, "redis_prefix": prefix}


@pytest.fixture(params=["file", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each sharing test runs with a token file and with Redis."""
    return str(request.param)


@pytest.fixture
def shared(store_kind: str, tmp_path: Any, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options of a shared store (Redis tests skip when Redis is not reachable)."""
    if store_kind == "redis":
        url = request.getfixturevalue("redis_url")
        return _stores("redis", tmp_path, url, request.getfixturevalue("redis_prefix"))
    return _stores("file", tmp_path, None, None)


async def test_without_a_shared_store_the_second_refresh_fails(fake_zalo: FakeZalo) -> None:
    """The production fault: each process refreshes with the same single-use token."""
    first, second = _client(fake_zalo), _client(fake_zalo)
    fake_zalo.expire()
    results = await asyncio.gather(
        first.tokens.refresh("AT-1"), second.tokens.refresh("AT-1"), return_exceptions=True
    )
    assert len(fake_zalo.refresh_calls()) == 2
    assert sorted(type(r).__name__ for r in results) == ["ZaloTokenError", "str"]
    (error,) = [r for r in results if isinstance(r, ZaloTokenError)]
    assert "ZALO_TOKEN_STORE" in str(error)  # the error says how to fix it
    await first.close()
    await second.close()


async def test_concurrent_refreshes_make_one_call(fake_zalo: FakeZalo, shared: dict[str, Any]) -> None:
    fake_zalo.refresh_delay = 0.3  # both managers are inside refresh() at the same time
    first, second = _client(fake_zalo, **shared), _client(fake_zalo, **shared)
    fake_zalo.expire()
    tokens = await asyncio.gather(first.tokens.refresh("AT-1"), second.tokens.refresh("AT-1"))
    assert tokens == ["AT-2", "AT-2"]
    (call,) = fake_zalo.refresh_calls()
    assert call.body["refresh_token"] == "RT-1"
    assert first.tokens.refresh_count + second.tokens.refresh_count == 1
    assert first.tokens.store.pair.refresh_token == second.tokens.store.pair.refresh_token == "RT-2"
    await first.close()
    await second.close()


async def test_two_connectors_sending_after_expiry(fake_zalo: FakeZalo, shared: dict[str, Any]) -> None:
    """Zalo rejects AT-1 for both; the refresh also revokes the old access tokens."""
    fake_zalo.refresh_delay = 0.3
    fake_zalo.revoke_on_refresh = True
    first, second = _client(fake_zalo, **shared), _client(fake_zalo, **shared)
    fake_zalo.expire()
    await asyncio.gather(first.send_message("u1", {"text": "a"}), second.send_message("u2", {"text": "b"}))
    assert len(fake_zalo.refresh_calls()) == 1
    assert sorted(m["message"]["text"] for m in fake_zalo.delivered()) == ["a", "b"]
    assert {c.headers["access_token"] for c in fake_zalo.message_calls() if c.accepted} == {"AT-2"}
    # A third connector (a restart) starts from the stored pair, not the spent seed.
    third = _client(fake_zalo, **shared)
    await third.send_message("u3", {"text": "c"})
    assert len(fake_zalo.refresh_calls()) == 1
    for client in (first, second, third):
        await client.close()


async def test_two_processes_refresh_once(fake_zalo: FakeZalo, shared: dict[str, Any]) -> None:
    """Two real OS processes (like the production profile's two Rasa processes)."""
    fake_zalo.refresh_delay = 0.3
    fake_zalo.expire()
    options: list[str] = []
    if "token_store" in shared:
        options = ["--store", shared["token_store"]]
    else:
        options = ["--redis", shared["redis_url"], "--prefix", shared["redis_prefix"]]
    start_at = str(time.time() + 4)  # both processes have imported and wait
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.zalo.token_worker",
            "--api",
            fake_zalo.url,
            "--user",
            user,
            "--start-at",
            start_at,
            *options,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for user in ("p1", "p2")
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), timeout=60)
    results = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    assert [r["error"] for r in results] == ["", ""]
    assert [r["token"] for r in results] == ["AT-2", "AT-2"]
    assert sorted(r["refreshes"] for r in results) == [0, 1]
    assert len(fake_zalo.refresh_calls()) == 1
    assert sorted(m["message"]["text"] for m in fake_zalo.delivered()) == ["from p1", "from p2"]


async def test_store_choice(tmp_path: Any) -> None:
    path = str(tmp_path / "t.json")
    assert isinstance(make_token_store(path, "redis://x", "a", "r", "k"), TokenStore)
    redis_store = make_token_store("redis://127.0.0.1:6379/3", None, "a", "r", "k")
    assert isinstance(redis_store, RedisTokenStore) and redis_store.key == "k"
    assert isinstance(make_token_store(None, "redis://127.0.0.1/0", "a", "r", "k"), RedisTokenStore)
    memory = make_token_store(None, None, "a", "r", "k")
    assert isinstance(memory, TokenStore) and not memory.shared


async def test_redis_store_unreachable_fails_the_refresh_not_the_process() -> None:
    store = RedisTokenStore("redis://127.0.0.1:1/0", "AT-1", "RT-1")
    with pytest.raises(ZaloTokenError):
        async with store.locked():
            pass
    client = ZaloApiClient(app_id=APP_ID, app_secret=APP_SECRET, access_token="", refresh_token="RT-1")
    client.tokens.store = store
    with pytest.raises(ZaloApiError):
        await client.send_message("u", {"text": "x"})
    await client.close()


class _SharedLocks:
    """Stands in for Rasa's RedisLockStore (the production profile's lock store)."""


class _Agent:
    def __init__(self, lock_store: Any) -> None:
        self.lock_store = lock_store


async def test_start_up_warning_when_processes_share_no_token_store(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    quota = InMemoryReplyQuota()
    memory = TokenStore(None, "AT", "RT")
    with caplog.at_level(logging.INFO, logger="bot.channels.zalo_shared"):
        assert warn_if_unshared(memory, quota, _Agent(_SharedLocks())) is True
        assert warn_if_unshared(TokenStore(str(tmp_path / "t.json")), quota, _Agent(_SharedLocks())) is False
        assert warn_if_unshared(memory, quota, _Agent(InMemoryLockStore())) is False
        assert warn_if_unshared(memory, quota, None) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "ZALO_TOKEN_STORE" in warnings[0].getMessage()
