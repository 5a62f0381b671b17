"""Settings, checks, database and nginx configuration of the production profile (scripts/prod.py)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
_RATE = re.compile(r"^[1-9][0-9]*r/[sm]$")
_UPSTREAM = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_ADDRESS = re.compile(r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$")
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
    # per-client rate limits of the public endpoints (nginx limit_req; README "TLS and rate limits")
    rate_limit: str = field(default_factory=lambda: _env("NGINX_RATE_LIMIT", "5r/s"))
    rate_burst: int = field(default_factory=lambda: int(_env("NGINX_RATE_BURST", "20")))
    zalo_rate_limit: str = field(default_factory=lambda: _env("NGINX_ZALO_RATE_LIMIT", "50r/s"))
    zalo_rate_burst: int = field(default_factory=lambda: int(_env("NGINX_ZALO_RATE_BURST", "100")))
    rate_exempt: list[str] = field(
        default_factory=lambda: [
            a for a in re.split(r"[,\s]+", _env("NGINX_RATE_EXEMPT", "127.0.0.1,::1")) if a
        ]
    )
    # TLS server block: enabled when both the certificate and its key are given
    tls_cert: str = field(default_factory=lambda: _env("NGINX_TLS_CERT", ""))
    tls_key: str = field(default_factory=lambda: _env("NGINX_TLS_KEY", ""))
    tls_port: int = field(default_factory=lambda: int(_env("NGINX_TLS_PORT", "8443")))
    tls_listen: str = field(default_factory=lambda: _env("NGINX_TLS_LISTEN", ""))  # empty: NGINX_LISTEN
    # The staff console (make console) behind nginx at /staff/, only when set ("127.0.0.1:5088").
    console_upstream: str = field(default_factory=lambda: _env("NGINX_CONSOLE_UPSTREAM", ""))
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

    @property
    def tls(self) -> bool:
        """True when nginx also serves HTTPS (certificate and key given)."""
        return bool(self.tls_cert or self.tls_key)

    @property
    def tls_address(self) -> str:
        """Address of the TLS listener (NGINX_TLS_LISTEN, else NGINX_LISTEN)."""
        return self.tls_listen or self.nginx_listen

    def web_origins(self) -> list[str]:
        """Origins allowed to open the socket and call Rasa with CORS."""
        own = [f"http://localhost:{self.nginx_port}", f"http://127.0.0.1:{self.nginx_port}"]
        if self.tls:
            own += [f"https://localhost:{self.tls_port}", f"https://127.0.0.1:{self.tls_port}"]
        return list(dict.fromkeys([o.rstrip("/") for o in self.extra_origins] + own))

    def validate(self) -> None:
        """Reject settings that would fail later in a confusing way."""
        if self.console_upstream and not _UPSTREAM.match(self.console_upstream):
            raise StartupError(f"NGINX_CONSOLE_UPSTREAM {self.console_upstream!r} must be host:port")
        if not self.rasa_ports:
            raise StartupError("RASA_PORTS is empty: give at least one port")
        if not _DB_NAME.match(self.pg_db):
            raise StartupError(f"POSTGRES_DB {self.pg_db!r} is not a plain database name")
        if self.redis_key_prefix and not self.redis_key_prefix.isalnum():
            raise StartupError(f"REDIS_KEY_PREFIX {self.redis_key_prefix!r} must be alphanumeric")
        for name, rate in (
            ("NGINX_RATE_LIMIT", self.rate_limit),
            ("NGINX_ZALO_RATE_LIMIT", self.zalo_rate_limit),
        ):
            if not _RATE.match(rate):
                raise StartupError(f"{name} {rate!r} is not an nginx rate such as 5r/s or 300r/m")
        if min(self.rate_burst, self.zalo_rate_burst) < 0:
            raise StartupError("NGINX_RATE_BURST and NGINX_ZALO_RATE_BURST must be >= 0")
        for address in self.rate_exempt:
            if not _ADDRESS.match(address):
                raise StartupError(f"NGINX_RATE_EXEMPT: {address!r} is not an IP address or CIDR range")
        ports = [*self.rasa_ports, self.actions_port, self.nginx_port]
        if self.tls:
            if not (self.tls_cert and self.tls_key):
                raise StartupError("TLS needs both NGINX_TLS_CERT and NGINX_TLS_KEY")
            for name, path in (("NGINX_TLS_CERT", self.tls_cert), ("NGINX_TLS_KEY", self.tls_key)):
                if not os.access(path, os.R_OK) or not Path(path).is_file():
                    raise StartupError(f"{name} {path} is not a readable file")
            ports.append(self.tls_port)
        if len(set(ports)) != len(ports):
            raise StartupError(f"ports must be distinct: {ports}")

    def redis_url(self) -> str:
        """The profile's Redis as a URL (password quoted)."""
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

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
        if not env["ZALO_DEDUP_REDIS_URL"] and not env["ZALO_TOKEN_STORE"]:
            # two Rasa processes: the Zalo token pair (single-use refresh token), the seen
            # events and the free-reply counts must be shared, so they live in the profile's Redis
            env["ZALO_DEDUP_REDIS_URL"] = self.redis_url()
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
        return _unreachable(
            f"PostgreSQL at {s.pg_host}:{s.pg_port}",
            exc,
            "(e.g. `service postgresql start`) or set POSTGRES_HOST / POSTGRES_PORT / "
            "POSTGRES_USER / POSTGRES_PASSWORD",
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
        return _unreachable(
            f"Redis at {s.redis_host}:{s.redis_port}",
            exc,
            "(e.g. `service redis-server start`) or set REDIS_HOST / REDIS_PORT / REDIS_PASSWORD",
        )


def _unreachable(service: str, exc: Exception, hint: str) -> str:
    """The message for a service that does not answer: what, why, how to fix."""
    detail = " ".join(str(exc).split()).rstrip(".")
    return f"{service} is not reachable: {detail} - start it {hint}"


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
        *(((s.tls_port, s.tls_address, "nginx TLS"),) if s.tls else ()),
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


def console_location(s: Settings) -> str:
    """The /staff/ location proxying to the staff console, or a comment when it is not exposed."""
    if not s.console_upstream:
        return '        # staff console not exposed: set NGINX_CONSOLE_UPSTREAM (README, "Staff console")'
    return "\n".join(
        [
            "        location ^~ /staff/ {",
            f"            limit_req zone=ocop_clients burst={s.rate_burst} nodelay;",
            "            client_max_body_size 11m;  # content files edited as text, documents uploaded (10 MB)",
            f"            proxy_pass http://{s.console_upstream};",
            "        }",
        ]
    )


def tls_directives(s: Settings) -> str:
    """The TLS listener and certificate lines of the server block (a comment when TLS is off)."""
    if not s.tls:
        return '        # TLS off: set NGINX_TLS_CERT and NGINX_TLS_KEY (README, "TLS and rate limits")'
    cert, key = Path(s.tls_cert).resolve(), Path(s.tls_key).resolve()
    return "\n".join(
        f"        {line}"
        for line in (
            f"listen {s.tls_address}:{s.tls_port} ssl;",
            f'ssl_certificate "{cert}";',
            f'ssl_certificate_key "{key}";',
            "ssl_protocols TLSv1.2 TLSv1.3;",
            "ssl_prefer_server_ciphers off;",
            "ssl_session_cache shared:ocop_tls:1m;",
            "ssl_session_timeout 1h;",
            "ssl_session_tickets off;",
        )
    )


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
    s.validate()
    exempt = "\n".join(f"        {address} 1;" for address in s.rate_exempt)
    values = {
        "USER_DIRECTIVE": user,
        "WORKER_PROCESSES": "1",
        "RUN_DIR": str(s.run_dir.resolve()),
        "LOG_DIR": str(s.log_dir.resolve()),
        "TMP_DIR": str(tmp.resolve()),
        "WEB_DIR": str((ROOT / "web").resolve()),
        "RASA_SERVERS": servers,
        "LISTEN": f"{s.nginx_listen}:{s.nginx_port}",
        "TLS": tls_directives(s),
        "CONSOLE": console_location(s),
        "RATE_LIMIT": s.rate_limit,
        "RATE_BURST": str(s.rate_burst),
        "ZALO_RATE_LIMIT": s.zalo_rate_limit,
        "ZALO_RATE_BURST": str(s.zalo_rate_burst),
        "RATE_EXEMPT": exempt or "        # NGINX_RATE_EXEMPT is empty: every client is limited",
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
