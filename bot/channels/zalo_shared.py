"""Which store holds the Zalo state that several Rasa processes must share, and the
start-up warning when nothing is shared in a multi-process deployment."""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.zalo_quota import (
    FREE_REPLIES_PER_MESSAGE,
    FREE_REPLY_WINDOW_SECONDS,
    InMemoryReplyQuota,
    ReplyQuota,
)
from bot.channels.zalo_tokens import TokenBackend, TokenStore

logger = logging.getLogger(__name__)

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis_url(value: str | None) -> bool:
    """True for a redis://, rediss:// or unix:// URL."""
    return bool(value) and str(value).lower().startswith(REDIS_SCHEMES)


def make_token_store(
    token_store: str | None,
    redis_url: str | None,
    access_token: str,
    refresh_token: str,
    key: str,
) -> TokenBackend:
    """A token file path wins; else a Redis URL (in token_store or redis_url); else memory."""
    if token_store and not is_redis_url(token_store):
        return TokenStore(token_store, access_token, refresh_token)
    url = token_store or redis_url
    if url:
        from bot.channels.zalo_redis import RedisTokenStore

        return RedisTokenStore(url, access_token, refresh_token, key=key)
    return TokenStore(None, access_token, refresh_token)


def make_reply_quota(
    redis_url: str | None,
    limit: int = FREE_REPLIES_PER_MESSAGE,
    window: float = FREE_REPLY_WINDOW_SECONDS,
    prefix: str = "zalo:reply:",
) -> ReplyQuota:
    """Redis accounting when a Redis URL is configured, else per process."""
    if redis_url:
        from bot.channels.zalo_redis import RedisReplyQuota

        return RedisReplyQuota(redis_url, limit, window, prefix)
    return InMemoryReplyQuota(limit, window)


def multi_process(agent: Any) -> bool:
    """Guess whether other Rasa processes serve the same bot: a lock store other than
    the in-memory one exists only to share conversations (endpoints.prod.yml: Redis)."""
    from rasa.core.lock_store import InMemoryLockStore

    lock_store = getattr(agent, "lock_store", None)
    return lock_store is not None and not isinstance(lock_store, InMemoryLockStore)


def warn_if_unshared(tokens: TokenBackend, quota: ReplyQuota, agent: Any) -> bool:
    """Log what is not shared between processes; return True if the tokens are not."""
    if not multi_process(agent):
        if not tokens.shared:
            logger.info("Zalo tokens are kept in memory only (no ZALO_TOKEN_STORE or Redis URL)")
        return False
    if not quota.shared:
        logger.info(
            "Zalo free-reply counts are per process (no Redis URL); nginx keeps a user on one process"
        )
    if tokens.shared:
        logger.info("Zalo tokens are shared through %s", tokens.describe())
        return False
    logger.warning(
        "Several Rasa processes appear to serve this bot (lock store %s) but the Zalo tokens are "
        "kept in each process's memory: the first refresh spends the single-use refresh token and "
        "the other processes' refreshes will fail. Set ZALO_TOKEN_STORE (a file all processes "
        "share, or a redis:// URL) or ZALO_REDIS_URL.",
        type(getattr(agent, "lock_store", None)).__name__,
    )
    return True
