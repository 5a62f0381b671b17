"""Zalo connector state shared through Redis: the token pair with its refresh lock, and
the free-reply accounting. Connections are opened lazily (like bot/channels/dedup.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.channels.zalo_quota import (
    FREE_REPLIES_PER_MESSAGE,
    FREE_REPLY_WINDOW_SECONDS,
    REASON_NO_MESSAGE,
    REASON_QUOTA,
    ReplyGrant,
    decide,
    keep_seconds,
)
from bot.channels.zalo_tokens import (
    LOCK_TIMEOUT_SECONDS,
    TokenPair,
    ZaloTokenError,
    fingerprint,
    pair_from_record,
    record_of,
)

logger = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.05
# Delete the lock only if it still holds our token (it may have expired and been retaken).
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
# KEYS: message hash, user's latest message; ARGV: user, start ms, ttl ms, message id.
_NOTE = """
redis.call('HSETNX', KEYS[1], 'start', ARGV[2])
redis.call('HSETNX', KEYS[1], 'user', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
return 1
"""
# KEYS: message hash; ARGV: now ms, window ms, limit. Returns {start or -1, used, granted}.
_CLAIM = """
local start = redis.call('HGET', KEYS[1], 'start')
if not start then return {-1, 0, 0} end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if tonumber(ARGV[1]) - tonumber(start) > tonumber(ARGV[2]) or used >= tonumber(ARGV[3]) then
  return {tonumber(start), used, 0}
end
used = redis.call('HINCRBY', KEYS[1], 'used', 1)
return {tonumber(start), used, 1}
"""


def connect(url: str) -> Any:
    """An asyncio Redis client for ``url`` (no I/O until the first command)."""
    import redis.asyncio as aioredis

    return aioredis.from_url(url, socket_connect_timeout=5, socket_timeout=10)


@contextlib.asynccontextmanager
async def redis_lock(client: Any, key: str, ttl: float, timeout: float) -> AsyncIterator[None]:
    """``SET key token NX PX ttl`` until acquired (polling), released only by its owner."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + timeout
    try:
        while not await client.set(key, token, nx=True, px=int(ttl * 1000)):
            if time.monotonic() > deadline:
                raise ZaloTokenError(f"timed out waiting for the Zalo token lock {key}")
            await asyncio.sleep(LOCK_POLL_SECONDS)
    except ZaloTokenError:
        raise
    except Exception as e:  # redis errors, connection refused
        raise ZaloTokenError(f"Redis lock {key} unavailable: {e!r}") from e
    try:
        yield
    finally:
        try:
            await client.eval(_RELEASE, 1, key, token)
        except Exception as e:  # it expires by itself after ttl
            logger.warning("Could not release the Zalo token lock %s: %r", key, e)


class RedisTokenStore:
    """The token pair in one Redis key; refreshes serialised by a Redis lock."""

    shared = True

    def __init__(
        self,
        url: str,
        access_token: str = "",
        refresh_token: str = "",
        key: str = "zalo:tokens",
        lock_ttl: float = LOCK_TIMEOUT_SECONDS,
    ) -> None:
        """Seed from configuration; the pair stored in Redis wins once read."""
        self.url = url
        self.key = key
        self.lock_key = key + ":lock"
        self.lock_ttl = float(lock_ttl)
        self._seed = fingerprint(refresh_token)
        self.pair = TokenPair(access_token or "", refresh_token or "", None)
        self._redis: Any | None = None

    def _client(self) -> Any:
        """The lazily created Redis client."""
        if self._redis is None:
            self._redis = connect(self.url)
        return self._redis

    def describe(self) -> str:
        """Where the pair is kept (the URL may hold a password: not logged)."""
        return f"Redis key {self.key}"

    async def read(self) -> TokenPair:
        """Reload the pair from Redis (it wins over the seed unless the seed changed)."""
        try:
            raw = await self._client().get(self.key)
        except Exception as e:
            raise ZaloTokenError(f"Redis token store unavailable: {e!r}") from e
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                logger.error("Zalo token record in %s is not JSON; ignoring it", self.key)
                return self.pair
            if isinstance(data, dict):
                self.pair = pair_from_record(data, self._seed, self.pair)
        return self.pair

    async def write(self, pair: TokenPair) -> None:
        """Store the pair (no expiry: refresh tokens last months)."""
        self.pair = pair
        try:
            await self._client().set(self.key, json.dumps(record_of(pair, self._seed)))
        except Exception as e:
            raise ZaloTokenError(f"Redis token store unavailable: {e!r}") from e

    def locked(self) -> AbstractAsyncContextManager[None]:
        """The refresh lock, held at most ``lock_ttl`` seconds."""
        return redis_lock(self._client(), self.lock_key, self.lock_ttl, self.lock_ttl + 5)

    async def close(self) -> None:
        """Close the Redis connection."""
        if self._redis is not None:
            await self._redis.close()
            self._redis = None


class RedisReplyQuota:
    """Free-reply accounting shared by every process using the same Redis."""

    shared = True

    def __init__(
        self,
        url: str,
        limit: int = FREE_REPLIES_PER_MESSAGE,
        window: float = FREE_REPLY_WINDOW_SECONDS,
        prefix: str = "zalo:reply:",
    ) -> None:
        """Allow ``limit`` linked replies within ``window`` seconds of each user message."""
        self.url = url
        self.limit = max(int(limit), 0)
        self.window = float(window)
        self.prefix = prefix
        self._redis: Any | None = None

    def _client(self) -> Any:
        """The lazily created Redis client."""
        if self._redis is None:
            self._redis = connect(self.url)
        return self._redis

    async def note(self, user_id: str, message_id: str, at: float | None = None) -> None:
        """Start the allowance of a user message (kept a while after, to tell 'expired')."""
        now = time.time()
        start_ms = int((min(at, now) if at else now) * 1000)
        ttl_ms = int(keep_seconds(self.window) * 1000)
        keys = (f"{self.prefix}msg:{message_id}", f"{self.prefix}last:{user_id}")
        try:
            await self._client().eval(_NOTE, 2, *keys, user_id, start_ms, ttl_ms, message_id)
        except Exception as e:  # availability first: the reply is still sent
            logger.warning("Redis reply quota unavailable (%r); user message not recorded", e)

    async def claim(
        self, user_id: str, message_id: str | None = None, now: float | None = None
    ) -> ReplyGrant:
        """Count one reply if it is still free (atomically, in Redis)."""
        now = time.time() if now is None else now
        try:
            if not message_id:
                latest = await self._client().get(f"{self.prefix}last:{user_id}")
                message_id = latest.decode() if isinstance(latest, bytes) else latest
            if not message_id:
                return ReplyGrant(None, 0, REASON_NO_MESSAGE)
            args = (int(now * 1000), int(self.window * 1000), self.limit)
            start, used, granted = await self._client().eval(
                _CLAIM, 1, f"{self.prefix}msg:{message_id}", *args
            )
        except Exception as e:  # fail open: link the reply, Zalo decides
            logger.warning("Redis reply quota unavailable (%r); reply linked without counting", e)
            return ReplyGrant(message_id or None, 0, "")
        if granted:
            return ReplyGrant(message_id, int(used))
        start_s = None if int(start) < 0 else int(start) / 1000
        reason = decide(start_s, int(used), self.limit, self.window, now) or REASON_QUOTA
        return ReplyGrant(None, int(used), reason)

    async def close(self) -> None:
        """Close the Redis connection."""
        if self._redis is not None:
            await self._redis.close()
            self._redis = None
