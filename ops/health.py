"""/health, /ready and /metrics routes for the action server and the Rasa server (Sanic apps).

    install_action_routes(app, resources.load_knowledge, resources.load_contacts)   # actions/server.py
    install_rasa_routes(app)                                                        # bot/rasa_run.py

/health: the process answers. /ready: 200 when loaded and usable, else 503 naming what is
missing. /metrics: prometheus_client's default registry of this process.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

READY_TIMEOUT = 2.0  # seconds for the tracker store's database to answer SELECT 1


def metrics_response(_: Request | None = None) -> HTTPResponse:
    """This process's metrics in Prometheus's text format."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    return raw(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def readiness(missing: dict[str, str]) -> HTTPResponse:
    """200 {"status": "ready"}, or 503 naming what is missing and why."""
    if missing:
        return json_response({"status": "not ready", "missing": missing}, status=503)
    return json_response({"status": "ready"})


async def health(_: Request) -> HTTPResponse:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


# ---- action server ----------------------------------------------------------------------
def action_server_missing(knowledge: Any, contacts: Any) -> dict[str, str]:  # noqa: ANN401 - resources.Loaded
    """What the action server lacks: the knowledge pipeline, the contact table (with its reason)."""
    missing = {}
    if knowledge.value is None:
        missing["knowledge"] = knowledge.error or "not loaded"
    if contacts.value is None or not getattr(contacts.value, "contacts", None):
        missing["contacts"] = contacts.error or "no contacts loaded"
    return missing


def webhook_action(request: Request) -> str:
    """The action a /webhook call asks for ("unknown" if the body cannot be read)."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            call = json.loads(zlib.decompress(request.body))
        else:
            call = request.json  # parsed once: rasa_sdk's handler reuses it
        return str(call.get("next_action") or "unknown")
    except Exception:  # noqa: BLE001 - rasa_sdk answers the bad request itself
        return "unknown"


def install_action_routes(app: Sanic, knowledge: Callable[[], Any], contacts: Callable[[], Any]) -> None:
    """Add /ready and /metrics to rasa_sdk's app (it has /health) and time every /webhook call."""
    from ops import metrics

    async def ready(_: Request) -> HTTPResponse:
        return readiness(action_server_missing(knowledge(), contacts()))

    async def start_timer(request: Request) -> None:
        if request.path == "/webhook":
            request.ctx.ocop_started = time.perf_counter()

    async def stop_timer(request: Request, response: HTTPResponse) -> None:
        started = getattr(request.ctx, "ocop_started", None)
        if started is not None:
            # a 404 names no registered action: one label for all of them
            action = "unknown" if response.status == 404 else webhook_action(request)
            metrics.observe_action(action, response.status, started)

    app.add_route(ready, "/ready", methods=["GET"], name="ocop_ready")
    app.add_route(metrics_response, "/metrics", methods=["GET"], name="ocop_metrics")
    app.register_middleware(start_timer, "request")
    app.register_middleware(stop_timer, "response")


# ---- Rasa server ------------------------------------------------------------------------
def sql_tracker_store(store: Any) -> Any:  # noqa: ANN401 - a Rasa TrackerStore or None
    """The SQLTrackerStore inside Rasa's wrappers (fail-safe, awaitable), or None."""
    from rasa.core.tracker_store import SQLTrackerStore

    for _ in range(5):
        if store is None or isinstance(store, SQLTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def _select_one(engine: Any) -> None:  # noqa: ANN401 - a SQLAlchemy engine
    """Run SELECT 1 on a pooled connection."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")


async def database_problem(engine: Any, timeout: float = READY_TIMEOUT) -> str | None:  # noqa: ANN401
    """None when the database answers SELECT 1 within `timeout`, else the reason."""
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, _select_one, engine), timeout)
    except asyncio.TimeoutError:
        return f"no answer to SELECT 1 within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - reported as the reason
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip(": ")
    return None


async def rasa_missing(app: Sanic) -> dict[str, str]:
    """What the Rasa server lacks: a loaded model, and the SQL tracker store's database."""
    agent = getattr(app.ctx, "agent", None)
    missing = {}
    if agent is None or not agent.is_ready():
        missing["model"] = "no model loaded"
    store = sql_tracker_store(getattr(agent, "tracker_store", None))
    if store is not None:
        problem = await database_problem(store.engine)
        if problem:
            missing["tracker_store"] = problem
    return missing


def install_rasa_routes(app: Sanic) -> None:
    """Add /health, /ready and /metrics to the Rasa server's app."""

    async def ready(request: Request) -> HTTPResponse:
        return readiness(await rasa_missing(request.app))

    app.add_route(health, "/health", methods=["GET"], name="ocop_health")
    app.add_route(ready, "/ready", methods=["GET"], name="ocop_ready")
    app.add_route(metrics_response, "/metrics", methods=["GET"], name="ocop_metrics")
