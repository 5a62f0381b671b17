"""The one table of processes that `make run` and `make prod` start under supervisord.

Each row says which profile and which role (`app`: action servers and Rasa; `front`: nginx
and the staff console) runs it, whether there is one process per port, its command, and
how to know it is ready. `programs(settings)` expands the table for one host's settings;
ops/supervise.py turns the result into supervisord's configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ops.prod_config import ACTIONS_PY, RASA_PY, ROOT, Settings


@dataclass(frozen=True)
class Program:
    """One supervised process (a row of the table for one port)."""

    name: str  # supervisord program name and log file name (logs/<name>.log)
    command: tuple[str, ...]
    ready_url: str | None = None  # answers 200 when the process is up
    reply_url: str | None = None  # REST webhook that must reply to a first message (Rasa)
    priority: int = 50  # supervisord starts lower numbers first and stops them last
    startsecs: int = 5  # up this long = started; a shorter run is a failed start, retried with backoff
    stopwaitsecs: int = 20  # SIGTERM, then SIGKILL after this long
    stop_signal: str = "TERM"
    environment: dict[str, str] = field(default_factory=dict)  # on top of the profile's
    stdout_log: str | None = None  # log file name of stdout when it is not the program name (nginx-access)
    stderr_log: str | None = None  # a separate stderr log (nginx-error); None: stderr joins stdout
    startup_marker: str | None = None  # a log line meaning "retrying will not help" (--strict)


@dataclass(frozen=True)
class Row:
    """A kind of process: where it runs and how it is started."""

    kind: str
    profiles: tuple[str, ...]
    role: str
    command: Callable[[Settings, int], list[str]]
    ports: Callable[[Settings], list[int]] | None = None  # one process per port; None: one process
    ready: Callable[[Settings, int], str] | None = None
    reply: bool = False
    priority: int = 50
    startsecs: int = 5
    stopwaitsecs: int = 20
    stop_signal: str = "TERM"
    when: Callable[[Settings], bool] = lambda s: True
    environment: Callable[[Settings], dict[str, str]] = lambda s: {}
    stdout_log: str | None = None
    stderr_log: str | None = None
    startup_marker: str | None = None


# ---- commands ----------------------------------------------------------------------------------
def actions_command(s: Settings, port: int) -> list[str]:
    """The action server, logs masked (bot/logmask.py); --strict in production."""
    cmd = [str(ACTIONS_PY), "-m", "bot.logmask", "actions.server", "--host", s.interface, "--port", str(port)]
    return cmd + (["--strict"] if s.strict else [])


def rasa_command(s: Settings, port: int) -> list[str]:
    """`rasa run` through bot/rasa_run.py (action timeout, health routes), logs masked."""
    cmd = [str(RASA_PY), "-m", "bot.rasa_run", "run", "--model", str(s.model)]
    cmd += ["--port", str(port), "--interface", s.interface]
    cmd += ["--endpoints", str(s.endpoints), "--credentials", str(s.credentials)]
    cmd += ["--logging-config-file", str(s.logging_config)]
    if s.log_level.upper() == "DEBUG":
        cmd.append("--debug")
    if s.rasa_token:
        cmd += ["--enable-api", "--auth-token", s.rasa_token]
    return cmd + ["--cors", *(s.web_origins() if s.cors is None else s.cors)]


def web_command(s: Settings, _port: int) -> list[str]:
    """make run's web chat page (ops/web.py)."""
    cmd = [str(RASA_PY), "-m", "ops.web", "--host", s.interface, "--port", str(s.web_port)]
    return cmd + ["--rasa-port", str(s.rasa_ports[0])]


def console_command(s: Settings, _port: int) -> list[str]:
    """The staff console (as `make console`) on NGINX_CONSOLE_UPSTREAM's address."""
    host, port = s.console_address() or ("127.0.0.1", 5088)
    return [str(ACTIONS_PY), "-m", "console", "serve", "--host", host, "--port", str(port)]


def console_env(s: Settings) -> dict[str, str]:
    """Behind nginx; conversations read from the profile's tracker database."""
    import os

    result = {"OCOP_CONSOLE_PROXIES": "1"}
    if not os.environ.get("OCOP_TRACKER_URL"):
        result["OCOP_TRACKER_URL"] = s.tracker_url()
    if s.tls:
        result["OCOP_CONSOLE_SECURE_COOKIES"] = "1"
    return result


def nginx_command(s: Settings, _port: int) -> list[str]:
    """nginx in the foreground with the configuration ops/nginx.py rendered."""
    from ops.nginx import nginx_binary

    conf = s.run_dir / "nginx.conf"
    binary = nginx_binary() or "nginx"
    return [binary, "-p", str(s.run_dir), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"]


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "localhost", "") else host


TABLE: tuple[Row, ...] = (
    Row(
        "actions",
        ("run", "prod"),
        "app",
        actions_command,
        ports=lambda s: s.actions_ports,
        ready=lambda s, p: f"http://{_local(s.interface)}:{p}/health",
        priority=10,
        startup_marker="STARTUP PROBLEM",
    ),
    Row(
        "rasa",
        ("run", "prod"),
        "app",
        rasa_command,
        ports=lambda s: s.rasa_ports,
        ready=lambda s, p: f"http://{_local(s.interface)}:{p}/",
        reply=True,
        priority=20,
        startsecs=10,
    ),
    Row(
        "web",
        ("run",),
        "app",
        web_command,
        ready=lambda s, p: f"http://{_local(s.interface)}:{s.web_port}/",
        priority=30,
        when=lambda s: s.web,
    ),
    Row(
        "console",
        ("prod",),
        "front",
        console_command,
        ready=lambda s, p: "http://{}:{}/staff/login".format(*(s.console_address() or ("", 0))),
        priority=30,
        when=lambda s: bool(s.console_upstream),
        environment=console_env,
    ),
    Row(
        "nginx",
        ("prod",),
        "front",
        nginx_command,
        ready=lambda s, p: f"http://{_local(s.nginx_listen)}:{s.nginx_port}/",
        priority=40,
        stop_signal="QUIT",  # graceful: finish the requests in flight
        stopwaitsecs=10,
        stdout_log="nginx-access",  # access_log /dev/stdout
        stderr_log="nginx-error",  # error_log stderr
    ),
)


def programs(s: Settings, table: tuple[Row, ...] = TABLE) -> list[Program]:
    """The processes this host runs for these settings, in start order."""
    found = []
    for row in table:
        if s.profile not in row.profiles or not s.has(row.role) or not row.when(s):
            continue
        ports = row.ports(s) if row.ports else [0]
        for port in ports:
            name = f"{row.kind}-{port}" if row.ports else row.kind
            ready = row.ready(s, port) if row.ready else None
            reply = ready.rstrip("/") + "/webhooks/rest/webhook" if row.reply and ready else None
            found.append(
                Program(
                    name=name,
                    command=tuple(row.command(s, port)),
                    ready_url=ready,
                    reply_url=reply,
                    priority=row.priority,
                    startsecs=row.startsecs,
                    stopwaitsecs=row.stopwaitsecs,
                    stop_signal=row.stop_signal,
                    environment=row.environment(s),
                    stdout_log=row.stdout_log,
                    stderr_log=row.stderr_log,
                    startup_marker=row.startup_marker,
                )
            )
    return sorted(found, key=lambda p: p.priority)


def names(s: Settings, kind: str) -> list[str]:
    """Program names of one kind (e.g. every `rasa-<port>`)."""
    return [p.name for p in programs(s) if p.name == kind or p.name.startswith(kind + "-")]


__all__ = ["ROOT", "TABLE", "Program", "Row", "names", "programs"]
