#!/usr/bin/env python3
"""Benchmark the assistant against a bare `rasa init` bot; write docs/benchmarks.md.

    python scripts/bench.py [--port 5305 --actions-port 5355 --bare-port 5306] [--endpoints FILE]
                            [--levels 1,10,20,50] [--duration 30] [--max-turns 3000] [--skip-bare]
                            [--paired-rounds 5 --paired-level 20 --paired-duration 16]
                            [--scaled [--scaled-port 5307 --scaled-actions-port 5357 ...]]

For each bot: cold start (command to first answer), then for every concurrency level N,
N simultaneous conversations on the REST channel, each a multi-turn script (ours: drawn
from tests/eval/questions.yaml; bare bot: simple English turns), sent back to back (no
think time) until the level's turn budget or time limit is reached. Reports p50/p95/p99
latency, turns/s, errors (exceptions, non-200) and empty replies, and the peak resident
memory of the Rasa server and the action server (process trees). Then paired rounds
(scripts/bench_paired.py): both bots up at once, measured one right after the other in
alternating rounds, so each round's ratio shares the machine's load; the median is reported. The bare bot is made
once with `rasa init --no-prompt` under var/bare-bot and reused. With --scaled, the
production profile (ops/prod.py: two Rasa processes behind nginx, PostgreSQL tracker
store, Redis lock store) is measured the same way, in the same run.

Everything talks to 127.0.0.1 only; every load loop is bounded by --max-turns and
--duration. Run with the Rasa environment's Python (it has aiohttp).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml
from bench_load import BotRun, MemorySampler, run_levels
from bench_paired import PairedRound, medians, paired_rounds, paired_section
from bench_report import print_summary, write_report

from ops import rest  # noqa: E402 - the shared REST client (bench_load put the root on the path)

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BARE_DIR = VAR / "bare-bot"
BENCH_VAR = VAR / "bench"
QUESTIONS = ROOT / "tests" / "eval" / "questions.yaml"
HOST = "127.0.0.1"  # never anything else

BARE_SCRIPTS = [
    ["hello", "I am sad", "yes", "bye"],
    ["hi", "I am feeling great", "goodbye"],
    ["hey there", "I am very unhappy", "no", "see you later"],
    ["good morning", "are you a bot?", "I feel wonderful", "bye"],
    ["hello there", "not good", "yes, that helped", "thanks, goodbye"],
]


def _ops():  # noqa: ANN202 - the ops package (make run's and make prod's profiles)
    sys.path.insert(0, str(ROOT))
    import ops.prod
    import ops.serve

    return ops.serve, ops.prod


def wait_http(url: str, timeout: float, proc: subprocess.Popen, what: str) -> None:
    """Poll a URL until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not answer on {url} within {timeout:.0f} s")


def first_reply(url: str, timeout: float, message: str) -> None:
    """Until a message gets a non-empty reply."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not probe(url, message, timeout=30).startswith("("):  # "(error ...)", "(empty reply)"
            return
        time.sleep(0.5)
    raise SystemExit(f"no reply from {url} within {timeout:.0f} s")


def stop_group(proc: subprocess.Popen) -> None:
    """Terminate a process group, then kill what is left."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class ServeArgs(argparse.Namespace):
    """Arguments for serve.start(); options this script does not know default to None."""

    def __getattr__(self, name: str) -> Any:
        return None


# --- conversation scripts -------------------------------------------------------------------------


def our_scripts(path: Path = QUESTIONS, count: int = 60, seed: int = 7) -> list[list[str]]:
    """Realistic Vietnamese conversations from the question set.

    The multi-turn items as they are, plus conversations made of a greeting, two or three
    questions (figures, program rules, hotlines, plans) and a thanks or goodbye. Robustness
    items (very long or hostile text) are left out.
    """
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    usable = [i for i in items if "robustness" not in (i.get("tags") or [])]
    multi = [list(i["turns"]) for i in usable if len(i["turns"]) > 1]

    def pool(*tags: str) -> list[str]:
        return [
            i["turns"][0] for i in usable if len(i["turns"]) == 1 and set(tags) & set(i.get("tags") or [])
        ]

    greetings = [t for t in pool("chitchat") if any(w in t.lower() for w in ("chào", "chao", "alo", "hello"))]
    closings = [
        t
        for t in pool("chitchat")
        if any(w in t.lower() for w in ("cảm ơn", "cam on", "thanks", "tạm biệt", "bye"))
    ]
    questions = pool("stats", "program", "plans", "hotline")
    rng = random.Random(seed)
    scripts = list(multi)
    while len(scripts) < count:
        body = rng.sample(questions, rng.randint(2, 3))
        scripts.append([rng.choice(greetings), *body, rng.choice(closings)])
    rng.shuffle(scripts)
    return scripts


