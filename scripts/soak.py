"""Soak test of the production profile: 20 concurrent conversations for 10 minutes.

    python scripts/soak.py [--minutes 10] [--concurrency 20] [--turns 6]   (make soak)

Starts its own production profile (ops/prod.py under supervisord: two action servers behind
nginx's balancer, two Rasa processes, nginx; PostgreSQL database `ocop_soak_<time>` dropped
at the end unless --keep-db) on ports 5305,5306 / 5355 (balancer), 5356,5357 / 8380 by default, then keeps `--concurrency` conversations
running against nginx (127.0.0.1 only) until the time is up. Each conversation asks
about its own province and star level and checks that the follow-ups ("thế còn 4 sao?")
are answered for *its* province.

Prints: turns sent, replies received, errors (transport/HTTP errors, empty replies,
service apologies, follow-ups answered for another context), conversations with a
missing turn, latency, and the resident memory (RSS) of each process (Rasa x2, actions x2,
nginx) at launch, after the warm-up (`--warmup` seconds of load: models and caches are
filled lazily by the first turns) and at the end, with the growth from the warm-up.
Exit status 1 if errors > 0 or any process grew by 10 % or more.

The load engine (`run_load`, `conversation`) is shared with tests/prod.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ops import rest  # noqa: E402 - the shared REST client

PROVINCES = ("An Giang", "Sóc Trăng", "Tiền Giang")
STARS = ("3", "4", "5")
APOLOGY_MARK = "tạm thời gián đoạn"  # utter_service_unavailable (domain/core.yml)


def load_prod():
    """ops/prod.py (the production profile)."""
    import ops.prod

    return ops.prod


# ---- conversations -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    """One user message; `province`: the province its answer must be about (context check)."""

    text: str
    province: str | None = None


def conversation(index: int, turns: int) -> list[Turn]:
    """A conversation about one province and star level; follow-ups depend on the context."""
    province = PROVINCES[index % len(PROVINCES)]
    star = STARS[(index // len(PROVINCES)) % len(STARS)]
    others = [s for s in STARS if s != star]
    script = [
        Turn("xin chào"),
        Turn(f"{province} có bao nhiêu sản phẩm OCOP {star} sao?", province),
        Turn(f"thế còn {others[0]} sao?", province),
        Turn("sdt phản ánh thủ tục hành chính"),
        Turn(f"còn {others[1]} sao thì sao?", province),
        Turn("cảm ơn"),
    ]
    follow_ups = itertools.cycle(
        [
            Turn(f"còn {star} sao?", province),
            Turn("số điện thoại đường dây nóng nông nghiệp"),
            Turn(f"thế còn {others[0]} sao?", province),
        ]
    )
    while len(script) < turns - 1:
        script.append(next(follow_ups))
    script = script[: max(1, turns - 1)]
    if turns > 1:
        script.append(Turn("tạm biệt"))
    return script


def reply_text(replies: list[dict]) -> str:
    """All reply texts, without the merger note that names several provinces."""
    return " ".join(
        str(m.get("text") or "") for m in replies if not str(m.get("text") or "").startswith("Lưu ý")
    )


SOURCE_LINES = ("Lưu ý", "Nguồn:", "Căn cứ:")  # a cited title may name another province


def context_ok(replies: list[dict], province: str) -> bool:
    """The answer (not its source line) is about `province` and no other one."""
    text = " ".join(
        str(m.get("text") or "") for m in replies if not str(m.get("text") or "").startswith(SOURCE_LINES)
    )
    return province in text and not any(p in text for p in PROVINCES if p != province)


def is_apology(replies: list[dict]) -> bool:
    """The service apology (action server or database unavailable)."""
    return any(APOLOGY_MARK in str(m.get("text") or "") for m in replies)


# ---- load engine -------------------------------------------------------------------------------
@dataclass
class TurnResult:
    """What happened to one turn."""

    sender: str
    index: int
    text: str
    status: int | None
    replies: list[dict]
    latency: float
    error: str | None = None
    wrong_context: bool = False

    @property
    def answered(self) -> bool:
        """HTTP 200 with at least one non-empty message."""
        return self.status == 200 and any(m.get("text") or m.get("buttons") for m in self.replies)


@dataclass
class LoadReport:
    """All turns of a load run."""

    results: list[TurnResult] = field(default_factory=list)
    conversations: dict[str, list[Turn]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        """Turns sent."""
        return len(self.results)

    @property
    def answered(self) -> int:
        """Turns with a reply."""
        return sum(r.answered for r in self.results)

    @property
    def apologies(self) -> int:
        """Turns answered with the service apology."""
        return sum(r.answered and is_apology(r.replies) for r in self.results)

    @property
    def wrong_context(self) -> list[TurnResult]:
        """Follow-ups answered for another conversation's context."""
        return [r for r in self.results if r.wrong_context]

    @property
    def failed(self) -> list[TurnResult]:
        """Turns without a reply (transport error, HTTP error, empty reply)."""
        return [r for r in self.results if not r.answered]

    def conversations_missing_turns(self) -> list[str]:
        """Senders with a turn not sent or not answered."""
        done: dict[str, int] = {}
        for r in self.results:
            done[r.sender] = done.get(r.sender, 0) + (1 if r.answered else 0)
        return [s for s, turns in self.conversations.items() if done.get(s, 0) < len(turns)]

    def latencies(self) -> list[float]:
        """Latency of answered turns (s)."""
        return sorted(r.latency for r in self.results if r.answered)


