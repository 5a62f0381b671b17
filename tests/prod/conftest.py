"""Tests of the production profile against the real services (PostgreSQL, Redis, nginx).

    make prod-test        # .venv-rasa/bin/python -m pytest -q tests/prod

The `profile` fixture starts the profile itself (ops/prod.py under supervisord: two action
servers behind nginx's balancer, two Rasa processes, nginx) on PROD_TEST_RASA_PORTS
[5305,5306], PROD_TEST_ACTIONS_PORTS [5356,5357], PROD_TEST_ACTIONS_PORT [5355] (the
balancer) and PROD_TEST_NGINX_PORT [8380], with a throw-away PostgreSQL database `ocop_test_<id>` and a
unique Redis key prefix, and removes them at the end. PostgreSQL and Redis (POSTGRES_HOST /
POSTGRES_PORT, REDIS_HOST / REDIS_PORT of the environment; the local servers by default)
are reached through TCP forwarders (tcpproxy.py) so that a test can cut them off and
restore them without touching the shared servers. Rasa logs at DEBUG level, so that
user texts do reach the logs and the masking is really exercised. Logs stay in
var/prod-test/<id>/ when a test failed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prodtools import ROOT, RUN_ID, _load, base_settings  # noqa: E402
from tcpproxy import TcpProxy  # noqa: E402


@pytest.fixture(scope="session")
def prod():
    """ops/prod.py (the profile, its settings and nginx configuration)."""
    import ops.prod

    return ops.prod


@pytest.fixture(scope="session")
def soak():
    """scripts/soak.py (load engine and conversation scripts)."""
    return _load("ocop_soak", ROOT / "scripts" / "soak.py")


@pytest.fixture(scope="session")
def proxies(prod):
    """Forwarders to the real PostgreSQL and Redis (switch them off to simulate an outage)."""
    s = prod.Settings()
    pg = TcpProxy(s.pg.host, s.pg.port).start()
    redis = TcpProxy(s.redis_host, s.redis_port).start()
    yield {"postgres": pg, "redis": redis}
    pg.close()
    redis.close()


@pytest.fixture(scope="session")
def profile(prod, proxies, request):
    """The running production profile (started once for the whole session)."""
    var_dir = ROOT / "var" / "prod-test" / RUN_ID
    s = base_settings(prod, var_dir)
    s.pg.host, s.pg.port = "127.0.0.1", proxies["postgres"].port
    s.redis_host, s.redis_port = "127.0.0.1", proxies["redis"].port
    s.pg.db = f"ocop_test_{RUN_ID}"
    s.redis_key_prefix = f"ocoptest{RUN_ID}"
    s.log_level = "DEBUG"
    s.actions_timeout = 8
    p = prod.Profile(s)
    try:
        p.start(progress=False)
    except prod.StartupError as exc:
        p.stop()
        pytest.fail(f"the production profile did not start: {exc}")
    yield p
    p.stop()
    direct = prod.Settings()  # the real server, whatever the proxies' state
    direct.pg.drop(s.pg.db)
    _delete_redis_keys(direct, s.redis_key_prefix)
    if request.session.testsfailed:
        print(f"\nproduction profile logs kept in {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)


def _delete_redis_keys(s, prefix: str) -> None:
    import redis

    client = redis.Redis(
        host=s.redis_host, port=s.redis_port, password=s.redis_password or None, db=s.redis_db
    )
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def rest_url(profile) -> str:
    """REST webhook through nginx."""
    return f"http://127.0.0.1:{profile.s.nginx_port}/webhooks/rest/webhook"
