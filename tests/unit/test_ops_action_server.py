"""The real action server app (actions/server.py build_app) on a free port: /health, /ready, /metrics."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest
import pytest_asyncio
from sanic import Sanic

from actions import resources
from actions.contacts import ContactBook
from actions.server import build_app
from ops import metrics
from tests.unit.conftest import CONTACTS_FILE, FIXTURES, FakeRetriever, make_pipeline

CONTACTS = ContactBook.load(CONTACTS_FILE)


class ReloadingRetriever(FakeRetriever):
    """The fake index, swapped for a rebuilt one (a new manifest stamp) at the next refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.stamp = 1000.0
        self.rebuilt = False

    def reload_if_changed(self) -> bool:
        if self.rebuilt:
            self.stamp, self.rebuilt = self.stamp + 1, False
            return True
        return False


@pytest_asyncio.fixture
async def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    """build_app() on 127.0.0.1:<free port>; set `state["knowledge"]` to the Loaded the server sees."""
    state: dict[str, Any] = {
        "knowledge": resources.Loaded(error="index/build/manifest.json missing: run `make index`"),
        "contacts": resources.Loaded(CONTACTS),
    }
    monkeypatch.setattr(resources, "load_knowledge", lambda: state["knowledge"])
    monkeypatch.setattr(resources, "load_contacts", lambda: state["contacts"])
    Sanic.test_mode = True  # rasa_sdk names every app "rasa_sdk"
    app = build_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    state["url"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    yield state
    await srv.before_stop()
    srv.close()
    await srv.after_stop()


def _request(url: str, body: dict[str, Any] | None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


async def call(state: dict[str, Any], path: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    """GET (or POST a JSON body to) the server without blocking its event loop."""
    return await asyncio.to_thread(_request, state["url"] + path, body)


def action_call(action: str, text: str = "Sóc Trăng có bao nhiêu sản phẩm OCOP 3 sao?") -> dict[str, Any]:
    """A /webhook body as Rasa sends it."""
    tracker = json.loads((FIXTURES / "tracker_stats.json").read_text(encoding="utf-8"))
    tracker["latest_message"]["text"] = text
    return {
        "next_action": action,
        "sender_id": tracker["sender_id"],
        "tracker": tracker,
        "domain": {},
        "version": "3.6.2",
    }


async def sample(state: dict[str, Any], name: str, **labels: str) -> float:
    """One sample's value from the server's /metrics (0 when absent)."""
    status, text = await call(state, "/metrics")
    assert status == 200
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return 0.0


async def test_health_answers_while_knowledge_is_missing(server: Any) -> None:
    assert await call(server, "/health") == (200, '{"status":"ok"}')


async def test_ready_is_503_naming_the_knowledge_error_then_200_once_loaded(server: Any) -> None:
    status, body = await call(server, "/ready")
    assert status == 503
    assert json.loads(body) == {
        "status": "not ready",
        "missing": {"knowledge": "index/build/manifest.json missing: run `make index`"},
    }
    server["knowledge"] = resources.Loaded(make_pipeline(FakeRetriever(), contacts=CONTACTS))
    assert await call(server, "/ready") == (200, '{"status":"ready"}')


async def test_ready_names_missing_contacts(server: Any) -> None:
    server["knowledge"] = resources.Loaded(make_pipeline(FakeRetriever(), contacts=CONTACTS))
    server["contacts"] = resources.Loaded(error="data/contacts.csv: no such file")
    status, body = await call(server, "/ready")
    assert status == 503 and json.loads(body)["missing"] == {"contacts": "data/contacts.csv: no such file"}


async def test_an_answered_action_is_counted_by_kind_and_timed(server: Any) -> None:
    server["knowledge"] = resources.Loaded(make_pipeline(FakeRetriever(), contacts=CONTACTS))
    passages = await sample(server, "ocop_answers_total", kind="passage")
    timed = await sample(server, "ocop_action_seconds_count", action="action_answer_knowledge")
    status, body = await call(server, "/webhook", action_call("action_answer_knowledge"))
    assert status == 200 and json.loads(body)["responses"][0]["response"] == "utter_kb_answer"
    assert await sample(server, "ocop_answers_total", kind="passage") == passages + 1
    assert await sample(server, "ocop_action_seconds_count", action="action_answer_knowledge") == timed + 1


async def test_missing_knowledge_is_counted_as_unavailable(server: Any) -> None:
    before = await sample(server, "ocop_answers_total", kind="unavailable")
    status, body = await call(server, "/webhook", action_call("action_answer_knowledge"))
    assert status == 200 and json.loads(body)["responses"][0]["response"] == "utter_kb_unavailable"
    assert await sample(server, "ocop_answers_total", kind="unavailable") == before + 1


async def test_a_contact_answer_is_counted(server: Any) -> None:
    before = await sample(server, "ocop_answers_total", kind="contact")
    status, _ = await call(
        server, "/webhook", action_call("action_lookup_contact", "số điện thoại phản ánh tthc")
    )
    assert status == 200
    assert await sample(server, "ocop_answers_total", kind="contact") == before + 1


async def test_action_errors_are_counted_by_action_and_status(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = await sample(server, "ocop_action_errors_total", action="unknown", status="404")
    assert (await call(server, "/webhook", action_call("action_no_such_thing")))[0] == 404
    assert await sample(server, "ocop_action_errors_total", action="unknown", status="404") == unknown + 1

    def broken() -> Any:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(resources, "load_knowledge", broken)
    failed = await sample(server, "ocop_action_errors_total", action="action_answer_knowledge", status="500")
    assert (await call(server, "/webhook", action_call("action_answer_knowledge")))[0] == 500
    assert (
        await sample(server, "ocop_action_errors_total", action="action_answer_knowledge", status="500")
        == failed + 1
    )


async def test_a_rebuilt_index_swapped_in_during_a_turn_is_counted(server: Any) -> None:
    retriever = ReloadingRetriever()
    pipeline = make_pipeline(retriever, contacts=CONTACTS)
    server["knowledge"] = resources.Loaded(pipeline)
    metrics.watch_index(pipeline)  # as actions/server.py does at start
    before = await sample(server, "ocop_index_reloads_total")
    assert (await call(server, "/webhook", action_call("action_answer_knowledge")))[0] == 200
    assert await sample(server, "ocop_index_reloads_total") == before  # same index: no reload
    retriever.rebuilt = True
    assert (await call(server, "/webhook", action_call("action_answer_knowledge")))[0] == 200
    assert await sample(server, "ocop_index_reloads_total") == before + 1
    assert await sample(server, "ocop_index_manifest_mtime_seconds") == retriever.stamp


def test_unknown_kinds_share_one_label() -> None:
    before = metrics.ANSWERS.labels("other")._value.get()
    metrics.record_answer("something new")
    assert metrics.ANSWERS.labels("other")._value.get() == before + 1
