"""Production profile: PostgreSQL + Redis, several Rasa processes behind nginx; Ctrl-C stops all.

    python scripts/prod.py                  # foreground (make prod)
    python scripts/prod.py -- CMD ARGS...   # start, run CMD against it (RASA_URL = nginx), stop
    python scripts/prod.py --check          # only check PostgreSQL, Redis, nginx, model, ports

Starts, in this order:
  1. checks: PostgreSQL and Redis reachable (clear message if not), nginx installed,
     model and index built, ports free; creates the database (POSTGRES_DB) if missing;
  2. the action server on 127.0.0.1 only, with --strict (a missing or corrupt index or
     contacts file stops the start with the STARTUP PROBLEM lines);
  3. N Rasa processes in parallel (`rasa run` through bot/rasa_run.py, which applies the
     action timeout), without the HTTP API unless RASA_TOKEN is set (then --enable-api
     --auth-token), --cors limited to the web chat's origins, logs masked (deploy/logging.yml);
  4. nginx in the foreground with var/prod/run/nginx.conf generated from
     deploy/nginx.conf.template: only the REST, socket.io and Zalo webhooks and the
     web chat page are exposed.

Configuration (environment; defaults in brackets): POSTGRES_HOST [127.0.0.1],
POSTGRES_PORT [5432], POSTGRES_USER [postgres], POSTGRES_PASSWORD [], POSTGRES_DB [ocop],
POSTGRES_LOGIN_DB [postgres]; REDIS_HOST [127.0.0.1], REDIS_PORT [6379], REDIS_PASSWORD [],
REDIS_DB [1], REDIS_KEY_PREFIX [ocop]; RASA_PORTS [5005,5006], ACTIONS_PORT [5055],
NGINX_PORT [8080], NGINX_LISTEN [127.0.0.1]; per-client rate limits NGINX_RATE_LIMIT [5r/s],
NGINX_RATE_BURST [20], NGINX_ZALO_RATE_LIMIT [50r/s], NGINX_ZALO_RATE_BURST [100],
NGINX_RATE_EXEMPT [127.0.0.1,::1]; TLS: NGINX_TLS_CERT, NGINX_TLS_KEY (both: HTTPS on
NGINX_TLS_PORT [8443] at NGINX_TLS_LISTEN [NGINX_LISTEN]); ACTIONS_TIMEOUT [15 s]; OCOP_WEB_ORIGINS
(public origins of the web page); RASA_TOKEN (enables the HTTP API, never exposed by nginx);
ZALO_APP_ID, ZALO_OA_SECRET_KEY, ZALO_APP_SECRET, ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN,
ZALO_TOKEN_STORE, ZALO_DEDUP_REDIS_URL; LOG_LEVEL [INFO]; OCOP_PROD_DIR [var/prod].
Command-line options override the ports, database and log level.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # prod_config beside this file

from prod_config import (  # noqa: E402 - re-exported: tests, soak and bench use prod.<name>
    ACTIONS_PY,
    LOGGING_CONFIG,
    RASA_PY,
    ROOT,
    Settings,
    StartupError,
    check_all,
    check_postgres,
    check_redis,
    drop_database,
    ensure_database,
    nginx_binary,
    nginx_test,
    render_nginx,
)

# what tests, scripts/soak.py and scripts/bench.py use as prod.<name>
__all__ = [
    "Profile",
    "Settings",
    "StartupError",
    "check_postgres",
    "check_redis",
    "drop_database",
    "ensure_database",
    "nginx_binary",
    "nginx_test",
    "render_nginx",
]


# ---- processes --------------------------------------------------------------------------------
def http_ok(url: str, timeout: float = 3) -> bool:
    """True if GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def post_message(url: str, sender: str, text: str, timeout: float = 60) -> list[dict]:
    """POST one message to a REST webhook; the list of replies."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"[]")


def tail(path: Path, lines: int = 15, grep: str | None = None, offset: int = 0) -> str:
    """Last lines of a log from byte `offset` (only those containing grep, when given)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    if grep:
        text = [line for line in text if grep in line]
    return "\n".join(text[-lines:])


