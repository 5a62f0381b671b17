"""Zalo OA access/refresh token persistence and single-flight refresh."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# Refresh this many seconds before Zalo's advertised expiry.
EXPIRY_SKEW_SECONDS = 120
# Used when Zalo omits ``expires_in`` (tokens last about 25 hours).
DEFAULT_EXPIRES_IN = 25 * 3600

# (url, form data, headers) -> (HTTP status, parsed JSON body)
PostForm = Callable[[str, dict[str, str], dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]]


class ZaloTokenError(Exception):
    """Raised when the access token cannot be obtained or refreshed."""


@dataclass
class TokenPair:
    """An access token, its single-use refresh token and the expiry (epoch s)."""

    access_token: str = ""
    refresh_token: str = ""
    expires_at: float | None = None  # None = unknown, trust until rejected

    def is_expired(self, now: float | None = None) -> bool:
        """Return True when the access token is missing or known to be expired."""
        if not self.access_token:
            return True
        if self.expires_at is None:
            return False
        return (now if now is not None else time.time()) >= self.expires_at


def _fingerprint(value: str) -> str:
    """Short non-reversible fingerprint of a secret (to detect a new seed)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16] if value else ""


@contextlib.contextmanager
def _file_lock(path: str) -> Iterator[None]:
    """Exclusive advisory lock on ``path`` (POSIX flock; no-op elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class TokenStore:
    """Keeps the token pair in memory and durably in a JSON file (atomic, 0600)."""

    def __init__(
        self,
        path: str | None = None,
        access_token: str = "",
        refresh_token: str = "",
        expires_at: float | None = None,
    ) -> None:
        """Seed from configuration; a token file written by a refresh wins."""
        self.path = path or None
        self._seed = _fingerprint(refresh_token)
        self.pair = TokenPair(access_token or "", refresh_token or "", expires_at)
        self.load()

    def load(self) -> TokenPair:
        """Reload the pair from the file if it exists and matches the seed."""
        if not self.path or not os.path.exists(self.path):
            return self.pair
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            logger.error("Cannot read Zalo token file %s: %s", self.path, e)
            return self.pair
        if self._seed and data.get("seed") and data.get("seed") != self._seed:
            # The operator configured a new refresh token: it supersedes the file.
            logger.info("Zalo token file predates the configured refresh token; ignoring it")
            return self.pair
        if data.get("refresh_token") or data.get("access_token"):
            expires_at = data.get("expires_at")
            self.pair = TokenPair(
                str(data.get("access_token") or ""),
                str(data.get("refresh_token") or ""),
                float(expires_at) if expires_at is not None else None,
            )
        return self.pair

    def save(self, pair: TokenPair) -> None:
        """Replace the pair in memory and write it atomically to the file."""
        self.pair = pair
        if not self.path:
            logger.warning("No Zalo token_store configured: refreshed tokens are not persisted")
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        data = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at,
            "seed": self._seed,
            "updated_at": time.time(),
        }
        fd, tmp = tempfile.mkstemp(prefix=".zalo-tokens-", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename durable
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def lock_path(self) -> str | None:
        """Path of the inter-process lock file next to the token file."""
        return self.path + ".lock" if self.path else None


class TokenManager:
    """Hands out the current access token and refreshes it at most once at a time."""

    def __init__(
        self,
        store: TokenStore,
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
        self.refresh_count = 0

    async def get_access_token(self) -> str:
        """Return a usable access token, refreshing first if it is known expired."""
        pair = self.store.pair
        if not pair.is_expired():
            return pair.access_token
        return await self.refresh(stale_token=pair.access_token)

    async def refresh(self, stale_token: str | None) -> str:
        """Refresh unless another caller already replaced ``stale_token``."""
        async with self._lock:
            current = self.store.pair
            if current.access_token != stale_token and not current.is_expired():
                return current.access_token
            lock_path = self.store.lock_path()
            if lock_path is None:
                return await self._refresh_locked(stale_token)
            # Serialise with other processes sharing the token file.
            lock_cm = _file_lock(lock_path)
            await asyncio.to_thread(lock_cm.__enter__)
            try:
                return await self._refresh_locked(stale_token)
            finally:
                lock_cm.__exit__(None, None, None)

    async def _refresh_locked(self, stale_token: str | None) -> str:
        """Do the refresh while holding the locks; re-check the file first."""
        pair = self.store.load()
        if pair.access_token != stale_token and not pair.is_expired():
            return pair.access_token  # another process refreshed meanwhile
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
            raise ZaloTokenError(
                f"Zalo token refresh failed: HTTP {status}, error={body.get('error')} "
                f"{body.get('error_name') or body.get('message') or ''}".strip()
            )
        try:
            expires_in = float(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        expires_at = time.time() + max(expires_in - EXPIRY_SKEW_SECONDS, 0.0)
        new_pair = TokenPair(access, refresh, expires_at)
        # The old refresh token is now spent: persist the new pair before using it.
        try:
            await asyncio.to_thread(self.store.save, new_pair)
        except OSError as e:  # keep working from memory, but shout
            logger.critical("Cannot persist refreshed Zalo tokens to %s: %s", self.store.path, e)
        self.refresh_count += 1
        logger.info("Zalo access token refreshed (expires in %.0f s)", expires_in)
        return access
