"""Run the images of `make images` on this machine and check them end to end (make images-smoke).

Four containers (podman, else docker) on the host network (listening on 127.0.0.1 only): the action server (port 5555), a
Rasa server (5505), the staff console (5588) and nginx (5580) in front of both, against this
machine's PostgreSQL and Redis (throw-away databases ocop_smoke_<pid> and
ocop_console_smoke_<pid>, Redis database 9; all removed afterwards, with the containers and
their volumes). Checks: every process runs as uid 10001; each image's HEALTHCHECK passes;
/health and /ready answer 200 on each server; through nginx a REST question gets the contact
answer (counted as answered by Rasa and as a contact by the action server) and its turn is in
PostgreSQL; the page and /staff/login answer 200 and /health and /metrics 404. Not in
`make test` (it needs the images, about 10 GB of builds).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

PORTS = {"actions": 5555, "rasa": 5505, "console": 5588, "nginx": 5580}
QUESTION = "sdt phản ánh tthc"  # README's example: the hotline for administrative procedures


def engine_binary() -> str:
    """podman, else docker."""
    found = shutil.which("podman") or shutil.which("docker")
    if not found:
        raise SystemExit("install podman or docker")
    return found


def get(url: str, data: bytes | None = None, timeout: float = 30) -> tuple[int, str]:
    """Status and body of a GET (or a JSON POST with data)."""
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:
        return 0, str(err)


def wait_ready(url: str, seconds: float, container: str, engine: str) -> None:
    """Until url answers 200; fail with the container's log tail if it does not in time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if get(url, timeout=5)[0] == 200:
            return
        time.sleep(2)
    logs = subprocess.run([engine, "logs", "--tail", "30", container], capture_output=True, text=True)
    raise AssertionError(f"{url} not ready after {seconds:.0f} s\n{logs.stdout}{logs.stderr}")


