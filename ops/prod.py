"""The production profile under supervisord: start, status, stop (make prod, prod-status, prod-stop).

    python -m ops.prod                  # check, start in the background, wait until it answers (make prod)
    python -m ops.prod --foreground     # same, but stay attached: Ctrl-C stops everything (systemd, containers)
    python -m ops.prod status           # every process: state, pid, uptime, ready (make prod-status)
    python -m ops.prod stop             # stop every process, then supervisord (make prod-stop)
    python -m ops.prod --check          # only check PostgreSQL, Redis, nginx, model, ports
    python -m ops.prod -- CMD ARGS...   # start, run CMD against it (RASA_URL = nginx), stop

What runs is ops/processes.py's table for this host's PROD_ROLES: the action servers
(ACTIONS_PORTS, `--strict`: a missing or corrupt index or contacts file stops the start with
the STARTUP PROBLEM lines), the Rasa processes (RASA_PORTS; `rasa run` through
bot/rasa_run.py, no HTTP API unless RASA_TOKEN is set, logs masked), nginx (the public
server, and the action servers' balancer on ACTIONS_HOST:ACTIONS_PORT) and, when
NGINX_CONSOLE_UPSTREAM is set, the staff console. supervisord restarts any process that
exits and rotates the logs in OCOP_PROD_DIR/logs. Configuration: README "Production".
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from ops.nginx import nginx_binary, nginx_test, render_nginx
from ops.processes import Program, programs
from ops.prod_config import ROOT, Settings, StartupError, check_all, check_postgres, check_redis
from ops.supervise import Status, Supervisor, group_rss_kb, http_ok, replies

__all__ = [
    "Profile",
    "Settings",
    "StartupError",
    "check_postgres",
    "check_redis",
    "nginx_binary",
    "nginx_test",
    "render_nginx",
]


class Profile:
    """A profile's processes (the table for these settings) under one supervisord."""

    def __init__(self, settings: Settings, only: tuple[str, ...] | None = None) -> None:
        """Nothing starts before start(); `only`: just these kinds of the table (e.g. ("actions",))."""
        self.s = settings
        self.programs: list[Program] = [
            p for p in programs(settings) if only is None or p.name.split("-")[0] in only
        ]
        self.sup = Supervisor(
            settings.run_dir,
            settings.log_dir,
            self.programs,
            env=None,
            name=f"ocop-{settings.profile}",
            log_max_bytes=settings.log_max_bytes,
            log_backups=settings.log_backups,
        )

    @staticmethod
    def rasa_name(port: int) -> str:
        """Program (and log file) name of the Rasa process on port."""
        return f"rasa-{port}"

    @staticmethod
    def actions_name(port: int) -> str:
        """Program (and log file) name of the action server on port."""
        return f"actions-{port}"

    def start(self, check: bool = True, progress: bool = True, detach: bool = False) -> float:
        """Check, then start everything and wait until it answers; the start time in seconds."""
        say = print if progress else (lambda *a, **k: None)
        t0 = time.perf_counter()
        if check:
            problems = check_all(self.s)
            if problems:
                raise StartupError(
                    f"cannot start the {self.s.profile} profile:\n  - " + "\n  - ".join(problems)
                )
        else:
            self.s.validate()
        if self.s.profile == "prod" and any(p.name.startswith("rasa-") for p in self.programs):
            try:
                if self.s.pg.ensure():
                    say(f"created PostgreSQL database {self.s.pg.db!r}")
            except Exception as exc:  # noqa: BLE001 - reported to the user
                raise StartupError(f"cannot create the PostgreSQL database {self.s.pg.db!r}: {exc}") from exc
        if any(p.name == "nginx" for p in self.programs):
            nginx_test(self.s, render_nginx(self.s))
        say(
            f"starting {', '.join(p.name for p in self.programs)} under supervisord; logs in {self.s.log_dir}",
            flush=True,
        )
        self.sup.env = self.s.child_env()
        self.sup.launch(detach=detach)
        try:
            self.sup.wait_ready()
            if any(p.name == "nginx" for p in self.programs) and any(
                p.name.startswith("rasa-") for p in self.programs
            ):
                url = f"http://127.0.0.1:{self.s.nginx_port}/webhooks/rest/webhook"
                if self.s.nginx_listen not in ("0.0.0.0", "127.0.0.1", "localhost"):
                    url = f"http://{self.s.nginx_listen}:{self.s.nginx_port}/webhooks/rest/webhook"
                if not replies(url, "startup-probe"):
                    raise StartupError(f"no reply through nginx ({url})")
        except BaseException:
            self.stop()
            raise
        return time.perf_counter() - t0

    def stop(self) -> None:
        """Stop every process (nginx first, the action servers last) and supervisord."""
        self.sup.shutdown()

    # -- one process ---------------------------------------------------------------------------
    def pid(self, name: str) -> int:
        """Pid of a running process (0 if it does not run)."""
        return self.sup.pid(name)

    def pids(self) -> dict[str, int]:
        """Running processes by name."""
        return self.sup.pids()

    def status(self) -> dict[str, Status]:
        """Every process as supervisord sees it."""
        return self.sup.status()

    def stop_process(self, name: str) -> None:
        """Stop one process; it stays stopped until start_process."""
        self.sup.stop_program(name)

    def start_process(self, name: str, timeout: float = 480) -> None:
        """Start one stopped process and wait until it answers."""
        self.sup.start_program(name)
        self.sup.wait_ready([name], timeout=timeout)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 480) -> None:
        """Until the (named) processes answer."""
        self.sup.wait_ready(names, timeout=timeout)

    def rss_mb(self) -> dict[str, float]:
        """Resident memory (MB) of each process group (nginx: master + workers)."""
        return {name: group_rss_kb(pid) / 1024 for name, pid in self.pids().items()}


