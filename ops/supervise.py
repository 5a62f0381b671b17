"""Run a list of programs (ops/processes.py) under supervisord; status, restart, stop.

    sup = Supervisor(run_dir, log_dir, programs, env, name="ocop-prod")
    sup.launch()          # writes run_dir/supervisord.conf, starts supervisord (no daemon fork)
    sup.wait_ready()      # every program answers (or StartupError with its log)
    sup.status()          # {name: Status(state, pid, ...)}
    sup.shutdown()        # stops every program (reverse priority), then supervisord

supervisord restarts a program that exits (autorestart), retries a failed start with a
growing delay (startsecs / startretries; then FATAL), and rotates each program's log
(logs/<name>.log, LOG_MAX_BYTES / LOG_BACKUPS). Its XML-RPC interface is a Unix socket in
run_dir (mode 0700), reached here with the standard library only.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ops import rest
from ops.processes import Program
from ops.prod_config import RASA_PY, ROOT, StartupError

STARTRETRIES = 5  # failed starts before FATAL (delays 1, 2, 3 ... s)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self._path, self._timeout = path, timeout

    def make_connection(self, host: object) -> http.client.HTTPConnection:
        return _UnixConnection(self._path, self._timeout)


@dataclass(frozen=True)
class Status:
    """One program as supervisord sees it."""

    name: str
    state: str  # STOPPED STARTING RUNNING BACKOFF STOPPING EXITED FATAL UNKNOWN
    pid: int
    uptime: str
    exitstatus: int
    spawnerr: str


def _value(value: str) -> str:
    """A value in supervisord's ini file (% is its expansion character)."""
    return value.replace("%", "%%")


