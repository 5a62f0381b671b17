"""A fake Zalo OpenAPI + OAuth server (real aiohttp server on 127.0.0.1) for tests."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "1234567890"
APP_SECRET = "app-secret-xyz"


@dataclass
class Recorded:
    """One request received by the fake server."""

    path: str
    headers: dict[str, str]
    body: Any
    accepted: bool = False
    at: float = field(default_factory=time.monotonic)


class FakeZalo:
    """Implements /v3.0/oa/message/cs and /v4/oa/access_token; records everything.

    Refresh tokens are single use (a spent one answers error -14014). A recipient is
    ``{"user_id"}``, ``{"message_id"}`` (a reply to that user message) or both.
    """

    def __init__(self, access_token: str = "AT-1", refresh_token: str = "RT-1") -> None:
        """Start with one valid token pair."""
        self.valid_access: set[str] = {access_token}
        self.valid_refresh: set[str] = {refresh_token}
        self.requests: list[Recorded] = []
        self.fail_5xx = 0  # answer the next N message calls with HTTP 503
        self.expired_mode: str | None = None  # "216" or "401" for rejected tokens
        self.reject_links = False  # answer -201 to recipients carrying a message_id
        self.revoke_on_refresh = False  # a refresh invalidates the previous access tokens
        self.refresh_delay = 0.0  # seconds the token endpoint takes (widens race windows)
        self._counter = itertools.count(2)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeZalo:
        """Listen on 127.0.0.1 on a random free port."""
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._message)
        app.router.add_post("/v4/oa/access_token", self._token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()

    def expire(self, mode: str = "216") -> None:
        """Invalidate every access token; rejected calls answer -216 or HTTP 401."""
        self.valid_access.clear()
        self.expired_mode = mode

    # ---- views of what was received -------------------------------------
    def message_calls(self) -> list[Recorded]:
        """All calls to the message endpoint (accepted or not)."""
        return [r for r in self.requests if r.path.endswith("/message/cs")]

    def delivered(self) -> list[dict[str, Any]]:
        """Bodies of message calls that were accepted (error 0)."""
        return [r.body for r in self.message_calls() if r.accepted]

    def refresh_calls(self) -> list[Recorded]:
        """All calls to the OAuth refresh endpoint."""
        return [r for r in self.requests if r.path.endswith("/access_token")]

    def reply_links(self) -> list[str | None]:
        """``recipient.message_id`` of each delivered message (None: sent to user_id only)."""
        return [(m.get("recipient") or {}).get("message_id") for m in self.delivered()]

    # ---- handlers -------------------------------------------------------
    async def _message(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = Recorded(request.path, dict(request.headers), body)
        self.requests.append(rec)
        if self.fail_5xx > 0:
            self.fail_5xx -= 1
            return web.Response(status=503, text="busy")
        token = request.headers.get("access_token", "")
        if token not in self.valid_access:
            if self.expired_mode == "401":
                return web.json_response({"error": 401, "message": "unauthorized"}, status=401)
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        recipient = body.get("recipient") if isinstance(body, dict) else None
        if not isinstance(recipient, dict) or not (recipient.get("user_id") or recipient.get("message_id")):
            return web.json_response({"error": -201, "message": "Parameters are invalid"})
        if self.reject_links and recipient.get("message_id"):
            return web.json_response({"error": -201, "message": "message_id is invalid"})
        text = body.get("message", {}).get("text")
        if text is not None and len(text) > 2000:
            return web.json_response({"error": -201, "message": "text too long"})
        rec.accepted = True
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": f"m{len(self.requests)}"}}
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(Recorded(request.path, dict(request.headers), form))
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return web.json_response({"error": -14002, "error_name": "Invalid app"})
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14003, "error_name": "Invalid grant"})
        refresh = str(form.get("refresh_token"))
        if refresh not in self.valid_refresh:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self.valid_refresh.discard(refresh)  # single use
        n = next(self._counter)
        access, new_refresh = f"AT-{n}", f"RT-{n}"
        if self.revoke_on_refresh:
            self.valid_access.clear()
        self.valid_access.add(access)
        self.valid_refresh.add(new_refresh)
        return web.json_response(
            {"access_token": access, "refresh_token": new_refresh, "expires_in": "90000"}
        )
