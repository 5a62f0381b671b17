"""Free-reply accounting for Zalo OA consultation ("cs") messages (see docs/zalo.md).

Zalo's OA help centre: a reply linked to the user's message (``recipient.message_id``) is
free for up to 8 messages within 48 hours of that user message, and the allowance starts
again with each new user message; the 9th reply, a later one, or one sent with only the
user id counts as a proactive (billed) message. The limits are settings, not constants.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

FREE_REPLIES_PER_MESSAGE = 8
FREE_REPLY_WINDOW_SECONDS = 48 * 3600.0
MAX_TRACKED_MESSAGES = 100_000

REASON_NO_MESSAGE = "no user message to reply to"
REASON_WINDOW = "free reply window expired"
REASON_QUOTA = "free replies used up"


@dataclass(frozen=True)
class ReplyGrant:
    """Outcome of a claim: the user message to link the reply to, or why there is none."""

    message_id: str | None  # None: send as a plain cs message (billed as proactive)
    used: int = 0  # free replies used on that message, this one included
    reason: str = ""  # why the reply is not linked (empty when it is)


class ReplyQuota(Protocol):
    """Counts free replies per user message, shared by the processes that use it."""

    limit: int
    window: float
    shared: bool

    async def note(self, user_id: str, message_id: str, at: float | None = None) -> None:
        """Record a user message (``at``: epoch seconds it was sent; default now)."""
        ...

    async def claim(
        self, user_id: str, message_id: str | None = None, now: float | None = None
    ) -> ReplyGrant:
        """Take one free reply on ``message_id`` (default: the user's latest message)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def keep_seconds(window: float) -> float:
    """How long a user message is remembered: its window, then long enough to tell 'expired'."""
    return window + max(window, 3600.0)


def decide(start: float | None, used: int, limit: int, window: float, now: float) -> str:
    """Why a reply to a message noted at ``start`` with ``used`` replies is not free ('' if it is)."""
    if start is None:
        return REASON_NO_MESSAGE
    if now - start > window:
        return REASON_WINDOW
    if used >= limit:
        return REASON_QUOTA
    return ""


@dataclass
class _Entry:
    """One user message: whose, when (epoch s) and how many linked replies so far."""

    user_id: str
    start: float
    used: int = 0


class InMemoryReplyQuota:
    """Per-process accounting (bounded); right when one process serves each user."""

    shared = False

    def __init__(
        self,
        limit: int = FREE_REPLIES_PER_MESSAGE,
        window: float = FREE_REPLY_WINDOW_SECONDS,
        max_messages: int = MAX_TRACKED_MESSAGES,
    ) -> None:
        """Allow ``limit`` linked replies within ``window`` seconds of each user message."""
        self.limit = max(int(limit), 0)
        self.window = float(window)
        self.max_messages = max(int(max_messages), 1)
        self._messages: OrderedDict[str, _Entry] = OrderedDict()
        self._latest: dict[str, str] = {}

    def _forget_oldest(self, now: float) -> None:
        """Drop messages kept long enough, and the oldest beyond the size bound."""
        while self._messages:
            message_id, entry = next(iter(self._messages.items()))
            if len(self._messages) <= self.max_messages and now - entry.start <= keep_seconds(self.window):
                break
            del self._messages[message_id]
            if self._latest.get(entry.user_id) == message_id:
                del self._latest[entry.user_id]

    async def note(self, user_id: str, message_id: str, at: float | None = None) -> None:
        """Start the allowance of a new user message (a redelivery keeps its count)."""
        now = time.time()
        if message_id not in self._messages:
            self._messages[message_id] = _Entry(user_id, min(at, now) if at else now)
        self._latest[user_id] = message_id
        self._forget_oldest(now)

    async def claim(
        self, user_id: str, message_id: str | None = None, now: float | None = None
    ) -> ReplyGrant:
        """Count one reply if it is still free."""
        now = time.time() if now is None else now
        message_id = message_id or self._latest.get(user_id)
        entry = self._messages.get(message_id) if message_id else None
        if entry is None:
            return ReplyGrant(None, 0, REASON_NO_MESSAGE)
        reason = decide(entry.start, entry.used, self.limit, self.window, now)
        if reason:
            return ReplyGrant(None, entry.used, reason)
        entry.used += 1
        return ReplyGrant(message_id, entry.used)

    async def close(self) -> None:
        """Nothing to release."""