# --- the bots ----------------------------------------------------------------------------------


def start_ours(args: argparse.Namespace):  # noqa: ANN201 - ops.prod.Profile
    """Start our assistant (make run's profile) with ops/serve.py's start(), on a fresh SQLite store."""
    serve, _ = _ops()
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    tracker = BENCH_VAR / "tracker.db"
    tracker.unlink(missing_ok=True)
    os.environ["OCOP_TRACKER_DB"] = str(tracker)  # a fresh SQLite store, not the one of `make run`
    sargs = ServeArgs(
        port=args.port,
        actions_port=args.actions_port,
        model=str(ROOT / "models" / "ocop.tar.gz"),
        endpoints=args.endpoints,
        credentials=str(ROOT / "credentials.yml"),
        interface=HOST,
        cors=[],
        no_web=True,
        web_port=0,
        logging_config=str(ROOT / "deploy" / "logging.yml"),
    )
    print(f"starting our assistant (Rasa :{args.port}, actions :{args.actions_port}) ...", flush=True)
    return serve.start(sargs)


def bench_ours(args: argparse.Namespace) -> BotRun:
    """Start our assistant, measure, stop."""
    run = BotRun(
        "OCOP assistant (make run: one Rasa process, SQLite tracker store)",
        conversations=OUR_CONVERSATIONS,
        probe_question=PROBE_QUESTION,
    )
    t0 = time.perf_counter()
    profile = start_ours(args)
    run.cold_start = time.perf_counter() - t0
    print(f"  cold start (command to first answer): {run.cold_start:.1f} s", flush=True)
    url = f"http://{HOST}:{args.port}/webhooks/rest/webhook"
    pids = profile.pids()
    roots = {"actions": pids[f"actions-{args.actions_port}"], "rasa": pids[f"rasa-{args.port}"]}
    try:
        measure(run, roots, url, our_scripts(), args, "ours")
    finally:
        profile.stop()
    return run


def measure(
    run: BotRun, roots: dict[str, int], url: str, scripts: list[list[str]], args: argparse.Namespace, tag: str
) -> None:
    """Probe, then every load level, sampling the memory of the named process trees."""
    sampler = MemorySampler(roots)
    sampler.sample()
    sampler.start()
    try:
        run.probe = probe(url, run.probe_question)
        print(f"  probe: {run.probe_question} -> {run.probe}", flush=True)
        run.levels = run_levels(url, scripts, args, tag)
    finally:
        sampler.stop()
        run.peak_rss, run.peak_hwm = sampler.peak_rss, sampler.peak_hwm


PROBE_QUESTION = "An Giang có bao nhiêu sản phẩm OCOP?"
OUR_CONVERSATIONS = (
    "multi-turn Vietnamese scripts built from `tests/eval/questions.yaml` "
    "(its multi-turn items, and greeting + 2-3 questions + thanks/goodbye)"
)


