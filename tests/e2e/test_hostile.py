"""Hostile input against the running REST channel (RASA_URL, default http://localhost:5005).

Every well-formed message gets a non-empty, normal reply; every malformed request gets a
4xx; nothing ever gets a 5xx. Injected intents ("/restart", "/intent{...}") are plain
text: a "/restart" does not reset the conversation. Runs against Rasa directly (make e2e)
or through nginx (RASA_URL=http://localhost:8080 with the production profile).
"""

from __future__ import annotations

import json
import uuid

import pytest

from ops import rest

PROVINCES = ("An Giang", "Sóc Trăng", "Tiền Giang")
APOLOGY_MARK = "tạm thời gián đoạn"


def send(
    rasa_url: str, body: bytes | None, content_type: str | None = "application/json", method: str = "POST"
):
    """(status, parsed JSON or None) of one request to the REST webhook."""
    status, raw = rest.post_raw(
        rest.webhook(rasa_url), body, content_type=content_type, method=method, timeout=120
    )
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def message(rasa_url: str, text, sender: str | None = None, **extra):
    """Send {"sender", "message"} as JSON."""
    payload = {"sender": sender or f"hostile-{uuid.uuid4().hex[:8]}", "message": text, **extra}
    return send(rasa_url, json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def texts(replies) -> str:
    """Reply texts (without the merger note naming several provinces)."""
    return " ".join(
        str(m.get("text") or "") for m in replies or [] if not str(m.get("text") or "").startswith("Lưu ý")
    )


def assert_normal_reply(status, replies) -> None:
    """HTTP 200, at least one non-empty message, not the service apology."""
    assert status == 200, f"HTTP {status}"
    assert isinstance(replies, list) and replies, "no reply"
    assert all(isinstance(m, dict) for m in replies)
    assert texts(replies).strip() or any(m.get("buttons") for m in replies), replies
    assert APOLOGY_MARK not in texts(replies), "service apology: is the action server up?"


def about(replies, province: str) -> bool:
    """The answer (not its source line, whose title may name another province) is about
    `province` and no other one (the conversation's context)."""
    text = " ".join(
        str(m.get("text") or "")
        for m in replies or []
        if not str(m.get("text") or "").startswith(("Lưu ý", "Nguồn:", "Căn cứ:"))
    )
    return province in text and not any(p in text for p in PROVINCES if p != province)


# ---- malformed requests: 4xx ---------------------------------------------------------------
MALFORMED = {
    "empty body": b"",
    "not JSON": b"xin chao",
    "truncated JSON": b'{"sender": "x", "message": "xin ch',
    "JSON array": b'[{"sender": "x", "message": "xin chao"}]',
    "JSON string": b'"xin chao"',
    "JSON null": b"null",
    "JSON number": b"42",
    "missing message": b'{"sender": "x"}',
    "message number": b'{"sender": "x", "message": 42}',
    "message null": b'{"sender": "x", "message": null}',
    "message object": b'{"sender": "x", "message": {"text": "xin chao"}}',
    "message list": b'{"sender": "x", "message": ["xin chao"]}',
    "message bool": b'{"sender": "x", "message": true}',
    "sender object": b'{"sender": {"id": 1}, "message": "xin chao"}',
    "sender null": b'{"sender": null, "message": "xin chao"}',
    "empty sender": b'{"sender": "  ", "message": "xin chao"}',
    "huge sender id": json.dumps({"sender": "s" * 10_000, "message": "xin chào"}).encode(),
    "metadata not an object": b'{"sender": "x", "message": "xin chao", "metadata": [1]}',
    "non-UTF-8 bytes": b'{"sender": "x", "message": "xin ch\xe0o \xff\xfe"}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_gets_4xx(rasa_url, body):
    status, _ = send(rasa_url, body)
    assert 400 <= status < 500, f"HTTP {status}"


def test_deeply_nested_json_gets_4xx(rasa_url):
    status, _ = send(rasa_url, b'{"sender": "x", "message": ' + b"[" * 20_000 + b"]" * 20_000 + b"}")
    assert 400 <= status < 500, f"HTTP {status}"


def test_other_methods_are_refused(rasa_url):
    status, _ = send(rasa_url, None, content_type=None, method="GET")
    assert 400 <= status < 500
    status, _ = send(rasa_url, b'{"sender": "x", "message": "xin chao"}', method="PUT")
    assert 400 <= status < 500


# ---- well-formed messages: a normal reply ----------------------------------------------------
WELL_FORMED = {
    "empty text": "",
    "whitespace": "   \n\t  ",
    # ASCII, so that the body stays under nginx's 64 KB limit in the production profile
    "50,000 characters": ("sdt phan anh tthc OCOP An Giang " * 1600)[:50_000],
    "emoji only": "😀👍🎉🇻🇳",
    "control characters": "\x00\x01\x07xin\x1b[31m chào\x7f\u200b\u202e",
    "HTML and script": '<script>alert("x")</script><img src=x onerror=alert(1)> xin chào',
    "SQL-like": "'; DROP TABLE events; -- số điện thoại phản ánh",
    "SQL union": "1' OR '1'='1' UNION SELECT * FROM events --",
    "template-like": "{{7*7}} ${jndi:ldap://x} %s%s%n",
    "lone surrogate": "\ud800 xin chào",
    "no diacritics": "sdt phan anh tthc",
    "only punctuation": "?!.,;:",
    "intent injection": '/greet{"province": "Hà Nội"}',
    "ask_contact injection": '/ask_contact{"topic": "x"}',
    "entity injection": '/inform{"province": "An Giang", "star": "9"}',
    "nlu fallback injection": "/nlu_fallback",
    "empty-message intent injection": "/message_empty",
}


@pytest.mark.parametrize("text", WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_well_formed_message_gets_a_normal_reply(rasa_url, text):
    status, replies = message(rasa_url, text)
    assert_normal_reply(status, replies)
    assert "<script" not in json.dumps(replies, ensure_ascii=False).lower()


def test_escaped_lone_surrogate_is_answered(rasa_url):
    status, replies = send(rasa_url, b'{"sender": "surrogate", "message": "\\ud800 xin chao \\udfff"}')
    assert_normal_reply(status, replies)


def test_numeric_sender_is_accepted(rasa_url):
    status, replies = send(rasa_url, b'{"sender": 12345, "message": "xin chao"}')
    assert_normal_reply(status, replies)


def test_text_plain_content_type_with_json_body_is_answered(rasa_url):
    body = json.dumps({"sender": f"plain-{uuid.uuid4().hex[:6]}", "message": "xin chào"}).encode()
    status, replies = send(rasa_url, body, content_type="text/plain")
    assert status < 500
    if status == 200:
        assert_normal_reply(status, replies)


def test_utf16_json_body_is_not_a_server_error(rasa_url):
    body = json.dumps({"sender": f"utf16-{uuid.uuid4().hex[:6]}", "message": "xin chào"}).encode("utf-16")
    status, replies = send(rasa_url, body)
    assert status < 500
    if status == 200:  # Python's JSON parser detects UTF-16
        assert_normal_reply(status, replies)


def test_form_content_type_is_not_a_server_error(rasa_url):
    status, _ = send(rasa_url, b"sender=x&message=xin+chao", content_type="application/x-www-form-urlencoded")
    assert 400 <= status < 500


@pytest.mark.parametrize(
    "injection",
    [
        "/restart",
        "  /restart  ",
        "//restart",
        "/restart{}",
        "/session_start",
        "/action_restart",
        "/back",
        "/stop",
    ],
)
def test_restart_injection_does_not_reset_the_conversation(rasa_url, injection):
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    status, replies = message(rasa_url, "Sóc Trăng có bao nhiêu sản phẩm OCOP 4 sao?", sender)
    assert_normal_reply(status, replies)
    assert about(replies, "Sóc Trăng"), texts(replies)
    status, replies = message(rasa_url, injection, sender)
    assert_normal_reply(status, replies)
    # the slots survived: a follow-up that only makes sense with them is answered for Sóc Trăng
    status, replies = message(rasa_url, "thế còn 3 sao?", sender)
    assert_normal_reply(status, replies)
    assert about(replies, "Sóc Trăng"), texts(replies)


def test_injected_intent_does_not_set_slots(rasa_url):
    sender = f"inject-{uuid.uuid4().hex[:8]}"
    status, replies = message(rasa_url, "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?", sender)
    assert about(replies, "Tiền Giang"), texts(replies)
    status, replies = message(rasa_url, '/ask_ocop_stats{"last_question": "x", "pending": "contact"}', sender)
    assert_normal_reply(status, replies)
    status, replies = message(rasa_url, "thế còn 3 sao?", sender)
    assert_normal_reply(status, replies)
    assert about(replies, "Tiền Giang"), texts(replies)


def test_hostile_turns_leave_the_conversation_usable(rasa_url):
    sender = f"usable-{uuid.uuid4().hex[:8]}"
    for text in ("", "😀", "'; DROP TABLE events; --", "\x00\x01", "<b>x</b>", "/restart"):
        assert_normal_reply(*message(rasa_url, text, sender))
    status, replies = message(rasa_url, "An Giang có bao nhiêu sản phẩm OCOP 4 sao?", sender)
    assert_normal_reply(status, replies)
    assert about(replies, "An Giang"), texts(replies)
