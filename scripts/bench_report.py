"""The report of scripts/bench.py: targets, per-level tables, ratios (docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
from pathlib import Path

from bench_load import BotRun, fmt_row

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    "p50_ratio_1": 1.3,  # our p50 at 1 conversation <= 1.3 x bare
    "tps_20": 60.0,  # turns/s at 20 conversations
    "p95_20_ms": 500.0,
    "rasa_rss_gb": 1.2,
    "actions_rss_gb": 1.0,
}

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


def _rss_peak(run: BotRun, prefix: str) -> int:
    """Largest peak RSS among the processes whose name starts with prefix (0 if none)."""
    return max((v for k, v in run.peak_rss.items() if k.startswith(prefix)), default=0)


def verdicts(
    ours: BotRun, scaled: BotRun | None, bare: BotRun | None
) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, limit, passed) rows; load targets for each configuration of ours."""
    rows: list[tuple[str, str, str, bool | None]] = []
    o1, b1 = ours.level(1), (bare.level(1) if bare else None)
    limit = f"<= {TARGETS['p50_ratio_1']}x"
    if o1 and b1:
        r = ratio(o1.pct(0.5), b1.pct(0.5))
        rows.append(("p50 at 1 conversation, ours / bare", f"{r:.2f}x", limit, r <= TARGETS["p50_ratio_1"]))
    else:
        rows.append(("p50 at 1 conversation, ours / bare", "not measured", limit, None))
    for label, run in (("", ours), (" (production profile)", scaled)):
        lv = run.level(20) if run else None
        if lv is None:
            continue
        rows.append((f"turns/s at 20 conversations{label}", f"{lv.tps:.1f}", f">= {TARGETS['tps_20']:.0f}",
                     lv.tps >= TARGETS["tps_20"]))  # fmt: skip
        rows.append((f"p95 at 20 conversations{label}", f"{lv.pct(0.95):.0f} ms",
                     f"<= {TARGETS['p95_20_ms']:.0f} ms", lv.pct(0.95) <= TARGETS["p95_20_ms"]))  # fmt: skip
        rows.append((f"errors at 20 conversations{label}", str(lv.errors), "0", lv.errors == 0))
    runs = [r for r in (ours, scaled) if r]
    rasa_peak = max(_rss_peak(r, "rasa") for r in runs)
    act_peak = max(_rss_peak(r, "actions") for r in runs)
    rows.append(("Rasa server peak RSS (per process)", gb(rasa_peak), f"<= {TARGETS['rasa_rss_gb']} GB",
                 rasa_peak <= TARGETS["rasa_rss_gb"] * 1024**3 if rasa_peak else None))  # fmt: skip
    rows.append(("action server peak RSS", gb(act_peak), f"<= {TARGETS['actions_rss_gb']} GB",
                 act_peak <= TARGETS["actions_rss_gb"] * 1024**3 if act_peak else None))  # fmt: skip
    return rows


def level_table(run: BotRun) -> list[str]:
    """Markdown table of a run's levels."""
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


def run_section(run: BotRun) -> list[str]:
    """One bot's section: cold start, conversations, probe, table, memory."""
    lines = ["", f"## {run.name}", ""]
    if run.note:
        lines += [f"{run.note}.", ""]
    lines += [f"Cold start (command to first answer): {run.cold_start:.1f} s", ""]
    lines += [f"Conversations: {run.conversations}.", ""]
    if run.probe:
        lines += [f"Probe: “{run.probe_question}” → “{run.probe}”", ""]
    lines += level_table(run)
    rss = ", ".join(f"{k} {gb(v)}" for k, v in run.peak_rss.items())
    hwm = ", ".join(f"{k} {gb(v)}" for k, v in run.peak_hwm.items())
    lines += [
        "",
        f"Peak RSS (sampled every 0.25 s, whole process tree): {rss} (kernel high-water marks: {hwm}).",
    ]
    return lines


def write_report(
    path: Path,
    ours: BotRun,
    scaled: BotRun | None,
    bare: BotRun | None,
    args: argparse.Namespace,
    load: tuple[str, str],
    paired: list[str] = (),
) -> None:
    """Write docs/benchmarks.md (`paired`: the paired rounds' section, scripts/bench_paired.py)."""
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
    for name, measured, limit, passed in verdicts(ours, scaled, bare):
        mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"| {name} | {measured} | {limit} | {mark} |")
    for run in (ours, scaled, bare):
        if run:
            lines += run_section(run)
    if bare:
        lines += ["", "## Ratios (ours / bare)", ""]
        b1, b20 = bare.level(1), bare.level(20)
        for run in (ours, scaled):
            o1, o20 = (run.level(1), run.level(20)) if run else (None, None)
            if o1 and b1:
                lines.append(f"- {run.name}: p50 at 1 conversation {ratio(o1.pct(0.5), b1.pct(0.5)):.2f}x "
                             f"({o1.pct(0.5):.0f} ms vs {b1.pct(0.5):.0f} ms)")  # fmt: skip
            if o20 and b20:
                lines.append(f"- {run.name}: throughput at 20 conversations {ratio(o20.tps, b20.tps):.2f}x "
                             f"({o20.tps:.1f} vs {b20.tps:.1f} turns/s)")  # fmt: skip
        lines.append(f"- cold start: {ratio(ours.cold_start, bare.cold_start):.2f}x")
    lines += list(paired)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def print_summary(ours: BotRun, scaled: BotRun | None, bare: BotRun | None) -> None:
    """Print the figures and the verdicts."""
    print("\n=== summary ===")
    for run in (ours, scaled, bare):
        if not run:
            continue
        print(f"{run.name}: cold start {run.cold_start:.1f} s; peak RSS "
              + ", ".join(f"{k} {gb(v)}" for k, v in run.peak_rss.items()))  # fmt: skip
        for r in run.levels:
            print(f"  {fmt_row(r)}")
    for name, measured, limit, passed in verdicts(ours, scaled, bare):
        mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        print(f"  {mark:4s} {name}: {measured} (target {limit})")
