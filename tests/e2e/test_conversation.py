"""The assistant end to end over the REST channel: knowledge, hotlines, follow-ups, refusals."""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import say, text_of


def test_figure_answer_has_number_source_and_date(sender):
    reply = text_of(say(sender, "Sóc Trăng có bao nhiêu chủ thể OCOP?"))
    assert re.search(r"\b102\b", reply)
    assert "Nguồn:" in reply and "2023" in reply


def test_follow_up_reuses_the_question(sender):
    say(sender, "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?")
    reply = text_of(say(sender, "còn Sóc Trăng thì sao"))
    assert re.search(r"\b19 sản phẩm OCOP 4 sao", reply) and "28/04/2023" in reply


def test_program_question_without_diacritics(sender):
    reply = text_of(say(sender, "giay chung nhan ocop co thoi han bao lau"))
    assert "36 tháng" in reply and "Căn cứ: Quyết định 148/QĐ-TTg" in reply


def test_hotline_answer_has_click_to_call(sender):
    messages = say(sender, "sdt phản ánh thủ tục hành chính")
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert "tel:02963957006" in payloads


def test_contact_clarification_path(sender):
    first = text_of(say(sender, "cho tôi xin số điện thoại"))
    assert "việc gì" in first
    second = text_of(say(sender, "tổ kiểm tra công vụ"))
    assert "0378 247 247" in second or "0378247247" in second


def test_unknown_province_is_refused_with_a_hotline(sender):
    reply = text_of(say(sender, "Đồng Nai có bao nhiêu sản phẩm OCOP 4 sao?"))
    assert "chưa có thông tin" in reply and re.search(r"0913 979 245|02963 957 006", reply)


@pytest.mark.parametrize(
    "message", ["", "   ", "a" * 5000, "😀😀😀", "<script>alert('x')</script>", "/restart"]
)
def test_odd_messages_get_a_polite_vietnamese_reply(sender, message):
    reply = text_of(say(sender, message))
    assert reply.strip()
    assert re.search(r"[àáảãạăâđêôơưạ-ỹ]", reply.lower()), reply


def test_forged_zalo_event_is_refused(rasa_url):
    import json
    import urllib.error
    import urllib.request

    body = json.dumps(
        {
            "app_id": "1",
            "event_name": "user_send_text",
            "timestamp": "1",
            "sender": {"id": "u1"},
            "message": {"text": "hi", "msg_id": "m1"},
        }
    ).encode()
    req = urllib.request.Request(
        f"{rasa_url}/webhooks/zalo/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-ZEvent-Signature": "mac=" + "0" * 64},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    assert status in (401, 403)


def test_comparison_is_computed_from_the_table_with_each_date(sender):
    reply = text_of(say(sender, "giữa Tiền Giang và Sóc Trăng, nơi nào có nhiều sản phẩm OCOP 4 sao hơn?"))
    assert "Tiền Giang nhiều hơn Sóc Trăng" in reply and "95" in reply and "19" in reply
    assert "11/09/2023" in reply and "28/04/2023" in reply and "thời điểm khác nhau" in reply


def test_reasoning_follow_up_and_source_follow_up(sender):
    say(sender, "An Giang có mấy sản phẩm OCOP 5 sao?")
    say(sender, "còn Sóc Trăng?")
    total = text_of(say(sender, "cộng lại được bao nhiêu?"))
    assert "Tổng cộng" in total and re.search(r"\b6 sản phẩm OCOP 5 sao", total)
    source = text_of(say(sender, "số liệu đó lấy từ đâu?"))
    assert "lấy từ" in source and "Sóc Trăng" in source


def test_telex_leftovers_reach_the_card(sender):
    reply = text_of(say(sender, "hoof sow ddawng kys ocop gooff nhuwngx gif"))
    assert "Phiếu đăng ký" in reply and "Căn cứ:" in reply


def test_unknown_decision_number_is_not_answered_with_another(sender):
    reply = text_of(say(sender, "Quyết định 4321/QĐ-TTg về OCOP quy định gì?"))
    assert "không tìm thấy văn bản số 4321" in reply
    assert not re.search(r"\b(490|919|148|1489)/QĐ", reply)


def test_an_edited_card_is_live_without_restart(sender):
    from pathlib import Path

    # the served folder: make e2e serves a copy (python -m ops.serve --cards-copy), never data/cards
    folder = os.environ.get("OCOP_CARDS_DIR") or Path(__file__).resolve().parents[2] / "data" / "cards"
    card = Path(folder) / "zz-e2e-live.yml"
    body = """cards:
- id: e2e-live
  topic: thử nghiệm
  questions: ["hội chợ OCOP của tỉnh năm nay tổ chức ở đâu"]
  answer: "{answer}"
  source: {{title: "Thẻ thử nghiệm của bộ kiểm thử", issuer: "kiểm thử", date: "2026-12-01"}}
"""
    try:
        card.write_text(body.format(answer="Câu trả lời thử nghiệm số một."), encoding="utf-8")
        first = text_of(say(sender, "hội chợ OCOP của tỉnh năm nay tổ chức ở đâu"))
        assert "thử nghiệm số một" in first
        card.write_text(body.format(answer="Câu trả lời thử nghiệm số hai."), encoding="utf-8")
        second = text_of(say(sender, "hội chợ OCOP của tỉnh năm nay tổ chức ở đâu"))
        assert "thử nghiệm số hai" in second
    finally:
        card.unlink(missing_ok=True)