def bench_scaled(args: argparse.Namespace) -> BotRun:
    """The production profile (make prod): two Rasa processes behind nginx, PostgreSQL, Redis."""
    _, prod = _ops()
    s = prod.Settings()
    s.rasa_ports = [args.scaled_port, args.scaled_port + 1]
    s.actions_port, s.nginx_port, s.nginx_listen = args.scaled_actions_port, args.scaled_nginx_port, HOST
    s.actions_ports = [args.scaled_actions_port + 1, args.scaled_actions_port + 2]
    s.pg.db, s.var_dir, s.redis_key_prefix = f"ocop_bench_{int(time.time())}", BENCH_VAR / "prod", "ocopbench"
    run = BotRun(
        "OCOP assistant, production profile (make prod: 2 Rasa processes + nginx, PostgreSQL, Redis lock store)",
        conversations=OUR_CONVERSATIONS,
        probe_question=PROBE_QUESTION,
    )
    profile = prod.Profile(s)
    print(f"starting the production profile (Rasa :{s.rasa_ports}, nginx :{s.nginx_port}) ...", flush=True)
    try:
        run.cold_start = profile.start(progress=False)
    except prod.StartupError as exc:
        run.note = f"not measured: {exc}"
        print(f"  {run.note}", flush=True)
        return run
    print(f"  cold start (command to first answer): {run.cold_start:.1f} s", flush=True)
    pids = profile.pids()
    roots = {f"actions{i + 1}": pids[prod.Profile.actions_name(p)] for i, p in enumerate(s.actions_ports)} | {
        f"rasa{i + 1}": pids[prod.Profile.rasa_name(p)] for i, p in enumerate(s.rasa_ports)
    }
    try:
        measure(
            run, roots, f"http://{HOST}:{s.nginx_port}/webhooks/rest/webhook", our_scripts(), args, "prod"
        )
    finally:
        profile.stop()
        s.pg.drop()
    return run


def probe(url: str, text: str, timeout: float = 60.0) -> str:
    """One answer, shown in the report so a degraded bot (e.g. action server unreachable) is visible."""
    reply = rest.send(url, f"bench-probe-{uuid.uuid4().hex[:8]}", text, timeout)
    if not reply.ok:
        return f"(error: {reply.error})"
    text = " / ".join(str(m.get("text", "")) for m in reply.messages if isinstance(m, dict))
    return " ".join(text.split())[:300] or "(empty reply)"


def ensure_bare_bot(rasa: Path) -> Path:
    """Create and train the stock `rasa init` bot once; return its models directory."""
    models = BARE_DIR / "models"
    if any(models.glob("*.tar.gz")):
        print(f"bare bot: reusing {models}", flush=True)
        return models
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    env.pop("PYTHONPATH", None)
    VAR.mkdir(exist_ok=True)
    log = open(VAR / "bare-bot-train.log", "ab")
    if not (BARE_DIR / "domain.yml").exists():
        if BARE_DIR.exists():
            shutil.rmtree(BARE_DIR)
        BARE_DIR.mkdir(parents=True)  # `rasa init --no-prompt` wants an existing (empty) directory
        cmd = [str(rasa), "init", "--no-prompt", "--init-dir", str(BARE_DIR)]
        cwd = VAR
    else:
        cmd = [str(rasa), "train", "--out", "models"]
        cwd = BARE_DIR
    print(f"bare bot: {' '.join(cmd)} (log: var/bare-bot-train.log) ...", flush=True)
    t0 = time.perf_counter()
    code = subprocess.call(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=3600)
    if code != 0 or not any(models.glob("*.tar.gz")):
        raise SystemExit(f"training the bare bot failed (exit {code}); see var/bare-bot-train.log")
    print(f"  trained in {time.perf_counter() - t0:.0f} s", flush=True)
    return models


