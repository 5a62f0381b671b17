"""Settings and start-up checks shared by `make run` and `make prod` (ops/serve.py, ops/prod.py).

Every address comes from the environment (README "Production"): the Rasa and action
servers of this host listen on RASA_INTERFACE; Rasa calls the action servers through the
balancer at ACTIONS_HOST:ACTIONS_PORT; nginx balances RASA_UPSTREAMS and ACTIONS_UPSTREAMS
(default: this host's processes); PostgreSQL and Redis are POSTGRES_* and REDIS_*; the
public URL of the channels is PUBLIC_URL. PROD_ROLES says which part of the profile runs
on this host: `app` (action servers and Rasa), `front` (nginx, the staff console) or both.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from ops.postgres import Postgres, ServiceError, env, plain_name

ROOT = Path(__file__).resolve().parent.parent
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
ACTIONS_PY = ROOT / ".venv-actions" / "bin" / "python"
LOGGING_CONFIG = ROOT / "deploy" / "logging.yml"
ROLES = ("app", "front")
ZALO_VARS = (
    "ZALO_APP_ID",
    "ZALO_OA_SECRET_KEY",
    "ZALO_APP_SECRET",
    "ZALO_ACCESS_TOKEN",
    "ZALO_REFRESH_TOKEN",
    "ZALO_TOKEN_STORE",
    "ZALO_DEDUP_REDIS_URL",
)
_RATE = re.compile(r"^[1-9][0-9]*r/[sm]$")
_UPSTREAM = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_ADDRESS = re.compile(r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$")
_HOST = re.compile(r"^[A-Za-z0-9.:-]+$")


class StartupError(ServiceError):
    """A clear, user-facing reason why the profile cannot start."""


def _list(name: str, default: str) -> list[str]:
    return [item for item in re.split(r"[,\s]+", env(name, default)) if item]


def _ports(name: str, default: str) -> list[int]:
    return [int(p) for p in _list(name, default)]


@dataclass
class Settings:
    """Everything a profile needs; defaults from the environment."""

    profile: str = "prod"  # "run" (make run: one Rasa, SQLite, web page) or "prod"
    roles: list[str] = field(default_factory=lambda: _list("PROD_ROLES", "app,front"))
    interface: str = field(default_factory=lambda: env("RASA_INTERFACE", "127.0.0.1"))
    rasa_ports: list[int] = field(default_factory=lambda: _ports("RASA_PORTS", "5005,5006"))
    # the action endpoint Rasa calls: nginx's balancer (prod) or the one action server (run)
    actions_host: str = field(default_factory=lambda: env("ACTIONS_HOST", "127.0.0.1"))
    actions_port: int = field(default_factory=lambda: int(env("ACTIONS_PORT", "5055")))
    actions_ports: list[int] = field(default_factory=lambda: _ports("ACTIONS_PORTS", "5056,5057"))
    # what nginx balances (empty: this host's processes on RASA_INTERFACE)
    rasa_upstreams: list[str] = field(default_factory=lambda: _list("RASA_UPSTREAMS", ""))
    actions_upstreams: list[str] = field(default_factory=lambda: _list("ACTIONS_UPSTREAMS", ""))
    public_url: str = field(default_factory=lambda: env("PUBLIC_URL", "").rstrip("/"))
    nginx_port: int = field(default_factory=lambda: int(env("NGINX_PORT", "8080")))
    nginx_listen: str = field(default_factory=lambda: env("NGINX_LISTEN", "127.0.0.1"))
    # per-client rate limits of the public endpoints (nginx limit_req; README "TLS and rate limits")
    rate_limit: str = field(default_factory=lambda: env("NGINX_RATE_LIMIT", "5r/s"))
    rate_burst: int = field(default_factory=lambda: int(env("NGINX_RATE_BURST", "20")))
    zalo_rate_limit: str = field(default_factory=lambda: env("NGINX_ZALO_RATE_LIMIT", "50r/s"))
    zalo_rate_burst: int = field(default_factory=lambda: int(env("NGINX_ZALO_RATE_BURST", "100")))
    rate_exempt: list[str] = field(default_factory=lambda: _list("NGINX_RATE_EXEMPT", "127.0.0.1,::1"))
    # TLS server block: enabled when both the certificate and its key are given
    tls_cert: str = field(default_factory=lambda: env("NGINX_TLS_CERT", ""))
    tls_key: str = field(default_factory=lambda: env("NGINX_TLS_KEY", ""))
    tls_port: int = field(default_factory=lambda: int(env("NGINX_TLS_PORT", "8443")))
    tls_listen: str = field(default_factory=lambda: env("NGINX_TLS_LISTEN", ""))  # empty: NGINX_LISTEN
    # The staff console behind nginx at /staff/ ("127.0.0.1:5088"); the front role starts it
    console_upstream: str = field(default_factory=lambda: env("NGINX_CONSOLE_UPSTREAM", ""))
    web_port: int = field(default_factory=lambda: int(env("WEB_PORT", "8080")))  # make run's page
    web: bool = True  # make run: serve the web chat page (ops/web.py)
    cors: list[str] | None = None  # make run: Rasa's --cors (default: the page's origins)
    model: Path = ROOT / "models" / "ocop.tar.gz"
    endpoints: Path = ROOT / "endpoints.prod.yml"
    credentials: Path = ROOT / "credentials.prod.yml"
    logging_config: Path = LOGGING_CONFIG
    var_dir: Path = field(default_factory=lambda: Path(env("OCOP_PROD_DIR", str(ROOT / "var" / "prod"))))
    log_level: str = field(default_factory=lambda: env("LOG_LEVEL", "INFO"))
    # supervisord's rotation of every process's log (README "Production")
    log_max_bytes: str = field(default_factory=lambda: env("LOG_MAX_BYTES", "20MB"))
    log_backups: int = field(default_factory=lambda: int(env("LOG_BACKUPS", "5")))
    actions_timeout: float = field(default_factory=lambda: float(env("ACTIONS_TIMEOUT", "15")))
    pg: Postgres = field(default_factory=Postgres)
    redis_host: str = field(default_factory=lambda: env("REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(env("REDIS_PORT", "6379")))
    redis_password: str = field(default_factory=lambda: env("REDIS_PASSWORD", ""))
    redis_db: int = field(default_factory=lambda: int(env("REDIS_DB", "1")))
    redis_key_prefix: str = field(default_factory=lambda: env("REDIS_KEY_PREFIX", "ocop"))
    rasa_token: str = field(default_factory=lambda: env("RASA_TOKEN", ""))
    extra_origins: list[str] = field(default_factory=lambda: _list("OCOP_WEB_ORIGINS", ""))
    strict: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. OCOP_INDEX_DIR for tests

    @classmethod
    def for_run(cls) -> Settings:
        """`make run`: one action server and one Rasa process, SQLite, the web page (RASA_PORT ...)."""
        return cls(
            profile="run",
            roles=["app"],
            rasa_ports=[int(env("RASA_PORT", "5005"))],
            actions_ports=[int(env("ACTIONS_PORT", "5055"))],
            endpoints=ROOT / "endpoints.yml",
            credentials=ROOT / "credentials.yml",
            var_dir=Path(env("OCOP_VAR_DIR", str(ROOT / "var"))),
            strict=False,
        )

    @property
    def run_dir(self) -> Path:
        """Generated configuration (supervisord.conf, nginx.conf, config.js), socket and pid files."""
        return self.var_dir.resolve() / "run"

    @property
    def log_dir(self) -> Path:
        """Logs of every process."""
        return self.var_dir.resolve() / "logs"

    @property
    def url(self) -> str:
        """Public base URL (PUBLIC_URL, else nginx's address)."""
        if self.public_url:
            return self.public_url
        local = ("127.0.0.1", "0.0.0.0", "localhost")
        host = "localhost" if self.nginx_listen in local else self.nginx_listen
        return f"http://{host}:{self.nginx_port}"

    @property
    def tls(self) -> bool:
        """True when nginx also serves HTTPS (certificate and key given)."""
        return bool(self.tls_cert or self.tls_key)

    @property
    def tls_address(self) -> str:
        """Address of the TLS listener (NGINX_TLS_LISTEN, else NGINX_LISTEN)."""
        return self.tls_listen or self.nginx_listen

    def has(self, role: str) -> bool:
        """True if this host runs the role (`app` or `front`)."""
        return role in self.roles

    def rasa_servers(self) -> list[str]:
        """host:port of every Rasa process nginx balances."""
        return self.rasa_upstreams or [f"{self.interface}:{p}" for p in self.rasa_ports]

    def actions_servers(self) -> list[str]:
        """host:port of every action server behind the balancer."""
        return self.actions_upstreams or [f"{self.interface}:{p}" for p in self.actions_ports]

    def console_address(self) -> tuple[str, int] | None:
        """(host, port) of the staff console when nginx exposes it."""
        if not self.console_upstream:
            return None
        host, _, port = self.console_upstream.rpartition(":")
        return host, int(port)

    def web_origins(self) -> list[str]:
        """Origins allowed to open the socket and call Rasa with CORS."""
        if self.profile == "run":
            own = [f"http://localhost:{self.web_port}", f"http://127.0.0.1:{self.web_port}"]
        else:
            own = [f"http://localhost:{self.nginx_port}", f"http://127.0.0.1:{self.nginx_port}"]
            if self.tls:
                own += [f"https://localhost:{self.tls_port}", f"https://127.0.0.1:{self.tls_port}"]
        public = [self.public_url] if self.public_url else []
        return list(dict.fromkeys([o.rstrip("/") for o in self.extra_origins] + public + own))

    def validate(self) -> None:
        """Reject settings that would fail later in a confusing way."""
        bad_roles = [r for r in self.roles if r not in ROLES]
        if bad_roles or not self.roles:
            raise StartupError(f"PROD_ROLES {','.join(self.roles)!r}: give app, front or app,front")
        if self.console_upstream and not _UPSTREAM.match(self.console_upstream):
            raise StartupError(f"NGINX_CONSOLE_UPSTREAM {self.console_upstream!r} must be host:port")
        for name, servers in (
            ("RASA_UPSTREAMS", self.rasa_servers()),
            ("ACTIONS_UPSTREAMS", self.actions_servers()),
        ):
            for server in servers:
                if not _UPSTREAM.match(server):
                    raise StartupError(f"{name}: {server!r} must be host:port")
        for name, host in (("RASA_INTERFACE", self.interface), ("ACTIONS_HOST", self.actions_host)):
            if not _HOST.match(host):
                raise StartupError(f"{name} {host!r} is not a host name or address")
        if self.public_url and urlsplit(self.public_url).scheme not in ("http", "https"):
            raise StartupError(f"PUBLIC_URL {self.public_url!r} must start with http:// or https://")
        if not self.rasa_ports or not self.actions_ports:
            raise StartupError("RASA_PORTS and ACTIONS_PORTS need at least one port each")
        if not plain_name(self.pg.db):
            raise StartupError(f"POSTGRES_DB {self.pg.db!r} is not a plain database name")
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
        ports = [*self.rasa_ports, *self.actions_ports, self.nginx_port, self.actions_port]
        if self.tls:
            if not (self.tls_cert and self.tls_key):
                raise StartupError("TLS needs both NGINX_TLS_CERT and NGINX_TLS_KEY")
            for name, path in (("NGINX_TLS_CERT", self.tls_cert), ("NGINX_TLS_KEY", self.tls_key)):
                if not os.access(path, os.R_OK) or not Path(path).is_file():
                    raise StartupError(f"{name} {path} is not a readable file")
            ports.append(self.tls_port)
        if self.profile == "prod" and len(set(ports)) != len(ports):
            raise StartupError(f"ports must be distinct: {ports}")

    def redis_url(self) -> str:
        """The profile's Redis as a URL (password quoted)."""
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def tracker_url(self) -> str:
        """The tracker store's database as an SQLAlchemy URL (the staff console reads it)."""
        pg = self.pg
        auth = quote(pg.user, safe="") + (f":{quote(pg.password, safe='')}" if pg.password else "")
        return f"postgresql+psycopg2://{auth}@{pg.host}:{pg.port}/{pg.db}"

    def child_env(self) -> dict[str, str]:
        """Environment of the supervised processes (fills the ${VAR}s of the YAML files)."""
        result = dict(os.environ)
        result.update(PYTHONPATH=str(ROOT), OCOP_WEB_ORIGINS=",".join(self.web_origins()))
        if self.profile == "run":
            result["ACTIONS_PORT"] = str(self.actions_ports[0])
            result.setdefault("OCOP_TRACKER_DB", str(self.var_dir.resolve() / "tracker.db"))
        else:
            result.update(self._prod_env())
        for name, value in (
            ("RASA_TELEMETRY_ENABLED", "false"),
            ("SQLALCHEMY_SILENCE_UBER_WARNING", "1"),
            ("TF_CPP_MIN_LOG_LEVEL", "2"),
            # fewer glibc malloc arenas: TF/torch thread pools otherwise grow the RSS by hundreds of MB
            ("MALLOC_ARENA_MAX", "2"),
            ("HF_HUB_OFFLINE", "1"),
            ("TRANSFORMERS_OFFLINE", "1"),
            # one sequential SQL session per turn: a small pool per Rasa process is enough
            ("SQL_POOL_SIZE", "5"),
            ("SQL_MAX_OVERFLOW", "10"),
        ):
            result.setdefault(name, value)
        result.update(self.extra_env)
        return result

    def _prod_env(self) -> dict[str, str]:
        pg = self.pg
        result = dict(
            ACTIONS_HOST=self.actions_host,
            ACTIONS_PORT=str(self.actions_port),
            ACTIONS_TIMEOUT=f"{self.actions_timeout:g}",
            POSTGRES_HOST=pg.host,
            POSTGRES_PORT=str(pg.port),
            POSTGRES_USER=pg.user,
            POSTGRES_PASSWORD=pg.password,
            POSTGRES_DB=pg.db,
            REDIS_HOST=self.redis_host,
            REDIS_PORT=str(self.redis_port),
            REDIS_PASSWORD=self.redis_password,
            REDIS_DB=str(self.redis_db),
            REDIS_KEY_PREFIX=self.redis_key_prefix,
            LOG_LEVEL=self.log_level.upper(),
        )
        for name in ZALO_VARS:
            result[name] = os.environ.get(name, "")
        if not result["ZALO_DEDUP_REDIS_URL"] and not result["ZALO_TOKEN_STORE"]:
            # several Rasa processes: the Zalo token pair (single-use refresh token), the seen
            # events and the free-reply counts must be shared, so they live in the profile's Redis
            result["ZALO_DEDUP_REDIS_URL"] = self.redis_url()
        return result


# ---- checks ------------------------------------------------------------------------------
def check_postgres(s: Settings, timeout: float = 5) -> str | None:
    """None if PostgreSQL answers, else a clear message."""
    try:
        with s.pg.cursor(timeout=int(timeout)) as cur:
            cur.execute("SELECT 1")
        return None
    except ServiceError as exc:
        return (
            f"{exc} - start it (e.g. `service postgresql start`) or set POSTGRES_HOST / "
            "POSTGRES_PORT / POSTGRES_USER / POSTGRES_PASSWORD"
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


def port_free(host: str, port: int) -> bool:
    """True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host if host != "localhost" else "127.0.0.1", port))
            return True
        except OSError:
            return False


def listeners(s: Settings) -> list[tuple[str, int, str]]:
    """(address, port, what) of everything this host's part of the profile listens on."""
    found: list[tuple[str, int, str]] = []
    if s.has("app"):
        found += [(s.interface, p, "Rasa") for p in s.rasa_ports]
        found += [(s.interface, p, "action server") for p in s.actions_ports]
        if s.profile == "run" and s.web:
            found.append((s.interface, s.web_port, "web page"))
    if s.has("front") and s.profile == "prod":
        found += [
            (s.nginx_listen, s.nginx_port, "nginx"),
            (s.actions_host, s.actions_port, "action balancer"),
        ]
        if s.tls:
            found.append((s.tls_address, s.tls_port, "nginx TLS"))
        console = s.console_address()
        if console:
            found.append((*console, "staff console"))
    return found


def check_all(s: Settings) -> list[str]:
    """Every problem that prevents a start (empty list: ready)."""
    from ops.nginx import nginx_binary

    problems = []
    try:
        s.validate()
    except StartupError as exc:
        problems.append(str(exc))
    if s.profile == "prod":
        for check in (check_postgres, check_redis):
            problem = check(s)
            if problem:
                problems.append(problem)
    if s.has("front") and s.profile == "prod" and not nginx_binary():
        problems.append(
            "nginx is not installed: `make prod` installs it, or run "
            "`apt-get update && apt-get install -y nginx-light`"
        )
    if s.has("app") and not s.model.is_file():
        problems.append(f"Rasa model {s.model} is missing: run `make train`")
    if s.has("app") and not (ROOT / "index" / "build" / "manifest.json").is_file():
        if not os.environ.get("OCOP_INDEX_DIR") and "OCOP_INDEX_DIR" not in s.extra_env:
            problems.append("knowledge index is missing: run `make index`")
    for path in (RASA_PY, ACTIONS_PY):
        if not path.exists():
            problems.append(f"{path} is missing: run `make install`")
    for host, port, what in listeners(s):
        if not port_free(host, port):
            problems.append(
                f"port {port} ({what}) is already in use on {host}: stop what uses it or change the port"
            )
    return problems
