"""nginx container: render deploy/nginx.conf.template as `make prod` does, then run nginx.

Upstreams come from the environment: RASA_HOST (the Rasa service's name, resolved by nginx at
start: every address it resolves to is one upstream server; compose replicas resolve to all of
theirs) and RASA_PORTS; NGINX_CONSOLE_UPSTREAM (e.g. console:5088) exposes the staff console at
/staff/. Every other NGINX_* setting is read as by `make prod` (README "TLS and rate limits").
Logs go to the container's stdout and stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from prod_config import Settings, StartupError, nginx_binary, nginx_test, render_nginx  # noqa: E402


def settings(env: dict[str, str] | None = None) -> Settings:
    """The profile's settings with the Rasa upstream host from RASA_HOST."""
    env = dict(os.environ if env is None else env)
    host = env.get("RASA_HOST", "")
    if not host:
        raise StartupError("set RASA_HOST to the Rasa service's host name")
    return Settings(interface=host)


def main() -> int:
    """Render, check (`nginx -t`) and exec nginx in the foreground."""
    try:
        s = settings()
        conf = render_nginx(s)
        for name, target in (("nginx-access.log", "/dev/stdout"), ("nginx-error.log", "/dev/stderr")):
            log = s.log_dir / name
            if not log.is_symlink():
                log.unlink(missing_ok=True)
                log.symlink_to(target)
        nginx_test(s, conf)
    except StartupError as err:
        print(f"STARTUP PROBLEM: {err}", file=sys.stderr)
        return 3
    binary = nginx_binary() or "nginx"
    args = [binary, "-p", str(s.run_dir), "-e", "/dev/stderr", "-c", str(conf), "-g", "daemon off;"]
    os.execv(binary, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
