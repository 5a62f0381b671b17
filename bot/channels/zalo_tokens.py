"""Zalo OA token pair: the storage interface and the JSON file store (atomic, locked)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Longest wait for another process's refresh (three OAuth attempts of 10 s plus backoff).
LOCK_TIMEOUT_SECONDS = 60.0
LOCK_POLL_SECONDS = 0.02


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


def fingerprint(value: str) -> str:
    """Short non-reversible fingerprint of a secret (to detect a new seed)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16] if value else ""


@contextlib.asynccontextmanager
async def file_lock(path: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> AsyncIterator[None]:
    """Exclusive flock on ``path``, polled without blocking the loop (no-op off POSIX)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ZaloTokenError(f"timed out waiting for the Zalo token lock {path}") from None
                await asyncio.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class TokenBackend(Protocol):
    """Where the token pair lives; ``locked`` serialises refreshes across processes."""

    pair: TokenPair
    shared: bool  # True when other processes read and write the same pair

    def describe(self) -> str:
        """Where the pair is kept, for logs (never the tokens)."""
        ...

    async def read(self) -> TokenPair:
        """Reload the pair from the shared store (the in-memory pair if none)."""
        ...

    async def write(self, pair: TokenPair) -> None:
        """Replace the pair in memory and in the shared store."""
        ...

    def locked(self) -> AbstractAsyncContextManager[None]:
        """Inter-process lock held while refreshing (a no-op without a shared store)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def pair_from_record(data: dict[str, Any], seed: str, current: TokenPair) -> TokenPair:
    """The stored pair, unless it predates the configured refresh token (``seed``)."""
    if seed and data.get("seed") and data.get("seed") != seed:
        # The operator configured a new refresh token: it supersedes the stored pair.
        logger.info("Stored Zalo tokens predate the configured refresh token; ignoring them")
        return current
    if not (data.get("refresh_token") or data.get("access_token")):
        return current
    expires_at = data.get("expires_at")
    return TokenPair(
        str(data.get("access_token") or ""),
        str(data.get("refresh_token") or ""),
        float(expires_at) if expires_at is not None else None,
    )


def record_of(pair: TokenPair, seed: str) -> dict[str, Any]:
    """The JSON record stored for ``pair``."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "expires_at": pair.expires_at,
        "seed": seed,
        "updated_at": time.time(),
    }


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
        self._seed = fingerprint(refresh_token)
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
        if not isinstance(data, dict):
            logger.error("Zalo token file %s does not hold a JSON object", self.path)
            return self.pair
        self.pair = pair_from_record(data, self._seed, self.pair)
        return self.pair

    def save(self, pair: TokenPair) -> None:
        """Replace the pair in memory and write it atomically to the file."""
        self.pair = pair
        if not self.path:
            logger.warning("No Zalo token_store configured: refreshed tokens are not persisted")
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        data = record_of(pair, self._seed)
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

    @property
    def shared(self) -> bool:
        """A token file is shared by every process that is given its path."""
        return bool(self.path)

    def describe(self) -> str:
        """Where the pair is kept."""
        return f"file {self.path}" if self.path else "memory (this process only)"

    def lock_path(self) -> str | None:
        """Path of the inter-process lock file next to the token file."""
        return self.path + ".lock" if self.path else None

    async def read(self) -> TokenPair:
        """Reload from the file (in a thread)."""
        return await asyncio.to_thread(self.load)

    async def write(self, pair: TokenPair) -> None:
        """Save to the file (in a thread)."""
        await asyncio.to_thread(self.save, pair)

    def locked(self) -> AbstractAsyncContextManager[None]:
        """flock on ``<path>.lock``; nothing to lock without a file."""
        lock_path = self.lock_path()
        return file_lock(lock_path) if lock_path else contextlib.nullcontext()

    async def close(self) -> None:
        """Nothing to release."""
