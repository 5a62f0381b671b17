"""Start the action server: load model, index and contacts once, then serve on 127.0.0.1.

Routes besides rasa_sdk's /webhook, /actions and /health: /ready and /metrics (ops/health.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any


def build_app() -> Any:  # noqa: ANN401 - a Sanic app
    """rasa_sdk's app over the `actions` package, with /ready, /metrics and per-action timing."""
    from rasa_sdk.endpoint import create_app

    from actions import resources
    from ops.health import install_action_routes

    app = create_app("actions", cors_origins=[])
    install_action_routes(app, lambda: resources.load_knowledge(), lambda: resources.load_contacts())
    return app


def main(argv: list[str] | None = None) -> int:
    """Preload resources (reporting problems clearly) and run rasa-sdk's endpoint."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    ap.add_argument("--strict", action="store_true", help="exit if the index or contacts are unusable")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("actions.server")

    from actions import resources

    problems = resources.preload()
    for problem in problems:
        log.error("STARTUP PROBLEM: %s", problem)
    if problems and args.strict:
        return 3
    from ops.metrics import watch_index

    app = build_app()
    watch_index(resources.load_knowledge().value)  # the index served from the start: reloads count from here
    log.info("action server listening on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
