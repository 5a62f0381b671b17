"""Test helpers: fake agent, event builder, and a Sanic server running the connector."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from typing import Any

import aiohttp
from rasa.core.channels.channel import UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.channels.zalo import ZaloInput, sign_event
from tests.zalo.fake_zalo import APP_ID, FakeZalo

OA_SECRET = "oa-secret-abc"
LONG_ANSWER = " ".join(
    f"Câu số {i} nói về chương trình OCOP và các tiêu chí đánh giá sản phẩm." for i in range(45)
)
HOTLINE_BUTTONS = [
    {"title": "Gọi 1900 1234", "payload": "tel:1900 1234"},
    {"title": "Trang web", "payload": "https://example.org/ocop"},
    {"title": "Chào", "payload": "/greet"},
]


class FakeAgent:
    """Stands in for rasa's Agent: records messages and answers via the output channel."""

    def __init__(self) -> None:
        """Empty in-memory tracker store, no messages yet."""
        self.received: list[UserMessage] = []
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
        self.delay = 0.0  # simulated NLU/policy/action time per turn (seconds)

    async def handle_message(self, message: UserMessage) -> None:
        """Echo, or answer the test keywords 'hotline', 'quick', 'long' and 'three'."""
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        out, uid, text = message.output_channel, message.sender_id, message.text
        if text == "hotline":
            await out.send_response(uid, {"text": "Đường dây nóng:", "buttons": HOTLINE_BUTTONS})
        elif text == "quick":
            await out.send_response(uid, {"text": "Chọn:", "quick_replies": HOTLINE_BUTTONS})
        elif text == "long":
            await out.send_response(uid, {"text": LONG_ANSWER})
        elif text == "three":  # three separate messages for one user message
            for i in range(3):
                await out.send_response(uid, {"text": f"part {i + 1}"})
        else:
            await out.send_response(uid, {"text": f"echo: {text}"})


def make_event(
    text: str | None = "xin chào",
    user_id: str = "u1",
    event_name: str = "user_send_text",
    msg_id: str | None = None,
    timestamp_ms: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Zalo webhook event as the OA platform sends it."""
    event: dict[str, Any] = {
        "app_id": APP_ID,
        "user_id_by_app": f"app-{user_id}",
        "event_name": event_name,
        "timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)),
        "sender": {"id": user_id},
        "recipient": {"id": "oa-42"},
        "message": {"msg_id": msg_id or uuid.uuid4().hex},
    }
    if text is not None:
        event["message"]["text"] = text
    event.update(extra)
    return event


class Harness:
    """A running connector: post events to it and inspect the fake API."""

    def __init__(self, channel: ZaloInput, agent: FakeAgent, fake: FakeZalo, url: str) -> None:
        """Keep handles to the channel, fake agent, fake API and server URL."""
        self.channel, self.agent, self.fake, self.url = channel, agent, fake, url
        self.webhook = url + "/webhooks/zalo/webhook"
        self.session: aiohttp.ClientSession | None = None

    def http(self) -> aiohttp.ClientSession:
        """Shared client session for posting events."""
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        return self.session

    async def post(
        self,
        event: dict[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        secret: str = OA_SECRET,
        signature: str | None = None,
        sign: bool = True,
    ) -> tuple[int, Any, float]:
        """POST an event (signed by default); return status, JSON body, latency."""
        body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if sign:
            ts = (event or {}).get("timestamp", "0")
            headers["X-ZEvent-Signature"] = signature or sign_event(APP_ID, body, ts, secret)
        start = time.monotonic()
        async with self.http().post(self.webhook, data=body, headers=headers) as resp:
            status = resp.status
            payload = await resp.json(content_type=None)
        return status, payload, time.monotonic() - start

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the connector has no background turn left."""
        await self.channel.drain(timeout=timeout)
        await asyncio.sleep(0.05)
        await self.channel.drain(timeout=timeout)


async def serve_sanic(channel: ZaloInput, agent: FakeAgent) -> tuple[Any, str]:
    """Mount the channel like `rasa run` does and serve it on 127.0.0.1:<random>."""
    Sanic.test_mode = True  # several apps per process (as sanic-testing does)
    app = Sanic(f"zalo_test_{uuid.uuid4().hex[:10]}", configure_logging=False)
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False, backlog=1024)
    await server.startup()
    await server.before_start()
    await server.after_start()
    return server, f"http://127.0.0.1:{port}"
