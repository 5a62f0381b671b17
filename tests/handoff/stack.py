"""The whole assistant for the handoff tests: actions, Rasa (REST, web chat, Zalo, handoff),
the web chat page, the staff console and a fake Zalo OpenAPI, on free ports, in a temporary
folder (its own SQLite tracker store, console database and Zalo token file).

Ports: free ones, or HANDOFF_RASA_PORT, HANDOFF_ACTIONS_PORT, HANDOFF_WEB_PORT and
HANDOFF_CONSOLE_PORT. The clock of the action server is fixed with OCOP_CLOCK.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.zalo.fake_zalo import APP_ID, APP_SECRET, FakeZalo

ROOT = Path(__file__).resolve().parents[2]
RPY, APY = ROOT / ".venv-rasa" / "bin" / "python", ROOT / ".venv-actions" / "bin" / "python"
OA_SECRET = "oa-secret-handoff"
IN_HOURS = "2026-12-07T09:00:00+07:00"  # a Monday morning
OUTSIDE_HOURS = "2026-12-05T20:00:00+07:00"  # a Saturday evening
# Console accounts of the tests (name, password), created by the stack fixture.
EDITOR, VIEWER = ("canbo-lan", secrets.token_hex(16)), ("xem-hoa", secrets.token_hex(16))


def free_port(env: str) -> int:
    """The port in $env, else one nothing listens on now."""
    if os.environ.get(env):
        return int(os.environ[env])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(url: str, body: Any = None, headers: dict | None = None, timeout: float = 60) -> tuple[int, Any]:
    """(status, parsed JSON or text) of a GET, or of a POST when a body is given."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class FakeZaloThread:
    """The fake Zalo OpenAPI served from a background thread (the tests are synchronous)."""

    def __init__(self) -> None:
        """Start the loop and the server."""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeZalo = asyncio.run_coroutine_threadsafe(FakeZalo().start(), self.loop).result(10)

    def stop(self) -> None:
        """Stop the server and the loop."""
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