def metric(url: str, name: str, labels: dict[str, str]) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    text = get(url)[1]
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def main() -> int:
    """Start, check, clean up; exit 1 on the first failed check."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default=os.environ.get("IMAGE_TAG", "latest"))
    ap.add_argument("--keep", action="store_true", help="leave the containers running")
    args = ap.parse_args()
    import psycopg2

    engine, run_id = engine_binary(), os.getpid()
    db, console_db = f"ocop_smoke_{run_id}", f"ocop_console_smoke_{run_id}"
    names = {k: f"ocop-smoke-{k}-{run_id}" for k in PORTS}
    volumes = [f"ocop-smoke-content-{run_id}", f"ocop-smoke-index-{run_id}"]
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    pg_url = "postgresql+psycopg2://postgres@127.0.0.1:5432"
    common = ["run", "-d", "--network", "host"]
    content = ["-v", f"{volumes[0]}:/var/lib/ocop/content"]
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {db}")
            cur.execute(f"CREATE DATABASE {console_db}")
        run = [
            [*common, "--name", names["actions"], "-e", f"ACTIONS_PORT={PORTS['actions']}", "-e", "ACTIONS_LISTEN=127.0.0.1", *content,
             "-v", f"{volumes[1]}:/var/lib/ocop/index", f"ocop-actions:{args.tag}"],
            [*common, "--name", names["rasa"], "-e", f"RASA_PORT={PORTS['rasa']}", "-e", "RASA_LISTEN=127.0.0.1", "-e", "ACTIONS_HOST=127.0.0.1",
             "-e", f"ACTIONS_PORT={PORTS['actions']}", "-e", "POSTGRES_HOST=127.0.0.1", "-e", f"POSTGRES_DB={db}",
             "-e", "REDIS_HOST=127.0.0.1", "-e", "REDIS_DB=9", "-e", "REDIS_KEY_PREFIX=ocopsmoke",
             "-e", f"OCOP_WEB_ORIGINS=http://127.0.0.1:{PORTS['nginx']}", f"ocop-rasa:{args.tag}"],
            [*common, "--name", names["console"], "-e", f"CONSOLE_PORT={PORTS['console']}", "-e", "CONSOLE_LISTEN=127.0.0.1",
             "-e", f"OCOP_CONSOLE_DB={pg_url}/{console_db}", "-e", f"OCOP_TRACKER_URL={pg_url}/{db}", *content,
             f"ocop-console:{args.tag}"],
        ]  # fmt: skip
        for cmd in run:
            subprocess.run([engine, *cmd], check=True, capture_output=True)
        for name in ("actions", "console", "rasa"):
            base = f"http://127.0.0.1:{PORTS[name]}"
            wait_ready(f"{base}/ready", 600, names[name], engine)
            assert get(f"{base}/health")[0] == 200, name
            print(f"ok  {name}: /health and /ready 200")
        nginx_env = ["-e", f"NGINX_PORT={PORTS['nginx']}", "-e", "RASA_HOST=127.0.0.1"]
        nginx_env += [
            "-e",
            f"RASA_PORTS={PORTS['rasa']}",
            "-e",
            f"NGINX_CONSOLE_UPSTREAM=127.0.0.1:{PORTS['console']}",
        ]
        nginx_env += ["-e", f"ACTIONS_PORT={PORTS['actions']}", "-e", "NGINX_LISTEN=127.0.0.1"]
        subprocess.run(
            [engine, *common, "--name", names["nginx"], *nginx_env, f"ocop-nginx:{args.tag}"], check=True
        )
        public = f"http://127.0.0.1:{PORTS['nginx']}"
        wait_ready(f"{public}/", 60, names["nginx"], engine)
        for name, container in names.items():
            user = subprocess.run([engine, "exec", container, "id", "-u"], capture_output=True, text=True)
            assert user.stdout.strip() == "10001", (name, user.stdout, user.stderr)
            check = subprocess.run([engine, "healthcheck", "run", container], capture_output=True, text=True)
            if "podman" in engine:
                assert check.returncode == 0, (name, check.stdout, check.stderr)
            print(f"ok  {name}: runs as uid 10001, HEALTHCHECK passes")

        rasa_metrics = f"http://127.0.0.1:{PORTS['rasa']}/metrics"
        actions_metrics = f"http://127.0.0.1:{PORTS['actions']}/metrics"
        answered = metric(rasa_metrics, "ocop_turns_total", {"channel": "rest", "outcome": "answered"})
        contacts = metric(actions_metrics, "ocop_answers_total", {"kind": "contact"})
        body = json.dumps({"sender": f"smoke-{run_id}", "message": QUESTION}).encode()
        status, text = get(f"{public}/webhooks/rest/webhook", body, timeout=60)
        replies = " ".join(m.get("text") or "" for m in json.loads(text)) if status == 200 else text
        assert status == 200 and re.search(r"\d{3}", replies), (status, text)
        assert (
            metric(rasa_metrics, "ocop_turns_total", {"channel": "rest", "outcome": "answered"})
            == answered + 1
        )
        assert metric(actions_metrics, "ocop_answers_total", {"kind": "contact"}) == contacts + 1
        print(f"ok  nginx -> rasa -> actions: {QUESTION!r} -> {replies[:80]!r}")
        tracker = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=db)
        with tracker, tracker.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'",
                (f"smoke-{run_id}",),
            )
            assert cur.fetchone()[0] == 1
        tracker.close()
        print("ok  the turn is stored in PostgreSQL")
        for path, want in (("/", 200), ("/staff/login", 200), ("/health", 404), ("/metrics", 404)):
            assert get(public + path)[0] == want, (path, want)
        print("ok  nginx: / and /staff/login 200, /health and /metrics 404")
        return 0
    finally:
        if not args.keep:
            subprocess.run([engine, "rm", "-f", *names.values()], capture_output=True)
            subprocess.run([engine, "volume", "rm", "-f", *volumes], capture_output=True)
            with admin.cursor() as cur:
                for name in (db, console_db):
                    cur.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
                    )
                    cur.execute(f"DROP DATABASE IF EXISTS {name}")
            import redis

            client = redis.Redis(host="127.0.0.1", port=6379, db=9)
            for key in client.scan_iter("ocopsmoke*"):
                client.delete(key)
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
