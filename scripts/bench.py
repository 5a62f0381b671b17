#!/usr/bin/env python3
"""Benchmark the assistant against a bare `rasa init` bot; write docs/benchmarks.md.

    python scripts/bench.py [--port 5305 --actions-port 5355 --bare-port 5306] [--endpoints FILE]
                            [--levels 1,10,20,50] [--duration 30] [--max-turns 3000] [--skip-bare]

For each bot: cold start (command to first answer), then for every concurrency level N,
N simultaneous conversations on the REST channel, each a multi-turn script (ours: drawn
from tests/eval/questions.yaml; bare bot: simple English turns), sent back to back (no
think time) until the level's turn budget or time limit is reached. Reports p50/p95/p99
latency, turns/s, errors (exceptions, non-200) and empty replies, and the peak resident
memory of the Rasa server and the action server (process trees). The bare bot is made
once with `rasa init --no-prompt` under var/bare-bot and reused.

Everything talks to 127.0.0.1 only; every load loop is bounded by --max-turns and
--duration. Run with the Rasa environment's Python (it has aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BARE_DIR = VAR / "bare-bot"
BENCH_VAR = VAR / "bench"
QUESTIONS = ROOT / "tests" / "eval" / "questions.yaml"
HOST = "127.0.0.1"  # never anything else

TARGETS = {
    "p50_ratio_1": 1.3,  # our p50 at 1 conversation <= 1.3 x bare
    "tps_20": 60.0,  # turns/s at 20 conversations
    "p95_20_ms": 500.0,
    "rasa_rss_gb": 1.2,
    "actions_rss_gb": 1.0,
}

BARE_SCRIPTS = [
    ["hello", "I am sad", "yes", "bye"],
    ["hi", "I am feeling great", "goodbye"],
    ["hey there", "I am very unhappy", "no", "see you later"],
    ["good morning", "are you a bot?", "I feel wonderful", "bye"],
    ["hello there", "not good", "yes, that helped", "thanks, goodbye"],
]


def load_serve():
    """scripts/serve.py as a module (its start/stop functions)."""
    spec = importlib.util.spec_from_file_location("ocop_serve", ROOT / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("ocop_serve", module)
    spec.loader.exec_module(module)
    return module


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


# --- memory ---------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """ppid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_pids(root: int) -> list[int]:
    """The process and all its descendants."""
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def _status_kb(pid: int, key: str) -> int:
    """A VmRSS / VmHWM value in kB from /proc/<pid>/status (0 if gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> tuple[int, int]:
    """(sum of VmRSS, sum of VmHWM) in bytes over the process tree."""
    pids = tree_pids(root)
    return (
        sum(_status_kb(p, "VmRSS") for p in pids) * 1024,
        sum(_status_kb(p, "VmHWM") for p in pids) * 1024,
    )


class MemorySampler(threading.Thread):
    """Samples the RSS of named process trees every `interval` seconds; keeps the peaks."""

    def __init__(self, roots: dict[str, int], interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak_rss = dict.fromkeys(roots, 0)
        self.peak_hwm = dict.fromkeys(roots, 0)
        self.last_rss = dict.fromkeys(roots, 0)
        self._halt = threading.Event()

    def sample(self) -> None:
        for name, pid in self.roots.items():
            rss, hwm = tree_rss(pid)
            if rss:
                self.last_rss[name] = rss
            self.peak_rss[name] = max(self.peak_rss[name], rss)
            self.peak_hwm[name] = max(self.peak_hwm[name], hwm)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.sample()


# --- load ----------------------------------------------------------------------------------------


@dataclass
class LevelResult:
    """One concurrency level."""

    conversations: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    empty: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.latencies)

    @property
    def tps(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


async def run_level(
    url: str, scripts: list[list[str]], n: int, duration: float, max_turns: int, timeout: float, tag: str
) -> LevelResult:
    """N concurrent conversations until max_turns turns were sent or duration seconds passed."""
    result = LevelResult(n)
    sent = 0
    started = time.perf_counter()
    deadline = started + duration
    connector = aiohttp.TCPConnector(limit=n, limit_per_host=n)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:

        async def conversation_loop(worker: int) -> None:
            nonlocal sent
            number = 0
            while True:
                script = scripts[(worker * 7 + number) % len(scripts)]
                sender = f"bench-{tag}-{n}-{worker}-{number}-{uuid.uuid4().hex[:6]}"
                for text in script:
                    if sent >= max_turns or time.perf_counter() >= deadline:
                        return
                    sent += 1
                    t0 = time.perf_counter()
                    try:
                        async with session.post(url, json={"sender": sender, "message": text}) as resp:
                            body = await resp.read()
                            status = resp.status
                        elapsed = time.perf_counter() - t0
                    except Exception as exc:  # noqa: BLE001 - counted, the conversation restarts
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(repr(exc)[:200])
                        break
                    if status != 200:
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append(f"HTTP {status}: {body[:200]!r}")
                        break
                    result.latencies.append(elapsed)
                    try:
                        messages = json.loads(body or b"[]")
                    except ValueError:
                        messages = []
                    if not messages:
                        result.empty += 1
                number += 1

        await asyncio.gather(*(conversation_loop(w) for w in range(n)))
    result.seconds = time.perf_counter() - started
    return result


async def warm_up(url: str, scripts: list[list[str]], turns: int, timeout: float) -> None:
    """A few unrecorded turns so first-use costs do not land in the N=1 figures."""
    await run_level(url, scripts, 1, 60.0, turns, timeout, "warmup")


def run_levels(url: str, scripts: list[list[str]], args: argparse.Namespace, tag: str) -> list[LevelResult]:
    """Warm up, then every concurrency level in turn, printing each as it finishes."""
    asyncio.run(warm_up(url, scripts, args.warmup, args.timeout))
    results = []
    for n in args.levels:
        res = asyncio.run(run_level(url, scripts, n, args.duration, args.max_turns, args.timeout, tag))
        results.append(res)
        print(f"  [{tag}] {fmt_row(res)}", flush=True)
        for sample in res.error_samples:
            print(f"      error: {sample}", flush=True)
    return results


def fmt_row(r: LevelResult) -> str:
    return (
        f"N={r.conversations:<3d} turns={r.turns:<5d} errors={r.errors:<3d} empty={r.empty:<3d} "
        f"p50={r.pct(0.50):7.0f} ms p95={r.pct(0.95):7.0f} ms p99={r.pct(0.99):7.0f} ms "
        f"{r.tps:6.1f} turns/s"
    )


# --- the two bots ----------------------------------------------------------------------------------


@dataclass
class BotRun:
    """Everything measured for one bot."""

    name: str
    cold_start: float = math.nan
    levels: list[LevelResult] = field(default_factory=list)
    peak_rss: dict[str, int] = field(default_factory=dict)
    peak_hwm: dict[str, int] = field(default_factory=dict)
    note: str = ""
    probe: str = ""

    def level(self, n: int) -> LevelResult | None:
        return next((lv for lv in self.levels if lv.conversations == n), None)


def bench_ours(args: argparse.Namespace) -> BotRun:
    """Start our assistant with serve.py's start(), measure, stop."""
    serve = load_serve()
    run = BotRun("OCOP assistant")
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
    t0 = time.perf_counter()
    procs = serve.start(sargs)
    run.cold_start = time.perf_counter() - t0
    print(f"  cold start (command to first answer): {run.cold_start:.1f} s", flush=True)
    roots = {"actions": procs[0].pid, "rasa": procs[1].pid}
    sampler = MemorySampler(roots)
    sampler.sample()
    sampler.start()
    try:
        url = f"http://{HOST}:{args.port}/webhooks/rest/webhook"
        run.probe = probe(url, PROBE_QUESTION)
        print(f"  probe: {PROBE_QUESTION} -> {run.probe}", flush=True)
        run.levels = run_levels(url, our_scripts(), args, "ours")
    finally:
        sampler.stop()
        serve.stop(procs)
    run.peak_rss, run.peak_hwm = sampler.peak_rss, sampler.peak_hwm
    return run


