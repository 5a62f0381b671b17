"""Talk to a person: office hours with a fixed clock, the offer, and the start of a handoff."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import yaml

from actions.contacts import ContactBook
from actions.handoff import ActionOfferHandoff, ActionStartHandoff, office_hours, should_offer
from actions.knowledge import ActionAnswerKnowledge
from actions.office_hours import HOURS_FILE, FixedClock, OfficeHours, clock_from_env
from tests.unit.conftest import CONTACTS_FILE, FakeRetriever, make_pipeline, run_action, tracker_with

ICT = timezone(timedelta(hours=7))
CONTACTS = ContactBook.load(CONTACTS_FILE)
DOMAIN = yaml.safe_load((HOURS_FILE.parents[2] / "domain" / "handoff.yml").read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    """A local (Vietnam) time."""
    return datetime.fromisoformat(text).replace(tzinfo=ICT)


def test_default_office_hours_are_a_provincial_office_week():
    hours = OfficeHours.load()
    assert hours.days == {1, 2, 3, 4, 5}
    assert hours.periods == ((time(7), time(11, 30)), (time(13), time(17)))
    assert hours.is_open(at("2026-12-07T07:00"))  # Monday morning
    assert not hours.is_open(at("2026-12-07T12:00"))  # lunch
    assert not hours.is_open(at("2026-12-07T17:00"))
    assert not hours.is_open(at("2026-12-05T09:00"))  # Saturday
    assert not hours.is_open(at("2026-09-02T09:00"))  # National Day (holidays.yml)
    assert hours.is_open(datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc))  # 09:00 in Vietnam


def test_next_opening_skips_lunch_weekends_and_holidays():
    hours = OfficeHours.load()
    assert hours.next_open(at("2026-12-07T12:00")) == at("2026-12-07T13:00")
    assert hours.next_open(at("2026-12-04T17:30")) == at("2026-12-07T07:00")  # Friday evening
    assert hours.next_open(at("2026-04-29T18:00")) == at("2026-05-04T07:00")  # 30/4, 1/5, weekend
    values = hours.opening_values(at("2026-12-05T20:00"))
    assert values == {"open_time": "07:00", "open_day": "thứ Hai", "open_date": "07/12/2026"}
    assert hours.describe() == {
        "office_days": "thứ Hai – thứ Sáu",
        "office_hours": "07:00–11:30, 13:00–17:00",
    }


def test_office_hours_are_configurable(tmp_path):
    (tmp_path / "h.yml").write_text("2026-12-08: Ngày nghỉ thử\n", encoding="utf-8")
    (tmp_path / "o.yml").write_text(
        'timezone: Asia/Ho_Chi_Minh\ndays: [2, 4, 6]\nperiods: [["08:00", "10:00"]]\nholidays_file: h.yml\n',
        encoding="utf-8",
    )
    hours = OfficeHours.load(tmp_path / "o.yml")
    assert hours.holidays == {date(2026, 12, 8): "Ngày nghỉ thử"}
    assert not hours.is_open(at("2026-12-08T09:00"))  # a Tuesday, but a holiday
    assert hours.next_open(at("2026-12-08T09:00")) == at("2026-12-10T08:00")
    (tmp_path / "o.yml").write_text('days: [1]\nperiods: [["10:00", "09:00"]]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="start before it ends"):
        OfficeHours.load(tmp_path / "o.yml")


def test_the_clock_can_be_fixed_by_the_environment():
    assert clock_from_env({"OCOP_CLOCK": "2026-12-05T20:00:00+07:00"}).now() == at("2026-12-05T20:00")
    assert abs(clock_from_env({}).now() - datetime.now(timezone.utc)) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="UTC offset"):
        clock_from_env({"OCOP_CLOCK": "2026-12-05T20:00"})


async def test_asking_for_a_person_gets_the_offer_with_a_confirm_button():
    messages, slots = await run_action(
        ActionOfferHandoff(), tracker_with("cho tôi gặp cán bộ", "request_human")
    )
    (offer,) = messages
    assert offer["response"] == "utter_handoff_offer" and slots == {}
    assert offer["buttons"][0]["payload"] == "/handoff_confirm"
    assert offer["office_days"] == "thứ Hai – thứ Sáu"
    assert "{office_days}" in DOMAIN["responses"]["utter_handoff_offer"][0]["text"]


async def test_in_office_hours_the_conversation_waits_for_staff_and_pauses():
    action = ActionStartHandoff(FixedClock(at("2026-12-07T09:15")), CONTACTS)
    dispatcher_messages, events = await _run(action, tracker_with("/handoff_confirm", "handoff_confirm"))
    assert [m["response"] for m in dispatcher_messages] == ["utter_handoff_started"]
    assert {"event": "slot", "name": "handoff", "value": "waiting", "timestamp": None} in events
    assert events[-1]["event"] == "pause"


async def test_outside_office_hours_the_user_learns_when_staff_answer_and_the_hotline():
    action = ActionStartHandoff(FixedClock(at("2026-12-05T20:00")), CONTACTS)  # Saturday evening
    messages, events = await _run(action, tracker_with("/handoff_confirm", "handoff_confirm"))
    (message,) = messages
    assert message["response"] == "utter_handoff_after_hours"
    assert (message["open_time"], message["open_day"], message["open_date"]) == (
        "07:00",
        "thứ Hai",
        "07/12/2026",
    )
    assert any(ch.isdigit() for ch in message["contact"])  # the general hotline's number
    text = DOMAIN["responses"]["utter_handoff_after_hours"][0]["text"]
    assert "{contact}" in text and "{open_date}" in text
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["handoff"] == "waiting" and slots["handoff_after_hours"] is True  # the request waits
    assert events[-1]["event"] == "pause"


def _user(intent: str, value: str | None = None) -> dict:
    entities = [{"entity": "feedback", "value": value}] if value else []
    return {"event": "user", "parse_data": {"intent": {"name": intent}, "entities": entities}}


def _bot(response: str) -> dict:
    return {"event": "bot", "metadata": {"utter_action": response}}


def _tracker(events: list[dict], text: str, intent: str, value: str | None = None):
    tracker = tracker_with(text, intent)
    tracker.events = events + [_user(intent, value)]
    if value:
        tracker.latest_message["entities"] = [{"entity": "feedback", "value": value}]
    return tracker


def test_two_refusals_in_a_row_or_two_down_ratings_in_a_row_bring_the_offer():
    refused = [_user("ask_ocop_program"), _bot("utter_kb_no_answer")]
    answered = [_user("ask_ocop_stats"), _bot("utter_stat_figure")]
    now_refused = [{"response": "utter_kb_no_answer"}]
    assert should_offer(_tracker(refused, "q", "ask_ocop_program"), now_refused)
    assert not should_offer(_tracker([], "q", "ask_ocop_program"), now_refused)  # one refusal
    assert not should_offer(_tracker(refused + answered, "q", "ask_ocop_program"), now_refused)
    chat = [_user("chitchat"), _bot("utter_chitchat/thanks")]
    assert should_offer(_tracker(refused + chat, "q", "ask_ocop_program"), now_refused)  # chit-chat between
    assert not should_offer(_tracker(refused, "q", "ask_ocop_program"), [{"response": "utter_card_answer"}])
    down = [_user("feedback", "down"), _bot("utter_feedback_reason")]
    rating = [{"response": "utter_feedback_reason"}]
    assert should_offer(_tracker(answered + down + answered, "👎", "feedback", "down"), rating)
    assert not should_offer(_tracker(answered + [_user("feedback", "up")], "👎", "feedback", "down"), rating)
    # after an offer the count starts again; no offer while a handoff is on
    offered = refused + [_bot("utter_handoff_offer")]
    assert not should_offer(_tracker(offered, "q", "ask_ocop_program"), now_refused)
    waiting = _tracker(refused, "q", "ask_ocop_program")
    waiting.slots["handoff"] = "waiting"
    assert not should_offer(waiting, now_refused)


async def test_the_knowledge_action_offers_a_person_after_its_second_refusal():
    action = ActionAnswerKnowledge(make_pipeline(FakeRetriever()), CONTACTS)
    first = tracker_with("giá vé máy bay đi Hà Nội bao nhiêu", "ask_ocop_stats")
    first.events = []
    messages, _ = await run_action(action, first)
    assert "utter_handoff_offer" not in [m.get("response") for m in messages]
    second = tracker_with("giá vé tàu đi Huế bao nhiêu", "ask_ocop_stats")
    second.events = [
        _user("ask_ocop_stats"),
        *({"event": "bot", "metadata": {"utter_action": m["response"]}} for m in messages),
    ]
    second.events.append(_user("ask_ocop_stats"))
    messages, _ = await run_action(action, second)
    responses = [m.get("response") for m in messages]
    assert responses[-1] == "utter_handoff_offer" and responses[0] != "utter_handoff_offer", responses
    assert office_hours().buttons[0]["payload"] in [b["payload"] for b in messages[-1]["buttons"]]


async def _run(action, tracker):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events
