"""supervisord keeps the profile running: killed processes come back; status and stop work.

Runs after test_profile.py on the same profile (the `profile` fixture), then starts a small
second profile (nginx and the staff console only, PROD_ROLES=front) the way `make prod`,
`make prod-status` and `make prod-stop` do: in the background, from the command line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

from prodtools import ROOT, RUN_ID, post


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _back(profile, name: str, old_pid: int, timeout: float = 10) -> float:
    """Seconds until supervisord runs the program again under a new pid."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        status = profile.status()[name]
        if status.pid and status.pid != old_pid and status.state in ("STARTING", "RUNNING"):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"{name} not back within {timeout} s: {profile.status()[name]}")


def test_killed_rasa_process_is_restarted_and_no_turn_is_lost(profile, soak, rest_url):
    senders = {f"sup-{uuid.uuid4().hex[:6]}-{i}": soak.PROVINCES[i % 3] for i in range(6)}
    for sender, province in senders.items():
        status, replies = post(rest_url, sender, f"{province} có bao nhiêu sản phẩm OCOP 4 sao?")
        assert status == 200 and soak.context_ok(replies, province)
    name = profile.rasa_name(profile.s.rasa_ports[0])
    old = profile.pid(name)
    os.killpg(old, signal.SIGKILL)
    assert _back(profile, name, old) < 10
    # while it loads its model again, the other process continues every conversation
    for sender, province in senders.items():
        status, replies = post(rest_url, sender, "thế còn 3 sao?")
        assert status == 200 and soak.context_ok(replies, province) and not soak.is_apology(replies), replies
    profile.wait_ready([name])
    assert profile.status()[name].state == "RUNNING"


def test_killed_nginx_and_action_server_are_restarted(profile, rest_url):
    for name in ("nginx", profile.actions_name(profile.s.actions_ports[-1])):
        old = profile.pid(name)
        os.killpg(old, signal.SIGKILL)  # master and workers
        assert _back(profile, name, old) < 10
        profile.wait_ready([name], timeout=240)
    status, replies = post(rest_url, f"sup-after-{RUN_ID}", "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?")
    assert status == 200 and replies
    log = (profile.s.log_dir / "supervisord.log").read_text()
    assert "exited: nginx (terminated by SIGKILL; expected)" not in log  # an unexpected exit...
    assert "exited: nginx (terminated by SIGKILL; not expected)" in log  # ...logged and restarted


def _cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops.prod", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_background_start_status_and_stop_with_the_console(profile, tmp_path):
    """`make prod` (background), `make prod-status`, `make prod-stop`: here the front role only."""
    var_dir = ROOT / "var" / "prod-test" / f"{RUN_ID}-front"
    nginx_port, balancer, console = _free_port(), _free_port(), _free_port()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PROD_ROLES="front",
        RASA_UPSTREAMS=",".join(f"127.0.0.1:{p}" for p in profile.s.rasa_ports),
        ACTIONS_UPSTREAMS=",".join(f"127.0.0.1:{p}" for p in profile.s.actions_ports),
        NGINX_CONSOLE_UPSTREAM=f"127.0.0.1:{console}",
        OCOP_CONSOLE_DB=f"sqlite:///{tmp_path / 'console.db'}",
        OCOP_TRACKER_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
    )
    where = ["--var-dir", str(var_dir), "--nginx-port", str(nginx_port), "--actions-port", str(balancer)]
    started = _cli(where, env, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "make prod-status" in started.stdout  # returned: the profile runs in the background
        status = _cli(["status", *where], env)
        assert status.returncode == 0, status.stdout
        lines = {line.split()[0]: line.split() for line in status.stdout.splitlines()[1:-1]}
        assert set(lines) == {"nginx", "console"}
        assert all(fields[1] == "RUNNING" and fields[3] == "yes" for fields in lines.values()), status.stdout
        # the console is behind nginx at /staff/, the channels reach the main profile's Rasa
        with urllib.request.urlopen(f"http://127.0.0.1:{nginx_port}/staff/login", timeout=30) as resp:
            assert resp.status == 200 and b"<form" in resp.read()
        code, replies = post(f"http://127.0.0.1:{nginx_port}/webhooks/rest/webhook", "front-cli", "xin chào")
        assert code == 200 and replies
        supervisord = int((var_dir / "run" / "supervisord.pid").read_text())
        pids = [int(fields[2]) for fields in lines.values()]
    finally:
        stopped = _cli(["stop", *where], env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    after = _cli(["status", *where], env)
    assert after.returncode == 4 and "not running" in after.stdout
    for pid in (supervisord, *pids):
        assert (
            not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split(") ")[1][:1]
        )
    for port in (nginx_port, console, balancer):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    import shutil

    shutil.rmtree(var_dir, ignore_errors=True)