PROBE_QUESTION = "An Giang có bao nhiêu sản phẩm OCOP?"


def probe(url: str, text: str, timeout: float = 60.0) -> str:
    """One answer, shown in the report so a degraded bot (e.g. action server unreachable) is visible."""
    body = json.dumps({"sender": f"bench-probe-{uuid.uuid4().hex[:8]}", "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            messages = json.loads(resp.read() or b"[]")
    except (OSError, ValueError) as exc:
        return f"(error: {exc!r})"
    text = " / ".join(str(m.get("text", "")) for m in messages if isinstance(m, dict))
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


def bench_bare(args: argparse.Namespace) -> BotRun:
    """Serve the bare bot with `rasa run` (no action server) and measure it the same way."""
    serve = load_serve()
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    models = ensure_bare_bot(rasa)
    run = BotRun(
        "bare rasa init bot", note="stock `rasa init` project, in-memory tracker store, no action server"
    )
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.pop("PYTHONPATH", None)
    cmd = [
        str(rasa), "run", "--model", str(models), "--port", str(args.bare_port), "--interface", HOST,
        "--credentials", str(BARE_DIR / "credentials.yml"),
    ]  # fmt: skip
    print(f"starting the bare bot (Rasa :{args.bare_port}) ...", flush=True)
    log = open(VAR / "bare-bot.log", "ab")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=BARE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    sampler = MemorySampler({"rasa": proc.pid})
    try:
        serve.wait_http(f"http://{HOST}:{args.bare_port}/", 300, proc, "bare-bot")
        url = f"http://{HOST}:{args.bare_port}/webhooks/rest/webhook"
        serve.first_reply(url, 120)
        run.cold_start = time.perf_counter() - t0
        print(f"  cold start (command to first answer): {run.cold_start:.1f} s", flush=True)
        sampler.sample()
        sampler.start()
        run.probe = probe(url, BARE_SCRIPTS[0][1])
        print(f"  probe: {BARE_SCRIPTS[0][1]} -> {run.probe}", flush=True)
        run.levels = run_levels(url, BARE_SCRIPTS, args, "bare")
    finally:
        if sampler.is_alive():
            sampler.stop()
        serve.stop([proc])
    run.peak_rss, run.peak_hwm = sampler.peak_rss, sampler.peak_hwm
    return run


# --- report ----------------------------------------------------------------------------------------


def git_commit() -> str:
    """HEAD commit read from .git files (no git command)."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(None, 1)[1]
        path = git / ref
        if path.exists():
            return path.read_text().strip()[:12] + f" ({ref.rsplit('/', 1)[-1]})"
        packed = git / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0][:12] + f" ({ref.rsplit('/', 1)[-1]})"
        return f"unborn branch {ref}"
    except OSError:
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gb(value: int) -> str:
    return f"{value / 1024**3:.2f} GB" if value else "n/a"


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def verdicts(ours: BotRun, bare: BotRun | None) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, limit, passed) rows."""
    rows: list[tuple[str, str, str, bool | None]] = []
    o1, o20 = ours.level(1), ours.level(20)
    b1 = bare.level(1) if bare else None
    if o1 and b1:
        r = ratio(o1.pct(0.5), b1.pct(0.5))
        rows.append(("p50 at 1 conversation, ours / bare", f"{r:.2f}x", f"<= {TARGETS['p50_ratio_1']}x",
                     r <= TARGETS["p50_ratio_1"]))  # fmt: skip
    else:
        rows.append(
            ("p50 at 1 conversation, ours / bare", "not measured", f"<= {TARGETS['p50_ratio_1']}x", None)
        )
    if o20:
        rows.append(("turns/s at 20 conversations", f"{o20.tps:.1f}", f">= {TARGETS['tps_20']:.0f}",
                     o20.tps >= TARGETS["tps_20"]))  # fmt: skip
        rows.append(("p95 at 20 conversations", f"{o20.pct(0.95):.0f} ms", f"<= {TARGETS['p95_20_ms']:.0f} ms",
                     o20.pct(0.95) <= TARGETS["p95_20_ms"]))  # fmt: skip
        rows.append(("errors at 20 conversations", str(o20.errors), "0", o20.errors == 0))
    rasa_peak = max(ours.peak_rss.get("rasa", 0), 0)
    act_peak = max(ours.peak_rss.get("actions", 0), 0)
    rows.append(("Rasa server peak RSS", gb(rasa_peak), f"<= {TARGETS['rasa_rss_gb']} GB",
                 rasa_peak <= TARGETS["rasa_rss_gb"] * 1024**3 if rasa_peak else None))  # fmt: skip
    rows.append(("action server peak RSS", gb(act_peak), f"<= {TARGETS['actions_rss_gb']} GB",
                 act_peak <= TARGETS["actions_rss_gb"] * 1024**3 if act_peak else None))  # fmt: skip
    return rows


def level_table(run: BotRun) -> list[str]:
    lines = [
        "| conversations | turns | errors | empty replies | p50 ms | p95 ms | p99 ms | max ms | turns/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in run.levels:
        mx = max(r.latencies) * 1000 if r.latencies else math.nan
        lines.append(
            f"| {r.conversations} | {r.turns} | {r.errors} | {r.empty} | {r.pct(0.5):.0f} | {r.pct(0.95):.0f} "
            f"| {r.pct(0.99):.0f} | {mx:.0f} | {r.tps:.1f} |"
        )
    return lines


def write_report(
    path: Path, ours: BotRun, bare: BotRun | None, args: argparse.Namespace, load: tuple
) -> None:
    now = dt.datetime.now().astimezone()
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`scripts/bench.py`); this file is overwritten on every run.",
        "",
        f"- date: {now:%Y-%m-%d %H:%M %Z}",
        f"- git commit: {git_commit()}",
        f"- machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
        f"- load average before / after: {load[0]} / {load[1]} (other processes may share the CPUs; "
        "the load generator runs on the same machine)",
        f"- settings: levels {','.join(map(str, args.levels))} conversations; each level runs up to "
        f"{args.max_turns} turns or {args.duration:.0f} s; {args.warmup} warm-up turns; turns are sent back to back "
        "(no think time); a new sender id per conversation; all traffic on 127.0.0.1",
        "",
        "## Targets",
        "",
        "| target | measured | limit | result |",
        "|---|---:|---:|---|",
    ]
    for name, measured, limit, passed in verdicts(ours, bare):
        mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"| {name} | {measured} | {limit} | {mark} |")
    lines += ["", f"## {ours.name}", "", f"Cold start (command to first answer): {ours.cold_start:.1f} s", ""]
    lines += [
        "Conversations: multi-turn Vietnamese scripts built from `tests/eval/questions.yaml` "
        "(its multi-turn items, and greeting + 2-3 questions + thanks/goodbye).",
        "",
    ]
    lines += [f"Probe: “{PROBE_QUESTION}” → “{ours.probe}”", ""]
    lines += level_table(ours)
    lines += [
        "",
        f"Peak RSS (sampled every 0.25 s, whole process tree): Rasa server {gb(ours.peak_rss.get('rasa', 0))}, "
        f"action server {gb(ours.peak_rss.get('actions', 0))} "
        f"(kernel high-water marks: {gb(ours.peak_hwm.get('rasa', 0))}, {gb(ours.peak_hwm.get('actions', 0))}).",
    ]
    if bare:
        lines += ["", f"## {bare.name}", "", f"{bare.note}.", ""]
        lines += [f"Cold start (command to first answer): {bare.cold_start:.1f} s", ""]
        lines += [f"Conversations: English scripts such as {' / '.join(BARE_SCRIPTS[0])}.", ""]
        lines += level_table(bare)
        lines += ["", f"Peak RSS: Rasa server {gb(bare.peak_rss.get('rasa', 0))}."]
        lines += ["", "## Ratios (ours / bare)", ""]
        o1, b1, o20, b20 = ours.level(1), bare.level(1), ours.level(20), bare.level(20)
        if o1 and b1:
            lines.append(f"- p50 latency at 1 conversation: {ratio(o1.pct(0.5), b1.pct(0.5)):.2f}x "
                         f"({o1.pct(0.5):.0f} ms vs {b1.pct(0.5):.0f} ms)")  # fmt: skip
        if o20 and b20:
            lines.append(f"- throughput at 20 conversations: {ratio(o20.tps, b20.tps):.2f}x "
                         f"({o20.tps:.1f} vs {b20.tps:.1f} turns/s)")  # fmt: skip
        lines.append(f"- cold start: {ratio(ours.cold_start, bare.cold_start):.2f}x")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def print_summary(ours: BotRun, bare: BotRun | None) -> None:
    print("\n=== summary ===")
    for run in [ours] + ([bare] if bare else []):
        print(f"{run.name}: cold start {run.cold_start:.1f} s; peak RSS "
              + ", ".join(f"{k} {gb(v)}" for k, v in run.peak_rss.items()))  # fmt: skip
        for r in run.levels:
            print(f"  {fmt_row(r)}")
    if bare:
        o1, b1, o20, b20 = ours.level(1), bare.level(1), ours.level(20), bare.level(20)
        if o1 and b1:
            print(f"ratio p50 @1 (ours/bare): {ratio(o1.pct(0.5), b1.pct(0.5)):.2f}x")
        if o20 and b20:
            print(f"ratio throughput @20 (ours/bare): {ratio(o20.tps, b20.tps):.2f}x")
    for name, measured, limit, passed in verdicts(ours, bare):
        mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        print(f"  {mark:4s} {name}: {measured} (target {limit})")


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
    ap.add_argument(
        "--endpoints", default=str(ROOT / "endpoints.yml"), help="endpoints file for our Rasa server"
    )
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
    bare = None if args.skip_bare else bench_bare(args)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    write_report(Path(args.out), ours, bare, args, (load_before, load_after))
    print_summary(ours, bare)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