class Profile:
    """The running processes of the production profile."""

    def __init__(self, settings: Settings) -> None:
        """Nothing starts before start()."""
        self.s = settings
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: dict[str, object] = {}
        self._log_start: dict[str, int] = {}  # where this run's output starts in each log

    # -- one process ---------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        self.s.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.s.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in _reap
        self._log_start[name] = log.seek(0, os.SEEK_END)
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env or self.s.child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name], self._logs[name] = proc, log
        self._write_pids()
        return proc

    def _write_pids(self) -> None:
        self.s.run_dir.mkdir(parents=True, exist_ok=True)
        pids = {name: p.pid for name, p in self.procs.items() if p.poll() is None}
        (self.s.run_dir / "pids.json").write_text(json.dumps(pids))

    @staticmethod
    def rasa_name(port: int) -> str:
        """Process name (and log file name) of the Rasa process on port."""
        return f"rasa-{port}"

    def start_actions(self) -> subprocess.Popen:
        """The action server on 127.0.0.1, logs masked, --strict."""
        cmd = [str(ACTIONS_PY), "-m", "bot.logmask", "actions.server"]
        cmd += ["--host", self.s.interface, "--port", str(self.s.actions_port)]
        if self.s.strict:
            cmd.append("--strict")
        return self._spawn("actions", cmd)

    def rasa_command(self, port: int) -> list[str]:
        """`rasa run` for one process of the profile."""
        cmd = [str(RASA_PY), "-m", "bot.rasa_run", "run", "--model", str(self.s.model)]
        cmd += ["--port", str(port), "--interface", self.s.interface]
        cmd += ["--endpoints", str(self.s.endpoints), "--credentials", str(self.s.credentials)]
        cmd += ["--logging-config-file", str(LOGGING_CONFIG)]
        if self.s.log_level.upper() == "DEBUG":
            cmd.append("--debug")
        if self.s.rasa_token:
            cmd += ["--enable-api", "--auth-token", self.s.rasa_token]
        cmd += ["--cors", *self.s.web_origins()]
        return cmd

    def start_rasa(self, port: int) -> subprocess.Popen:
        """One Rasa process."""
        return self._spawn(self.rasa_name(port), self.rasa_command(port))

    def start_nginx(self) -> subprocess.Popen:
        """nginx in the foreground with the generated configuration."""
        conf = render_nginx(self.s)
        nginx_test(self.s, conf)
        binary = nginx_binary() or "nginx"
        cmd = [binary, "-p", str(self.s.run_dir), "-e", str(self.s.log_dir / "nginx-error.log")]
        cmd += ["-c", str(conf), "-g", "daemon off;"]
        return self._spawn("nginx", cmd)

    # -- waiting ---------------------------------------------------------------------------
    def _died(self, name: str) -> StartupError:
        proc = self.procs[name]
        log = self.s.log_dir / f"{name}.log"
        start = self._log_start.get(name, 0)
        problems = tail(log, 20, grep="STARTUP PROBLEM", offset=start) if name == "actions" else ""
        detail = problems or tail(log, 15, offset=start)
        return StartupError(f"{name} exited with code {proc.returncode} while starting; see {log}:\n{detail}")

    def wait_actions(self, timeout: float = 240) -> None:
        """Until the action server answers /health."""
        self._wait_http("actions", f"http://{self.s.interface}:{self.s.actions_port}/health", timeout)

    def wait_rasa(self, port: int, timeout: float = 420) -> None:
        """Until the Rasa process answers / and replies to a first message."""
        name = self.rasa_name(port)
        self._wait_http(name, f"http://{self.s.interface}:{port}/", timeout)
        deadline = time.monotonic() + 120
        url = f"http://{self.s.interface}:{port}/webhooks/rest/webhook"
        while True:
            try:
                if post_message(url, f"startup-probe-{port}", "xin chào", timeout=60):
                    return
            except OSError:
                pass
            if self.procs[name].poll() is not None:
                raise self._died(name)
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{name} does not reply to messages; see {self.s.log_dir / (name + '.log')}"
                )
            time.sleep(1)

    def wait_nginx(self, timeout: float = 30) -> None:
        """Until nginx serves the web chat page."""
        self._wait_http("nginx", f"http://127.0.0.1:{self.s.nginx_port}/", timeout)

    def _wait_http(self, name: str, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise self._died(name)
            if http_ok(url):
                return
            time.sleep(0.5)
        raise StartupError(
            f"{name} did not answer on {url} within {timeout:.0f} s; see {self.s.log_dir}/{name}.log"
        )

    # -- the whole profile -------------------------------------------------------------------
    def start(self, check: bool = True, progress: bool = True) -> float:
        """Check, then start everything; return the start time in seconds."""
        say = print if progress else (lambda *a, **k: None)
        t0 = time.perf_counter()
        if check:
            problems = check_all(self.s)
            if problems:
                raise StartupError("cannot start the production profile:\n  - " + "\n  - ".join(problems))
        try:
            if ensure_database(self.s):
                say(f"created PostgreSQL database {self.s.pg_db!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the user
            raise StartupError(f"cannot create the PostgreSQL database {self.s.pg_db!r}: {exc}") from exc
        render_nginx(self.s)  # fail early on a bad template
        nginx_test(self.s, self.s.run_dir / "nginx.conf")
        say(
            f"starting the action server (:{self.s.actions_port}) and {len(self.s.rasa_ports)} Rasa processes "
            f"({', '.join(map(str, self.s.rasa_ports))}); logs in {self.s.log_dir}",
            flush=True,
        )
        try:
            self.start_actions()
            for port in self.s.rasa_ports:
                self.start_rasa(port)
            self.wait_actions()
            for port in self.s.rasa_ports:
                self.wait_rasa(port)
            self.start_nginx()
            self.wait_nginx()
            replies = post_message(
                f"http://127.0.0.1:{self.s.nginx_port}/webhooks/rest/webhook", "startup-probe", "xin chào"
            )
            if not replies:
                raise StartupError("no reply through nginx")
        except BaseException:
            self.stop()
            raise
        return time.perf_counter() - t0

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Stop one process group (SIGTERM, then SIGKILL)."""
        proc = self.procs.get(name)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        self._reap(name)

    def _reap(self, name: str) -> None:
        self.procs.pop(name, None)
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()  # type: ignore[attr-defined]
        self._write_pids()

    def stop(self) -> None:
        """Stop nginx first (no new traffic), then Rasa, then the action server."""
        order = ["nginx", *[n for n in self.procs if n.startswith("rasa-")], "actions"]
        for name in order:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name in list(order):
            if name in self.procs:
                self.stop_process(name, timeout=20)

    def pids(self) -> dict[str, int]:
        """Running processes by name."""
        return {name: p.pid for name, p in self.procs.items() if p.poll() is None}

    def rss_mb(self) -> dict[str, float]:
        """Resident memory (MB) of each process group (nginx: master + workers)."""
        return {name: group_rss_kb(pid) / 1024 for name, pid in self.pids().items()}


def group_rss_kb(pgid: int) -> int:
    """Sum of VmRSS (kB) over the processes of a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid:  # fields: state ppid pgrp ...
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


# ---- command line ----------------------------------------------------------------------------
def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM/SIGHUP: unwind so that every process is stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str]) -> tuple[Settings, argparse.Namespace]:
    """Settings from the environment, overridden by options."""
    s = Settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--rasa-ports", default=",".join(map(str, s.rasa_ports)), help="comma separated, one per process"
    )
    ap.add_argument("--actions-port", type=int, default=s.actions_port)
    ap.add_argument("--nginx-port", type=int, default=s.nginx_port)
    ap.add_argument("--listen", default=s.nginx_listen, help="address nginx listens on (0.0.0.0: all)")
    ap.add_argument("--db", default=s.pg_db, help="PostgreSQL database (created if missing)")
    ap.add_argument(
        "--log-level", default=s.log_level, choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper
    )
    ap.add_argument("--var-dir", default=str(s.var_dir), help="logs and generated configuration")
    ap.add_argument("--model", default=str(s.model))
    ap.add_argument("--check", action="store_true", help="only run the checks and exit")
    args = ap.parse_args(argv)
    s.rasa_ports = [int(p) for p in re.split(r"[,\s]+", args.rasa_ports) if p]
    s.actions_port, s.nginx_port, s.nginx_listen = args.actions_port, args.nginx_port, args.listen
    s.pg_db, s.log_level, s.var_dir, s.model = args.db, args.log_level, Path(args.var_dir), Path(args.model)
    return s, args


