"""Pluggable "seen this event already?" stores for webhook de-duplication."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)


class Deduplicator:
    """Interface: ``first_seen(key)`` is True exactly once per key within the TTL."""

    async def first_seen(self, key: str) -> bool:
        """Atomically record ``key``; return False if it was already recorded."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release resources."""


class InMemoryDeduplicator(Deduplicator):
    """Bounded LRU set with a TTL, local to this process."""

    def __init__(self, max_size: int = 100_000, ttl_seconds: float = 3600.0) -> None:
        """Keep at most ``max_size`` keys for at most ``ttl_seconds`` each."""
        self.max_size = max(int(max_size), 1)
        self.ttl = float(ttl_seconds)
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        """Number of remembered keys."""
        return len(self._seen)

    async def first_seen(self, key: str) -> bool:
        """Record ``key`` unless present and not expired."""
        now = time.monotonic()
        while self._seen:  # drop expired entries from the old end
            oldest, stamp = next(iter(self._seen.items()))
            if now - stamp < self.ttl:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self.max_size:
            self._seen.popitem(last=False)
        return True


class RedisDeduplicator(Deduplicator):
    """Shared across replicas with Redis ``SET key 1 NX EX ttl``."""

    def __init__(self, url: str, ttl_seconds: int = 3600, prefix: str = "zalo:seen:") -> None:
        """Connect lazily to the Redis server at ``url``."""
        self.url = url
        self.ttl = int(ttl_seconds)
        self.prefix = prefix
        self._redis: Any | None = None

    async def first_seen(self, key: str) -> bool:
        """SETNX the key; on Redis errors fail open (treat as first seen)."""
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.url)
        try:
            return bool(await self._redis.set(self.prefix + key, b"1", nx=True, ex=self.ttl))
        except Exception as e:  # noqa: BLE001 - availability over exactly-once
            logger.warning("Redis de-duplication unavailable (%r); accepting event", e)
            return True

    async def close(self) -> None:
        """Close the Redis connection."""
        if self._redis is not None:
            await self._redis.close()
            self._redis = None
