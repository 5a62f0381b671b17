"""Fixtures: fake Zalo API server + the Zalo connector mounted in a real Sanic server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from bot.channels.zalo import ZaloInput
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FakeZalo
from tests.zalo.helpers import OA_SECRET, FakeAgent, Harness, make_event, serve_sanic


@pytest_asyncio.fixture
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    """The fake Zalo OpenAPI/OAuth server."""
    fake = await FakeZalo().start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture
async def make_harness(fake_zalo: FakeZalo, tmp_path: Any) -> AsyncIterator[Callable[..., Any]]:
    """Factory starting the connector (with overrides) in a real Sanic server."""
    started: list[tuple[Any, Harness]] = []

    async def factory(**overrides: Any) -> Harness:
        options: dict[str, Any] = dict(
            app_id=APP_ID,
            oa_secret_key=OA_SECRET,
            app_secret=APP_SECRET,
            access_token="AT-1",
            refresh_token="RT-1",
            token_store=str(tmp_path / "zalo_tokens.json"),
            api_base=fake_zalo.url,
            oauth_base=fake_zalo.url,
            retry_backoff=0.01,
        )
        options.update(overrides)
        channel = ZaloInput(**options)
        agent = FakeAgent()
        server, url = await serve_sanic(channel, agent)
        harness = Harness(channel, agent, fake_zalo, url)
        started.append((server, harness))
        return harness

    yield factory
    for server, harness in started:
        if harness.session is not None:
            await harness.session.close()
        await server.before_stop()  # runs the channel's shutdown listener
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest_asyncio.fixture
async def harness(make_harness: Callable[..., Any]) -> Harness:
    """The connector with default settings."""
    return await make_harness()


@pytest.fixture
def event_factory() -> Callable[..., dict[str, Any]]:
    """Expose make_event to tests."""
    return make_event


REDIS_URL = os.environ.get("ZALO_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest_asyncio.fixture
async def redis_url() -> AsyncIterator[str]:
    """A reachable Redis (ZALO_TEST_REDIS_URL, default db 9 on 127.0.0.1); skip if none."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        await client.ping()
    except Exception as e:  # connection refused, timeout, auth
        await client.close()
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {e!r}")
    yield REDIS_URL
    await client.close()


@pytest_asyncio.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test only; its keys are deleted afterwards."""
    import redis.asyncio as aioredis

    prefix = f"zalo-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = aioredis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.close()
