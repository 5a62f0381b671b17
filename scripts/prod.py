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
NGINX_PORT [8080], NGINX_LISTEN [127.0.0.1]; ACTIONS_TIMEOUT [15 s]; OCOP_WEB_ORIGINS
(public origins of the web page); RASA_TOKEN (enables the HTTP API, never exposed by nginx);
ZALO_APP_ID, ZALO_OA_SECRET_KEY, ZALO_APP_SECRET, ZALO_ACCESS_TOKEN, ZALO_REFRESH_TOKEN,
ZALO_TOKEN_STORE, ZALO_DEDUP_REDIS_URL; LOG_LEVEL [INFO]; OCOP_PROD_DIR [var/prod].
Command-line options override the ports, database and log level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
ACTIONS_PY = ROOT / ".venv-actions" / "bin" / "python"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
LOGGING_CONFIG = ROOT / "deploy" / "logging.yml"
ZALO_VARS = (
    "ZALO_APP_ID",
    "ZALO_OA_SECRET_KEY",
    "ZALO_APP_SECRET",
    "ZALO_ACCESS_TOKEN",
    "ZALO_REFRESH_TOKEN",
    "ZALO_TOKEN_STORE",
    "ZALO_DEDUP_REDIS_URL",
)
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the widget injects <style> elements
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",  # socket.io goes through this nginx (same origin)
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class StartupError(Exception):
    """A clear, user-facing reason why the profile cannot start."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None else value


@dataclass
class Settings:
    """Everything the profile needs; defaults from the environment."""

    rasa_ports: list[int] = field(
        default_factory=lambda: [int(p) for p in re.split(r"[,\s]+", _env("RASA_PORTS", "5005,5006")) if p]
    )
    actions_port: int = field(default_factory=lambda: int(_env("ACTIONS_PORT", "5055")))
    nginx_port: int = field(default_factory=lambda: int(_env("NGINX_PORT", "8080")))
    nginx_listen: str = field(default_factory=lambda: _env("NGINX_LISTEN", "127.0.0.1"))
    interface: str = "127.0.0.1"  # Rasa and the action server: never exposed directly
    model: Path = ROOT / "models" / "ocop.tar.gz"
    endpoints: Path = ROOT / "endpoints.prod.yml"
    credentials: Path = ROOT / "credentials.prod.yml"
    var_dir: Path = field(default_factory=lambda: Path(_env("OCOP_PROD_DIR", str(ROOT / "var" / "prod"))))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    actions_timeout: float = field(default_factory=lambda: float(_env("ACTIONS_TIMEOUT", "15")))
    pg_host: str = field(default_factory=lambda: _env("POSTGRES_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("POSTGRES_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("POSTGRES_USER", "postgres"))
    pg_password: str = field(default_factory=lambda: _env("POSTGRES_PASSWORD", ""))
    pg_db: str = field(default_factory=lambda: _env("POSTGRES_DB", "ocop"))
    pg_login_db: str = field(default_factory=lambda: _env("POSTGRES_LOGIN_DB", "postgres"))
    redis_host: str = field(default_factory=lambda: _env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("REDIS_PORT", "6379")))
    redis_password: str = field(default_factory=lambda: _env("REDIS_PASSWORD", ""))
    redis_db: int = field(default_factory=lambda: int(_env("REDIS_DB", "1")))
    redis_key_prefix: str = field(default_factory=lambda: _env("REDIS_KEY_PREFIX", "ocop"))
    rasa_token: str = field(default_factory=lambda: _env("RASA_TOKEN", ""))
    extra_origins: list[str] = field(
        default_factory=lambda: [o for o in re.split(r"[,\s]+", _env("OCOP_WEB_ORIGINS", "")) if o]
    )
    strict: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. OCOP_INDEX_DIR for tests

    @property
    def run_dir(self) -> Path:
        """Generated configuration (nginx.conf, config.js) and pids."""
        return self.var_dir.resolve() / "run"

    @property
    def log_dir(self) -> Path:
        """Logs of every process."""
        return self.var_dir.resolve() / "logs"

    @property
    def url(self) -> str:
        """Public base URL (nginx)."""
        host = (
            "localhost" if self.nginx_listen in ("127.0.0.1", "0.0.0.0", "localhost") else self.nginx_listen
        )
        return f"http://{host}:{self.nginx_port}"

    def web_origins(self) -> list[str]:
        """Origins allowed to open the socket and call Rasa with CORS."""
        own = [f"http://localhost:{self.nginx_port}", f"http://127.0.0.1:{self.nginx_port}"]
        return list(dict.fromkeys([o.rstrip("/") for o in self.extra_origins] + own))

    def validate(self) -> None:
        """Reject settings that would fail later in a confusing way."""
        if not self.rasa_ports:
            raise StartupError("RASA_PORTS is empty: give at least one port")
        if not _DB_NAME.match(self.pg_db):
            raise StartupError(f"POSTGRES_DB {self.pg_db!r} is not a plain database name")
        if self.redis_key_prefix and not self.redis_key_prefix.isalnum():
            raise StartupError(f"REDIS_KEY_PREFIX {self.redis_key_prefix!r} must be alphanumeric")
        ports = [*self.rasa_ports, self.actions_port, self.nginx_port]
        if len(set(ports)) != len(ports):
            raise StartupError(f"ports must be distinct: {ports}")

    def child_env(self) -> dict[str, str]:
        """Environment of the child processes (fills the ${VAR}s of the prod YAML files)."""
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            ACTIONS_HOST=self.interface,
            ACTIONS_PORT=str(self.actions_port),
            ACTIONS_TIMEOUT=f"{self.actions_timeout:g}",
            POSTGRES_HOST=self.pg_host,
            POSTGRES_PORT=str(self.pg_port),
            POSTGRES_USER=self.pg_user,
            POSTGRES_PASSWORD=self.pg_password,
            POSTGRES_DB=self.pg_db,
            REDIS_HOST=self.redis_host,
            REDIS_PORT=str(self.redis_port),
            REDIS_PASSWORD=self.redis_password,
            REDIS_DB=str(self.redis_db),
            REDIS_KEY_PREFIX=self.redis_key_prefix,
            OCOP_WEB_ORIGINS=",".join(self.web_origins()),
            LOG_LEVEL=self.log_level.upper(),
        )
        for name in ZALO_VARS:
            env.setdefault(name, "")
        for name, value in (
            ("RASA_TELEMETRY_ENABLED", "false"),
            ("SQLALCHEMY_SILENCE_UBER_WARNING", "1"),
            ("TF_CPP_MIN_LOG_LEVEL", "2"),
            # fewer glibc malloc arenas: TF/torch thread pools otherwise grow the RSS (as serve.py)
            ("MALLOC_ARENA_MAX", "2"),
            ("HF_HUB_OFFLINE", "1"),
            ("TRANSFORMERS_OFFLINE", "1"),
            # one sequential SQL session per turn: a small pool per Rasa process is enough
            ("SQL_POOL_SIZE", "5"),
            ("SQL_MAX_OVERFLOW", "10"),
        ):
            env.setdefault(name, value)
        env.update(self.extra_env)
        return env


# ---- checks ------------------------------------------------------------------------------
def check_postgres(s: Settings, timeout: float = 5) -> str | None:
    """None if PostgreSQL answers, else a clear message."""
    import psycopg2

    try:
        conn = psycopg2.connect(
            host=s.pg_host,
            port=s.pg_port,
            user=s.pg_user,
            password=s.pg_password or None,
            dbname=s.pg_login_db,
            connect_timeout=max(1, int(timeout)),
            application_name="ocop-prod-check",
        )
        conn.close()
        return None
    except Exception as exc:  # noqa: BLE001 - reported to the user
        detail = " ".join(str(exc).split()).rstrip(".")
        return (
            f"PostgreSQL at {s.pg_host}:{s.pg_port} is not reachable: {detail} - start it "
            "(e.g. `service postgresql start`) or set POSTGRES_HOST / POSTGRES_PORT / "
            "POSTGRES_USER / POSTGRES_PASSWORD"
        )


def check_redis(s: Settings, timeout: float = 5) -> str | None:
    """None if Redis answers PING, else a clear message."""
    import redis

    try:
        client = redis.Redis(
            host=s.redis_host,
            port=s.redis_port,
            password=s.redis_password or None,
            db=s.redis_db,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        client.ping()
        client.close()
        return None
    except Exception as exc:  # noqa: BLE001 - reported to the user
        detail = " ".join(str(exc).split()).rstrip(".")
        return (
            f"Redis at {s.redis_host}:{s.redis_port} is not reachable: {detail} - start it "
            "(e.g. `service redis-server start`) or set REDIS_HOST / REDIS_PORT / REDIS_PASSWORD"
        )


def nginx_binary() -> str | None:
    """Path of nginx, or None."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def port_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host if host != "localhost" else "127.0.0.1", port))
            return True
        except OSError:
            return False


