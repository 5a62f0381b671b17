"""The web chat's socket.io channel, mounted in a real Sanic server like `rasa run` does."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import socketio
from rasa.core.channels.channel import UserMessage, register
from rasa.server import configure_cors
from sanic import Sanic

from bot.channels.socketio import SocketIOInput, hard_line_breaks, quick_reply, resolve_origins

WEB_ORIGIN = "http://localhost:8180"
BUTTONS = [
    {"title": "📞 0913 979 245", "payload": "tel:0913979245"},
    {"title": "✉️ Email", "payload": "mailto:a@b.vn"},
    {"title": "Cách tham gia OCOP", "payload": "Muốn tham gia OCOP thì đăng ký thế nào?"},
]


class EchoAgent:
    """Answers every turn with the text it got and the buttons above."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        reply = {"text": f"echo: {message.text}\n\nChọn:", "buttons": BUTTONS}
        await message.output_channel.send_response(message.sender_id, reply)


@pytest_asyncio.fixture
async def server() -> Any:
    """Channel + agent on 127.0.0.1:<random>, with Rasa's CORS setup for the web origin."""
    Sanic.test_mode = True
    app = Sanic(f"sio_test_{uuid.uuid4().hex[:10]}", configure_logging=False)
    app.ctx.agent = EchoAgent()
    configure_cors(app, [WEB_ORIGIN])
    register([SocketIOInput(session_persistence=True, allowed_origins=[WEB_ORIGIN])], app, route="/webhooks/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    yield url, app.ctx.agent
    await srv.before_stop()
    await srv.close()
    await srv.after_stop()


async def handshake(url: str, origin: str) -> tuple[int, list[str], str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}) as r:
            return r.status, r.headers.getall("Access-Control-Allow-Origin", []), await r.text()


async def chat(url: str, messages: list[Any], expect: int) -> tuple[str, list[dict[str, Any]]]:
    """Connect, get a session, send messages; return (session id, bot messages)."""
    client = socketio.AsyncClient()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    received: list[dict[str, Any]] = []
    done = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(session_id: str) -> None:
        confirmed.set_result(session_id)

    @client.on("bot_uttered")
    async def on_bot(data: dict[str, Any]) -> None:
        received.append(data)
        if len(received) >= expect:
            done.set()

    await client.connect(url, headers={"Origin": WEB_ORIGIN}, transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirmed, 5)
        for message in messages:
            await client.emit("user_uttered", {"message": message, "session_id": session_id})
        await asyncio.wait_for(done.wait(), 5)
    finally:
        # do not wait for the pending long-poll (up to the 25 s ping interval)
        await client.eio.disconnect(abort=True)
    return session_id, received


def test_origins_from_credentials_plus_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCOP_WEB_ORIGINS", raising=False)
    assert resolve_origins(None) == ["http://localhost:8080", "http://127.0.0.1:8080"]
    assert resolve_origins(["https://ocop.angiang.gov.vn/"]) == ["https://ocop.angiang.gov.vn"]
    assert resolve_origins("http://a:1, http://b:2", env="http://b:2 http://c:3") == [
        "http://a:1",
        "http://b:2",
        "http://c:3",
    ]


def test_link_buttons_become_web_url_quick_replies() -> None:
    assert quick_reply(BUTTONS[0]) == {
        "type": "web_url",
        "title": "📞 0913 979 245",
        "url": "tel:0913979245",
        "payload": "tel:0913979245",
    }
    assert quick_reply(BUTTONS[2]) == {"content_type": "text", **BUTTONS[2]}


def test_single_newlines_become_markdown_line_breaks() -> None:
    assert (
        hard_line_breaks("Tôi có thể:\n• tra cứu\n• hướng dẫn") == "Tôi có thể:  \n• tra cứu  \n• hướng dẫn"
    )
    assert hard_line_breaks("đoạn 1\n\nđoạn 2") == "đoạn 1\n\nđoạn 2"


async def test_forbidden_origin_is_refused(server: Any) -> None:
    url, _ = server
    status, allow, body = await handshake(url, "http://evil.example")
    assert status == 400 and allow == [] and "not an accepted origin" in body


async def test_web_origin_gets_one_cors_header_and_no_websocket_upgrade(server: Any) -> None:
    url, _ = server
    status, allow, body = await handshake(url, WEB_ORIGIN)
    assert status == 200
    assert allow == [WEB_ORIGIN]
    assert '"upgrades":[]' in body


async def test_turn_is_sanitised_and_answered_in_the_session_room(server: Any) -> None:
    url, agent = server
    session_id, received = await chat(url, ["  /restart\u200b  "], expect=2)
    assert agent.received[0].text == "restart"
    assert agent.received[0].sender_id == session_id
    assert received[0] == {"text": "echo: restart"}
    assert received[1]["text"] == "Chọn:"
    assert [r.get("url") for r in received[1]["quick_replies"]] == ["tel:0913979245", "mailto:a@b.vn", None]


async def test_empty_or_invalid_text_becomes_message_empty(server: Any) -> None:
    url, agent = server
    await chat(url, ["   ", {"not": "text"}], expect=4)
    assert [m.text for m in agent.received] == ["/message_empty", "/message_empty"]
