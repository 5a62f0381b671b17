"""Delete everything a tracker store holds about one sender (data withdrawal)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)


class UnsupportedTrackerStore(TypeError):
    """Raised when the tracker store type has no deletion support here."""


def unwrap_tracker_store(tracker_store: Any) -> Any:
    """Strip Rasa's FailSafe/Awaitable wrappers to reach the real store."""
    seen = 0
    while hasattr(tracker_store, "_tracker_store") and seen < 5:
        tracker_store = tracker_store._tracker_store
        seen += 1
    return tracker_store


def _delete_sql(store: Any, sender_id: str) -> int:
    """Delete the sender's event rows from an SQLTrackerStore."""
    with store.session_scope() as session:
        count = (
            session.query(store.SQLEvent)
            .filter(store.SQLEvent.sender_id == sender_id)
            .delete(synchronize_session=False)
        )
        session.commit()
    return int(count or 0)


def _delete_redis(store: Any, sender_id: str) -> int:
    """Delete the sender's key from a RedisTrackerStore."""
    return int(store.red.delete(store.key_prefix + sender_id) or 0)


async def forget_sender(tracker_store: Any, sender_id: str) -> bool:
    """Remove the sender's conversation; True if something was deleted."""
    from rasa.core.tracker_store import (
        InMemoryTrackerStore,
        RedisTrackerStore,
        SQLTrackerStore,
    )

    store = unwrap_tracker_store(tracker_store)
    sender_id = str(sender_id)
    if isinstance(store, InMemoryTrackerStore):
        deleted = store.store.pop(sender_id, None) is not None
    elif isinstance(store, SQLTrackerStore):
        deleted = await asyncio.to_thread(_delete_sql, store, sender_id) > 0
    elif isinstance(store, RedisTrackerStore):
        deleted = await asyncio.to_thread(_delete_redis, store, sender_id) > 0
    else:
        raise UnsupportedTrackerStore(f"cannot delete conversations from {type(store).__name__}")
    logger.info("Forgot conversation data of a sender (deleted=%s)", deleted)
    return deleted