async def run_load(
    url: str,
    conversations: int | None,
    turns: int,
    concurrency: int,
    prefix: str | None = None,
    deadline: float | None = None,
    on_turn: Callable[[TurnResult, LoadReport], Awaitable[None] | None] | None = None,
    check_context: bool = True,
    timeout: float = 90,
) -> LoadReport:
    """Run conversations (a fixed number, or until `deadline`) with `concurrency` in flight.

    Turns of one conversation are sequential (a user waits for the answer); the
    conversations run concurrently. `on_turn` is called after every turn (e.g. to kill a
    process halfway).
    """
    import aiohttp

    prefix = prefix or f"load-{uuid.uuid4().hex[:8]}"
    report = LoadReport()
    counter = itertools.count()
    start = time.perf_counter()

    async def worker(session) -> None:
        while True:
            index = next(counter)
            if conversations is not None and index >= conversations:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            sender = f"{prefix}-{index}"
            script = conversation(index, turns)
            report.conversations[sender] = script
            for i, turn in enumerate(script):
                t0 = time.perf_counter()
                reply = await rest.send_async(session, url, sender, turn.text, timeout)
                status, replies, error = reply.status, reply.messages, reply.error
                result = TurnResult(sender, i, turn.text, status, replies, time.perf_counter() - t0, error)
                if (
                    check_context
                    and turn.province
                    and result.answered
                    and not is_apology(replies)
                    and not context_ok(replies, turn.province)
                ):
                    result.wrong_context = True
                report.results.append(result)
                if on_turn is not None:
                    maybe = on_turn(result, report)
                    if asyncio.iscoroutine(maybe):
                        await maybe

    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    report.seconds = time.perf_counter() - start
    return report


def summary(report: LoadReport) -> dict[str, float | int]:
    """Figures of a load run."""
    lat = report.latencies()
    return {
        "conversations": len(report.conversations),
        "turns sent": report.sent,
        "replies received": report.answered,
        "transport/HTTP errors or empty replies": len(report.failed),
        "service apologies": report.apologies,
        "follow-ups answered for another context": len(report.wrong_context),
        "conversations with a missing turn": len(report.conversations_missing_turns()),
        "turns per second": round(report.sent / report.seconds, 2) if report.seconds else 0,
        "latency p50 (s)": round(statistics.median(lat), 2) if lat else 0,
        "latency p95 (s)": round(lat[int(0.95 * (len(lat) - 1))], 2) if lat else 0,
        "latency max (s)": round(lat[-1], 2) if lat else 0,
    }