def check_all(s: Settings) -> list[str]:
    """Every problem that prevents a start (empty list: ready)."""
    problems = []
    try:
        s.validate()
    except StartupError as exc:
        problems.append(str(exc))
    for check in (check_postgres, check_redis):
        problem = check(s)
        if problem:
            problems.append(problem)
    if not nginx_binary():
        problems.append(
            "nginx is not installed: `make prod` installs it, or run "
            "`apt-get update && apt-get install -y nginx-light`"
        )
    if not s.model.is_file():
        problems.append(f"Rasa model {s.model} is missing: run `make train`")
    if not (ROOT / "index" / "build" / "manifest.json").is_file() and not os.environ.get("OCOP_INDEX_DIR"):
        problems.append("knowledge index is missing: run `make index`")
    for path in (RASA_PY, ACTIONS_PY):
        if not path.exists():
            problems.append(f"{path} is missing: run `make install`")
    for port, host, what in (
        *((p, s.interface, "Rasa") for p in s.rasa_ports),
        (s.actions_port, s.interface, "action server"),
        (s.nginx_port, s.nginx_listen, "nginx"),
    ):
        if not port_free(host, port):
            problems.append(
                f"port {port} ({what}) is already in use on {host}: stop what uses it or change the port"
            )
    return problems


@contextlib.contextmanager
def _admin_cursor(s: Settings) -> Iterator[Any]:
    """An autocommit cursor on the login database (for CREATE/DROP DATABASE)."""
    import psycopg2

    s.validate()
    conn = psycopg2.connect(
        host=s.pg_host,
        port=s.pg_port,
        user=s.pg_user,
        password=s.pg_password or None,
        dbname=s.pg_login_db,
        connect_timeout=5,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def ensure_database(s: Settings) -> bool:
    """Create POSTGRES_DB if missing; True if it was created."""
    from psycopg2 import sql

    with _admin_cursor(s) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (s.pg_db,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(s.pg_db)))
        return True