def start_bare(args: argparse.Namespace) -> subprocess.Popen:
    """Serve the bare bot with `rasa run` (no action server); return once it answers."""
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    models = ensure_bare_bot(rasa)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.pop("PYTHONPATH", None)
    cmd = [
        str(rasa), "run", "--model", str(models), "--port", str(args.bare_port), "--interface", HOST,
        "--credentials", str(BARE_DIR / "credentials.yml"),
    ]  # fmt: skip
    print(f"starting the bare bot (Rasa :{args.bare_port}) ...", flush=True)
    log = open(VAR / "bare-bot.log", "ab")
    proc = subprocess.Popen(
        cmd, cwd=BARE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_http(f"http://{HOST}:{args.bare_port}/", 300, proc, "bare-bot")
        url = f"http://{HOST}:{args.bare_port}/webhooks/rest/webhook"
        first_reply(url, 120, "hello")  # the bare bot is `rasa init`'s English one: its own greeting
    except BaseException:
        stop_group(proc)
        raise
    return proc


def bench_bare(args: argparse.Namespace) -> BotRun:
    """The bare bot, measured the same way as ours."""
    run = BotRun(
        "bare rasa init bot",
        note="stock `rasa init` project, in-memory tracker store, no action server",
        conversations=f"English scripts such as {' / '.join(BARE_SCRIPTS[0])}",
        probe_question=BARE_SCRIPTS[0][1],
    )
    t0 = time.perf_counter()
    proc = start_bare(args)
    run.cold_start = time.perf_counter() - t0
    print(f"  cold start (command to first answer): {run.cold_start:.1f} s", flush=True)
    try:
        url = f"http://{HOST}:{args.bare_port}/webhooks/rest/webhook"
        measure(run, {"rasa": proc.pid}, url, BARE_SCRIPTS, args, "bare")
    finally:
        stop_group(proc)
    return run


def bench_paired(args: argparse.Namespace) -> list[PairedRound]:
    """Both bots up at once, measured in alternating rounds (scripts/bench_paired.py)."""
    if args.paired_rounds < 1 or args.skip_bare:
        return []
    print(f"paired rounds: {args.paired_rounds} ...", flush=True)
    profile = start_ours(args)
    try:
        bare = start_bare(args)
        try:
            return paired_rounds(
                f"http://{HOST}:{args.port}/webhooks/rest/webhook", our_scripts(),
                f"http://{HOST}:{args.bare_port}/webhooks/rest/webhook", BARE_SCRIPTS, args,
            )  # fmt: skip
        finally:
            stop_group(bare)
    finally:
        profile.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_RASA_PORT", "5305")))
    ap.add_argument("--actions-port", type=int, default=int(os.environ.get("BENCH_ACTIONS_PORT", "5355")))
    ap.add_argument("--bare-port", type=int, default=int(os.environ.get("BENCH_BARE_PORT", "5306")))
    ap.add_argument("--levels", default="1,10,20,50", help="comma-separated conversation counts")
    ap.add_argument("--duration", type=float, default=30.0, help="time limit per level (s)")
    ap.add_argument("--max-turns", type=int, default=3000, help="turn budget per level")
    ap.add_argument("--warmup", type=int, default=20, help="unrecorded turns before the levels")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--skip-bare", action="store_true", help="do not measure the bare rasa init bot")
    ap.add_argument("--scaled", action="store_true", help="also measure the production profile (make prod)")
    ap.add_argument("--scaled-port", type=int, default=5307, help="first of its two Rasa ports")
    ap.add_argument("--scaled-actions-port", type=int, default=5357)
    ap.add_argument("--scaled-nginx-port", type=int, default=8385)
    ap.add_argument(
        "--endpoints", default=str(ROOT / "endpoints.yml"), help="endpoints file for our Rasa server"
    )
    ap.add_argument("--paired-rounds", type=int, default=5, help="alternating rounds, both bots up (0: none)")
    ap.add_argument("--paired-level", type=int, default=20, help="conversations of a paired round's load")
    ap.add_argument("--paired-duration", type=float, default=16.0, help="seconds of a paired round's load")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = ap.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if not args.levels or min(args.levels) < 1 or max(args.levels) > 200:
        ap.error("levels must be between 1 and 200 conversations")
    if args.duration <= 0 or args.duration > 600 or args.max_turns < 1:
        ap.error("each level needs a positive turn budget and at most 600 s")
    for needed in (ROOT / "models" / "ocop.tar.gz", ROOT / "index" / "build" / "manifest.json"):
        if not needed.exists():
            ap.error(f"{needed.relative_to(ROOT)} is missing: run `make train index` first")

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    ours = bench_ours(args)
    scaled = bench_scaled(args) if args.scaled else None
    bare = None if args.skip_bare else bench_bare(args)
    paired = bench_paired(args)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    write_report(
        Path(args.out), ours, scaled, bare, args, (load_before, load_after), paired_section(paired, args)
    )
    print_summary(ours, scaled, bare)
    if paired:
        p50, tps = medians(paired)
        print(
            f"  paired rounds (median of {len(paired)}): p50 {p50:.2f}x, throughput {tps:.2f}x the bare bot"
        )
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
