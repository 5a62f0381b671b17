"""scripts/bench_report.py: verdicts and the report from measured runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench_load import BotRun, LevelResult  # noqa: E402
from bench_report import verdicts, write_report  # noqa: E402


def run(name: str, p50_ms: float, tps20: float, rss: dict[str, int]) -> BotRun:
    """A run with a 1-conversation level at p50_ms and a 20-conversation level at tps20."""
    one = LevelResult(1, latencies=[p50_ms / 1000] * 10, seconds=1.0)
    twenty = LevelResult(20, latencies=[20 / tps20] * int(tps20 * 10), seconds=10.0)
    return BotRun(name, cold_start=40.0, levels=[one, twenty], peak_rss=rss, conversations="x")


GB = 1024**3


@pytest.mark.parametrize(("ours_p50", "passed"), [(39.0, True), (41.0, False)])
def test_p50_ratio_verdict(ours_p50, passed):
    ours = run("ours", ours_p50, 30, {"rasa": GB, "actions": GB // 2})
    bare = run("bare", 30.0, 30, {"rasa": GB})
    rows = {name: ok for name, _, _, ok in verdicts(ours, None, bare)}
    assert rows["p50 at 1 conversation, ours / bare"] is passed


def test_scaled_rows_and_largest_rasa_process_count():
    ours = run("ours", 40, 25, {"rasa": GB, "actions": GB // 2})
    scaled = run("scaled", 50, 61, {"rasa1": int(1.3 * GB), "rasa2": GB, "actions": GB // 2})
    rows = {name: (measured, ok) for name, measured, _, ok in verdicts(ours, scaled, None)}
    assert rows["turns/s at 20 conversations"][1] is False
    assert rows["turns/s at 20 conversations (production profile)"][1] is True
    assert rows["Rasa server peak RSS (per process)"] == ("1.30 GB", False)
    assert rows["p50 at 1 conversation, ours / bare"] == ("not measured", None)


def test_report_has_every_run(tmp_path):
    ours = run("ours", 40, 25, {"rasa": GB, "actions": GB // 2})
    scaled = run("scaled", 50, 35, {"rasa1": GB, "rasa2": GB, "actions": GB // 2})
    bare = run("bare", 30, 34, {"rasa": GB})
    args = argparse.Namespace(levels=[1, 20], max_turns=100, duration=10.0, warmup=5)
    out = tmp_path / "b.md"
    write_report(out, ours, scaled, bare, args, ("0.1", "0.2"))
    text = out.read_text()
    for heading in ("## ours", "## scaled", "## bare", "## Ratios"):
        assert heading in text
    assert "| p50 at 1 conversation, ours / bare | 1.33x | <= 1.3x | FAIL |" in text
