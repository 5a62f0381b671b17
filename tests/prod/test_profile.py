"""The production profile under load and faults (tests run in this order, one profile).

Two Rasa processes share PostgreSQL (tracker store) and Redis (lock store) behind nginx;
two action servers behind nginx's balancer; supervisord restarts whatever exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prodtools import post

PII_PHONE, PII_ID = "0912345678", "079123456789"


def _http(
    url: str, data: bytes | None = None, method: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _user_texts(prod, db: str, prefix: str) -> dict[str, list[str]]:
    """User messages stored in PostgreSQL per sender (direct connection, not the proxy)."""
    import psycopg2

    pg = prod.Settings().pg
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password or None, dbname=db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id LIKE %s ORDER BY id",
                (prefix + "%",),
            )
            stored: dict[str, list[str]] = {}
            for sender, data in cur.fetchall():
                stored.setdefault(sender, []).append(json.loads(data).get("text"))
            return stored
    finally:
        conn.close()


def _access_log_since(profile, offset: int) -> list[str]:
    path = profile.s.log_dir / "nginx-access.log"
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace").splitlines()


def _access_log_size(profile) -> int:
    path = profile.s.log_dir / "nginx-access.log"
    return path.stat().st_size if path.exists() else 0


def test_only_the_channels_and_the_web_page_are_exposed(profile):
    base = f"http://127.0.0.1:{profile.s.nginx_port}"
    status, headers, body = _http(base + "/")
    assert status == 200 and b"webchat" in body
    assert b"{ag-" not in body and b"02963 957 006" in body  # hotlines from the contact table
    assert "script-src 'self'" in headers.get("Content-Security-Policy", "")
    assert headers.get("X-Frame-Options") == "DENY"
    assert _http(base + "/config.js")[0] == 200
    assert _http(base + "/static/app.js")[0] == 200
    assert _http(base + "/socket.io/?EIO=4&transport=polling")[0] == 200
    assert _http(base + "/webhooks/zalo/webhook")[0] == 200  # Zalo's URL check (GET)
    for path in (
        "/webhooks/rest/",
        "/webhooks/socketio/",
        "/status",
        "/version",
        "/model/parse",
        "/conversations/x/tracker",
        "/conversations/x/messages",
        "/webhooks/callback/webhook",
        "/web/package.json",
        "/static/../package.json",
    ):
        assert _http(base + path)[0] == 404, path
    assert _http(base + "/webhooks/rest/webhook")[0] == 405  # GET
    big = json.dumps({"sender": "big", "message": "a" * 70_000}).encode()
    assert _http(base + "/webhooks/rest/webhook", big)[0] == 413
    # the Rasa processes run without the HTTP API (no RASA_TOKEN)
    assert _http(f"http://127.0.0.1:{profile.s.rasa_ports[0]}/status")[0] == 404
    # the action servers' balancer is internal: the public server has no /webhook or /health
    assert _http(base + "/webhook", b"{}")[0] == 404 and _http(base + "/health")[0] == 404
    assert _http(f"http://{profile.s.actions_host}:{profile.s.actions_port}/health")[0] == 200


def test_two_processes_under_concurrent_load_lose_and_mix_nothing(profile, prod, soak, rest_url):
    prefix = f"load-{uuid.uuid4().hex[:6]}"
    offset = _access_log_size(profile)
    report = asyncio.run(soak.run_load(rest_url, conversations=40, turns=5, concurrency=20, prefix=prefix))
    figures = soak.summary(report)
    assert report.sent == 200, figures
    assert not report.failed, [(r.sender, r.index, r.error) for r in report.failed[:5]]
    assert report.apologies == 0, figures
    assert not report.wrong_context, [
        (r.sender, r.text, soak.reply_text(r.replies)[:200]) for r in report.wrong_context[:5]
    ]
    assert not report.conversations_missing_turns()
    # both Rasa processes served the conversations
    upstreams = re.findall(
        r"POST /webhooks/rest/webhook\" 200 .* upstream=\S+:(\d+)",
        "\n".join(_access_log_since(profile, offset)),
    )
    used = {int(p) for p in upstreams}
    assert used == set(profile.s.rasa_ports), f"upstreams used: {sorted(used)}"
    # every conversation's tracker holds exactly its own messages, in order
    stored = _user_texts(prod, profile.s.pg.db, prefix)
    for sender, script in report.conversations.items():
        assert stored.get(sender) == [t.text for t in script], sender


def test_logs_mask_phone_and_id_card_numbers(profile, rest_url):
    sender = f"pii-{uuid.uuid4().hex[:6]}"
    for text in (
        f"số tôi là {PII_PHONE}, cccd {PII_ID}",
        f"An Giang có bao nhiêu sản phẩm OCOP? gọi lại cho tôi {PII_PHONE}",
        f"{PII_ID}",
        f'/ask_contact{{"topic": "{PII_PHONE}"}}',
    ):
        status, replies = post(rest_url, sender, text)
        assert status == 200 and replies
    time.sleep(1)  # let the processes flush their logs
    logs = [p for p in profile.s.log_dir.iterdir() if p.is_file()]
    assert any(p.name.startswith("rasa-") for p in logs)
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    assert PII_PHONE not in text and PII_ID not in text
    assert "091*****78" in text  # the message did reach the (DEBUG) logs, masked


def _restarted(profile, name: str, old_pid: int, timeout: float = 10) -> float:
    """Seconds until supervisord runs the program again under a new pid (fails after timeout)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status = profile.status()[name]
        if status.pid and status.pid != old_pid and status.state in ("STARTING", "RUNNING"):
            return time.monotonic() - t0
        time.sleep(0.2)
    raise AssertionError(f"{name} not restarted within {timeout} s: {profile.status()[name]}")


