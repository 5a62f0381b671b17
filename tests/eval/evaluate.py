#!/usr/bin/env python3
"""Score the running assistant on a question set, through the REST channel.

    python tests/eval/evaluate.py tests/eval/questions.yaml [--url URL] [--tags a,b]
        [--min-score 0.95] [--json results.json] [--timeout 30] [-v]
    python tests/eval/evaluate.py tests/eval/questions.yaml --check   # validate the file only

The default URL is $RASA_URL/webhooks/rest/webhook when RASA_URL is set (`make eval`,
`make e2e`: ops/serve.py sets it for the command it runs), else http://localhost:5005/webhooks/rest/webhook.

File format (same as /work/shared/eval/dev.yaml):

    items:
    - id: q001
      turns: ["An Giang có bao nhiêu sản phẩm OCOP 4 sao?"]   # one conversation
      tags: [stats]
      expect: [["\\\\b14\\\\b"]]        # groups: every group must match,
                                        # any regex of a group is enough
      expect_none: ["\\\\b19\\\\b"]      # optional: none of these may match

Each item's turns are sent in order in ONE conversation with a fresh sender id. Only the
replies to the LAST turn are judged: their text, button titles and payloads, image URLs
and custom/attachment payloads (as JSON) are joined with newlines and folded
(lowercase, accents removed, đ -> d, a single ".", "-" or whitespace between two digits
removed so "02963.957.006" -> "02963957006", whitespace collapsed); the regexes are
searched (re.search) in the folded text as written.

Output: one line per failed item with its problems and reply (-v: every item), the
per-tag results, latency, and the overall score as the LAST line. Exit status 1 when
the score is below --min-score or the share of wrong answers (failed, but not a
refusal) is above --max-wrong (2 for a bad question file).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ops import rest  # noqa: E402 - the shared REST client

# ops/serve.py (make eval, make e2e) exports RASA_URL to the command it runs; otherwise the default port.
DEFAULT_URL = os.environ.get("RASA_URL", "http://localhost:5005").rstrip("/") + "/webhooks/rest/webhook"
_SEPARATORS = frozenset(".-")


# --- folding ------------------------------------------------------------------------------
# bot.text.fold_compact is NOT used: it keeps marks on non-Latin letters ("ά", "й"),
# stray combining marks and variation selectors (U+FE0F after emoji), and characters whose
# lowercase is longer than one character ("İ"). The rule here strips every nonspacing mark
# after lowercasing, exactly as the shared scorer's rule states.


def strip_marks(text: str) -> str:
    """Lowercase, decompose, drop every nonspacing mark (category Mn), map đ to d."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    kept = [ch for ch in decomposed if unicodedata.category(ch) != "Mn"]
    return "".join(kept).replace("đ", "d")


def join_digit_groups(text: str) -> str:
    """Remove each single '.', '-' or whitespace character that sits between two digits."""
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        is_sep = ch in _SEPARATORS or ch.isspace()
        if is_sep and 0 < i < last and _is_digit(text[i - 1]) and _is_digit(text[i + 1]):
            continue
        out.append(ch)
    return "".join(out)


def _is_digit(ch: str) -> bool:
    """Same notion of digit as the regex class \\d (Unicode decimal digits)."""
    return unicodedata.category(ch) == "Nd"


def fold(text: str) -> str:
    """The folding every expectation is matched against."""
    text = join_digit_groups(strip_marks(text))
    return " ".join(text.split())


# --- replies and matching -----------------------------------------------------------------


def reply_text(messages: list[dict[str, Any]]) -> str:
    """Everything a user could read or tap in a list of REST bot messages."""
    parts: list[str] = []
    for msg in messages or []:
        if not isinstance(msg, dict):
            parts.append(str(msg))
            continue
        parts.extend(str(msg[k]) for k in ("text", "image") if msg.get(k))
        for button in msg.get("buttons") or []:
            parts.append(str(button.get("title", "")))
            parts.append(str(button.get("payload", "")))
        for key in ("custom", "attachment"):
            if msg.get(key) is not None:
                parts.append(json.dumps(msg[key], ensure_ascii=False))
    return "\n".join(parts)


