"""Paired rounds for scripts/bench.py: our assistant and the bare bot up together, measured in turn.

    pairs = paired_rounds(ours_url, our_scripts, bare_url, bare_scripts, args)
    lines = paired_section(pairs, args)            # markdown for docs/benchmarks.md

The main levels of `make bench` measure each bot minutes apart, and on a shared machine the
load of other processes can change more between them than the code does (two runs of the
same commit have differed by 27%). Here both servers run at the same time and each round
measures ours and the bare bot one right after the other (alternating which goes first), at
1 and at N conversations. The ratio of each round is computed within the round; the report
gives every round and the median ratio, which is what the targets are checked against.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from dataclasses import dataclass

from bench_load import run_level, warm_up


@dataclass
class PairedRound:
    """One round: p50 at 1 conversation (ms) and turns/s at N conversations, ours and bare."""

    ours_p50: float
    bare_p50: float
    ours_tps: float
    bare_tps: float
    ours_errors: int
    bare_errors: int

    @property
    def p50_ratio(self) -> float:
        """Our p50 over the bare bot's (lower is better)."""
        return self.ours_p50 / self.bare_p50 if self.bare_p50 else float("nan")

    @property
    def tps_ratio(self) -> float:
        """Our turns/s over the bare bot's (higher is better)."""
        return self.ours_tps / self.bare_tps if self.bare_tps else float("nan")


def _measure(url: str, scripts: list[list[str]], n: int, seconds: float, args: argparse.Namespace, tag: str):  # noqa: ANN202
    """One level, bounded by time and the turn budget."""
    return asyncio.run(run_level(url, scripts, n, seconds, args.max_turns, args.timeout, tag))


def paired_rounds(
    ours_url: str,
    ours_scripts: list[list[str]],
    bare_url: str,
    bare_scripts: list[list[str]],
    args: argparse.Namespace,
) -> list[PairedRound]:
    """`args.paired_rounds` rounds of (ours, bare) at 1 and `args.paired_level` conversations."""
    asyncio.run(warm_up(ours_url, ours_scripts, args.warmup, args.timeout))
    asyncio.run(warm_up(bare_url, bare_scripts, args.warmup, args.timeout))
    rounds = []
    for r in range(args.paired_rounds):
        order = [("ours", ours_url, ours_scripts), ("bare", bare_url, bare_scripts)]
        if r % 2:
            order.reverse()  # neither bot always goes first
        got = {}
        for tag, url, scripts in order:
            one = _measure(url, scripts, 1, args.paired_duration / 2, args, f"paired-{tag}")
            many = _measure(url, scripts, args.paired_level, args.paired_duration, args, f"paired-{tag}")
            got[tag] = (one.pct(0.5), many.tps, one.errors + many.errors)
        rnd = PairedRound(
            got["ours"][0], got["bare"][0], got["ours"][1], got["bare"][1], got["ours"][2], got["bare"][2]
        )
        print(
            f"  [paired {r + 1}/{args.paired_rounds}] p50 {rnd.ours_p50:.0f} vs {rnd.bare_p50:.0f} ms "
            f"({rnd.p50_ratio:.2f}x); {rnd.ours_tps:.1f} vs {rnd.bare_tps:.1f} turns/s ({rnd.tps_ratio:.2f}x)",
            flush=True,
        )
        rounds.append(rnd)
    return rounds


def medians(rounds: list[PairedRound]) -> tuple[float, float]:
    """Median p50 ratio and median throughput ratio over the rounds."""
    return statistics.median(r.p50_ratio for r in rounds), statistics.median(r.tps_ratio for r in rounds)


def paired_section(rounds: list[PairedRound], args: argparse.Namespace) -> list[str]:
    """Markdown: every round and the medians."""
    if not rounds:
        return []
    p50, tps = medians(rounds)
    lines = [
        "",
        "## Paired rounds (ours = make run, bare = rasa init; both servers up, measured in turn)",
        "",
        f"{len(rounds)} rounds; in each, each bot gets {args.paired_duration / 2:.0f} s at 1 conversation and "
        f"{args.paired_duration:.0f} s at {args.paired_level} conversations, right after each other "
        "(the order alternates). The ratios of a round share the machine's load of that moment.",
        "",
        "| round | p50 ours ms | p50 bare ms | p50 ratio | turns/s ours | turns/s bare | throughput ratio | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(rounds, 1):
        lines.append(
            f"| {i} | {r.ours_p50:.0f} | {r.bare_p50:.0f} | {r.p50_ratio:.2f}x | {r.ours_tps:.1f} | "
            f"{r.bare_tps:.1f} | {r.tps_ratio:.2f}x | {r.ours_errors + r.bare_errors} |"
        )
    lines += ["", f"Median: p50 {p50:.2f}x the bare bot; throughput {tps:.2f}x the bare bot."]
    return lines