# ---- command line ----------------------------------------------------------------------------
def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM/SIGHUP: unwind so that every process is stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str]) -> tuple[Settings, argparse.Namespace]:
    """Settings from the environment, overridden by options."""
    s = Settings()
    ap = argparse.ArgumentParser(
        prog="python -m ops.prod", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("command", nargs="?", default="start", choices=["start", "status", "stop"])
    ap.add_argument("--rasa-ports", default=",".join(map(str, s.rasa_ports)), help="one per Rasa process")
    ap.add_argument(
        "--actions-ports", default=",".join(map(str, s.actions_ports)), help="one per action server"
    )
    ap.add_argument("--actions-port", type=int, default=s.actions_port, help="the action servers' balancer")
    ap.add_argument("--nginx-port", type=int, default=s.nginx_port)
    ap.add_argument("--listen", default=s.nginx_listen, help="address nginx listens on (0.0.0.0: all)")
    ap.add_argument("--db", default=s.pg.db, help="PostgreSQL database (created if missing)")
    ap.add_argument(
        "--log-level", default=s.log_level, choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper
    )
    ap.add_argument("--var-dir", default=str(s.var_dir), help="logs, generated configuration, socket")
    ap.add_argument("--model", default=str(s.model))
    ap.add_argument("--foreground", action="store_true", help="stay attached; Ctrl-C stops everything")
    ap.add_argument("--check", action="store_true", help="only run the checks and exit")
    args = ap.parse_args(argv)
    s.rasa_ports = [int(p) for p in re.split(r"[,\s]+", args.rasa_ports) if p]
    s.actions_ports = [int(p) for p in re.split(r"[,\s]+", args.actions_ports) if p]
    s.actions_port, s.nginx_port, s.nginx_listen = args.actions_port, args.nginx_port, args.listen
    s.pg.db, s.log_level, s.var_dir, s.model = args.db, args.log_level, Path(args.var_dir), Path(args.model)
    return s, args


def print_status(profile: Profile) -> int:
    """One line per process; 0 if every process runs and answers, 3 if some do not, 4 if nothing runs."""
    if not profile.sup.alive():
        print(f"the {profile.s.profile} profile is not running (no supervisord at {profile.sup.socket_path})")
        return 4
    ready = {p.name: p.ready_url for p in profile.programs}
    bad = 0
    print(f"{'process':<16} {'state':<9} {'pid':>7}  {'answers':<8} uptime / reason")
    for name, st in sorted(profile.status().items()):
        url = ready.get(name)
        answers = "-" if not url or st.state != "RUNNING" else ("yes" if http_ok(url) else "NO")
        bad += st.state != "RUNNING" or answers == "NO"
        print(f"{name:<16} {st.state:<9} {st.pid or '':>7}  {answers:<8} {st.uptime or st.spawnerr}")
    print(f"logs: {profile.s.log_dir}/  (supervisord: {profile.sup.conf})")
    return 3 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Start (in the background or the foreground, or around a command), status, stop, check."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with SIGINT ignored
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    s, args = parse_args(argv)
    profile = Profile(s)
    if args.command == "status":
        return print_status(profile)
    if args.command == "stop":
        if not profile.sup.alive():
            print("the production profile is not running")
            return 0
        profile.stop()
        print("stopped")
        return 0
    if args.check:
        problems = check_all(s)
        for problem in problems:
            print(f"PROBLEM: {problem}", file=sys.stderr)
        if not problems:
            print("ready: PostgreSQL, Redis, nginx, model, index and ports are fine")
        return 1 if problems else 0
    if s.has("app") and (not os.environ.get("ZALO_APP_ID") or not os.environ.get("ZALO_OA_SECRET_KEY")):
        print(
            "note: ZALO_APP_ID / ZALO_OA_SECRET_KEY are not set: the Zalo webhook answers 403 until they are"
        )
    if profile.sup.alive():
        print(
            f"ERROR: the profile already runs ({profile.sup.socket_path}): make prod-status, make prod-stop"
        )
        return 2
    attached = bool(command) or args.foreground
    try:
        seconds = profile.start(detach=not attached)
    except StartupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped while starting")
        return 130
    print(f"production profile up in {seconds:.0f} s")
    if command:
        try:
            return subprocess.call(command, cwd=ROOT, env=dict(os.environ, RASA_URL=s.url, WEB_URL=s.url))
        except KeyboardInterrupt:
            return 130
        finally:
            profile.stop()
    print(
        f"Web chat: {s.url}/\n"
        f'REST:     curl -s {s.url}/webhooks/rest/webhook -d \'{{"sender": "me", "message": "xin chào"}}\'\n'
        f"Zalo:     {s.url}/webhooks/zalo/webhook\n"
        + (
            f"HTTPS:    https://{s.tls_address}:{s.tls_port}/ (NGINX_TLS_CERT {s.tls_cert})\n"
            if s.tls
            else ""
        )
        + (f"Console:  {s.url}/staff/\n" if s.console_upstream else "")
        + f"Logs:     {s.log_dir}/",
        flush=True,
    )
    if not args.foreground:
        print("Status:   make prod-status   -  Stop: make prod-stop")
        return 0
    print("Ctrl-C stops everything.", flush=True)
    try:
        code = profile.sup.proc.wait() if profile.sup.proc else 0
        print(f"supervisord exited with code {code}; see {s.log_dir}/supervisord.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...")
        profile.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
