"""Start the action server, the Rasa server and the web chat page; stop them on Ctrl-C.

    python scripts/serve.py                 # foreground (make run)
    python scripts/serve.py -- CMD ARGS...  # start, run CMD against them, stop (tests)

CMD gets RASA_URL and WEB_URL in its environment, and the OCOP_TRACKER_DB, OCOP_CARDS_DIR and
OCOP_CONTACTS_FILE the servers use. --cards-copy serves a temporary copy of the cards folder
and of the contact table (removed at the end), so a test that edits them never changes data/.
The web chat page (scripts/web.py) is served on --web-port (default 8080 or $WEB_PORT); its
origin is added to the socket.io channel's allowed origins (OCOP_WEB_ORIGINS) and to
--cors. --no-web skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("OCOP_VAR_DIR") or ROOT / "var")  # logs, pids, tracker.db


def wait_http(url: str, timeout: float, proc: subprocess.Popen, what: str) -> float:
    """Poll a URL until it answers 200; fail early if the process died."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}; see {VAR}/{what}.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not answer on {url} within {timeout:.0f} s; see {VAR}/{what}.log")


def first_reply(url: str, timeout: float, message: str = "xin chào") -> float:
    """Send one message and wait for a non-empty reply (cold start complete)."""
    start = time.perf_counter()
    body = json.dumps({"sender": "startup-probe", "message": message}).encode()
    while time.perf_counter() - start < timeout:
        try:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                if json.loads(resp.read() or b"[]"):
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"no reply from {url} within {timeout:.0f} s")


def web_origins(web_port: int) -> list[str]:
    """Origins under which the web chat page is opened locally."""
    return [f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}"]


