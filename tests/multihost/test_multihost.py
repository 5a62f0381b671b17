"""Several hosts, simulated on loopback addresses: a conversation survives losing an application host.

    make multihost-test        # .venv-rasa/bin/python -m pytest -q tests/multihost

Hosts (MULTIHOST_ADDRESSES [127.0.0.21,127.0.0.22,127.0.0.23]), each with its own
supervisord and folder (var/multihost/<id>/<host>), configured only by the environment
variables of README "Production" as a real host would be:
  - application hosts A and B: an action server and a Rasa process each (PROD_ROLES=app,
    RASA_INTERFACE=<its address>), calling the action servers through the front host's
    balancer (ACTIONS_HOST) and keeping conversations on the data host;
  - front host C: nginx (PROD_ROLES=front) balancing RASA_UPSTREAMS and ACTIONS_UPSTREAMS
    over A and B, public at PUBLIC_URL;
  - data host: this machine's PostgreSQL (POSTGRES_HOST, database ocop_multihost_<id>, dropped
    afterwards) and Redis (REDIS_HOST, key prefix ocopmh<id>, deleted afterwards).
Ports: MULTIHOST_RASA_PORT [5205], MULTIHOST_ACTIONS_PORT [5256], MULTIHOST_BALANCER_PORT
[5255], MULTIHOST_NGINX_PORT [8280].
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from ops import rest
from ops.prod import Profile, Settings, StartupError
from ops.prod_config import ROOT

RUN_ID = uuid.uuid4().hex[:8]
A, B, C = os.environ.get("MULTIHOST_ADDRESSES", "127.0.0.21,127.0.0.22,127.0.0.23").split(",")
RASA_PORT = int(os.environ.get("MULTIHOST_RASA_PORT", "5205"))
ACTIONS_PORT = int(os.environ.get("MULTIHOST_ACTIONS_PORT", "5256"))
BALANCER_PORT = int(os.environ.get("MULTIHOST_BALANCER_PORT", "5255"))
NGINX_PORT = int(os.environ.get("MULTIHOST_NGINX_PORT", "8280"))
PUBLIC_URL = f"http://{C}:{NGINX_PORT}"
VAR = ROOT / "var" / "multihost" / RUN_ID


def _soak():
    spec = importlib.util.spec_from_file_location("ocop_soak", ROOT / "scripts" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("ocop_soak", module)
    spec.loader.exec_module(module)
    return module


soak = _soak()


def host_env(address: str, roles: str) -> dict[str, str]:
    """The environment of one host: every address from configuration."""
    return {
        "PROD_ROLES": roles,
        "RASA_INTERFACE": address,
        "RASA_PORTS": str(RASA_PORT),
        "ACTIONS_PORTS": str(ACTIONS_PORT),
        "ACTIONS_HOST": C,  # the balancer on the front host
        "ACTIONS_PORT": str(BALANCER_PORT),
        "RASA_UPSTREAMS": f"{A}:{RASA_PORT},{B}:{RASA_PORT}",
        "ACTIONS_UPSTREAMS": f"{A}:{ACTIONS_PORT},{B}:{ACTIONS_PORT}",
        "NGINX_LISTEN": C,
        "NGINX_PORT": str(NGINX_PORT),
        "PUBLIC_URL": PUBLIC_URL,
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_DB": f"ocop_multihost_{RUN_ID}",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_KEY_PREFIX": f"ocopmh{RUN_ID}",
        "OCOP_PROD_DIR": str(VAR / address),
        "NGINX_CONSOLE_UPSTREAM": "",
        "ZALO_TOKEN_STORE": "",
        "ZALO_DEDUP_REDIS_URL": "",
    }


def host(address: str, roles: str, monkeypatch: pytest.MonkeyPatch) -> Profile:
    """A host's profile, its settings read from its environment (as `make prod` there would)."""
    with monkeypatch.context() as m:
        for key, value in host_env(address, roles).items():
            m.setenv(key, value)
        return Profile(Settings())  # its processes get s.child_env(): addresses from these settings