def drop_database(s: Settings) -> None:
    """Drop POSTGRES_DB (tests and soak runs use throw-away databases)."""
    from psycopg2 import sql

    with _admin_cursor(s) as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (s.pg_db,),
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(s.pg_db)))


# ---- nginx configuration -------------------------------------------------------------------
def nginx_user_directive() -> str:
    """As root, nginx workers run as an unprivileged user (and own nginx's temp dirs)."""
    if os.geteuid() != 0:
        return "# not root: workers run as the current user"
    import pwd

    for user in ("www-data", "nginx", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        import grp

        group = grp.getgrgid(entry.pw_gid).gr_name
        return f"user {user} {group};"
    return "# no unprivileged user found"


def render_nginx(s: Settings, template: Path = NGINX_TEMPLATE) -> Path:
    """Write run/nginx.conf, run/config.js and run/security_headers.conf; return nginx.conf."""
    for d in (s.run_dir, s.log_dir, s.run_dir / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    user = nginx_user_directive()
    tmp = s.run_dir / "tmp"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(exist_ok=True)
        if user.startswith("user "):
            import pwd

            entry = pwd.getpwnam(user.split()[1].rstrip(";"))
            os.chown(tmp / sub, entry.pw_uid, entry.pw_gid)
    servers = "\n".join(
        f"        server {s.interface}:{p} max_fails=1 fail_timeout=5s;" for p in s.rasa_ports
    )
    values = {
        "USER_DIRECTIVE": user,
        "WORKER_PROCESSES": "1",
        "RUN_DIR": str(s.run_dir.resolve()),
        "LOG_DIR": str(s.log_dir.resolve()),
        "TMP_DIR": str(tmp.resolve()),
        "WEB_DIR": str((ROOT / "web").resolve()),
        "RASA_SERVERS": servers,
        "LISTEN": f"{s.nginx_listen}:{s.nginx_port}",
        # the action timeout + PostgreSQL/Redis connect timeouts (5 s each) + margin
        "PROXY_READ_TIMEOUT": str(int(s.actions_timeout) + 30),
    }
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    left = re.findall(r"\{\{[A-Z_]+\}\}", code)
    if left:
        raise StartupError(f"unknown placeholders in {template}: {sorted(set(left))}")
    conf = s.run_dir / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    (s.run_dir / "config.js").write_text(
        "// generated by scripts/prod.py: the web chat talks to the server that served the page\n"
        "window.OCOP_SOCKET_URL = window.location.protocol + '//' + window.location.host;\n",
        encoding="utf-8",
    )
    (s.run_dir / "security_headers.conf").write_text(
        f'add_header Content-Security-Policy "{CSP}" always;\n'
        "add_header X-Content-Type-Options nosniff always;\n"
        "add_header X-Frame-Options DENY always;\n"
        "add_header Referrer-Policy no-referrer always;\n",
        encoding="utf-8",
    )
    for path in (conf, s.run_dir / "config.js", s.run_dir / "security_headers.conf"):
        path.chmod(0o644)
    return conf


def nginx_test(s: Settings, conf: Path) -> None:
    """`nginx -t` on the generated configuration; raise with its output on failure."""
    binary = nginx_binary()
    if not binary:
        raise StartupError("nginx is not installed")
    result = subprocess.run(
        [binary, "-t", "-q", "-p", str(s.run_dir), "-e", str(s.log_dir / "nginx-error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StartupError(f"nginx rejected {conf}:\n{result.stderr.strip()}")


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
        f"Logs:     {s.log_dir}/   -  Ctrl-C stops everything.",
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