def _spawn(cmd: list[str], name: str, env: dict[str, str]) -> subprocess.Popen:
    """Start one server in its own session, its output appended to var/<name>.log."""
    with open(VAR / f"{name}.log", "ab") as log:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def start(args: argparse.Namespace) -> list[subprocess.Popen]:
    """Start the servers and wait until they answer."""
    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), ACTIONS_PORT=str(args.actions_port))
    if not args.no_web:
        extra = [o for o in os.environ.get("OCOP_WEB_ORIGINS", "").replace(",", " ").split() if o]
        env["OCOP_WEB_ORIGINS"] = ",".join(dict.fromkeys(extra + web_origins(args.web_port)))
    env.setdefault("OCOP_TRACKER_DB", str(VAR / "tracker.db"))
    if args.cards_copy:
        args.cards_copy = tempfile.mkdtemp(prefix="cards-", dir=VAR)
        source = Path(os.environ.get("OCOP_CARDS_DIR") or ROOT / "data" / "cards")
        env["OCOP_CARDS_DIR"] = str(shutil.copytree(source, Path(args.cards_copy) / "cards"))
        contacts = Path(os.environ.get("OCOP_CONTACTS_FILE") or ROOT / "data" / "contacts.csv")
        env["OCOP_CONTACTS_FILE"] = str(shutil.copy2(contacts, Path(args.cards_copy) / contacts.name))
    args.served_env = {
        k: env[k] for k in ("OCOP_TRACKER_DB", "OCOP_CARDS_DIR", "OCOP_CONTACTS_FILE") if k in env
    }
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    # Fewer glibc malloc arenas: TensorFlow's and torch's thread pools otherwise keep
    # one arena per thread and the resident memory grows by hundreds of MB.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    actions = _spawn(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "bot.logmask", "actions.server"]
        + ["--port", str(args.actions_port)],
        "actions",
        env,
    )
    cmd = [
        str(ROOT / ".venv-rasa/bin/python"),
        "-m",
        "bot.rasa_run",  # `rasa run` + the action_endpoint timeout Rasa 3.6 ignores
        "run",
        "--model",
        args.model,
        "--port",
        str(args.port),
        "--endpoints",
        args.endpoints,
        "--credentials",
        args.credentials,
        "--interface",
        args.interface,
        # masks phone and ID-card numbers in every log line (bot/logmask.py)
        "--logging-config-file",
        args.logging_config,
        "--cors",
        *args.cors,
    ]
    try:
        rasa = _spawn(cmd, "rasa", env)
    except BaseException:
        stop([actions])  # never leave an orphaned action server holding its port
        raise
    procs = [actions, rasa]
    pids = {"actions": actions.pid, "rasa": rasa.pid}
    if not args.no_web:
        web = _spawn(
            [sys.executable, str(ROOT / "scripts" / "web.py"), "--host", args.interface]
            + ["--port", str(args.web_port), "--rasa-port", str(args.port)],
            "web",
            env,
        )
        procs.append(web)
        pids["web"] = web.pid
    try:
        if not args.no_web:
            wait_http(f"http://127.0.0.1:{args.web_port}/", 30, procs[-1], "web")
        wait_http(f"http://127.0.0.1:{args.actions_port}/health", 180, actions, "actions")
        wait_http(f"http://127.0.0.1:{args.port}/", 300, rasa, "rasa")
        cold = first_reply(f"http://127.0.0.1:{args.port}/webhooks/rest/webhook", 120)
    except BaseException:
        stop(procs)
        raise
    (VAR / "pids.json").write_text(json.dumps(pids))
    print(f"cold start: {time.perf_counter() - t0:.1f} s (first answer {cold:.1f} s after the port opened)")
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    """Terminate the process groups, then kill what is left."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM/SIGHUP (CI timeout, closed terminal): unwind so the servers are stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    """Parse arguments; serve in the foreground or around a command."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    ap.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    ap.add_argument("--model", default=str(ROOT / "models" / "ocop.tar.gz"))
    ap.add_argument("--endpoints", default=str(ROOT / "endpoints.yml"))
    ap.add_argument("--credentials", default=str(ROOT / "credentials.yml"))
    ap.add_argument("--interface", default=os.environ.get("RASA_INTERFACE", "127.0.0.1"))
    ap.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    ap.add_argument("--no-web", action="store_true", help="do not serve the web chat page")
    ap.add_argument(
        "--cards-copy", action="store_true", help="serve a temporary copy of the cards and the contact table"
    )
    ap.add_argument(
        "--logging-config",
        default=str(ROOT / "deploy" / "logging.yml"),
        help="Rasa's --logging-config-file (default: deploy/logging.yml, masks phone/ID numbers)",
    )
    ap.add_argument(
        "--cors",
        nargs="*",
        default=None,
        help="origins allowed by Rasa's HTTP API (default: the web chat's origins)",
    )
    args = ap.parse_args(argv)
    if args.cors is None:
        args.cors = web_origins(args.web_port)
    try:
        procs = start(args)
    except BaseException:
        _drop_copy(args)
        raise
    web_url = f"http://localhost:{args.web_port}/"
    if command:
        env = dict(os.environ, RASA_URL=f"http://localhost:{args.port}", **args.served_env)
        if not args.no_web:
            env["WEB_URL"] = web_url.rstrip("/")
        try:
            return subprocess.call(command, cwd=ROOT, env=env)
        except KeyboardInterrupt:
            return 130
        finally:
            stop(procs)
            _drop_copy(args)
    print(
        f"The assistant is up. REST: POST http://localhost:{args.port}/webhooks/rest/webhook "
        '{"sender": "me", "message": "xin chào"}  - Ctrl-C stops the servers.'
    )
    if not args.no_web:
        print(f"Web chat: {web_url}", flush=True)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print(f"a server stopped unexpectedly; see {VAR}/*.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        stop(procs)
        _drop_copy(args)


def _drop_copy(args: argparse.Namespace) -> None:
    """Remove the temporary copy of the cards (--cards-copy)."""
    if isinstance(args.cards_copy, str):
        shutil.rmtree(args.cards_copy, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