class Stack:
    """Start, restart and stop the servers; helpers to talk to them."""

    def __init__(self, work: Path) -> None:
        """Choose ports and settings; nothing runs yet."""
        self.work = work
        self.rasa_port, self.actions_port = free_port("HANDOFF_RASA_PORT"), free_port("HANDOFF_ACTIONS_PORT")
        self.web_port, self.console_port = free_port("HANDOFF_WEB_PORT"), free_port("HANDOFF_CONSOLE_PORT")
        self.rasa_url, self.web_url = (
            f"http://127.0.0.1:{self.rasa_port}",
            f"http://localhost:{self.web_port}",
        )
        self.console_url = f"http://127.0.0.1:{self.console_port}/staff"
        self.token = secrets.token_urlsafe(24)
        self.zalo = FakeZaloThread()
        self.procs: dict[str, subprocess.Popen] = {}
        self.tracker_db = work / "tracker.db"
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT), OCOP_VAR_DIR=str(work), OCOP_TRACKER_DB=str(self.tracker_db),
            ACTIONS_PORT=str(self.actions_port), OCOP_HANDOFF_TOKEN=self.token, OCOP_CLOCK=IN_HOURS,
            OCOP_WEB_ORIGINS=",".join(self.origins()), OCOP_CONSOLE_DB=f"sqlite:///{work / 'console.db'}",
            OCOP_RASA_URL=self.rasa_url, ZALO_APP_ID=APP_ID, ZALO_OA_SECRET_KEY=OA_SECRET,
            ZALO_APP_SECRET=APP_SECRET, ZALO_ACCESS_TOKEN="AT-1", ZALO_REFRESH_TOKEN="RT-1",
            ZALO_TOKEN_STORE=str(work / "zalo_tokens.json"), ZALO_API_BASE=self.zalo.fake.url,
            ZALO_OAUTH_BASE=self.zalo.fake.url, RASA_TELEMETRY_ENABLED="false", HF_HUB_OFFLINE="1",
            SQLALCHEMY_SILENCE_UBER_WARNING="1", TF_CPP_MIN_LOG_LEVEL="2", MALLOC_ARENA_MAX="2",
        )  # fmt: skip
        for name in ("OCOP_TRACKER_URL", "OCOP_HANDOFF_TOKEN_FILE", "ZALO_DEDUP_REDIS_URL", "ZALO_REDIS_URL"):
            self.env.pop(name, None)

    def origins(self) -> list[str]:
        """Where the web chat page is opened."""
        return [f"http://localhost:{self.web_port}", f"http://127.0.0.1:{self.web_port}"]

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
        """Start one server in its own process group, logging to <work>/<name>.log."""
        with open(self.work / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env or self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait(self, name: str, url: str, timeout: float) -> None:
        """Poll a URL until it answers 200; fail with the log's tail if the process died or timed out."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=3) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        tail = (self.work / f"{name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{name} did not start on {url}:\n{tail}")

    def credentials(self) -> Path:
        """The channels: REST, web chat (this page's origins), Zalo (the fake API), handoff."""
        path = self.work / "credentials.yml"
        path.write_text(
            "bot.channels.rest.RestInput:\n"
            "bot.channels.socketio.SocketIOInput:\n  user_message_evt: user_uttered\n"
            "  bot_message_evt: bot_uttered\n  session_persistence: true\n"
            f"  allowed_origins: [{', '.join(self.origins())}]\n"
            "bot.channels.zalo.ZaloInput:\nbot.channels.handoff.HandoffInput:\n",
            encoding="utf-8",
        )
        return path

    def start_actions(self, clock: str = IN_HOURS) -> None:
        """The action server, with its clock fixed."""
        self.env["OCOP_CLOCK"] = clock
        cmd = [str(APY), "-m", "actions.server", "--port", str(self.actions_port)]
        self._spawn("actions", cmd)
        self._wait("actions", f"http://127.0.0.1:{self.actions_port}/health", 240)

    def start_rasa(self) -> None:
        """The Rasa server (the same command as scripts/serve.py), then one answered message."""
        cmd = [str(RPY), "-m", "bot.rasa_run", "run", "--model", str(ROOT / "models" / "ocop.tar.gz")]
        cmd += ["--port", str(self.rasa_port), "--endpoints", str(ROOT / "endpoints.yml")]
        cmd += [
            "--credentials",
            str(self.credentials()),
            "--interface",
            "127.0.0.1",
            "--cors",
            *self.origins(),
        ]
        self._spawn("rasa", cmd)
        self._wait("rasa", f"{self.rasa_url}/webhooks/rest/", 300)
        deadline = time.time() + 120
        while time.time() < deadline:
            status, body = http(
                f"{self.rasa_url}/webhooks/rest/webhook", {"sender": "probe", "message": "xin chào"}
            )
            if status == 200 and body:
                return
            time.sleep(1)
        raise RuntimeError("Rasa does not answer")

    def start_web_and_console(self, users: dict[str, tuple[str, str]]) -> None:
        """The web chat page and the console, with the given users {name: (password, role)}."""
        web = [str(RPY), "-m", "ops.web", "--host", "127.0.0.1", "--port", str(self.web_port)]
        self._spawn("web", web + ["--rasa-port", str(self.rasa_port)])
        for name, (password, role) in users.items():
            done = subprocess.run(
                [str(APY), "-m", "console", "create-user", name, "--role", role],
                input=password + "\n", capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=120,
            )  # fmt: skip
            if done.returncode:
                raise RuntimeError(done.stderr)
        self._spawn("console", [str(APY), "-m", "console", "serve", "--port", str(self.console_port)])
        self._wait("web", f"http://127.0.0.1:{self.web_port}/", 60)
        self._wait("console", f"{self.console_url}/login", 120)

    def stop(self, *names: str) -> None:
        """Stop the named servers (all when none is named)."""
        for name in names or list(self.procs):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if not names:
            self.zalo.stop()

    def say(self, sender: str, text: str) -> list[dict]:
        """One REST message; the replies."""
        status, body = http(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        assert status == 200, body
        return body

    def events(self, sender: str) -> list[dict]:
        """The sender's events as stored in the tracker store."""
        import sqlite3

        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
        return [json.loads(r[0]) for r in rows]
