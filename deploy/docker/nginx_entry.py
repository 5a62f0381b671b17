"""nginx container: render deploy/nginx.conf.template as `make prod` does (ops/nginx.py), then run nginx.

The Rasa upstreams come from RASA_UPSTREAMS (host:port, comma separated; required here: a
service name such as rasa:5005, resolved by nginx at start, so every address it resolves to,
e.g. each compose replica, is one upstream server). NGINX_CONSOLE_UPSTREAM (e.g. console:5088)
exposes the staff console at /staff/. The profile's internal action-server balancer stays on
this container's loopback (ACTIONS_HOST must be a local address here; Rasa reaches the action
servers through the platform's own service name). Every other NGINX_* setting is read as by
`make prod` (README "TLS and rate limits"); the page's hotline numbers are filled at start from
OCOP_CONTACTS_FILE. Logs go to the container's stdout and stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.nginx import nginx_binary, nginx_test, render_nginx  # noqa: E402
from ops.prod_config import Settings, StartupError  # noqa: E402

LOCAL = ("127.0.0.1", "localhost", "::1")


def settings(env: dict[str, str] | None = None) -> Settings:
    """The profile's settings (from the environment), checked for a container."""
    env = dict(os.environ if env is None else env)
    if not env.get("RASA_UPSTREAMS"):
        raise StartupError("set RASA_UPSTREAMS to the Rasa service's host:port (e.g. rasa:5005)")
    if env.get("ACTIONS_HOST", "127.0.0.1") not in LOCAL:
        raise StartupError("ACTIONS_HOST must be a local address in the nginx container (127.0.0.1)")
    s = Settings(profile="prod", roles=["front"])
    s.validate()
    return s


def main() -> int:
    """Render, check (`nginx -t`) and exec nginx in the foreground."""
    try:
        s = settings()
        conf = render_nginx(s)
        nginx_test(s, conf)
    except StartupError as err:
        print(f"STARTUP PROBLEM: {err}", file=sys.stderr)
        return 3
    binary = nginx_binary() or "nginx"
    os.execv(binary, [binary, "-p", str(s.run_dir), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
