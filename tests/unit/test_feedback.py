"""👍 / 👎: buttons under answers (not under refusals), and the reply to a rating."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.contacts import ContactBook
from actions.feedback import ActionFeedback, ActionFeedbackReason, feedback_buttons
from actions.knowledge import ActionAnswerKnowledge
from actions.lookup import ActionLookupContact
from tests.unit.conftest import CONTACTS_FILE, FakeRetriever, make_pipeline, run_action, tracker_with

CONTACTS = ContactBook.load(CONTACTS_FILE)


def _payloads(message: dict) -> list[str]:
    return [b["payload"] for b in message.get("buttons") or []]


async def test_a_knowledge_answer_carries_the_rating_buttons_and_a_refusal_does_not():
    action = ActionAnswerKnowledge(make_pipeline(FakeRetriever()))
    answered, _ = await run_action(
        action, tracker_with("Tiền Giang có bao nhiêu sản phẩm 4 sao?", "ask_ocop_stats")
    )
    assert _payloads(answered[-1])[-2:] == [b["payload"] for b in feedback_buttons()]
    refused, _ = await run_action(
        action, tracker_with("giá vé máy bay đi Hà Nội bao nhiêu", "ask_ocop_stats")
    )
    assert all("/feedback" not in p for m in refused for p in _payloads(m))


async def test_a_hotline_answer_keeps_its_call_buttons_and_gets_the_rating_buttons():
    messages, _ = await run_action(
        ActionLookupContact(CONTACTS), tracker_with("sdt tổ kiểm tra công vụ", "ask_contact")
    )
    payloads = _payloads(messages[-1])
    assert payloads[0].startswith("tel:") and payloads[-1] == feedback_buttons()[-1]["payload"]


async def test_a_rating_is_thanked_and_a_down_rating_asks_what_was_wrong():
    up = tracker_with('/feedback{"feedback":"up"}', "feedback")
    up.latest_message["entities"] = [{"entity": "feedback", "value": "up"}]
    messages, _ = await run_action(ActionFeedback(), up)
    assert [m["response"] for m in messages] == ["utter_feedback_thanks"]
    down = tracker_with('/feedback{"feedback":"down"}', "feedback")
    down.latest_message["entities"] = [{"entity": "feedback", "value": "down"}]
    messages, _ = await run_action(ActionFeedback(), down)
    assert [m["response"] for m in messages] == ["utter_feedback_reason"]


def _after(action_name: str, text: str, ranking: list[str], feedback: str | None = None):
    """A tracker whose last action before the message `text` was `action_name`."""
    tracker = tracker_with(text, "feedback_reason", feedback=feedback)
    tracker.events = [
        {"event": "action", "name": action_name},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text},
    ]
    tracker.latest_message["intent_ranking"] = [{"name": n, "confidence": 0.5} for n in ranking]
    return tracker


async def test_what_was_wrong_is_thanked_only_after_a_down_rating():
    dispatcher = CollectingDispatcher()
    events = await ActionFeedbackReason().run(
        dispatcher, _after("action_feedback", "số liệu cũ rồi", ["feedback_reason"], "down"), {}
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_feedback_reason_thanks"] and events == []


async def test_a_question_mistaken_for_a_reason_is_answered_by_the_action_of_its_next_intent():
    asked = _after("action_lookup_contact", "cho xin số máy của ông ấy", ["feedback_reason", "ask_contact"])
    asked.slots["last_contact"] = "ag-snn-pho-chanh-van-phong"
    messages, _ = await run_action(ActionFeedbackReason(), asked)
    assert "0919 199 392" in str(messages) and "utter_feedback_reason_thanks" not in str(messages)
    greeted = _after(
        "action_feedback", "chào bạn nhé", ["feedback_reason", "greet"], "up"
    )  # a 👍 asks nothing
    messages, _ = await run_action(ActionFeedbackReason(), greeted)
    assert [m["response"] for m in messages] == ["utter_out_of_scope/other"]


def test_each_reroute_is_the_action_the_rules_give_its_intent():
    from pathlib import Path

    import yaml

    from actions.feedback import feedback_data

    pairs = set()
    for path in (Path(__file__).resolve().parents[2] / "data" / "rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            steps = rule.get("steps") or []
            pairs |= {
                (a["intent"], b["action"])
                for a, b in zip(steps, steps[1:])
                if "intent" in a and "action" in b
            }
    reroute = feedback_data()["reroute"]
    assert reroute and all((intent, action) in pairs for intent, action in reroute.items())