def main() -> int:
    """Start the profile in the foreground or around a command."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with SIGINT ignored
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    s, args = parse_args(argv)
    if args.check:
        problems = check_all(s)
        for problem in problems:
            print(f"PROBLEM: {problem}", file=sys.stderr)
        if not problems:
            print("ready: PostgreSQL, Redis, nginx, model, index and ports are fine")
        return 1 if problems else 0
    if not os.environ.get("ZALO_APP_ID") or not os.environ.get("ZALO_OA_SECRET_KEY"):
        print(
            "note: ZALO_APP_ID / ZALO_OA_SECRET_KEY are not set: the Zalo webhook answers 403 until they are"
        )
    profile = Profile(s)
    try:
        seconds = profile.start()
    except StartupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped while starting")
        return 130
    print(f"production profile up in {seconds:.0f} s")
    if command:
        env = dict(os.environ, RASA_URL=s.url, WEB_URL=s.url)
        try:
            return subprocess.call(command, cwd=ROOT, env=env)
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
        + f"Logs:     {s.log_dir}/   -  Ctrl-C stops everything.",
        flush=True,
    )
    try:
        while True:
            dead = [name for name, p in profile.procs.items() if p.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} stopped unexpectedly; see {s.log_dir}/", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        profile.stop()


if __name__ == "__main__":
    sys.exit(main())
