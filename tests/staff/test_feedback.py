"""👍/👎 feedback in the tracker events: not a question, attached to the answer it rates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console import insights
from console.cardops import add_questions
from console.tracker import Turn, build_turns, read_events, tracker_engine
from index.cards import CardStore
from tests.staff.conftest import fake_embed, fixture_events, write_tracker

DOWN = "webchat-feedback-down-7c1e"
UP = "webchat-feedback-up-3f9a"
REASON = "sai số liệu, năm nay nhiều hơn"
STAT_Q = "Đồng Tháp có bao nhiêu sản phẩm OCOP 4 sao?"
CARD_Q = "Sản phẩm OCOP được chứng nhận bao lâu?"


@pytest.fixture
def tracker(tmp_path: Path):  # noqa: ANN201 - SQLAlchemy engine
    """The fixture conversations in a SQLite tracker store."""
    write_tracker(tmp_path / "tracker.db", fixture_events())
    return tracker_engine(f"sqlite:///{tmp_path / 'tracker.db'}")


def by_sender(turns: list[Turn], sender: str) -> dict[str, Turn]:
    return {t.text: t for t in turns if t.sender == sender}


def test_presses_and_reasons_are_not_questions(tracker) -> None:  # noqa: ANN001
    turns = build_turns(read_events(tracker))
    texts = [t.text for t in turns]
    assert not any(t.startswith("/feedback") for t in texts) and REASON not in texts
    assert list(by_sender(turns, DOWN)) == [
        "Hồ sơ đăng ký sản phẩm OCOP gồm những gì?",
        STAT_Q,
        "Giá vé tham quan hội chợ OCOP Đồng Tháp bao nhiêu?",
    ]
    assert len(by_sender(turns, UP)) == 3
    days = insights.daily_counts(turns)
    assert sum(d["total"] for d in days) == len(turns) == 15
    # the bot's thanks are no reply of the rated answer
    assert all("Cảm ơn" not in r for t in turns for r in t.replies)
    assert all(not r.startswith("utter_feedback") for t in turns for r in t.responses)


def test_feedback_rates_the_last_answer_before_it(tracker) -> None:  # noqa: ANN001
    turns = build_turns(read_events(tracker))
    down = by_sender(turns, DOWN)
    # the 👎 came after a refusal: it rates the statistic answered before that refusal
    stat = down[STAT_Q]
    assert (stat.outcome, stat.feedback, stat.feedback_comment) == ("statistic", "down", REASON)
    assert [t.feedback for t in down.values()] == [None, "down", None]
    up = by_sender(turns, UP)
    contact = up["Cho tôi số điện thoại phòng OCOP tỉnh Đồng Tháp"]
    assert (contact.outcome, contact.feedback, contact.feedback_comment) == ("contact", "up", None)
    card = up[CARD_Q]
    # the message after this 👎 is a new question (not feedback_reason): no comment, and it is asked
    assert (card.feedback, card.feedback_comment) == ("down", None)
    new = up["Lệ phí gia hạn chứng nhận OCOP là bao nhiêu?"]
    assert (new.outcome, new.feedback) == ("refusal", None)
    assert sum(1 for t in turns if t.feedback) == 3


def user(text: str, intent: str, at: float, value: str | None = None) -> tuple[str, str, dict]:
    entities = [{"entity": "feedback", "value": value}] if value else []
    parse = {"intent": {"name": intent}, "entities": entities}
    return ("s", "user", {"text": text, "parse_data": parse, "input_channel": "socketio", "timestamp": at})


def answered(text: str, at: float) -> list[tuple[str, str, dict]]:
    return [
        user(text, "ask_ocop_program", at),
        ("s", "bot", {"text": "…", "metadata": {"utter_action": "utter_card_answer"}}),
        ("s", "slot", {"name": "answer_refs", "value": ["card:ocop-la-gi"]}),
    ]


def press(value: str, at: float, entity: bool = True) -> list[tuple[str, str, dict]]:
    return [
        user(f'/feedback{{"feedback":"{value}"}}', "feedback", at, value if entity else None),
        ("s", "slot", {"name": "feedback", "value": value}),
        ("s", "bot", {"text": "Cảm ơn", "metadata": {"utter_action": "utter_feedback_reason"}}),
    ]


def test_only_a_feedback_reason_right_after_a_down_is_a_comment() -> None:
    events = [
        *answered("ocop là gì", 1.0),
        *press("up", 2.0),
        user("không đúng câu hỏi", "feedback_reason", 3.0),  # after a 👍: an ordinary message
        *answered("ocop là gì vậy", 4.0),
        *press("down", 5.0),
        user("không đúng câu hỏi", "feedback_reason", 6.0),
        user("sai số liệu", "feedback_reason", 7.0),  # not right after the 👎 any more
    ]
    turns = build_turns(events)
    assert [t.text for t in turns] == ["ocop là gì", "không đúng câu hỏi", "ocop là gì vậy", "sai số liệu"]
    assert [(t.feedback, t.feedback_comment) for t in turns] == [
        ("up", None),
        (None, None),
        ("down", "không đúng câu hỏi"),
        (None, None),
    ]


def test_value_from_the_slot_a_later_press_wins_and_no_answer_no_rating() -> None:
    events = [
        *press("down", 0.5),  # nothing answered yet: dropped, and still not a question
        *answered("ocop là gì", 1.0),
        *press("down", 2.0, entity=False),  # the value only in the slot
        *press("up", 3.0),
    ]
    turns = build_turns(events)
    assert [(t.text, t.feedback) for t in turns] == [("ocop là gì", "up")]
    first = build_turns(events[:-3])
    assert first[0].feedback == "down"


def test_intent_from_the_events_column_when_parse_data_is_missing(tmp_path: Path) -> None:
    rows = [e for e in fixture_events() if e["sender_id"] == DOWN]
    for row in rows:
        row["data"] = {k: v for k, v in row["data"].items() if k != "parse_data"}
    write_tracker(tmp_path / "t.db", rows)
    turns = build_turns(read_events(tracker_engine(f"sqlite:///{tmp_path / 't.db'}")))
    assert [t.feedback for t in turns] == [None, "down", None] and turns[1].feedback_comment == REASON
    with sqlite3.connect(tmp_path / "t.db") as conn:  # the feedback rows keep their intent there
        assert conn.execute("SELECT count(*) FROM events WHERE intent_name='feedback'").fetchone()[0] == 1


def test_dashboard_counts(tracker) -> None:  # noqa: ANN001
    turns = build_turns(read_events(tracker))
    assert insights.feedback_totals(turns) == {"up": 1, "down": 2}
    days = insights.daily_counts(turns)
    answers = sum(d["answers"] for d in days)
    assert answers == 8  # 1 passage, 2 statistics, 3 cards, 2 contacts
    assert sum(d["feedback"]["down"] for d in days) == 2 and sum(d["feedback"]["up"] for d in days) == 1
    if len(days) == 1:
        assert days[0]["down_share"] == 25
    convs = insights.conversations(turns, outcome="disliked")
    assert sorted(c.sender for c in convs) == sorted([DOWN, UP])


def test_disliked_groups(tracker, cards_dir: Path, engine) -> None:  # noqa: ANN001
    store = CardStore(cards_dir)
    unanswered = insights.unanswered_groups(tracker, store, fake_embed, 90, threshold=0.9)
    asked = {q for g in unanswered for q in g.questions}
    assert "Lệ phí gia hạn chứng nhận OCOP là bao nhiêu?" in asked
    assert not any(q.startswith("/feedback") or q == REASON for q in asked)
    groups = insights.disliked_groups(tracker, store, fake_embed, 90, threshold=0.9)
    found = {g.questions[0]: g for g in groups}
    assert set(found) == {STAT_Q, CARD_Q}
    assert found[STAT_Q].refs == ("stat:dt-2024-sp-4sao",) and found[STAT_Q].comments == (REASON,)
    assert found[CARD_Q].refs == ("card:thoi-han-chung-nhan",) and found[CARD_Q].comments == ()
    assert found[CARD_Q].count == 1 and found[CARD_Q].senders == (UP,)
    # written into the card that answered it: still disliked; into another card: dealt with
    add_questions(engine, cards_dir, "lan", "thoi-han-chung-nhan", [CARD_Q])
    assert CARD_Q in {g.questions[0] for g in insights.disliked_groups(tracker, store, fake_embed, 90)}
    add_questions(engine, cards_dir, "lan", "thang-sao", [STAT_Q])
    left = insights.disliked_groups(tracker, store, fake_embed, 90, hidden={"x"})
    assert [g.questions[0] for g in left] == [CARD_Q]
    assert insights.disliked_groups(tracker, store, fake_embed, 90, hidden={CARD_Q.lower().rstrip("?")}) == []