# ---- the soak run ------------------------------------------------------------------------------
def main() -> int:
    """Start the profile, soak it, print the figures, stop it."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--turns", type=int, default=6, help="turns per conversation")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds of load before the RSS baseline")
    ap.add_argument("--rasa-ports", default="5305,5306")
    ap.add_argument("--actions-port", type=int, default=5355, help="the action servers' balancer")
    ap.add_argument("--actions-ports", default="5356,5357", help="one per action server")
    ap.add_argument("--nginx-port", type=int, default=8380)
    ap.add_argument("--db", default=f"ocop_soak_{int(time.time())}")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--var-dir", default=str(ROOT / "var" / "soak"))
    ap.add_argument("--max-growth", type=float, default=10.0, help="fail at this RSS growth (%%)")
    args = ap.parse_args()

    prod = load_prod()
    s = prod.Settings()
    s.rasa_ports = [int(p) for p in args.rasa_ports.split(",") if p]
    s.actions_ports = [int(p) for p in args.actions_ports.split(",") if p]
    s.actions_port, s.nginx_port, s.nginx_listen = args.actions_port, args.nginx_port, "127.0.0.1"
    s.pg.db, s.var_dir = args.db, Path(args.var_dir)
    s.redis_key_prefix = "ocopsoak"
    profile = prod.Profile(s)
    sup_log = s.log_dir / "supervisord.log"
    sup_offset = sup_log.stat().st_size if sup_log.exists() else 0
    print(f"starting the production profile (database {s.pg.db}, logs in {s.log_dir})", flush=True)
    try:
        startup = profile.start(progress=False)
    except prod.StartupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    try:
        print(
            f"profile up in {startup:.0f} s; soaking {args.minutes:g} min at {args.concurrency} concurrent conversations",
            flush=True,
        )
        rss_launch = profile.rss_mb()
        samples: list[tuple[float, dict[str, float]]] = []
        url = f"http://127.0.0.1:{s.nginx_port}/webhooks/rest/webhook"
        t_start = time.monotonic()
        deadline = t_start + args.minutes * 60

        async def sampler() -> None:
            while time.monotonic() < deadline:
                samples.append((time.monotonic() - t_start, profile.rss_mb()))
                await asyncio.sleep(10)

        async def run() -> LoadReport:
            task = asyncio.create_task(sampler())
            report = await run_load(url, None, args.turns, args.concurrency, prefix="soak", deadline=deadline)
            task.cancel()
            return report

        report = asyncio.run(run())
        rss_end = profile.rss_mb()
        dead = [name for name, st in profile.status().items() if st.state != "RUNNING"]
        restarts = _restarts(sup_log, sup_offset)
    finally:
        profile.stop()
        if not args.keep_db:
            try:
                s.pg.drop()
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {s.pg.db}: {exc}", file=sys.stderr)

    baseline = next(
        (rss for t, rss in samples if t >= args.warmup), samples[-1][1] if samples else rss_launch
    )
    figures = summary(report)
    errors = (
        figures["transport/HTTP errors or empty replies"]
        + figures["service apologies"]
        + figures["follow-ups answered for another context"]
    )
    print()
    print(
        f"Soak: {args.minutes:g} min, {args.concurrency} concurrent conversations of {args.turns} turns, "
        f"2 Rasa processes and 2 action servers behind nginx, PostgreSQL + Redis, supervisord"
    )
    for key, value in figures.items():
        print(f"  {key:<42} {value}")
    print(f"  {'errors (total)':<42} {errors}")
    print()
    print(
        f"  {'process':<12} {'RSS launch':>11} {'RSS after warm-up':>18} {'RSS end':>9} {'growth':>8} {'max':>9}"
    )
    worst = 0.0
    for name in sorted(rss_end):
        peak = max([rss.get(name, 0.0) for _, rss in samples] + [rss_end[name]])
        base = baseline.get(name) or rss_launch.get(name) or 0.0
        growth = 100.0 * (rss_end[name] - base) / base if base else 0.0
        worst = max(worst, growth)
        print(
            f"  {name:<12} {rss_launch.get(name, 0):>8.0f} MB {base:>15.0f} MB {rss_end[name]:>6.0f} MB "
            f"{growth:>7.1f}% {peak:>6.0f} MB"
        )
    print(f"  (growth = end vs. after {args.warmup:g} s of load; RSS of nginx = master + worker)")
    if report.failed:
        print("\nfirst failures:")
        for r in report.failed[:5]:
            print(f"  {r.sender} turn {r.index}: {r.error or 'empty reply'}")
    if dead or restarts:
        print(
            f"\nprocesses not running at the end: {', '.join(dead) or 'none'}; restarted by supervisord: {restarts}"
        )
    ok = errors == 0 and worst < args.max_growth and not dead and not restarts
    print("\nRESULT:", "PASS" if ok else f"FAIL (errors {errors}, worst growth {worst:.1f}%)")
    return 0 if ok else 1


def _restarts(log: Path, offset: int) -> int:
    """Processes that exited unexpectedly (and were restarted) according to supervisord's log."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace").count("not expected)")
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
