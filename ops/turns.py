"""The Rasa server's Prometheus metrics: turns per channel, their latency, Zalo send failures.

record_turn("rest", "answered", seconds)   # from bot/channels/guard.py, every channel's turns
record_zalo_send_failure(error)            # from bot/channels/zalo_output.py
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

disable_created_metrics()  # no *_created series: Prometheus does not need them
TURNS = Counter(
    "ocop_turns_total",
    "User turns by channel and outcome (answered, apology: no reply so the service apology, error)",
    ["channel", "outcome"],
)
TURN_SECONDS = Histogram(
    "ocop_turn_seconds",
    "Time from a user message to its last reply sent (NLU, policies, actions, sending), by channel",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0),
)
ZALO_SEND_FAILURES = Counter(
    "ocop_zalo_send_failures_total",
    "Zalo messages not delivered, by Zalo error code or HTTP status",
    ["error"],
)


def record_turn(channel: str | None, outcome: str, seconds: float) -> None:
    """Count one user turn and its latency."""
    name = channel or "unknown"
    TURNS.labels(name, outcome).inc()
    TURN_SECONDS.labels(name).observe(seconds)


def zalo_error_label(error: Exception) -> str:
    """Zalo's error code of a failed send ("-216"), else "http_<status>", else "no_response"."""
    body = getattr(error, "body", None) or {}
    status = getattr(error, "status", 0) or 0
    if isinstance(body, dict) and isinstance(body.get("error"), int):
        return str(body["error"])
    return f"http_{status}" if status else "no_response"


def record_zalo_send_failure(error: Exception) -> None:
    """Count one Zalo message that could not be sent."""
    ZALO_SEND_FAILURES.labels(zalo_error_label(error)).inc()
