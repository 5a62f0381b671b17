"""The out-of-scope action: the selector's reply, or the knowledge for programme questions."""

from __future__ import annotations

from actions.out_of_scope import ActionOutOfScope, selected_response
from tests.unit.conftest import DOCS as SHARED_DOCS
from tests.unit.conftest import FakeRetriever, make_pipeline, run_action, tracker_with

DOCS = {
    "hd-chung-nhan": {
        "meta": {"title": "Hướng dẫn chứng nhận OCOP", "publisher": "Sở Nông nghiệp", "date": "2024-01-02"},
        "passages": [
            ["Giấy chứng nhận OCOP có giá trị 36 tháng; khi hết hạn, chủ thể phải đăng ký đánh giá lại."]
        ],
    }
}


def oos(text: str, sub: str) -> object:
    tracker = tracker_with(text, "out_of_scope")
    tracker.latest_message["response_selector"] = {
        "out_of_scope": {"response": {"intent_response_key": f"out_of_scope/{sub}"}}
    }
    return tracker


def test_the_selected_response_is_read_from_the_response_selector():
    assert selected_response(oos("giá vàng", "prices")) == "utter_out_of_scope/prices"
    assert selected_response(tracker_with("x", "out_of_scope")) == "utter_out_of_scope/other"
    shared = tracker_with("mai trời mưa không", "out_of_scope")  # one selector for every retrieval intent
    shared.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "out_of_scope/weather"}}
    }
    assert selected_response(shared) == "utter_out_of_scope/weather"
    shared.latest_message["response_selector"] = {
        "default": {"response": {"intent_response_key": "chitchat/thanks"}}
    }
    assert selected_response(shared) == "utter_out_of_scope/other"


async def test_an_out_of_scope_message_gets_the_selected_reply():
    action = ActionOutOfScope(make_pipeline(FakeRetriever(DOCS)))
    messages, slots = await run_action(action, oos("giá vàng hôm nay bao nhiêu", "prices"))
    assert [m["response"] for m in messages] == ["utter_out_of_scope/prices"] and not slots


async def test_a_programme_question_filed_as_out_of_scope_is_answered_from_the_knowledge():
    action = ActionOutOfScope(make_pipeline(FakeRetriever(DOCS)))
    tracker = oos("giấy chứng nhận OCOP hết hạn thì có phải đăng ký đánh giá lại không", "public_service")
    messages, slots = await run_action(action, tracker)
    assert messages[0]["response"].startswith("utter_kb_answer"), messages
    assert "36 tháng" in messages[0]["answer"] and slots.get("answer_refs")
    # the knowledge has nothing: the selector's reply, not a refusal of the knowledge
    nothing = oos("phân hạng OCOP cho nghề làm muối ở Bạc Liêu năm 2030", "public_service")
    messages, _ = await run_action(action, nothing)
    assert [m["response"] for m in messages] == ["utter_out_of_scope/public_service"]


async def test_a_star_level_question_filed_as_out_of_scope_is_put_to_the_knowledge_first():
    action = ActionOutOfScope(make_pipeline(FakeRetriever(SHARED_DOCS)))
    messages, _ = await run_action(action, oos("tiền giang có bao nhiêu sản phẩm 4 sao vậy", "weather"))
    assert messages[0]["response"].startswith("utter_kb_answer") and "95" in messages[0]["answer"], messages


async def test_a_message_the_nlu_could_not_read_is_answered_from_the_knowledge_or_gets_the_default():
    action = ActionOutOfScope(make_pipeline(FakeRetriever(SHARED_DOCS)))
    known = tracker_with("tien giang dc bn sp ocop 4 sao z", "nlu_fallback")
    messages, _ = await run_action(action, known)
    assert messages[0]["response"].startswith("utter_kb_answer"), messages
    unknown = tracker_with("asdf qwer zxcv", "nlu_fallback")
    messages, _ = await run_action(action, unknown)
    assert [m["response"] for m in messages] == ["utter_default"]


class AskedPipeline:
    """The fake pipeline, recording what it was asked."""

    def __init__(self, inner: object) -> None:
        self.inner, self.asked = inner, []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def answer(self, text, context):  # noqa: ANN001, ANN201
        self.asked.append(text)
        return self.inner.answer(text, context)


async def test_a_document_named_by_its_number_is_put_to_the_knowledge_first():
    pipeline = AskedPipeline(make_pipeline(FakeRetriever(DOCS)))
    action = ActionOutOfScope(pipeline)
    await run_action(action, oos("quyết định 919 có nội dung chính là gì", "other"))
    await run_action(action, oos("cái đó có nội dung chính là gì", "other"))
    assert pipeline.asked == [
        "quyết định 919 có nội dung chính là gì"
    ]  # a document number: the knowledge is asked first
