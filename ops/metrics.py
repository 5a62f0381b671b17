"""The action server's Prometheus metrics (prometheus_client's default registry: one per process).

record_answer("card")            # one reply, by what answered it
watch_index(pipeline)            # after pipeline.answer: counts a swapped-in rebuilt index
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # no *_created series: Prometheus does not need them

# What answered a turn: the pipeline's Reply.kind (card, statistic, passage, followup, refusal),
# a directory answer (contact), an out-of-scope decline or a question back (fallback), or a
# resource that is not loaded (unavailable). Anything else is counted as "other".
ANSWER_KINDS = frozenset(
    {"card", "statistic", "passage", "followup", "refusal", "contact", "fallback", "unavailable"}
)
ANSWERS = Counter("ocop_answers_total", "Replies of the action server by what answered them", ["kind"])
ACTION_SECONDS = Histogram(
    "ocop_action_seconds",
    "Time to run one action call of the action server's /webhook, by action",
    ["action"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
ACTION_ERRORS = Counter(
    "ocop_action_errors_total",
    "Action calls answered with an HTTP error, by action and status",
    ["action", "status"],
)
INDEX_RELOADS = Counter("ocop_index_reloads_total", "Rebuilt knowledge indexes swapped in without restart")
INDEX_STAMP = Gauge("ocop_index_manifest_mtime_seconds", "Modification time of the served index's manifest")
_seen_stamp: list[float] = []  # the last index stamp seen (empty until the first pipeline is watched)


def record_answer(kind: str) -> None:
    """Count one reply of the action server by its answer kind."""
    ANSWERS.labels(kind if kind in ANSWER_KINDS else "other").inc()


def watch_index(pipeline: Any) -> None:  # noqa: ANN401 - an AnswerPipeline (or a test double)
    """Count a reload when the pipeline's retriever serves another index than last time."""
    stamp = getattr(getattr(getattr(pipeline, "retriever", None), "index", None), "stamp", None)
    if not isinstance(stamp, int | float):
        return
    if _seen_stamp and _seen_stamp[0] != stamp:
        INDEX_RELOADS.inc()
    _seen_stamp[:] = [stamp]
    INDEX_STAMP.set(stamp)


def observe_action(action: str, status: int, started: float) -> None:
    """Record one action call's latency (since `started`, a perf_counter value) and its HTTP error."""
    ACTION_SECONDS.labels(action).observe(time.perf_counter() - started)
    if status >= 400:
        ACTION_ERRORS.labels(action, str(status)).inc()
