"""Socket.IO channel for the web chat: origin check, a reply for every turn, clean input.

Replaces Rasa's built-in `socketio` channel (same name, same `/socket.io` path and
events, same `session_persistence` and JWT options). Differences:

* Rasa builds its socket.io server with `cors_allowed_origins=[]`, which disables the
  Origin check entirely: any web site could open a socket to the assistant from a
  visitor's browser. Here only the origins listed in `credentials.yml`
  (`allowed_origins`) plus those in the `OCOP_WEB_ORIGINS` environment variable
  (comma separated) may connect; a handshake from another Origin gets HTTP 400.
  With neither set, the local web chat (`http://localhost:8080`, `http://127.0.0.1:8080`)
  is allowed. Requests without an Origin header (non-browser clients) are not
  affected, as in python-engineio. The CORS headers of `/socket.io` responses come from
  python-engineio for exactly these origins; Rasa's Sanic-CORS (`--cors`) is told to
  leave that path alone, otherwise browsers would see `Access-Control-Allow-Origin`
  twice and refuse the long-polling transport.
* Long-polling only: Sanic 21.12's WebSocket implementation fails on Python 3.11
  ("Passing coroutines is forbidden" in `asyncio.wait`), so a WebSocket upgrade
  breaks the session. The handshake advertises no upgrade and the client stays on
  HTTP long-polling, which is plenty for a chat.
* Every turn is wrapped with `guarded` (the service apology when no reply was sent)
  and user text goes through `sanitise` (an empty message becomes `/message_empty`).
* Single newlines in answers are sent as Markdown line breaks (the widget renders
  Markdown, which would otherwise join the lines of a contact card or a list).
* Buttons whose payload is a link (`tel:`, `mailto:`, `http(s)://`) are sent as
  rasa-webchat `web_url` quick replies, so the widget renders them as real links
  (tap to call / write) instead of sending "tel:..." back as a user message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from rasa.core.channels.socketio import SocketIOOutput as RasaSocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.channels.guard import guarded, mask_pii, sanitise

try:  # the request-context flag Sanic-CORS sets once a response got its CORS headers
    from sanic_cors.core import SANIC_CORS_EVALUATED
except ImportError:  # pragma: no cover - Sanic-CORS is a Rasa dependency
    SANIC_CORS_EVALUATED = "_sanic_cors_e"

logger = logging.getLogger(__name__)

ORIGINS_ENV = "OCOP_WEB_ORIGINS"
REDIS_ENV = "OCOP_SOCKETIO_REDIS_URL"
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
EMPTY_INTENT = "/message_empty"
LINK_PREFIXES = ("tel:", "mailto:", "http://", "https://")
TRANSPORTS = ["polling"]  # see the module docstring: no WebSocket with Sanic 21.12 on Python 3.11
_SINGLE_NEWLINE = re.compile(r"(?<!\n) *\n(?!\n)")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def split_origins(value: Any) -> list[str]:
    """Origins from a YAML list or a comma/space separated string, without trailing '/'."""
    if not value:
        return []
    items: Iterable[Any] = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    return [str(item).strip().rstrip("/") for item in items if str(item).strip()]


def resolve_origins(configured: Any = None, env: str | None = None) -> list[str]:
    """Allowed origins: credentials list (or the local default) plus OCOP_WEB_ORIGINS."""
    origins = split_origins(configured) or list(DEFAULT_ORIGINS)
    extra = split_origins(os.environ.get(ORIGINS_ENV, "") if env is None else env)
    return list(dict.fromkeys(origins + extra))


def is_link(payload: Any) -> bool:
    """Tell whether a button payload is a URI the browser should open."""
    return isinstance(payload, str) and payload.strip().lower().startswith(LINK_PREFIXES)


def quick_reply(button: dict[str, Any]) -> dict[str, Any]:
    """A rasa-webchat quick reply: a link (`web_url`) or a text payload sent back."""
    title, payload = button.get("title", ""), button.get("payload", "")
    if is_link(payload):
        return {"type": "web_url", "title": title, "url": payload.strip(), "payload": payload.strip()}
    return {"content_type": "text", "title": title, "payload": payload}


class OriginCheckedBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint; engine.io alone sets CORS headers on the socket path."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        """Attach the socket.io server and mark its requests as CORS-handled."""
        path = "/" + self.ctx.socketio_path.strip("/")

        async def engineio_sets_cors(request: Request) -> None:
            if request.path == path or request.path.startswith(path + "/"):
                setattr(request.ctx, SANIC_CORS_EVALUATED, "1")

        app.register_middleware(engineio_sets_cors, "request")
        super().register(app, options)


def hard_line_breaks(text: str) -> str:
    """Keep single newlines visible: the widget renders text as Markdown."""
    return _SINGLE_NEWLINE.sub("  \n", text)


class SocketIOOutput(RasaSocketIOOutput):
    """Rasa's socket.io output, with link buttons rendered as links by the widget."""

    async def _send_message(self, socket_id: str, response: Any) -> None:
        """Emit one message; single newlines become Markdown line breaks."""
        if isinstance(response, dict) and isinstance(response.get("text"), str):
            response = {**response, "text": hard_line_breaks(response["text"])}
        await super()._send_message(socket_id, response)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Split the text on blank lines; attach the buttons to the last part."""
        parts = [part for part in (text or "").strip().split("\n\n") if part] or [text or ""]
        messages: list[dict[str, Any]] = [{"text": part} for part in parts]
        messages[-1]["quick_replies"] = [quick_reply(b) for b in buttons]
        for message in messages:
            await self._send_message(recipient_id, message)


class SocketIOInput(RasaSocketIOInput):
    """Socket.IO input channel restricted to the web chat's origins."""

    @classmethod
    def name(cls) -> str:
        """Same name as Rasa's channel (health route `/webhooks/socketio/`)."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build from the `bot.channels.socketio.SocketIOInput:` block of credentials.yml."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            allowed_origins=credentials.get("allowed_origins"),
            redis_url=credentials.get("redis_url"),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        allowed_origins: Any = None,
        redis_url: str | None = None,
    ) -> None:
        """Rasa's options plus `allowed_origins` (list or comma separated string) and `redis_url`
        (OCOP_SOCKETIO_REDIS_URL): with several Rasa processes, a message emitted by one (a staff
        reply) reaches a web chat connected to another through Redis (python-socketio's manager)."""
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.allowed_origins = resolve_origins(allowed_origins)
        self.redis_url = redis_url or os.environ.get(REDIS_ENV) or None

    def get_output_channel(self) -> OutputChannel | None:
        """Output channel for messages pushed from outside a turn (reminders...)."""
        if self.sio is None:
            return super().get_output_channel()
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def _authorised(self, auth: Any) -> bool:
        """JWT check as in Rasa: only when a `jwt_key` is configured."""
        if not self.jwt_key:
            return True
        token = auth.get("token") if isinstance(auth, dict) else None
        if not token:
            return False
        payload = rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
        return bool(payload)

    def _user_message(self, sid: str, data: Any, output: OutputChannel) -> UserMessage | None:
        """Turn a `user_uttered` event into a UserMessage, or None to ignore it."""
        if not isinstance(data, dict):
            logger.warning("socket.io message from %s is not an object: ignored", sid)
            return None
        if self.session_persistence:
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
                logger.warning("socket.io message from %s without a valid session_id: ignored", sid)
                return None
            sender_id = session_id
        else:
            sender_id = sid
        raw = data.get("message")
        text = sanitise(raw if isinstance(raw, str) else "") or EMPTY_INTENT
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        logger.debug("socket.io message from %s: %s", sender_id, mask_pii(text))
        return UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Socket.IO server (origin-checked) attached at `socketio_path`, plus a health route."""
        manager = AsyncRedisManager(self.redis_url, channel="ocop-socketio") if self.redis_url else None
        sio = AsyncServer(
            async_mode="sanic",
            client_manager=manager,
            cors_allowed_origins=self.allowed_origins,
            transports=TRANSPORTS,
            allow_upgrades="websocket" in TRANSPORTS,
        )
        bp = OriginCheckedBlueprint(
            sio, self.socketio_path or "/socket.io", "ocop_socketio_webhook", __name__
        )
        self.sio = sio
        handler = guarded(on_new_message)
        logger.info("socket.io channel accepts origins: %s", ", ".join(self.allowed_origins))

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None) -> bool:
            allowed = self._authorised(auth)
            logger.debug("socket.io connect %s: %s", sid, "accepted" if allowed else "refused (JWT)")
            return allowed

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            logger.debug("socket.io %s disconnected", sid)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            data = dict(data) if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace or "/")
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)
            logger.debug("socket.io %s joined session %s", sid, data["session_id"])

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            message = self._user_message(sid, data, SocketIOOutput(sio, self.bot_message_evt))
            if message is not None:
                await handler(message)

        return bp