def test_action_server_killed_mid_load_every_turn_answered(profile, soak, rest_url):
    """One of the two action servers killed: the balancer sends its calls to the other one."""
    total = 20 * 10
    name = profile.actions_name(profile.s.actions_ports[0])
    old_pid = profile.pid(name)
    killed: dict[str, int] = {}

    def kill_halfway(result, report) -> None:
        if not killed and len(report.results) >= total // 2:
            os.killpg(old_pid, signal.SIGKILL)
            killed["at"] = len(report.results)

    report = asyncio.run(
        soak.run_load(
            rest_url, conversations=20, turns=10, concurrency=20, prefix="kill", on_turn=kill_halfway
        )
    )
    assert killed, "the action server was not killed"
    assert _restarted(profile, name, old_pid) < 10  # supervisord started it again (possibly already)
    profile.wait_ready([name], timeout=240)
    assert report.sent == total
    assert not report.failed, [(r.sender, r.index, r.status, r.error) for r in report.failed[:5]]
    assert report.apologies == 0, soak.summary(report)  # the other action server answered every call
    assert not report.wrong_context
    status, replies = post(rest_url, "after-kill", "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?")
    assert status == 200 and soak.context_ok(replies, "Tiền Giang") and not soak.is_apology(replies)


def test_hung_action_servers_time_out_with_the_apology(profile, soak, rest_url):
    """Every action server hung (SIGSTOP): each turn that needs one gets the apology with the hotline."""
    pids = [profile.pid(profile.actions_name(p)) for p in profile.s.actions_ports]
    for pid in pids:
        os.killpg(pid, signal.SIGSTOP)
    try:
        questions = [f"{p} có bao nhiêu sản phẩm OCOP 4 sao?" for p in soak.PROVINCES]

        def ask(i_text):
            t0 = time.monotonic()
            status, replies = post(rest_url, f"hung-{i_text[0]}", i_text[1])
            return status, replies, time.monotonic() - t0

        with ThreadPoolExecutor(len(questions)) as pool:
            results = list(pool.map(ask, enumerate(questions)))
    finally:
        for pid in pids:
            os.killpg(pid, signal.SIGCONT)
    for status, replies, seconds in results:
        assert status == 200 and soak.is_apology(replies)
        assert "02963 957 006" in soak.reply_text(replies)  # ...with the general hotline
        assert seconds < profile.s.actions_timeout + 10
    status, replies = post(rest_url, "hung-after", "Sóc Trăng có bao nhiêu sản phẩm OCOP 4 sao?")
    assert status == 200 and soak.context_ok(replies, "Sóc Trăng")