def judge(item: dict[str, Any], folded: str) -> list[str]:
    """Problems of one item's folded reply (empty list = pass)."""
    problems = []
    for group in item.get("expect") or []:
        if not any(re.search(pattern, folded) for pattern in group):
            problems.append("missing one of: " + " | ".join(group))
    for pattern in item.get("expect_none") or []:
        if re.search(pattern, folded):
            problems.append("must not match: " + pattern)
    return problems


# --- question files -----------------------------------------------------------------------


def load_items(path: str | Path) -> list[dict[str, Any]]:
    """Read a question file; raise ValueError listing every format problem."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a mapping with an 'items' list")
    errors = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        errors.extend(
            f"{path}: item {n} ({item.get('id', '?') if isinstance(item, dict) else '?'}): {e}"
            for e in item_problems(item, seen)
        )
    if errors:
        raise ValueError("\n".join(errors))
    return items


def item_problems(item: Any, seen: set[str]) -> list[str]:
    """Format problems of one item (ids must be unique across `seen`)."""
    if not isinstance(item, dict):
        return ["not a mapping"]
    problems = []
    item_id = item.get("id")
    if not isinstance(item_id, (str, int)) or str(item_id) == "":
        problems.append("missing id")
    elif str(item_id) in seen:
        problems.append("duplicate id")
    else:
        seen.add(str(item_id))
    turns = item.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        problems.append("turns must be a non-empty list of strings")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append("tags must be a list of strings")
    groups = item.get("expect", [])
    if not isinstance(groups, list) or not all(isinstance(g, list) and g for g in groups):
        problems.append("expect must be a list of non-empty lists of regexes")
        groups = []
    nones = item.get("expect_none", [])
    if not isinstance(nones, list):
        problems.append("expect_none must be a list of regexes")
        nones = []
    if not groups and not nones:
        problems.append("no expectation")
    for pattern in [p for g in groups for p in g] + list(nones):
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            problems.append(f"bad regex {pattern!r}: {exc}")
    return problems


def select(items: list[dict[str, Any]], tags: str) -> list[dict[str, Any]]:
    """Items having at least one of the comma-separated tags (all items when none given)."""
    wanted = {t.strip() for t in tags.split(",") if t.strip()}
    if not wanted:
        return items
    return [i for i in items if wanted & set(i.get("tags") or [])]


# --- talking to the assistant -------------------------------------------------------------


def post(url: str, sender: str, message: str, timeout: float) -> tuple[list[dict[str, Any]], float]:
    """One REST turn: (bot messages, seconds); RestError when it is not a 200 with a JSON list."""
    reply = rest.send(url, sender, message, timeout)
    if not reply.ok:
        raise rest.RestError(reply.error)
    return reply.messages, reply.seconds


@dataclass
class Result:
    """Outcome of one item."""

    id: str
    ok: bool
    turns: list[str]
    tags: list[str]
    problems: list[str] = field(default_factory=list)
    reply: str = ""
    seconds: list[float] = field(default_factory=list)
    outcome: str = ""  # "ok", "refused" (declined: sent to a hotline) or "wrong" (misleads)


# A failed reply that declines to answer is a refusal; any other failed reply is wrong.
REFUSAL = re.compile(
    r"chua co (du )?thong tin|khong co (du )?thong tin|chua (tim|tra cuu) (thay|duoc)|khong tim thay"
    r"|chua hieu|khong hieu|xin loi|chua du tin cay|khong du tin cay|khong cung cap|ngoai pham vi"
    r"|chua ho tro|khong ho tro|chua co so lieu|khong co so lieu|chua co du lieu|khong co du lieu"
)


def outcome_of(ok: bool, folded_reply: str) -> str:
    """ok, refused or wrong (the same split as ../shared/eval/score.py)."""
    if ok:
        return "ok"
    return "refused" if REFUSAL.search(folded_reply) else "wrong"


def run_item(item: dict[str, Any], url: str, timeout: float) -> Result:
    """Play one item's turns in a fresh conversation and judge the last replies."""
    sender = f"evaluate-{item['id']}-{uuid.uuid4().hex[:10]}"
    result = Result(
        id=str(item["id"]), ok=False, turns=list(item["turns"]), tags=list(item.get("tags") or [])
    )
    messages: list[dict[str, Any]] = []
    try:
        for turn in item["turns"]:
            messages, seconds = post(url, sender, turn, timeout)
            result.seconds.append(seconds)
    except rest.RestError as exc:  # e.g. "HTTP 500: b'...'"
        result.problems = [f"error: {exc}"]
        result.outcome = "wrong"
        return result
    except Exception as exc:  # noqa: BLE001 - a timeout or crash fails the item
        result.problems = [f"error: {exc!r}"]
        result.outcome = "wrong"
        return result
    result.reply = reply_text(messages)
    result.problems = judge(item, fold(result.reply))
    result.ok = not result.problems
    result.outcome = outcome_of(result.ok, fold(result.reply))
    return result


