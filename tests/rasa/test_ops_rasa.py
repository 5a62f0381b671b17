"""Rasa side of ops/: /health, /ready, /metrics added by bot/rasa_run.py, turn and Zalo metrics."""

from __future__ import annotations

import re
import socket
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import rasa.core.run as run_module
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic
from sqlalchemy import create_engine

from bot import rasa_run
from bot.channels.rest import RestInput
from bot.channels.zalo_api import ZaloApiClient
from bot.channels.zalo_output import ZaloOutput
from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FakeZalo


class Agent:
    """Stands in for Rasa's Agent: ready or not, a tracker store, echoes a turn (or stays silent)."""

    def __init__(self, tracker_store: Any = None, ready: bool = True) -> None:
        self.tracker_store, self.ready, self.silent = tracker_store, ready, False

    def is_ready(self) -> bool:
        return self.ready

    async def handle_message(self, message: UserMessage) -> None:
        if not self.silent:
            await message.output_channel.send_response(message.sender_id, {"text": f"echo: {message.text}"})


@pytest.fixture
def wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """bot/rasa_run's hook on Rasa's configure_app, for this test only."""
    monkeypatch.setattr(run_module, "configure_app", run_module.configure_app)
    rasa_run.apply_health_routes()
    rasa_run.apply_health_routes()  # idempotent
    assert getattr(run_module.configure_app, "ocop_health", False)


@pytest_asyncio.fixture
async def server(wrapped: None) -> Any:
    """Rasa's own configure_app (no HTTP API, our REST channel), served on 127.0.0.1:<free port>."""
    Sanic.test_mode = True
    app = run_module.configure_app(input_channels=[RestInput()], enable_api=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    yield app, url
    await srv.before_stop()
    srv.close()
    await srv.after_stop()


async def get(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, json=body) as resp:
            is_json = resp.content_type == "application/json"
            return resp.status, await (resp.json() if is_json else resp.text())


async def sample(url: str, name: str, **labels: str) -> float:
    """One sample of the server's /metrics (0 when absent)."""
    status, text = await get(url + "/metrics")
    assert status == 200
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return 0.0


def sqlite_store(tmp_path: Any) -> Any:
    """A SQL tracker store (SQLite) wrapped as Rasa's Agent wraps it."""
    return FailSafeTrackerStore(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db")))


async def test_health_and_not_ready_without_a_model(server: Any) -> None:
    app, url = server
    assert await get(url + "/health") == (200, {"status": "ok"})
    assert await get(url + "/ready") == (
        503,
        {"status": "not ready", "missing": {"model": "no model loaded"}},
    )
    app.ctx.agent = Agent(ready=False)  # an agent whose model failed to load
    assert (await get(url + "/ready"))[0] == 503


async def test_ready_with_a_model_and_an_answering_database(server: Any, tmp_path: Any) -> None:
    app, url = server
    app.ctx.agent = Agent()  # in-memory tracker store: nothing else to check
    assert await get(url + "/ready") == (200, {"status": "ready"})
    app.ctx.agent = Agent(sqlite_store(tmp_path))
    assert await get(url + "/ready") == (200, {"status": "ready"})


async def test_not_ready_when_the_tracker_database_does_not_answer(server: Any, tmp_path: Any) -> None:
    app, url = server
    store = sqlite_store(tmp_path)
    inner = store._tracker_store
    inner.engine.dispose()
    inner.engine = create_engine(f"sqlite:///{tmp_path / 'no such dir' / 't.db'}")
    app.ctx.agent = Agent(store)
    status, body = await get(url + "/ready")
    assert status == 503 and list(body["missing"]) == ["tracker_store"]
    assert "unable to open database file" in body["missing"]["tracker_store"]


async def test_rest_turns_are_counted_by_outcome_and_timed(server: Any) -> None:
    app, url = server
    app.ctx.agent = Agent()
    answered = await sample(url, "ocop_turns_total", channel="rest", outcome="answered")
    timed = await sample(url, "ocop_turn_seconds_count", channel="rest")
    status, replies = await get(url + "/webhooks/rest/webhook", "POST", {"sender": "u1", "message": "chào"})
    assert status == 200 and replies[0]["text"] == "echo: chào"
    assert await sample(url, "ocop_turns_total", channel="rest", outcome="answered") == answered + 1
    assert await sample(url, "ocop_turn_seconds_count", channel="rest") == timed + 1
    app.ctx.agent.silent = True  # e.g. the action server is down: the guard apologises
    apologies = await sample(url, "ocop_turns_total", channel="rest", outcome="apology")
    await get(url + "/webhooks/rest/webhook", "POST", {"sender": "u1", "message": "chào"})
    assert await sample(url, "ocop_turns_total", channel="rest", outcome="apology") == apologies + 1


async def test_zalo_send_failures_are_counted_by_error_code(tmp_path: Any) -> None:
    from ops.turns import ZALO_SEND_FAILURES

    fake = await FakeZalo().start()
    client = ZaloApiClient(
        app_id=APP_ID, app_secret=APP_SECRET, access_token="AT-1", refresh_token="RT-1",
        token_store=str(tmp_path / "tokens.json"), api_base=fake.url, oauth_base=fake.url, backoff=0.01,
    )  # fmt: skip
    try:
        out = ZaloOutput(client)
        rejected = ZALO_SEND_FAILURES.labels("-201")._value.get()
        busy = ZALO_SEND_FAILURES.labels("http_503")._value.get()
        await out.send_custom_json("u1", {"zalo": {"text": "x" * 2500}})  # Zalo: -201 text too long
        fake.fail_5xx = 3  # every try of the next message answers HTTP 503
        await out.send_text_message("u1", "chào")
        await out.send_text_message("u1", "chào")  # delivered
        assert out.failed == 2 and out.sent == 1
        assert ZALO_SEND_FAILURES.labels("-201")._value.get() == rejected + 1
        assert ZALO_SEND_FAILURES.labels("http_503")._value.get() == busy + 1
    finally:
        await client.close()
        await fake.stop()
