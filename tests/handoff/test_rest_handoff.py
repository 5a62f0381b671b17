"""Handoff through REST against the running stack: outside office hours (fixed clock), a restart
of the Rasa server during the handoff, and what a citizen or a console account may not do."""

from __future__ import annotations

import json
import re

from tests.handoff.console_session import ConsoleSession
from tests.handoff.stack import EDITOR, OUTSIDE_HOURS, VIEWER, Stack, http

QUESTION = "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?"


def text(replies: list[dict]) -> str:
    """Texts and button payloads of the replies."""
    return "\n".join(
        [m.get("text") or "" for m in replies]
        + [b["payload"] for m in replies for b in m.get("buttons") or []]
    )


def handed_off(stack: Stack, sender: str) -> bool:
    """Rasa's pause is the last pause/resume event of the stored conversation."""
    marks = [e["event"] for e in stack.events(sender) if e["event"] in ("pause", "resume")]
    return bool(marks) and marks[-1] == "pause"


def test_outside_hours_the_request_waits_and_survives_a_restart_of_rasa(stack: Stack, sender: str) -> None:
    stack.stop("actions")
    stack.start_actions(OUTSIDE_HOURS)  # Saturday 20:00 in Vietnam
    offer = text(stack.say(sender, "cho toi gap can bo"))
    assert "/handoff_confirm" in offer and "thứ Hai – thứ Sáu" in offer, offer
    after_hours = text(stack.say(sender, "/handoff_confirm"))
    assert "ngoài giờ làm việc" in after_hours and "07:00 thứ Hai, ngày 07/12/2026" in after_hours, (
        after_hours
    )
    assert re.search(r"\d{4} \d{3} \d{3}", after_hours), after_hours  # the hotline's number
    assert stack.say(sender, "Hồ sơ OCOP của tôi nộp từ tháng 9 vẫn chưa có kết quả") == []  # silent
    staff = ConsoleSession(stack.console_url).login(*EDITOR)
    _, inbox, _ = staff.request("/handoff")
    assert sender in inbox and "Ngoài giờ" in inbox
    count = json.loads(staff.request("/handoff/count.json")[1])
    assert count["waiting"] >= 1

    stack.stop("rasa")  # restart during the handoff: the SQLite tracker store keeps the pause
    stack.start_rasa()
    assert stack.say(sender, QUESTION) == []
    assert handed_off(stack, sender)

    assert staff.act(sender, "take") == (302, "taken")
    assert staff.act(sender, "reply", "Chào anh/chị, hồ sơ đang chờ Hội đồng cấp huyện.") == (302, "no_push")
    _, page, _ = staff.request(f"/handoff/c/{sender}")
    assert "Hồ sơ OCOP của tôi nộp từ tháng 9" in page and "hồ sơ đang chờ Hội đồng cấp huyện" in page
    assert QUESTION in page  # the message written while handed off, after the restart
    assert staff.act(sender, "close") == (302, "closed")
    assert not handed_off(stack, sender)
    assert "95" in text(stack.say(sender, QUESTION))  # the assistant answers again
    staff_events = [
        e for e in stack.events(sender) if (e.get("metadata") or {}).get("handoff_staff") == EDITOR[0]
    ]
    assert any(e.get("text") == "Chào anh/chị, hồ sơ đang chờ Hội đồng cấp huyện." for e in staff_events)


def test_only_a_console_session_with_the_right_role_and_token_acts(stack: Stack, sender: str) -> None:
    stack.say(sender, "cho tôi gặp cán bộ")
    stack.say(sender, "/handoff_confirm")
    assert handed_off(stack, sender)
    other = sender + "-other"
    for attempt in (
        "/restart",
        "/handoff_decline",
        "/session_start",
        '/feedback{"feedback":"down"}',
        "kết thúc",
    ):
        stack.say(other, attempt)  # another citizen cannot touch this conversation
    stack.say(sender, "/restart")  # nor can the citizen inject Rasa's restart (sent as text, silent)
    assert handed_off(stack, sender)
    body = {"sender": sender, "staff": "mallory", "text": "xin chào"}
    assert http(f"{stack.rasa_url}/webhooks/handoff/close", body)[0] == 403
    assert http(f"{stack.rasa_url}/webhooks/handoff/reply", body, {"Authorization": "Bearer wrong"})[0] == 403
    assert handed_off(stack, sender)
    anonymous = ConsoleSession(stack.console_url)
    status, _, location = anonymous.request(f"/handoff/c/{sender}")
    assert status == 302 and location.startswith("/staff/login")  # no transcript without a session
    viewer = ConsoleSession(stack.console_url).login(*VIEWER)
    assert viewer.request(f"/handoff/c/{sender}")[0] == 200  # staff may read
    assert viewer.act(sender, "take")[0] == 403  # but a viewer may not act
    editor = ConsoleSession(stack.console_url).login(*EDITOR)
    assert editor.act(sender, "close", csrf="forged")[0] == 403
    assert editor.act(sender, "reply", "trả lời trước khi nhận") == (302, "take_first")
    assert handed_off(stack, sender)
    assert editor.act(sender, "close") == (302, "closed")
    assert not handed_off(stack, sender)
    assert editor.act(sender, "reply", "muộn rồi") == (302, "not_handed_off")