# --- report -------------------------------------------------------------------------------


def tag_table(results: list[Result]) -> dict[str, tuple[int, int]]:
    """tag -> (passed, total); items without tags count under '-'."""
    table: dict[str, tuple[int, int]] = {}
    for r in results:
        for tag in r.tags or ["-"]:
            passed, total = table.get(tag, (0, 0))
            table[tag] = (passed + r.ok, total + 1)
    return table


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def wrong_share(results: list[Result]) -> float:
    """Share of items answered, but not with what was asked."""
    return sum(r.outcome == "wrong" for r in results) / len(results) if results else 0.0


def score_line(results: list[Result]) -> tuple[float, str]:
    """(score, last line)."""
    passed = sum(r.ok for r in results)
    total = len(results)
    score = passed / total if total else 0.0
    return score, f"score: {passed}/{total} ({score:.1%})"


def print_report(results: list[Result], verbose: bool, out=None) -> float:
    """Failures (or everything with -v), per-tag table, latency, score last. Returns the score."""
    out = out or sys.stdout
    for r in results:
        if r.ok and not verbose:
            continue
        mark = {"ok": "ok  ", "refused": "FAIL", "wrong": "WRONG"}.get(r.outcome, "FAIL")
        print(f"{mark} {r.id} [{','.join(r.tags)}]: " + " => ".join(r.turns), file=out)
        for p in r.problems:
            print(f"       {p}", file=out)
        if not r.ok or verbose:
            print("       reply: " + (r.reply.replace("\n", " / ")[:700] or "(none)"), file=out)
    print(file=out)
    print("per tag:", file=out)
    for tag, (passed, total) in sorted(tag_table(results).items()):
        print(f"  {tag:16s} {passed:4d}/{total:<4d} {passed / total:6.1%}", file=out)
    latencies = [s for r in results for s in r.seconds]
    if latencies:
        print(
            f"latency per turn: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, "
            f"n={len(latencies)}",
            file=out,
        )
    refused = sum(r.outcome == "refused" for r in results)
    wrong = sum(r.outcome == "wrong" for r in results)
    print(f"failed items: {refused} refused, {wrong} wrong (answered, but not what was asked)", file=out)
    print(f"wrong: {wrong}/{len(results)} ({wrong_share(results):.1%})", file=out)
    score, line = score_line(results)
    print(line, file=out)
    return score


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", help="question file (YAML with an 'items' list)")
    ap.add_argument("--url", default=DEFAULT_URL, help=f"REST webhook (default {DEFAULT_URL})")
    ap.add_argument("--tags", default="", help="only items with one of these comma-separated tags")
    ap.add_argument("--min-score", type=float, default=0.0, help="exit 1 when the score is below this")
    ap.add_argument("--max-wrong", type=float, default=1.0, help="exit 1 when the wrong share is above this")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per turn")
    ap.add_argument("--json", default="", help="write per-item results to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every item with its reply")
    ap.add_argument("--check", action="store_true", help="only validate the question file")
    args = ap.parse_args(argv)

    try:
        items = select(load_items(args.questions), args.tags)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"bad question file: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.questions}: {len(items)} items OK")
        return 0
    if not items:
        print("no items selected", file=sys.stderr)
        return 2

    results = []
    for item in items:
        results.append(run_item(item, args.url, args.timeout))
        if args.verbose:
            print(f"  {'.' if results[-1].ok else 'x'} {item['id']}", file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1), encoding="utf-8"
        )
    score = print_report(results, args.verbose)
    return 0 if score >= args.min_score and wrong_share(results) <= args.max_wrong else 1


if __name__ == "__main__":
    sys.exit(main())
