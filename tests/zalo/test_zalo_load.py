"""Load: 1,000 signed events, 20 in flight, each acked fast and answered exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.zalo.helpers import Harness, make_event

N_EVENTS = 1000
CONCURRENCY = 20
MAX_ACK_SECONDS = 2.0
TURN_SECONDS = 0.2  # each fake turn takes this long, in the background


@pytest.mark.asyncio
async def test_thousand_events_acked_and_answered_once(harness: Harness) -> None:
    harness.agent.delay = TURN_SECONDS
    started = time.monotonic()
    events = [make_event(f"load-{i}", user_id=f"user-{i % 250}") for i in range(N_EVENTS)]
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    acks: list[tuple[int, float]] = []

    async def worker() -> None:
        while not queue.empty():
            event = queue.get_nowait()
            status, _, latency = await harness.post(event)
            acks.append((status, latency))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    acked_at = time.monotonic()
    await harness.settle(timeout=45)
    done_at = time.monotonic()

    delivered = harness.fake.delivered()
    per_text = Counter(m["message"]["text"] for m in delivered)
    msg_id_of = {f"echo: {e['message']['text']}": e["message"]["msg_id"] for e in events}
    # Each reply is linked to the user message it answers (free reply), not to the user id.
    wrong_recipient = [
        m for m in delivered if m["recipient"] != {"message_id": msg_id_of[m["message"]["text"]]}
    ]
    max_latency = max(latency for _, latency in acks)
    print(
        f"\nzalo load: events={N_EVENTS} concurrency={CONCURRENCY} "
        f"acks_200={sum(1 for s, _ in acks if s == 200)} "
        f"max_ack_latency={max_latency:.3f}s "
        f"agent_messages={len(harness.agent.received)} replies={len(delivered)} "
        f"api_calls={len(harness.fake.message_calls())} "
        f"post_phase={acked_at - started:.2f}s total={done_at - started:.2f}s"
    )
    assert len(acks) == N_EVENTS
    assert all(status == 200 for status, _ in acks)
    assert max_latency < MAX_ACK_SECONDS
    assert len(harness.agent.received) == N_EVENTS
    assert len(delivered) == N_EVENTS
    assert set(per_text) == {f"echo: load-{i}" for i in range(N_EVENTS)}
    assert set(per_text.values()) == {1}
    assert wrong_recipient == []
    assert done_at - started < 60
