"""`make run`: the action server, the Rasa server and the web chat page under supervisord; Ctrl-C stops them.

    python -m ops.serve                 # foreground (make run)
    python -m ops.serve -- CMD ARGS...  # start, run CMD against them, stop (make e2e, make eval)

(scripts/serve.py is the same command.) The processes are ops/processes.py's table for the
`run` profile: one action server, one Rasa process with endpoints.yml (conversations in the
SQLite file OCOP_TRACKER_DB, var/tracker.db) and the web page (ops/web.py) on --web-port
(default 8080 or $WEB_PORT), whose origin is added to the socket.io channel's allowed
origins (OCOP_WEB_ORIGINS) and to --cors. A process that exits is restarted; logs are in
var/logs/ (rotated). CMD gets RASA_URL and WEB_URL in its environment, and the
OCOP_TRACKER_DB, OCOP_CARDS_DIR and OCOP_CONTACTS_FILE the servers use. --cards-copy serves a
temporary copy of the cards folder and of the contact table (removed at the end), so a test
that edits them never changes data/. --no-web skips the page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ops.prod import Profile
from ops.prod_config import ROOT, Settings, StartupError


def settings(args: argparse.Namespace) -> Settings:
    """make run's settings from the options."""
    s = Settings.for_run()
    s.rasa_ports, s.actions_ports, s.model = [args.port], [args.actions_port], Path(args.model)
    s.endpoints, s.credentials, s.interface = Path(args.endpoints), Path(args.credentials), args.interface
    s.web_port, s.web, s.logging_config, s.cors = (
        args.web_port,
        not args.no_web,
        Path(args.logging_config),
        args.cors,
    )
    if s.cors is None:
        s.cors = [f"http://localhost:{s.web_port}", f"http://127.0.0.1:{s.web_port}"]
    return s


def start(args: argparse.Namespace) -> Profile:
    """Start the servers and wait until they answer (raises StartupError)."""
    s = settings(args)
    s.var_dir.mkdir(parents=True, exist_ok=True)
    if args.cards_copy:
        args.cards_copy = tempfile.mkdtemp(prefix="cards-", dir=s.var_dir)
        source = Path(os.environ.get("OCOP_CARDS_DIR") or ROOT / "data" / "cards")
        s.extra_env["OCOP_CARDS_DIR"] = str(shutil.copytree(source, Path(args.cards_copy) / "cards"))
        contacts = Path(os.environ.get("OCOP_CONTACTS_FILE") or ROOT / "data" / "contacts.csv")
        s.extra_env["OCOP_CONTACTS_FILE"] = str(shutil.copy2(contacts, Path(args.cards_copy) / contacts.name))
    env = s.child_env()
    args.served_env = {
        k: env[k] for k in ("OCOP_TRACKER_DB", "OCOP_CARDS_DIR", "OCOP_CONTACTS_FILE") if k in env
    }
    profile = Profile(s)
    t0 = time.perf_counter()
    profile.start(progress=False)
    print(f"cold start: {time.perf_counter() - t0:.1f} s", flush=True)
    return profile


def stop(profile: Profile) -> None:
    """Stop every server and supervisord."""
    profile.stop()


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM/SIGHUP (CI timeout, closed terminal): unwind so the servers are stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line (unchanged since scripts/serve.py)."""
    ap = argparse.ArgumentParser(prog="python -m ops.serve", description=__doc__.splitlines()[0])
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
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground or around a command."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        profile = start(args)
    except StartupError as exc:
        _drop_copy(args)
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        _drop_copy(args)
        raise
    web_url = f"http://localhost:{args.web_port}/"
    try:
        if command:
            env = dict(os.environ, RASA_URL=f"http://localhost:{args.port}", **args.served_env)
            if not args.no_web:
                env["WEB_URL"] = web_url.rstrip("/")
            try:
                return subprocess.call(command, cwd=ROOT, env=env)
            except KeyboardInterrupt:
                return 130
        print(
            f"The assistant is up. REST: POST http://localhost:{args.port}/webhooks/rest/webhook "
            '{"sender": "me", "message": "xin chào"}  - Ctrl-C stops the servers.'
        )
        if not args.no_web:
            print(f"Web chat: {web_url}", flush=True)
        print(f"Logs: {profile.s.log_dir}/ (a server that stops is restarted by supervisord)", flush=True)
        try:
            code = profile.sup.proc.wait() if profile.sup.proc else 0
            print(
                f"supervisord exited with code {code}; see {profile.s.log_dir}/supervisord.log",
                file=sys.stderr,
            )
            return 1
        except KeyboardInterrupt:
            print("\nstopping...")
            return 0
    finally:
        profile.stop()
        _drop_copy(args)


def _drop_copy(args: argparse.Namespace) -> None:
    """Remove the temporary copy of the cards (--cards-copy)."""
    if isinstance(args.cards_copy, str):
        shutil.rmtree(args.cards_copy, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
