"""Two Rasa processes behind nginx: a message one emits (a staff reply) reaches a web chat
connected to the other through Redis (OCOP_SOCKETIO_REDIS_URL). Two real servers in this process,
one python-socketio client; skipped when Redis does not answer."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from typing import Any

import pytest
import socketio
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.channels.socketio import SocketIOInput

pytestmark = pytest.mark.asyncio
WEB_ORIGIN = "http://localhost:8180"
REDIS_URL = os.environ.get("ZALO_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


async def serve(channel: SocketIOInput) -> tuple[Any, str]:
    """Mount the channel like `rasa run` does; (server, URL)."""
    Sanic.test_mode = True
    app = Sanic(f"sio_redis_{uuid.uuid4().hex[:10]}", configure_logging=False)
    register([channel], app, route="/webhooks/")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    return srv, url


async def test_a_message_emitted_by_one_process_reaches_a_socket_held_by_the_other() -> None:
    import redis.asyncio as aioredis

    probe = aioredis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await probe.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc!r}")
    finally:
        await probe.close()
    a = SocketIOInput(session_persistence=True, allowed_origins=[WEB_ORIGIN], redis_url=REDIS_URL)
    b = SocketIOInput(session_persistence=True, allowed_origins=[WEB_ORIGIN], redis_url=REDIS_URL)
    (srv_a, url_a), (srv_b, _) = await serve(a), await serve(b)
    client = socketio.AsyncClient()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    received: asyncio.Queue = asyncio.Queue()
    client.on("session_confirm", lambda sid: confirmed.set_result(sid))
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    try:
        await client.connect(url_a, headers={"Origin": WEB_ORIGIN}, transports=["polling"])
        await client.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirmed, 5)
        await asyncio.sleep(0.5)  # process A subscribes to the Redis channel on its first connection
        await b.get_output_channel().send_response(session_id, {"text": "Cán bộ trả lời từ tiến trình B"})
        message = await asyncio.wait_for(received.get(), 5)
        assert message["text"] == "Cán bộ trả lời từ tiến trình B"
    finally:
        await client.eio.disconnect(abort=True)
        for srv in (srv_a, srv_b):
            await srv.before_stop()
            await srv.close()
            await srv.after_stop()
