"""Start the action server and the Rasa server together; stop both cleanly on Ctrl-C.

    python scripts/serve.py                 # foreground (make run)
    python scripts/serve.py -- CMD ARGS...  # start, run CMD against them, stop (tests)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


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


def first_reply(url: str, timeout: float) -> float:
    """Send one message and wait for a non-empty reply (cold start complete)."""
    start = time.perf_counter()
    body = json.dumps({"sender": "startup-probe", "message": "xin chào"}).encode()
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


def start(args: argparse.Namespace) -> list[subprocess.Popen]:
    """Start both servers and wait until they answer."""
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), ACTIONS_PORT=str(args.actions_port))
    env.setdefault("OCOP_TRACKER_DB", str(VAR / "tracker.db"))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    t0 = time.perf_counter()
    actions_log = open(VAR / "actions.log", "ab")
    actions = subprocess.Popen(
        [str(ROOT / ".venv-actions/bin/python"), "-m", "actions.server", "--port", str(args.actions_port)],
        cwd=ROOT, env=env, stdout=actions_log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    rasa_log = open(VAR / "rasa.log", "ab")
    cmd = [
        str(ROOT / ".venv-rasa/bin/rasa"), "run", "--model", args.model, "--port", str(args.port),
        "--endpoints", args.endpoints, "--credentials", args.credentials,
        "--interface", args.interface, "--cors", *args.cors,
    ]
    rasa = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=rasa_log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    procs = [actions, rasa]
    try:
        wait_http(f"http://127.0.0.1:{args.actions_port}/health", 180, actions, "actions")
        wait_http(f"http://127.0.0.1:{args.port}/", 300, rasa, "rasa")
        cold = first_reply(f"http://127.0.0.1:{args.port}/webhooks/rest/webhook", 120)
    except BaseException:
        stop(procs)
        raise
    (VAR / "pids.json").write_text(json.dumps({"actions": actions.pid, "rasa": rasa.pid}))
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


def main() -> int:
    """Parse arguments; serve in the foreground or around a command."""
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
    ap.add_argument("--cors", nargs="*", default=["http://localhost:8080", "http://127.0.0.1:8080"])
    args = ap.parse_args(argv)
    procs = start(args)
    if command:
        try:
            return subprocess.call(command, cwd=ROOT)
        finally:
            stop(procs)
    print(f"The assistant is up. REST: POST http://localhost:{args.port}/webhooks/rest/webhook "
          '{"sender": "me", "message": "xin chào"}  - Ctrl-C stops both servers.')
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("a server stopped unexpectedly; see var/*.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        stop(procs)


if __name__ == "__main__":
    sys.exit(main())
