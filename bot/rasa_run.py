"""`rasa` with two production fixes Rasa 3.6 lacks (scripts/prod.py starts Rasa through this).

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
        return {**original(url), "pool_pre_ping": True}

    engine_kwargs.ocop_pre_ping = True  # type: ignore[attr-defined]
    tracker_store.create_engine_kwargs = engine_kwargs  # looked up at call time by SQLTrackerStore


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
    sys.argv = ["rasa", *argv]
    from rasa.__main__ import main as rasa_main

    sys.exit(rasa_main())


if __name__ == "__main__":
    main()
