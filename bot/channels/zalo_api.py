"""HTTP client for the Zalo OA OpenAPI (message v3 + OAuth v4) with retries."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from bot.channels.zalo_tokens import TokenManager, TokenStore, ZaloTokenError

if TYPE_CHECKING:  # pragma: no cover
    import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"
MESSAGE_PATH = "/v3.0/oa/message/cs"
ERROR_TOKEN_EXPIRED = -216


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
    ) -> None:
        """Configure endpoints, credentials and the retry policy (no I/O yet)."""
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.attempts = max(int(attempts), 1)
        self.backoff = float(backoff)
        self.timeout = float(timeout)
        self.tokens = TokenManager(
            TokenStore(token_store, access_token, refresh_token),
            app_id=app_id,
            app_secret=app_secret,
            oauth_base=oauth_base or DEFAULT_OAUTH_BASE,
            post_form=self._post_form,
        )
        self._session: aiohttp.ClientSession | None = None

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
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

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

    async def send_message(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send a customer-service message; refresh the token and retry once if rejected."""
        payload = {"recipient": {"user_id": str(user_id)}, "message": message}
        try:
            token = await self.tokens.get_access_token()
            status, body = await self._post_message(token, payload)
            if status == 401 or body.get("error") == ERROR_TOKEN_EXPIRED:
                logger.info("Zalo rejected the access token; refreshing")
                token = await self.tokens.refresh(stale_token=token)
                status, body = await self._post_message(token, payload)
        except ZaloTokenError as e:
            raise ZaloApiError(str(e)) from e
        if status != 200 or body.get("error") != 0:
            raise ZaloApiError(
                f"Zalo send failed: HTTP {status}, error={body.get('error')} "
                f"{body.get('message') or ''}".strip(),
                status,
                body,
            )
        return body
