"""Turns and outcomes rebuilt from real Rasa 3.6 tracker events."""

from __future__ import annotations

from pathlib import Path

from console.outcomes import response_outcome, turn_outcome
from console.tracker import build_turns, read_events, tracker_engine
from tests.staff.conftest import fixture_events, write_tracker

EXPECTED = {
    "Kế hoạch triển khai Đề án OCOP của An Giang năm 2021": ("passage", "rest"),
    "Đoàn An Giang sang Sóc Trăng trao đổi kinh nghiệm": ("refusal", "rest"),
    "ai phát biểu đại diện đoàn?": ("fallback", "rest"),
    "Quyết định 2517/QĐ-TTg về OCOP quy định gì?": ("refusal", "rest"),
    "TP HCM hôm nay bao nhiêu độ vậy bot": ("fallback", "rest"),
    "Tôi nộp hồ sơ thủ tục hành chính ở tỉnh An Gia": ("contact", "rest"),
    "An Giang có tổng cộng bao nhiêu sản ph": ("statistic", "rest"),
    "Mục tiêu chương trình OCOP giai đoạn 2021-2025": ("card", "rest"),
}


def test_turns_from_a_tracker_store_file(tmp_path: Path) -> None:
    write_tracker(tmp_path / "tracker.db", fixture_events())
    turns = build_turns(read_events(tracker_engine(f"sqlite:///{tmp_path / 'tracker.db'}")))
    assert len(turns) == 15  # 9 + 6 questions of the feedback conversations (no press, no reason)
    for start, (outcome, channel) in EXPECTED.items():
        turn = next(t for t in turns if start in t.text)
        assert (turn.outcome, turn.channel) == (outcome, channel), turn
    card = next(t for t in turns if t.outcome == "card")
    assert card.refs == ["card:muc-tieu-quoc-gia"] and card.responses == ["utter_card_answer"]
    assert card.replies and "Căn cứ" in card.replies[0]


def test_read_only_and_missing_table(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    assert list(read_events(tracker_engine(f"sqlite:///{path}"))) == []


def test_a_refusal_after_an_answer_is_a_refusal() -> None:
    """The knowledge action keeps answer_refs of the last answer when it refuses: the response decides."""
    events = [
        ("s", "user", {"text": "ocop là gì", "input_channel": "socketio", "timestamp": 1.0}),
        ("s", "bot", {"text": "…", "metadata": {"utter_action": "utter_card_answer"}}),
        ("s", "slot", {"name": "answer_refs", "value": ["card:ocop-la-gi"]}),
        ("s", "user", {"text": "lệ phí bao nhiêu", "input_channel": "socketio", "timestamp": 2.0}),
        ("s", "bot", {"text": "Xin lỗi…", "metadata": {"utter_action": "utter_kb_no_answer"}}),
    ]
    first, second = build_turns(events)
    assert (first.outcome, second.outcome) == ("card", "refusal")
    assert second.refs is None and second.channel == "socketio"


def test_response_names() -> None:
    assert response_outcome("utter_out_of_scope/prices") == "fallback"
    assert response_outcome("utter_stat_missing") == "refusal"
    assert response_outcome("utter_contact_email") == "contact"
    assert response_outcome("utter_kb_answer_figures") == "passage"
    assert response_outcome("utter_greet") == "other"
    assert turn_outcome(["utter_card_answer"], ["stat:ag-2025"]) == "statistic"
    assert turn_outcome(["utter_chitchat/thanks", "utter_default"], None) == "fallback"


def test_the_answer_confidence_belongs_to_its_turn() -> None:
    events = [
        ("s", "user", {"text": "ocop là gì", "input_channel": "rest", "timestamp": 1.0}),
        ("s", "bot", {"text": "…", "metadata": {"utter_action": "utter_card_answer"}}),
        ("s", "slot", {"name": "answer_refs", "value": ["card:ocop-la-gi"]}),
        ("s", "slot", {"name": "answer_confidence", "value": 1.912}),
        ("s", "user", {"text": "xin chào", "input_channel": "rest", "timestamp": 2.0}),
        ("s", "bot", {"text": "Xin chào", "metadata": {"utter_action": "utter_greet"}}),
    ]
    first, second = build_turns(events)
    assert first.confidence == 1.912 and second.confidence is None
