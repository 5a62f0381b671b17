"""Zalo Official Account input channel for Rasa (signed webhook, async turns)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.dedup import Deduplicator, InMemoryDeduplicator, RedisDeduplicator
from bot.channels.forget import forget_sender
from bot.channels.guard import guarded, sanitise
from bot.channels.zalo_agent import ECHO_GRACE_SECONDS, OA_EVENT_PREFIX, handle_oa_message, remember_sent
from bot.channels.zalo_api import DEFAULT_API_BASE, DEFAULT_OAUTH_BASE, ZaloApiClient
from bot.channels.zalo_events import (
    FOLLOW_INTENT,
    IGNORED_EVENTS,
    MEDIA_EVENTS,
    SIGNATURE_HEADER,
    UNSUPPORTED_MEDIA_INTENT,
    dedup_key,
    event_metadata,
    event_user_id,
    setting,
    sign_event,
)
from bot.channels.zalo_output import ZaloOutput
from bot.channels.zalo_quota import FREE_REPLIES_PER_MESSAGE, ReplyQuota
from bot.channels.zalo_shared import make_reply_quota, warn_if_unshared

__all__ = ["ZaloInput", "ZaloOutput", "sign_event", "event_user_id", "forget_sender"]

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class ZaloInput(InputChannel):
    """Receives Zalo OA webhook events; replies via ``ZaloOutput``."""

    @classmethod
    def name(cls) -> str:
        """Channel name (route prefix ``/webhooks/zalo``)."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build from credentials.yml, falling back to ZALO_* environment variables."""
        creds = dict(credentials or {})
        return cls(
            app_id=str(setting(creds, "app_id", "")),
            oa_secret_key=str(setting(creds, "oa_secret_key", "")),
            app_secret=str(setting(creds, "app_secret", "")),
            access_token=str(setting(creds, "access_token", "")),
            refresh_token=str(setting(creds, "refresh_token", "")),
            token_store=setting(creds, "token_store"),
            api_base=str(setting(creds, "api_base", DEFAULT_API_BASE)),
            oauth_base=str(setting(creds, "oauth_base", DEFAULT_OAUTH_BASE)),
            max_age_seconds=float(setting(creds, "max_age_seconds", 300)),
            dedup_redis_url=setting(creds, "dedup_redis_url"),
            redis_url=setting(creds, "redis_url"),
            reply_link=str(setting(creds, "reply_link", "message_id")),
            free_replies=int(setting(creds, "free_replies", FREE_REPLIES_PER_MESSAGE)),
            free_reply_hours=float(setting(creds, "free_reply_hours", 48)),
        )

    def __init__(
        self,
        app_id: str = "",
        oa_secret_key: str = "",
        app_secret: str = "",
        access_token: str = "",
        refresh_token: str = "",
        token_store: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        max_age_seconds: float = 300,
        max_future_seconds: float = 60,
        dedup: Deduplicator | None = None,
        dedup_redis_url: str | None = None,
        retry_attempts: int = 3,
        retry_backoff: float = 0.5,
        redis_url: str | None = None,
        redis_prefix: str = "zalo:",
        reply_link: str = "message_id",
        free_replies: int = FREE_REPLIES_PER_MESSAGE,
        free_reply_hours: float = 48,
        quota: ReplyQuota | None = None,
    ) -> None:
        """Store settings; no network or file I/O beyond reading the token file.

        One Redis URL (``redis_url``, else ``dedup_redis_url``) shares de-duplication, the
        token pair (unless ``token_store`` names a file) and the free-reply counts."""
        self.app_id = str(app_id or "")
        self.oa_secret_key = str(oa_secret_key or "")
        self.max_age_ms = float(max_age_seconds) * 1000
        self.max_future_ms = float(max_future_seconds) * 1000
        redis_url = redis_url or dedup_redis_url or None
        dedup_redis_url = dedup_redis_url or redis_url
        if dedup is None:
            dedup = (
                RedisDeduplicator(dedup_redis_url, prefix=f"{redis_prefix}seen:")
                if dedup_redis_url
                else InMemoryDeduplicator()
            )
        self.dedup = dedup
        self.quota = quota or make_reply_quota(
            redis_url, free_replies, float(free_reply_hours) * 3600, f"{redis_prefix}reply:"
        )
        self.client = ZaloApiClient(
            app_id=self.app_id,
            app_secret=app_secret,
            access_token=access_token,
            refresh_token=refresh_token,
            token_store=token_store,
            api_base=api_base,
            oauth_base=oauth_base,
            attempts=retry_attempts,
            backoff=retry_backoff,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            reply_link=reply_link,
        )
        self.client.on_sent = lambda message_id: remember_sent(self.dedup, message_id)
        self.oa_echo_grace = ECHO_GRACE_SECONDS
        self.forget: Callable[[Any, str], Awaitable[Any]] = forget_sender
        self._tasks: set[asyncio.Task[None]] = set()
        if not (self.app_id and self.oa_secret_key):
            logger.error("Zalo app_id/oa_secret_key missing: every webhook will be rejected")

    def get_output_channel(self, reply_to: str | None = None) -> ZaloOutput:
        """Output channel sharing the API client; replies link to user message ``reply_to``
        (default: the user's latest message) while they are free."""
        return ZaloOutput(self.client, self.quota, reply_to)

    def verify(
        self, raw: bytes, event: dict[str, Any], signature: str, now_ms: float | None = None
    ) -> str | None:
        """Return why the event must be rejected, or None if it is authentic and fresh."""
        if not (self.app_id and self.oa_secret_key):
            return "channel not configured"
        if str(event.get("app_id", "")) != self.app_id:
            return "app_id mismatch"
        timestamp = str(event.get("timestamp", ""))
        if not timestamp.isdigit():
            return "missing or invalid timestamp"
        expected = sign_event(self.app_id, raw, timestamp, self.oa_secret_key)
        given = signature.strip().lower().encode("utf-8", "replace")
        if not hmac.compare_digest(expected.encode("ascii"), given):
            return "bad signature"
        age_ms = (now_ms if now_ms is not None else time.time() * 1000) - int(timestamp)
        if age_ms > self.max_age_ms or -age_ms > self.max_future_ms:
            return "stale timestamp"
        return None

    dedup_key = staticmethod(dedup_key)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a turn in the background, keeping a strong reference to the task."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished task and log its failure."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Zalo event processing failed", exc_info=task.exception())

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the background turns that are still running."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Finish pending turns (bounded) and close HTTP/Redis connections."""
        await self.drain(timeout=10)
        await self.client.close()
        await self.dedup.close()
        await self.quota.close()

    async def handle_event(
        self, event: dict[str, Any], on_new_message: OnNewMessage, agent: Any = None
    ) -> None:
        """Turn one verified event into a Rasa message (or a data deletion)."""
        name = str(event.get("event_name", ""))
        user_id = event_user_id(event)
        if not user_id:
            logger.warning("Zalo event %s without a user id ignored", name)
            return
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if name == "user_withdraw":
            await self._forget_user(agent, user_id)
            return
        if name == "user_send_text":
            # Users cannot inject intents ("/restart"): our buttons send plain text.
            text = sanitise(str(message.get("text") or ""))
            if not text:
                return
        elif name in MEDIA_EVENTS:
            text = UNSUPPORTED_MEDIA_INTENT
        elif name == "follow":
            text = FOLLOW_INTENT
        else:
            return
        msg_id = message.get("msg_id")
        msg_id = str(msg_id) if msg_id not in (None, "") else None
        if msg_id and name != "follow":  # a user message opens a window of free replies
            timestamp = str(event.get("timestamp", ""))
            await self.quota.note(user_id, msg_id, int(timestamp) / 1000 if timestamp.isdigit() else None)
        await on_new_message(
            UserMessage(
                text,
                self.get_output_channel(msg_id),
                user_id,
                input_channel=self.name(),
                message_id=msg_id,
                metadata=event_metadata(event),
            )
        )

    async def _forget_user(self, agent: Any, user_id: str) -> None:
        """Delete the user's conversation, under the conversation lock if any."""
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            logger.error("user_withdraw received but no tracker store is available")
            return
        lock_store = getattr(agent, "lock_store", None)
        if lock_store is not None:
            async with lock_store.lock(user_id):
                await self.forget(tracker_store, user_id)
        else:
            await self.forget(tracker_store, user_id)

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Verify, acknowledge and schedule one webhook delivery."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return response.json({"status": "missing signature"}, status=401)
        raw = request.body or b""
        try:
            event = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return response.json({"status": "invalid json"}, status=400)
        if not isinstance(event, dict):
            return response.json({"status": "invalid json"}, status=400)
        reason = self.verify(raw, event, signature)
        if reason:
            logger.warning("Rejected Zalo webhook: %s", reason)
            return response.json({"status": "forbidden"}, status=403)
        name = str(event.get("event_name", ""))
        if name in IGNORED_EVENTS:
            return response.json({"status": "ignored"})
        if not await self.dedup.first_seen(self.dedup_key(event)):
            return response.json({"status": "duplicate"})
        agent = getattr(request.app.ctx, "agent", None)
        if name.startswith(OA_EVENT_PREFIX):  # the OA wrote: staff in Zalo's inbox, or our own echo
            self._spawn(handle_oa_message(event, self.dedup, agent, self.oa_echo_grace))
            return response.json({"status": "accepted"})
        self._spawn(self.handle_event(event, on_new_message, agent))
        return response.json({"status": "accepted"})

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes: GET / and GET /webhook (health), POST /webhook (events)."""
        zalo_webhook = Blueprint(f"zalo_webhook_{id(self)}", __name__)
        guarded_handler = guarded(on_new_message)  # every turn gets a reply, even if actions fail

        @zalo_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "replies": dict(self.client.stats)})

        @zalo_webhook.route("/webhook", methods=["GET"])
        async def webhook_health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zalo_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                return await self._receive(request, guarded_handler)
            except Exception:  # never answer 5xx: Zalo would retry/disable the hook
                logger.exception("Unexpected error in the Zalo webhook")
                return response.json({"status": "error"})

        @zalo_webhook.listener("after_server_start")
        async def check_shared_state(app: Any, *_: Any) -> None:
            warn_if_unshared(self.client.tokens.store, self.quota, getattr(app.ctx, "agent", None))

        @zalo_webhook.listener("before_server_stop")
        async def shutdown(*_: Any) -> None:
            await self.close()

        return zalo_webhook
