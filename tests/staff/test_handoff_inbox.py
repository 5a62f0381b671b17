"""The handoff inbox read from the tracker store's events (as Rasa's SQLTrackerStore writes them)."""

from __future__ import annotations

import time

from console.handoff import Handoff, handoffs, inbox, transcript
from console.tracker import tracker_engine
from console.views_handoff import notice_of
from tests.staff.conftest import write_tracker

T0 = 1_000_000.0


def ev(sender: str, kind: str, at: float, name: str | None = None, **data) -> dict:
    """One stored event: slot events keep the slot's name in action_name, as Rasa does."""
    body = {"event": kind, **({"name": name} if name else {}), **data}
    return {"sender_id": sender, "type_name": kind, "timestamp": T0 + at, "intent_name": None,
            "action_name": name, "data": body}  # fmt: skip


def conversations() -> list[dict]:
    return [
        ev("web-1", "user", 0, text="cho tôi gặp cán bộ", input_channel="socketio"),
        ev("web-1", "slot", 1, "handoff", value="waiting"),
        ev("web-1", "slot", 1, "handoff_after_hours", value=True),
        ev("web-1", "pause", 1),
        ev("web-1", "user", 5, text="còn ai không?", input_channel="socketio"),
        ev("zalo-1", "user", 2, text="/handoff_confirm", input_channel="zalo"),
        ev("zalo-1", "slot", 3, "handoff", value="waiting"),
        ev("zalo-1", "pause", 3),
        ev("zalo-1", "slot", 4, "handoff", value="active"),
        ev("zalo-1", "slot", 4, "handoff_staff", value="canbo-lan"),
        ev("zalo-1", "bot", 4, text="Chào anh", metadata={"handoff_staff": "canbo-lan", "delivered": True}),
        ev("done-1", "user", 0, text="gặp cán bộ", input_channel="rest"),
        ev("done-1", "slot", 1, "handoff", value="waiting"),
        ev("done-1", "pause", 1),
        ev("done-1", "resume", 9),
        ev("done-1", "slot", 9, "handoff", value=None),
        ev("oa-1", "user", 0, text="xin chào", input_channel="zalo"),
        ev("oa-1", "slot", 6, "handoff", value="active"),
        ev("oa-1", "slot", 6, "handoff_staff", value="Zalo OA"),
        ev("oa-1", "pause", 6),
    ]


def test_the_inbox_lists_what_is_handed_off_now_waiting_first(tmp_path) -> None:
    write_tracker(tmp_path / "t.db", conversations(), shift_to_now=False)
    engine = tracker_engine(f"sqlite:///{tmp_path / 't.db'}")
    items = inbox(engine)
    assert [(h.sender, h.status, h.staff) for h in items] == [
        ("web-1", "waiting", None), ("zalo-1", "active", "canbo-lan"), ("oa-1", "active", "Zalo OA"),
    ]  # fmt: skip
    web = items[0]
    assert web.after_hours and web.channel == "socketio" and web.last_text == "còn ai không?"
    assert "done-1" not in handoffs(engine)  # closed
    lines = transcript(engine, "zalo-1")
    assert [(line.who, line.text) for line in lines] == [
        ("user", "[Gặp cán bộ]"), ("pause", ""), ("staff", "Chào anh"),
    ]  # fmt: skip


def test_zalos_reply_window_and_the_notices() -> None:
    now = time.time()
    assert Handoff("z", "active", now, channel="zalo", last_user_at=now - 3600).zalo_window_open(now)
    assert not Handoff("z", "active", now, channel="zalo", last_user_at=now - 8 * 86400).zalo_window_open(now)
    assert Handoff("w", "active", now, channel="socketio", last_user_at=0).zalo_window_open(now)
    assert notice_of("reply", 409, {"error": "zalo_window"}) == "zalo_window"
    assert notice_of("reply", 200, {"delivered": False, "reason": "not_connected"}) == "not_connected"
    assert notice_of("reply", 200, {"delivered": True}) == "sent"
    assert notice_of("close", 0, {"error": "unreachable"}) == "unreachable"
