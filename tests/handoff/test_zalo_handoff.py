"""Handoff on Zalo against the running stack and the fake Zalo OpenAPI: the request, a staff
reply delivered through the OA message API, the echo of our own messages ignored, and a message
staff send from Zalo's own OA inbox (event oa_send_text) pausing the assistant for that user."""

from __future__ import annotations

import json
import time
import uuid

from bot.channels.zalo_events import sign_event
from tests.handoff.console_session import ConsoleSession
from tests.handoff.stack import APP_ID, EDITOR, OA_SECRET, Stack, http


def post_event(
    stack: Stack, event_name: str, user: str, text: str, oa: bool = False, msg_id: str = ""
) -> str:
    """POST a signed webhook event as Zalo does; the message id."""
    msg_id = msg_id or uuid.uuid4().hex
    sender, recipient = ({"id": "oa-1"}, {"id": user}) if oa else ({"id": user}, {"id": "oa-1"})
    event = {
        "app_id": APP_ID, "user_id_by_app": f"app-{user}", "event_name": event_name,
        "timestamp": str(int(time.time() * 1000)), "sender": sender, "recipient": recipient,
        "message": {"msg_id": msg_id, "text": text},
    }  # fmt: skip
    body = json.dumps(event, ensure_ascii=False).encode()
    headers = {"X-ZEvent-Signature": sign_event(APP_ID, body, event["timestamp"], OA_SECRET)}
    status, answer = http(f"{stack.rasa_url}/webhooks/zalo/webhook", body, headers)
    assert status == 200 and answer["status"] == "accepted", answer
    return msg_id


def sent_to(stack: Stack, user: str) -> list[dict]:
    """Messages the fake API accepted for this user (by user id or as replies to their messages)."""
    return [
        b for b in stack.zalo.fake.delivered() if user in json.dumps(b) or b["recipient"].get("message_id")
    ]


def wait_for(predicate, what: str, timeout: float = 60.0):  # noqa: ANN001, ANN201
    """Poll until predicate() is truthy."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def texts(stack: Stack, start: int) -> list[str]:
    """Texts the fake API accepted since message number `start`."""
    return [str(b["message"].get("text") or "") for b in stack.zalo.fake.delivered()[start:]]


def test_zalo_handoff_staff_reply_and_the_oa_inbox(stack: Stack) -> None:
    user = f"84{uuid.uuid4().int % 10**12:012d}"
    fake = stack.zalo.fake
    start = len(fake.delivered())
    post_event(stack, "user_send_text", user, "cho toi gap can bo")
    offer = wait_for(
        lambda: [b for b in fake.delivered()[start:] if "attachment" in b["message"]], "the offer"
    )
    payloads = [btn["payload"] for btn in offer[-1]["message"]["attachment"]["payload"]["buttons"]]
    assert "/handoff_confirm" in payloads  # the confirm button, sent back as text by Zalo
    n = len(fake.delivered())
    post_event(stack, "user_send_text", user, "/handoff_confirm")
    wait_for(lambda: any("cán bộ" in t for t in texts(stack, n)), "the handoff message")
    n = len(fake.delivered())
    post_event(stack, "user_send_text", user, "Hồ sơ OCOP của HTX tôi bị trả lại, cần hỏi cán bộ")
    time.sleep(3)
    assert texts(stack, n) == []  # silent while handed off

    staff = ConsoleSession(stack.console_url).login(*EDITOR)
    assert staff.act(user, "take") == (302, "taken")
    assert staff.act(user, "reply", "Chào anh, hồ sơ cần bổ sung phiếu kiểm nghiệm.") == (302, "sent")
    assert texts(stack, n)[-1] == "Chào anh, hồ sơ cần bổ sung phiếu kiểm nghiệm."  # through the OA API
    assert any("đã tiếp nhận" in t for t in texts(stack, n))
    assert staff.act(user, "close") == (302, "closed")
    n = len(fake.delivered())
    post_event(stack, "user_send_text", user, "An Giang có bao nhiêu sản phẩm OCOP?")
    wait_for(lambda: texts(stack, n), "the assistant's answer after the handoff")

    # Our own message's echo (oa_send_text with an id the API gave us) changes nothing ...
    ours = [r for r in fake.message_calls() if r.accepted][-1]
    post_event(stack, "oa_send_text", user, ours.body["message"].get("text") or "", oa=True,
               msg_id=f"m{fake.requests.index(ours) + 1}")  # fmt: skip
    time.sleep(3)
    assert [e["event"] for e in stack.events(user) if e["event"] in ("pause", "resume")][-1] == "resume"
    # ... a message staff send from Zalo's own OA inbox pauses the assistant for this user.
    post_event(stack, "oa_send_text", user, "Chào anh, em là cán bộ trực Zalo OA.", oa=True)
    wait_for(lambda: [e for e in stack.events(user) if e["event"] == "pause"][1:], "the pause", 30)
    staff_messages = [
        e for e in stack.events(user) if (e.get("metadata") or {}).get("handoff_staff") == "Zalo OA"
    ]
    assert [e["text"] for e in staff_messages] == ["Chào anh, em là cán bộ trực Zalo OA."]
    n = len(fake.delivered())
    post_event(stack, "user_send_text", user, "Cảm ơn em, vậy tôi nộp bổ sung ở đâu?")
    time.sleep(3)
    assert texts(stack, n) == []  # the assistant stays silent: staff answer from the OA inbox
    _, inbox, _ = staff.request("/handoff")
    assert user in inbox and "Zalo OA" in inbox
    assert staff.act(user, "close") == (302, "closed")  # staff hand it back in the console
    wait_for(lambda: any("quay lại" in t for t in texts(stack, n)), "the assistant saying it is back")
