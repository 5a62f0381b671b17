"""`rasa` with four fixes Rasa 3.6 lacks, and health routes (ops/processes.py runs it).

    python -m bot.rasa_run run --endpoints endpoints.prod.yml [other `rasa run` options]

1. Action timeout. Rasa 3.6 accepts `timeout:` under `action_endpoint` but ignores it:
   every call to the action server may take DEFAULT_REQUEST_TIMEOUT (5 minutes). With a
   hung action server the user would wait 5 minutes (and the conversation lock expires
   meanwhile). This wrapper reads `action_endpoint.timeout` (seconds) from the endpoints
   file given with `--endpoints` and applies it to the action calls; after the timeout
   the turn fails and the channels' guard (bot/channels/guard.py) sends the service
   apology with the hotline.
2. Database reconnection. The SQL tracker store's engine is created without
   `pool_pre_ping`: after a PostgreSQL restart every pooled connection is dead and the
   first turn served by each fails. With pre-ping a dead connection is replaced before use.
3. Action response validation. Rasa 3.6 checks every action server response with
   `jsonschema.validate`, which re-checks the schema against its meta-schema and builds a
   new validator on each call: ~16 ms of CPU per custom action, measured as 38% of the
   Rasa process's CPU under load (py-spy). One compiled validator gives the same verdict
   in ~0.5 ms; an invalid response still goes through Rasa's own code for its error.
4. SQLite tracker store (the single-host default of `make run`): WAL journal with
   synchronous=NORMAL instead of a rollback journal with an fsync per turn. A committed
   turn survives a crash of Rasa; only an OS crash or power cut can lose the last turns.
   Its connections are pooled instead of opened anew for every read and write.
   The production profile keeps conversations in PostgreSQL.
5. Health and metrics: GET /health (the process answers), /ready (a model is loaded and the
   SQL tracker store's database answers SELECT 1, else 503) and /metrics (Prometheus) are
   added to the server's app (ops/health.py), with or without Rasa's HTTP API.

Everything else is plain `rasa`.
"""

from __future__ import annotations

import sys
from typing import Any


def endpoints_path(argv: list[str]) -> str | None:
    """The value of --endpoints in a `rasa run` command line."""
    for i, arg in enumerate(argv):
        if arg == "--endpoints" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--endpoints="):
            return arg.split("=", 1)[1]
    return None


def action_timeout(endpoints: dict[str, Any] | None) -> float | None:
    """`action_endpoint.timeout` in seconds, or None when absent."""
    value = ((endpoints or {}).get("action_endpoint") or {}).get("timeout")
    if value in (None, ""):
        return None
    timeout = float(value)
    if timeout <= 0:
        raise SystemExit(f"action_endpoint.timeout must be positive, got {value!r}")
    return timeout


def apply_action_timeout(seconds: float) -> None:
    """Make Rasa's remote actions give up after `seconds`."""
    import rasa.core.actions.action as action_module

    action_module.DEFAULT_REQUEST_TIMEOUT = seconds  # read at call time by RemoteAction.run


def apply_pool_pre_ping() -> None:
    """Check pooled SQL connections before use (recovery after a database restart)."""
    import rasa.core.tracker_store as tracker_store

    original = tracker_store.create_engine_kwargs
    if getattr(original, "ocop_pre_ping", False):
        return

    def engine_kwargs(url: Any) -> dict[str, Any]:
        kwargs = {**original(url), "pool_pre_ping": True}
        if str(url).startswith("sqlite:///") and str(url) != "sqlite:///":
            # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool); keep a
            # few open instead (Rasa uses them from its event-loop thread only).
            from sqlalchemy.pool import QueuePool

            kwargs |= {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
        return kwargs

    engine_kwargs.ocop_pre_ping = True  # type: ignore[attr-defined]
    tracker_store.create_engine_kwargs = engine_kwargs  # looked up at call time by SQLTrackerStore


def apply_compiled_action_validation() -> None:
    """Validate action server responses with one compiled validator (same schema, same errors)."""
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "ocop_compiled", False):
        return
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # raises Rasa's ValidationError with its message

    validate.ocop_compiled = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate


def apply_sqlite_wal() -> None:
    """Open SQLite connections in WAL mode with synchronous=NORMAL."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _sqlite_pragmas):
        return
    event.listen(Engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Set the pragmas on a new SQLite connection (other databases are left alone)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def apply_health_routes() -> None:
    """Add /health, /ready and /metrics to every app `rasa run` configures."""
    import rasa.core.run as run_module

    original = run_module.configure_app
    if getattr(original, "ocop_health", False):
        return

    def configure_app(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - Rasa's Sanic app
        app = original(*args, **kwargs)
        from ops.health import install_rasa_routes

        install_rasa_routes(app)
        return app

    configure_app.ocop_health = True  # type: ignore[attr-defined]
    run_module.configure_app = configure_app  # looked up at call time by serve_application


def main() -> None:
    """Apply the fixes, then run Rasa's command line."""
    argv = sys.argv[1:]
    path = endpoints_path(argv)
    if path:
        from rasa.shared.utils.io import read_yaml_file  # expands ${VAR} like Rasa does

        timeout = action_timeout(read_yaml_file(path))
        if timeout:
            apply_action_timeout(timeout)
    apply_pool_pre_ping()
    apply_compiled_action_validation()
    apply_sqlite_wal()
    apply_health_routes()
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main

    sys.exit(rasa_main())


if __name__ == "__main__":
    main()