@pytest.mark.parametrize("service", ["redis", "postgres"])
def test_outage_every_turn_answered_and_conversations_continue_after_recovery(
    profile, proxies, soak, rest_url, service
):
    """Redis down: no conversation lock, the turn fails and gets the apology.

    PostgreSQL down: Rasa 3.6 wraps the tracker store in a fail-safe one that falls back to
    an in-memory store (ERROR "Falling back to use the 'InMemoryTrackerStore'"): users keep
    getting normal answers, but the context from before the outage is not available until
    PostgreSQL is back (a follow-up gets "please say which province"), and turns made
    during the outage are not persisted.
    """
    proxy = proxies[service]
    senders = [f"{service}-outage-{uuid.uuid4().hex[:6]}-{i}" for i in range(4)]
    for i, sender in enumerate(senders):
        province = soak.PROVINCES[i % 3]
        status, replies = post(rest_url, sender, f"{province} có bao nhiêu sản phẩm OCOP 4 sao?")
        assert status == 200 and soak.context_ok(replies, province)
    log_sizes = {p: p.stat().st_size for p in profile.s.log_dir.glob("rasa-*.log")}
    proxy.down()
    try:
        for sender in [*senders, f"{service}-outage-new-{uuid.uuid4().hex[:6]}"]:
            for text in ("thế còn 3 sao?", "xin chào"):
                t0 = time.monotonic()
                status, replies = post(rest_url, sender, text)
                assert status == 200, f"{service} down: HTTP {status}"
                assert soak.reply_text(replies).strip(), f"{service} down: empty reply"
                if service == "redis":
                    assert soak.is_apology(replies), replies
                elif text == "xin chào":
                    assert "Xin chào" in soak.reply_text(replies)
                assert time.monotonic() - t0 < 15
    finally:
        proxy.up()
    # a clear error in the logs of the Rasa processes
    new_log = "".join(p.read_text(errors="replace")[size:] for p, size in log_sizes.items())
    if service == "redis":
        assert "Error 111 connecting" in new_log and "turn failed for sender" in new_log
    else:
        assert "psycopg2.OperationalError" in new_log
        assert "Falling back to use the 'InMemoryTrackerStore'" in new_log
    # recovery: the conversations continue where they were before the outage
    for i, sender in enumerate(senders):
        province = soak.PROVINCES[i % 3]
        status, replies = post(rest_url, sender, "thế còn 5 sao?")
        assert status == 200 and not soak.is_apology(replies), f"after {service} recovery: {replies}"
        assert soak.context_ok(replies, province), soak.reply_text(replies)


def test_restart_keeps_the_conversations(profile, soak, rest_url):
    senders = {f"restart-{uuid.uuid4().hex[:6]}-{i}": soak.PROVINCES[i % 3] for i in range(6)}
    for sender, province in senders.items():
        status, replies = post(rest_url, sender, f"{province} có bao nhiêu sản phẩm OCOP 4 sao?")
        assert status == 200 and soak.context_ok(replies, province)
    first, second = profile.s.rasa_ports
    # one process stops: the other one continues every conversation (shared tracker store)
    profile.stop_process(profile.rasa_name(first))
    for sender, province in senders.items():
        status, replies = post(rest_url, sender, "thế còn 3 sao?")
        assert status == 200 and soak.context_ok(replies, province), replies
    # both restart: the conversations continue from PostgreSQL
    profile.stop_process(profile.rasa_name(second))
    for port in (first, second):
        profile.sup.start_program(profile.rasa_name(port))
    profile.wait_ready([profile.rasa_name(first), profile.rasa_name(second)])
    for sender, province in senders.items():
        status, replies = post(rest_url, sender, "còn 5 sao thì sao?")
        assert status == 200 and soak.context_ok(replies, province), replies
        assert not soak.is_apology(replies)


def test_processes_are_still_healthy(profile):
    status = profile.status()
    expected = {"nginx", *(profile.rasa_name(p) for p in profile.s.rasa_ports)}
    expected |= {profile.actions_name(p) for p in profile.s.actions_ports}
    assert set(status) == expected
    assert all(st.state == "RUNNING" for st in status.values()), status
    assert all(Path(f"/proc/{pid}").exists() for pid in profile.pids().values())
