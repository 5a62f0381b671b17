"""Single-flight refresh of the Zalo OA access token (OAuth v4, single-use refresh tokens)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels.zalo_tokens import TokenBackend, TokenPair, ZaloTokenError

logger = logging.getLogger(__name__)

# Refresh this many seconds before Zalo's advertised expiry.
EXPIRY_SKEW_SECONDS = 120
# Used when Zalo omits ``expires_in`` (tokens last about 25 hours).
DEFAULT_EXPIRES_IN = 25 * 3600
UNSHARED_HINT = (
    " (if several Rasa processes serve this OA, another one may have spent the single-use"
    " refresh token: configure ZALO_TOKEN_STORE or ZALO_REDIS_URL)"
)

# (url, form data, headers) -> (HTTP status, parsed JSON body)
PostForm = Callable[[str, dict[str, str], dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]]


class TokenManager:
    """Hands out the current access token and refreshes it at most once at a time."""

    def __init__(
        self,
        store: TokenBackend,
        app_id: str,
        app_secret: str,
        oauth_base: str,
        post_form: PostForm,
    ) -> None:
        """Create a manager; ``post_form`` performs the OAuth HTTP call."""
        self.store = store
        self.app_id = app_id
        self.app_secret = app_secret
        self.oauth_base = oauth_base.rstrip("/")
        self._post_form = post_form
        self._lock = asyncio.Lock()
        self._loaded = False
        self.refresh_count = 0

    async def _load_once(self) -> None:
        """Pick up the pair another process may have stored (first call only)."""
        self._loaded = True
        try:
            await self.store.read()
        except ZaloTokenError as e:
            logger.warning("Zalo token store %s unreadable at start: %s", self.store.describe(), e)

    async def get_access_token(self) -> str:
        """Return a usable access token, refreshing first if it is known expired."""
        if not self._loaded:
            await self._load_once()
        pair = self.store.pair
        if not pair.is_expired():
            return pair.access_token
        return await self.refresh(stale_token=pair.access_token)

    async def refresh(self, stale_token: str | None) -> str:
        """Refresh unless another caller (task or process) already replaced ``stale_token``."""
        async with self._lock:  # single flight within this process
            current = self.store.pair
            if current.access_token != stale_token and not current.is_expired():
                return current.access_token
            async with self.store.locked():  # and across processes sharing the store
                return await self._refresh_locked(stale_token)

    async def _refresh_locked(self, stale_token: str | None) -> str:
        """Do the refresh while holding the locks; re-read the shared store first."""
        pair = await self.store.read()
        if pair.access_token != stale_token and not pair.is_expired():
            logger.info("Zalo access token was refreshed by another process; using it")
            return pair.access_token
        if not pair.refresh_token:
            raise ZaloTokenError("no Zalo refresh token configured")
        if not (self.app_id and self.app_secret):
            raise ZaloTokenError("app_id and app_secret are needed to refresh the token")
        url = f"{self.oauth_base}/v4/oa/access_token"
        form = {
            "app_id": self.app_id,
            "grant_type": "refresh_token",
            "refresh_token": pair.refresh_token,
        }
        status, body = await self._post_form(url, form, {"secret_key": self.app_secret})
        access = str(body.get("access_token") or "")
        refresh = str(body.get("refresh_token") or "")
        if status != 200 or not access or not refresh:
            hint = "" if self.store.shared else UNSHARED_HINT
            raise ZaloTokenError(
                f"Zalo token refresh failed: HTTP {status}, error={body.get('error')} "
                f"{body.get('error_name') or body.get('message') or ''}".strip()
                + hint
            )
        try:
            expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        expires_at = time.time() + max(expires_in - EXPIRY_SKEW_SECONDS, 0.0)
        new_pair = TokenPair(access, refresh, expires_at)
        # The old refresh token is now spent: persist the new pair before releasing the lock.
        try:
            await self.store.write(new_pair)
        except (OSError, ZaloTokenError) as e:  # keep working from memory, but shout
            self.store.pair = new_pair
            logger.critical("Cannot persist refreshed Zalo tokens to %s: %s", self.store.describe(), e)
        self.refresh_count += 1
        logger.info("Zalo access token refreshed (expires in %.0f s)", expires_in)
        return access