def http_ok(url: str, timeout: float = 3) -> bool:
    """True if GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def replies(url: str, sender: str, text: str = "xin chào", timeout: float = 60) -> bool:
    """True if a REST webhook answers a message with at least one reply."""
    return bool(rest.send(url, sender, text, timeout).messages)


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


class Supervisor:
    """One supervisord and its programs."""

    def __init__(
        self,
        run_dir: Path,
        log_dir: Path,
        programs: list[Program],
        env: dict[str, str] | None = None,
        name: str = "ocop",
        log_max_bytes: str = "20MB",
        log_backups: int = 5,
    ) -> None:
        """Nothing starts before launch()."""
        self.run_dir, self.log_dir, self.programs = run_dir, log_dir, list(programs)
        self.env, self.name = env, name
        self.log_max_bytes, self.log_backups = log_max_bytes, log_backups
        self.proc: subprocess.Popen | None = None
        self._log_start: dict[str, int] = {}

    # -- files -------------------------------------------------------------------------------
    @property
    def conf(self) -> Path:
        """The generated supervisord.conf."""
        return self.run_dir / "supervisord.conf"

    @property
    def socket_path(self) -> Path:
        """supervisord's XML-RPC socket."""
        return self.run_dir / "supervisor.sock"

    @property
    def pidfile(self) -> Path:
        """supervisord's pid file."""
        return self.run_dir / "supervisord.pid"

    def log(self, name: str) -> Path:
        """The log of one program (stdout and stderr; nginx: its access log)."""
        program = next((p for p in self.programs if p.name == name), None)
        return self.log_dir / f"{(program and program.stdout_log) or name}.log"

    def render(self) -> Path:
        """Write supervisord.conf for the programs; return its path."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        rotate = [f"logfile_maxbytes={self.log_max_bytes}", f"logfile_backups={self.log_backups}"]
        lines = [
            f"; generated by ops/supervise.py for {self.name}: edit ops/processes.py, not this file",
            "[unix_http_server]",
            f"file={_value(str(self.socket_path))}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={_value(str(self.log_dir / 'supervisord.log'))}",
            *rotate,
            f"pidfile={_value(str(self.pidfile))}",
            "nodaemon=true",
            "silent=true",  # its log goes to logfile only
            f"directory={_value(str(ROOT))}",
            f"identifier={self.name}",
            "loglevel=info",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{_value(str(self.socket_path))}",
        ]
        for p in self.programs:
            stdout = [f"stdout_logfile={_value(str(self.log(p.name)))}"]
            stdout += [f"stdout_{r}" for r in rotate]
            if p.stderr_log:
                stderr = [f"stderr_logfile={_value(str(self.log(p.stderr_log)))}"]
                stderr += [*(f"stderr_{r}" for r in rotate), "redirect_stderr=false"]
            else:
                stderr = ["redirect_stderr=true"]
            environment = ",".join(f'{k}="{_value(v)}"' for k, v in p.environment.items())
            lines += [
                "",
                f"[program:{p.name}]",
                f"command={_value(shlex.join(p.command))}",
                f"directory={_value(str(ROOT))}",
                f"priority={p.priority}",
                "autostart=true",
                "autorestart=true",
                f"startsecs={p.startsecs}",
                f"startretries={STARTRETRIES}",
                f"stopsignal={p.stop_signal}",
                f"stopwaitsecs={p.stopwaitsecs}",
                "stopasgroup=true",
                "killasgroup=true",
                *stdout,
                *stderr,
                *([f"environment={environment}"] if environment else []),
            ]
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.conf.chmod(0o600)
        return self.conf

    # -- supervisord -----------------------------------------------------------------------------
    def launch(self, detach: bool = False) -> subprocess.Popen:
        """Start supervisord with the rendered configuration; return once its socket answers.

        detach: in its own session, for `make prod` (the command returns, supervisord stays).
        Otherwise it is still in its own process group (Ctrl-C reaches only this process,
        which then stops supervisord cleanly with shutdown()).
        """
        if self.alive():
            raise StartupError(f"supervisord of {self.name} already runs ({self.socket_path})")
        self.render()
        for p in self.programs:
            path = self.log(p.name)
            self._log_start[p.name] = path.stat().st_size if path.exists() else 0
        out = open(self.log_dir / "supervisord.out", "ab")  # noqa: SIM115 - supervisord's own stdout
        self.proc = subprocess.Popen(
            [str(RASA_PY), "-m", "supervisor.supervisord", "-c", str(self.conf)],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                detail = tail(self.log_dir / "supervisord.out", 10) or tail(
                    self.log_dir / "supervisord.log", 10
                )
                raise StartupError(f"supervisord exited with code {self.proc.returncode}:\n{detail}")
            if self.alive():
                return self.proc
            time.sleep(0.2)
        raise StartupError(f"supervisord did not open {self.socket_path} within 30 s")

    def rpc(self, timeout: float = 30) -> xmlrpc.client.ServerProxy:
        """supervisord's XML-RPC interface."""
        return xmlrpc.client.ServerProxy(
            "http://localhost", transport=_UnixTransport(str(self.socket_path), timeout)
        )

    def alive(self) -> bool:
        """True if a supervisord answers on the socket."""
        if not self.socket_path.exists():
            return False
        try:
            return self.rpc(timeout=5).supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def status(self) -> dict[str, Status]:
        """Every program's state and pid."""
        found = {}
        for info in self.rpc().supervisor.getAllProcessInfo():
            found[info["name"]] = Status(
                info["name"],
                info["statename"],
                int(info["pid"]),
                info["description"],
                int(info["exitstatus"]),
                info["spawnerr"],
            )
        return found

    def pid(self, name: str) -> int:
        """Pid of a running program (0 when it does not run)."""
        return self.status()[name].pid

    def pids(self) -> dict[str, int]:
        """Running programs by name."""
        return {n: s.pid for n, s in self.status().items() if s.pid}

    def stop_program(self, name: str) -> None:
        """Stop one program (it stays stopped until start_program)."""
        try:
            self.rpc(timeout=60).supervisor.stopProcess(name, True)
        except xmlrpc.client.Fault as exc:
            if "NOT_RUNNING" not in exc.faultString:
                raise

    def start_program(self, name: str) -> None:
        """Start one stopped program (returns once supervisord counts it as started)."""
        path = self.log(name)
        self._log_start[name] = path.stat().st_size if path.exists() else 0
        try:
            self.rpc(timeout=120).supervisor.startProcess(name, True)
        except xmlrpc.client.Fault as exc:
            if "ALREADY_STARTED" not in exc.faultString:
                raise StartupError(f"{name} did not start: {exc.faultString}; see {path}") from exc

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll check() until it is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.5)
        raise StartupError(f"{what} within {timeout:.0f} s")

    def exit_code(self, name: str) -> str:
        """The last exit of a program as supervisord logged it ("3", "terminated by SIGKILL", "?")."""
        found = re.findall(
            rf"exited: {re.escape(name)} \((?:exit status )?([^;)]+)",
            tail(self.log_dir / "supervisord.log", 200),
        )
        return found[-1] if found else "?"

    def _failed(self, program: Program, status: Status, pids: set[int]) -> str | None:
        """Why a program will not come up, or None while it may."""
        start = self._log_start.get(program.name, 0)
        log = self.log(program.name)
        if program.startup_marker:
            problems = tail(log, 20, grep=program.startup_marker, offset=start)
            if problems:  # e.g. --strict: a missing index; restarting will not help
                for _ in range(50):  # the process prints its problems, then exits: its exit code
                    if status.state not in ("STARTING", "RUNNING") or status.pid not in pids:
                        break
                    time.sleep(0.2)
                    status = self.status()[program.name]
                code = self.exit_code(program.name)
                return f"{program.name} exited with code {code} while starting; see {log}:\n{problems}"
        if status.state in ("FATAL", "STOPPED") or len(pids) > 3:
            detail = tail(log, 15, offset=start) or status.spawnerr
            if program.stderr_log:
                detail = tail(self.log_dir / f"{program.stderr_log}.log", 15) or detail
            what = status.state if len(pids) <= 3 else f"exiting again and again ({len(pids)} starts)"
            return f"{program.name} is {what} (exit code {status.exitstatus}); see {log}:\n{detail}"
        return None

    def wait_ready(self, names: list[str] | None = None, timeout: float = 480) -> None:
        """Until every (named) program answers its ready URL and, for Rasa, replies to a message."""
        deadline = time.monotonic() + timeout
        for program in self.programs:
            if names is not None and program.name not in names:
                continue
            pids: set[int] = set()
            while True:
                status = self.status()[program.name]
                if status.pid:
                    pids.add(status.pid)
                problem = self._failed(program, status, pids)
                if problem:
                    raise StartupError(problem)
                if status.state == "RUNNING" and (not program.ready_url or http_ok(program.ready_url)):
                    if not program.reply_url or replies(program.reply_url, f"startup-probe-{program.name}"):
                        break
                if time.monotonic() > deadline:
                    raise StartupError(
                        f"{program.name} did not answer on {program.ready_url} within {timeout:.0f} s "
                        f"(state {status.state}); see {self.log(program.name)}"
                    )
                time.sleep(0.5)

    def shutdown(self, timeout: float = 90) -> None:
        """Stop every program, then supervisord; wait until it is gone."""
        pid = self.proc.pid if self.proc else _read_pid(self.pidfile)
        try:
            self.rpc(timeout=timeout).supervisor.shutdown()
        except (OSError, xmlrpc.client.Error):
            if pid and _pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid and time.monotonic() < deadline:
            if self.proc is not None:
                if self.proc.poll() is not None:
                    break
            elif not _pid_alive(pid):
                break
            time.sleep(0.2)
        else:
            if pid and _pid_alive(pid):
                print(f"supervisord {pid} did not stop within {timeout:.0f} s: killing it", file=sys.stderr)
                os.kill(pid, signal.SIGKILL)


def _read_pid(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except (OSError, IndexError):
        return False


def group_rss_kb(pgid: int) -> int:
    """Sum of VmRSS (kB) over the processes of a process group (supervisord gives each program its own)."""
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
