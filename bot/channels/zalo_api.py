"""HTTP client for the Zalo OA OpenAPI (message v3 + OAuth v4) with retries."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.channels.zalo_refresh import TokenManager
from bot.channels.zalo_shared import make_token_store
from bot.channels.zalo_tokens import ZaloTokenError

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"
MESSAGE_PATH = "/v3.0/oa/message/cs"
ERROR_TOKEN_EXPIRED = -216
# How a reply names the user message it answers (docs/zalo.md): "message_id" sends
# recipient {"message_id"} as Zalo's SDKs do, "both" adds the user_id, "off" never links.
REPLY_LINK_MODES = ("message_id", "both", "off")
# After this many linked sends in a row that Zalo refused but accepted unlinked, stop linking.
MAX_LINK_REJECTIONS = 3


class ZaloApiError(Exception):
    """Raised when Zalo does not accept a request after retries."""

    def __init__(self, message: str, status: int = 0, body: dict[str, Any] | None = None):
        """Keep the HTTP status and the parsed body for callers and logs."""
        super().__init__(message)
        self.status = status
        self.body = body or {}


def _parse_body(text: str) -> dict[str, Any]:
    """Parse a JSON object body; anything else becomes an empty dict."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}


class ZaloApiClient:
    """Sends OA messages, refreshing the access token when Zalo rejects it."""

    def __init__(
        self,
        app_id: str = "",
        app_secret: str = "",
        access_token: str = "",
        refresh_token: str = "",
        token_store: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        attempts: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        redis_url: str | None = None,
        redis_prefix: str = "zalo:",
        reply_link: str = "message_id",
    ) -> None:
        """Configure endpoints, credentials and the retry policy (no I/O yet)."""
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.attempts = max(int(attempts), 1)
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        if reply_link not in REPLY_LINK_MODES:
            logger.error("Unknown Zalo reply_link %r; using 'message_id'", reply_link)
            reply_link = "message_id"
        self.reply_link = reply_link
        self.stats: Counter[str] = Counter()  # per-process counters, shown by GET /webhooks/zalo/
        self._link_rejections = 0
        store_key = f"{redis_prefix}tokens:{app_id or 'default'}"
        self.tokens = TokenManager(
            make_token_store(token_store, redis_url, access_token, refresh_token, store_key),
            app_id=app_id,
            app_secret=app_secret,
            oauth_base=oauth_base or DEFAULT_OAUTH_BASE,
            post_form=self._post_form,
        )
        self._session: aiohttp.ClientSession | None = None
        # Called with the id Zalo gives each message we send (its echo is then not taken for staff's).
        self.on_sent: Callable[[str], Awaitable[None]] | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        """Create the shared aiohttp session lazily inside the running loop."""
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session and the token store's connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        await self.tokens.store.close()

    async def _request(self, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """POST with exponential backoff on network errors and HTTP 429/5xx."""
        import aiohttp

        last_error: BaseException | None = None
        status, body = 0, {}
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                async with self._get_session().post(url, **kwargs) as resp:
                    status, body = resp.status, _parse_body(await resp.text())
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                last_error = e
                logger.warning("Zalo request to %s failed (try %d): %r", url, attempt + 1, e)
                continue
            if status != 429 and status < 500:
                return status, body
            last_error = None
            logger.warning("Zalo answered HTTP %d for %s (try %d)", status, url, attempt + 1)
        if last_error is not None:
            raise ZaloApiError(f"network error calling Zalo: {last_error!r}") from last_error
        return status, body

    async def _post_form(
        self, url: str, form: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """POST an url-encoded form (used for the OAuth refresh)."""
        return await self._request(url, data=form, headers=headers)

    async def _post_message(self, token: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST one message payload with the given access token."""
        headers = {"access_token": token, "Content-Type": "application/json"}
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return await self._request(self.api_base + MESSAGE_PATH, data=data, headers=headers)

    def recipient(self, user_id: str, reply_to: str | None) -> dict[str, str]:
        """The ``recipient`` object: linked to the user's message when ``reply_to`` is given."""
        if not reply_to or self.reply_link == "off":
            return {"user_id": str(user_id)}
        if self.reply_link == "both":
            return {"user_id": str(user_id), "message_id": str(reply_to)}
        return {"message_id": str(reply_to)}

    async def _send_payload(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST a payload; refresh the token and retry once if Zalo rejects it."""
        try:
            token = await self.tokens.get_access_token()
            status, body = await self._post_message(token, payload)
            if status == 401 or body.get("error") == ERROR_TOKEN_EXPIRED:
                logger.info("Zalo rejected the access token; refreshing")
                token = await self.tokens.refresh(stale_token=token)
                status, body = await self._post_message(token, payload)
        except ZaloTokenError as e:
            raise ZaloApiError(str(e)) from e
        return status, body

    async def send_message(
        self, user_id: str, message: dict[str, Any], reply_to: str | None = None
    ) -> dict[str, Any]:
        """Send a consultation message, as a reply to user message ``reply_to`` if given.

        If Zalo refuses the linked form, the message is sent again to the user id (a
        normal cs message, billed as proactive) and that is logged.
        """
        linked = bool(reply_to) and self.reply_link != "off" and self._link_rejections < MAX_LINK_REJECTIONS
        payload = {"recipient": self.recipient(user_id, reply_to if linked else None), "message": message}
        status, body = await self._send_payload(payload)
        ok = status == 200 and body.get("error") == 0
        if linked and not ok and status < 500 and status != 429:
            self.stats["link_rejected"] += 1
            logger.warning(
                "Zalo refused the reply link to message %s (HTTP %d, error=%s %s); "
                "sending it to user %s without the link (billed as proactive)",
                reply_to,
                status,
                body.get("error"),
                body.get("message") or "",
                user_id,
            )
            payload = {"recipient": {"user_id": str(user_id)}, "message": message}
            status, body = await self._send_payload(payload)
            ok, linked = status == 200 and body.get("error") == 0, False
            if ok:
                self._link_rejections += 1
                if self._link_rejections == MAX_LINK_REJECTIONS:
                    logger.error(
                        "Zalo refused %d reply links in a row: replies are no longer linked "
                        "(ZALO_REPLY_LINK; see docs/zalo.md)",
                        MAX_LINK_REJECTIONS,
                    )
        elif linked and ok:
            self._link_rejections = 0
        if not ok:
            raise ZaloApiError(
                f"Zalo send failed: HTTP {status}, error={body.get('error')} "
                f"{body.get('message') or ''}".strip(),
                status,
                body,
            )
        self.stats["sent_linked" if linked else "sent_unlinked"] += 1
        sent_id = (body.get("data") or {}).get("message_id") if isinstance(body.get("data"), dict) else None
        if sent_id and self.on_sent is not None:
            await self.on_sent(str(sent_id))
        return body
