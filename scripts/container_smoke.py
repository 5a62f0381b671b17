"""Run the images of `make images` as deploy/compose.yaml describes them, on this machine (make images-smoke).

Without a Docker daemon and without the postgres and redis images (no registry here), the
compose file is played with podman (else docker) by this script: one bridge network, each
service under its compose name (two Rasa replicas under the one name `rasa`), the environment
of each service read from deploy/compose.yaml and interpolated, the volumes `content` and
`index`, nginx read-only and published on 127.0.0.1:5580. PostgreSQL and Redis are this
machine's, reached by the names `postgres` and `redis` through forwarders on the network's
gateway (ports 5532 and 5579); throw-away databases ocop_smoke_<pid> and
ocop_console_smoke_<pid>, Redis database 9 with the prefix ocopsmoke (everything is removed
afterwards). Checks: every process runs as uid 10001; each image's HEALTHCHECK and each
compose healthcheck pass; 20 conversations through nginx all get the hotline answer, served
by both Rasa replicas and by the action server; a second turn continues a conversation
(both turns in PostgreSQL); the page and /staff/login answer through nginx, /health and
/metrics do not. Not in `make test`: it needs the images (about 10 GB of builds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NGINX_PORT, PG_PORT, REDIS_PORT = 5580, 5532, 5579
QUESTION = "sdt phản ánh tthc"  # README's example: the hotline for administrative procedures
FOLLOWUP = "còn số khác không?"  # the next contact for the same topic
CONVERSATIONS = 20


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise SystemExit(f"compose.yaml needs {name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, str(value)).replace("$$", "$")


def forward(listen: tuple[str, int], target: tuple[str, int]) -> None:
    """A TCP forwarder listen -> target in a daemon thread (the host's servers listen on 127.0.0.1)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    loop = asyncio.new_event_loop()
    loop.run_until_complete(asyncio.start_server(handle, *listen, reuse_address=True))
    threading.Thread(target=loop.run_forever, daemon=True).start()


def http(url: str, data: bytes | None = None, timeout: float = 60) -> tuple[int, str]:
    """Status and body of a GET, or of a JSON POST when data is given."""
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:
        return 0, str(err)


class Stack:
    """The containers, volumes and network of one run."""

    def __init__(self, engine: str, tag: str, run_id: int) -> None:
        self.engine, self.tag, self.run_id = engine, tag, run_id
        self.network = f"ocop-smoke-{run_id}"
        self.containers: dict[str, str] = {}
        self.volumes = {v: f"ocop-smoke-{v}-{run_id}" for v in ("content", "index")}

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the container engine."""
        result = subprocess.run([self.engine, *args], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{self.engine} {' '.join(args[:3])}: {result.stderr.strip()}")
        return result

    def start(
        self, name: str, service: str, spec: dict[str, Any], env: dict[str, str], extra: list[str]
    ) -> None:
        """One container of a compose service, on the network under the service's name."""
        args = ["run", "-d", "--name", name, "--network", self.network, "--network-alias", service]
        args += extra + [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        for volume in spec.get("volumes", []):
            source, rest = volume.split(":", 1)
            args += ["-v", f"{self.volumes[source]}:{rest}"]
        if spec.get("read_only"):
            args += ["--read-only", *[a for t in spec.get("tmpfs", []) for a in ("--tmpfs", t)]]
        self.podman(*args, f"ocop-{service}:{self.tag}")
        self.containers[name] = service

    def exec_json(self, name: str, url: str) -> str:
        """GET url from inside a container (its own loopback)."""
        code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=10).read().decode())"
        return self.podman("exec", name, "python3", "-c", code).stdout

    def wait(self, name: str, test: list[str], seconds: float) -> None:
        """Until the compose healthcheck command passes in the container."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.podman("exec", name, *test[1:], check=False).returncode == 0:
                return
            time.sleep(3)
        logs = self.podman("logs", "--tail", "30", name, check=False)
        raise AssertionError(f"{name} not healthy after {seconds:.0f} s\n{logs.stdout}{logs.stderr}")

    def remove(self) -> None:
        """Containers, volumes, network."""
        self.podman("rm", "-f", *self.containers, check=False)
        self.podman("volume", "rm", "-f", *self.volumes.values(), check=False)
        self.podman("network", "rm", "-f", self.network, check=False)


def metric(text: str, name: str, labels: dict[str, str]) -> float:
    """One Prometheus sample's value (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def run(stack: Stack, db: str, console_db: str) -> None:
    """Start the services in compose's order of dependencies, then check them."""
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))["services"]
    values = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "unused", "POSTGRES_DB": db}
    values |= {"REDIS_PASSWORD": "unused", "PUBLIC_URL": f"http://127.0.0.1:{NGINX_PORT}"}
    stack.podman("network", "create", stack.network)
    info = json.loads(stack.podman("network", "inspect", stack.network).stdout)[0]
    gateway = info["subnets"][0]["gateway"]
    hosts = ["--add-host", f"postgres:{gateway}", "--add-host", f"redis:{gateway}"]
    # this machine's servers: their ports, no Redis password, this run's databases and keys
    overrides = {"POSTGRES_PORT": str(PG_PORT), "REDIS_PORT": str(REDIS_PORT), "REDIS_PASSWORD": ""}
    overrides |= {"REDIS_DB": "9", "REDIS_KEY_PREFIX": "ocopsmoke"}
    pg = f"postgresql+psycopg2://postgres@postgres:{PG_PORT}"
    overrides |= {"OCOP_CONSOLE_DB": f"{pg}/{console_db}", "OCOP_TRACKER_URL": f"{pg}/{db}"}
    plan = [
        ("actions", "actions"),
        ("console", "console"),
        ("rasa", "rasa-1"),
        ("rasa", "rasa-2"),
        ("nginx", "nginx"),
    ]
    for service, suffix in plan:
        spec = compose[service]
        env = {k: interpolate(v, values) for k, v in spec.get("environment", {}).items()}
        env |= {k: v for k, v in overrides.items() if k in env}
        extra = hosts + (["-p", f"127.0.0.1:{NGINX_PORT}:8080"] if service == "nginx" else [])
        name = f"ocop-smoke-{suffix}-{stack.run_id}"
        stack.start(name, service, spec, env, extra)
        if len(stack.containers) == 1:  # the network's bridge (and its gateway address) exists now
            forward((gateway, PG_PORT), ("127.0.0.1", 5432))
            forward((gateway, REDIS_PORT), ("127.0.0.1", 6379))
        if service != "rasa" or suffix == "rasa-2":  # the replicas load their models together
            for other, svc in stack.containers.items():
                stack.wait(other, compose[svc]["healthcheck"]["test"], 600)
            print(f"ok  {suffix}: compose healthcheck passes")
    for name in stack.containers:
        assert stack.podman("exec", name, "id", "-u").stdout.strip() == "10001", name
        if "podman" in stack.engine:
            stack.podman("healthcheck", "run", name)
    print("ok  every container runs as uid 10001 and passes its image's HEALTHCHECK (/health)")
    console = next(n for n, s in stack.containers.items() if s == "console")
    for path in ("/var/lib/ocop/content/contacts.csv", "/var/lib/ocop/index/current/manifest.json"):
        stack.podman("exec", console, "test", "-s", path)  # the volumes the console edits and rebuilds

    public = f"http://127.0.0.1:{NGINX_PORT}"
    for i in range(CONVERSATIONS):
        body = json.dumps({"sender": f"smoke-{stack.run_id}-{i}", "message": QUESTION}).encode()
        status, text = http(f"{public}/webhooks/rest/webhook", body)
        replies = " ".join(m.get("text") or "" for m in json.loads(text)) if status == 200 else text
        assert status == 200 and re.search(r"\d{4}", replies), (i, status, text)
    print(f"ok  {CONVERSATIONS} conversations through nginx: {QUESTION!r} -> {replies[:70]!r}")
    body = json.dumps({"sender": f"smoke-{stack.run_id}-0", "message": FOLLOWUP}).encode()
    status, text = http(f"{public}/webhooks/rest/webhook", body)
    assert status == 200 and json.loads(text), (status, text)
    per_replica = []
    for name, service in stack.containers.items():
        if service == "rasa":
            text = stack.exec_json(name, "http://127.0.0.1:5005/metrics")
            per_replica.append(metric(text, "ocop_turns_total", {"channel": "rest", "outcome": "answered"}))
    assert sum(per_replica) == CONVERSATIONS + 1 and min(per_replica) >= 1, per_replica
    actions = next(n for n, s in stack.containers.items() if s == "actions")
    contacts = metric(
        stack.exec_json(actions, "http://127.0.0.1:5055/metrics"), "ocop_answers_total", {"kind": "contact"}
    )
    assert contacts >= CONVERSATIONS + 1, contacts
    print(
        f"ok  turns answered per Rasa replica {per_replica}; contact answers by the action server {contacts:g}"
    )
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=db)
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'",
            (f"smoke-{stack.run_id}-0",),
        )
        assert cur.fetchone()[0] == 2
    conn.close()
    print("ok  the follow-up continues the conversation: both turns are in PostgreSQL")
    for path, want in (
        ("/", 200),
        ("/staff/login", 200),
        ("/health", 404),
        ("/metrics", 404),
        ("/ready", 404),
    ):
        assert http(public + path)[0] == want, (path, want)
    page = http(public + "/")[1]
    assert "{ag-" not in page and re.search(r"\d{4} \d{3} \d{3}", page), "the page's hotline numbers"
    print("ok  nginx: / (hotline numbers filled) and /staff/login 200; /health, /ready, /metrics 404")


def main() -> int:
    """Create the databases, run, always clean up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default=os.environ.get("IMAGE_TAG", "latest"))
    ap.add_argument("--keep", action="store_true", help="leave the containers and databases")
    args = ap.parse_args()
    import psycopg2
    import redis

    engine = shutil.which("podman") or shutil.which("docker")
    if not engine:
        raise SystemExit("install podman or docker")
    stack = Stack(engine, args.tag, os.getpid())
    db, console_db = f"ocop_smoke_{stack.run_id}", f"ocop_console_smoke_{stack.run_id}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for name in (db, console_db):
                cur.execute(f"CREATE DATABASE {name}")
        run(stack, db, console_db)
        return 0
    finally:
        if not args.keep:
            stack.remove()
            with admin.cursor() as cur:
                for name in (db, console_db):
                    cur.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
                    )
                    cur.execute(f"DROP DATABASE IF EXISTS {name}")
            client = redis.Redis(host="127.0.0.1", port=6379, db=9)
            for key in client.scan_iter("ocopsmoke*"):
                client.delete(key)
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