@pytest.fixture(scope="module")
def hosts():
    """Front host C, then application hosts A and B in parallel; everything removed at the end."""
    monkeypatch = pytest.MonkeyPatch()
    front, app_a, app_b = (
        host(C, "front", monkeypatch),
        host(A, "app", monkeypatch),
        host(B, "app", monkeypatch),
    )
    started: list[Profile] = []
    errors: list[BaseException] = []

    def start(profile: Profile) -> None:
        try:
            profile.start(progress=False)
            started.append(profile)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        app_a.s.pg.ensure()  # the data host's database, once (both application hosts start at the same time)
        start(front)
        threads = [threading.Thread(target=start, args=(p,)) for p in (app_a, app_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            pytest.fail(f"a host did not start: {errors[0]}")
        yield {"front": front, A: app_a, B: app_b}
    finally:
        for profile in (front, app_a, app_b):
            try:
                profile.stop()
            except (OSError, StartupError):
                pass
        app_a.s.pg.drop()
        _delete_redis_keys(app_a.s)
        shutil.rmtree(VAR, ignore_errors=True)


def _delete_redis_keys(s: Settings) -> None:
    import redis

    client = redis.Redis(
        host=s.redis_host, port=s.redis_port, password=s.redis_password or None, db=s.redis_db
    )
    for key in client.scan_iter(f"{s.redis_key_prefix}*"):
        client.delete(key)
    client.close()


def _served_by(front: Profile, offset: int, count: int) -> list[str]:
    """Rasa host that answered each of the `count` REST requests the front's nginx logged since offset."""
    deadline = time.monotonic() + 10  # supervisord copies nginx's stdout to the log file
    while True:
        with open(front.s.log_dir / "nginx-access.log", "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        # upstream=<tried>, <tried>, <answered>: the address that answered is the last one
        found = [
            tried.split(", ")[-1].rsplit(":", 1)[0]
            for tried in re.findall(r"POST /webhooks/rest/webhook\" 200 .* upstream=(.+)$", text, re.M)
        ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _kill_host(profile: Profile) -> None:
    """Lose a host: supervisord and every process of it killed at once (no clean stop)."""
    pids = profile.pids()
    supervisord = int(profile.sup.pidfile.read_text())
    os.kill(supervisord, signal.SIGKILL)
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_public_url_reaches_the_channels(hosts):
    """PUBLIC_URL is an allowed origin of the web chat's socket.io on every application host."""

    def poll(origin: str) -> int:
        req = urllib.request.Request(
            f"{PUBLIC_URL}/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert poll(PUBLIC_URL) == 200
    assert poll("http://evil.example") in (400, 403)


def test_conversations_survive_losing_an_application_host(hosts):
    front = hosts["front"]
    url = rest.webhook(PUBLIC_URL)
    assert [p.name for p in front.programs] == ["nginx"]
    assert [p.name for p in hosts[A].programs] == [f"actions-{ACTIONS_PORT}", f"rasa-{RASA_PORT}"]
    senders = {f"mh-{RUN_ID}-{i}": soak.PROVINCES[i % 3] for i in range(8)}
    offset = (front.s.log_dir / "nginx-access.log").stat().st_size
    for sender, province in senders.items():
        reply = rest.send(url, sender, f"{province} có bao nhiêu sản phẩm OCOP 4 sao?", timeout=90)
        assert reply.ok and soak.context_ok(reply.messages, province), reply
        assert not soak.is_apology(reply.messages)
    first = dict(zip(senders, _served_by(front, offset, len(senders)), strict=True))
    assert set(first.values()) == {A, B}, first  # both application hosts hold conversations

    lost = A
    _kill_host(hosts[lost])
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{lost}:{RASA_PORT}/", timeout=3)

    # every conversation continues where it was, on the host that is left
    offset = (front.s.log_dir / "nginx-access.log").stat().st_size
    for sender, province in senders.items():
        for text in ("thế còn 3 sao?", "còn 5 sao thì sao?"):
            reply = rest.send(url, sender, text, timeout=90)
            assert reply.ok and not soak.is_apology(reply.messages), (sender, first[sender], reply)
            assert soak.context_ok(reply.messages, province), (
                sender,
                first[sender],
                soak.reply_text(reply.messages),
            )
    assert set(_served_by(front, offset, 2 * len(senders))) == {B}

    # the trackers on the data host hold every turn of every conversation, in order
    import psycopg2

    pg = hosts[B].s.pg
    with psycopg2.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password or None, dbname=pg.db
    ) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE %s ORDER BY id",
                (f"mh-{RUN_ID}-%",),
            )
            import json

            stored: dict[str, list[str]] = {}
            for sender, data in cur.fetchall():
                stored.setdefault(sender, []).append(json.loads(data)["text"])
    for sender, province in senders.items():
        assert stored[sender] == [
            f"{province} có bao nhiêu sản phẩm OCOP 4 sao?",
            "thế còn 3 sao?",
            "còn 5 sao thì sao?",
        ]
