"""Load generation and memory sampling for scripts/bench.py (N concurrent REST conversations)."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops import rest  # noqa: E402 - the shared REST client

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
                    reply = await rest.send_async(session, url, sender, text, timeout)
                    if reply.status is None or reply.status != 200:
                        result.errors += 1
                        if len(result.error_samples) < 5:
                            result.error_samples.append((reply.error or "")[:200])
                        break
                    elapsed = reply.seconds
                    result.latencies.append(elapsed)
                    if not reply.messages:
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


@dataclass
class BotRun:
    """Everything measured for one bot (or one configuration of ours)."""

    name: str
    cold_start: float = math.nan
    levels: list[LevelResult] = field(default_factory=list)
    peak_rss: dict[str, int] = field(default_factory=dict)
    peak_hwm: dict[str, int] = field(default_factory=dict)
    note: str = ""
    conversations: str = ""
    probe_question: str = ""
    probe: str = ""

    def level(self, n: int) -> LevelResult | None:
        return next((lv for lv in self.levels if lv.conversations == n), None)
