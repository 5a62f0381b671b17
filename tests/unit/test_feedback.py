"""👍 / 👎: buttons under answers (not under refusals), and the reply to a rating."""

from __future__ import annotations

from actions.contacts import ContactBook
from actions.feedback import ActionFeedback, feedback_buttons
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
