"""Knowledge and follow-up actions against the in-memory fake index."""

from __future__ import annotations

import pytest

from actions.contacts import ContactBook
from actions.followup import ActionFollowup
from actions.knowledge import ActionAnswerKnowledge
from index.rewrite import rewrite
from tests.unit.conftest import CONTACTS_FILE, FakeRetriever, load_tracker, make_pipeline, run_action
from tests.unit.conftest import tracker_with as shared_tracker_with

CONTACTS = ContactBook.load(CONTACTS_FILE)


def tracker_with(text: str, intent: str = "ask_ocop_stats", **slots):
    return shared_tracker_with(text, intent, **slots)


run = run_action


async def test_figures_answer_carries_number_date_and_source(fake_retriever):
    messages, slots = await run(
        ActionAnswerKnowledge(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS),
        load_tracker("tracker_stats.json"),
    )
    first = messages[0]
    assert first["response"] == "utter_kb_answer"
    assert "169 sản phẩm hạng 3 sao" in first["answer"]
    assert first["date"] == "28/04/2023"
    assert "Sóc Trăng" in first["source"]
    assert slots["last_question"].startswith("Sóc Trăng") and slots["province"] == "Sóc Trăng"


async def test_program_answer_is_not_presented_as_figures(fake_retriever):
    tracker = tracker_with("Giấy chứng nhận OCOP có thời hạn bao lâu?", "ask_ocop_program")
    messages, _ = await run(
        ActionAnswerKnowledge(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert messages[0]["response"] == "utter_kb_answer"
    assert "36 tháng" in messages[0]["answer"]
    assert "thuvienphapluat.vn" in messages[0]["source"]


async def test_unknown_province_is_refused_with_a_hotline(fake_retriever):
    tracker = tracker_with("Đồng Nai có bao nhiêu sản phẩm OCOP 3 sao?")
    messages, _ = await run(
        ActionAnswerKnowledge(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert [m["response"] for m in messages] == ["utter_kb_no_answer"]
    assert "0913 979 245" in messages[0]["contact"]


async def test_low_confidence_is_refused():
    retriever = FakeRetriever(threshold=1.01)
    messages, _ = await run(
        ActionAnswerKnowledge(make_pipeline(retriever, contacts=CONTACTS), CONTACTS),
        load_tracker("tracker_stats.json"),
    )
    assert messages[0]["response"] == "utter_kb_no_answer"


async def test_missing_index_still_answers_with_hotline(monkeypatch):
    from actions import resources

    monkeypatch.setattr(resources, "load_knowledge", lambda: resources.Loaded(error="no index"))
    messages, _ = await run(ActionAnswerKnowledge(None, CONTACTS), load_tracker("tracker_stats.json"))
    assert messages[0]["response"] == "utter_kb_unavailable"
    assert "0913 979 245" in messages[0]["contact"]


async def test_followup_reuses_previous_question_with_new_province(fake_retriever):
    messages, slots = await run(
        ActionFollowup(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS),
        load_tracker("tracker_followup.json"),
    )
    assert fake_retriever.queries[-1] == "Sóc Trăng có bao nhiêu sản phẩm OCOP 4 sao?"
    assert "19 sản phẩm đạt hạng 4 sao" in messages[0]["answer"]
    assert slots["province"] == "Sóc Trăng"


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        (
            "Sóc Trăng có bao nhiêu sản phẩm OCOP?",
            "còn Tiền Giang thì sao",
            "Tiền Giang có bao nhiêu sản phẩm OCOP?",
        ),
        (
            "Tiền Giang có bao nhiêu sản phẩm 3 sao?",
            "thế còn 5 sao?",
            "Tiền Giang có bao nhiêu sản phẩm 5 sao?",
        ),
        (
            "An Giang có bao nhiêu sản phẩm OCOP?",
            "the con 4 sao",
            "An Giang có bao nhiêu sản phẩm OCOP 4 sao?",
        ),
        ("tg co bao nhieu sp 4 sao", "con ag", "An Giang co bao nhieu sp 4 sao"),
        ("An Giang có bao nhiêu sản phẩm OCOP?", "cảm ơn", None),
    ],
)
def test_rewrite(previous, text, expected):
    assert rewrite(previous, text) == expected


async def test_followup_without_context_asks_to_rephrase(fake_retriever):
    tracker = tracker_with("ừ", "inform", last_question=None)
    messages, _ = await run(
        ActionFollowup(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert messages[0]["response"] == "utter_ask_rephrase"


async def test_followup_with_only_a_province_and_no_context(fake_retriever):
    tracker = tracker_with("còn Tiền Giang?", "inform", last_question=None)
    messages, _ = await run(
        ActionFollowup(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert messages[0]["response"] == "utter_kb_need_question"
    assert messages[0]["province"] == "Tiền Giang"


async def test_refused_question_without_province_or_stars_keeps_the_context(fake_retriever):
    previous = "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?"
    tracker = tracker_with('ask_ocop_stats{"last_question": "x"}', last_question=previous)
    messages, slots = await run(
        ActionAnswerKnowledge(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert messages[0]["response"] == "utter_kb_no_answer"
    assert "last_question" not in slots


async def test_refused_question_naming_a_province_becomes_the_context(fake_retriever):
    tracker = tracker_with("Đồng Nai có bao nhiêu sản phẩm OCOP 3 sao?", last_question="OCOP là gì?")
    messages, slots = await run(
        ActionAnswerKnowledge(make_pipeline(fake_retriever, contacts=CONTACTS), CONTACTS), tracker
    )
    assert messages[0]["response"] == "utter_kb_no_answer"
    assert slots["last_question"].startswith("Đồng Nai") and slots["star"] == "3"


def test_rewrite_keeps_a_special_star_level_and_leaves_reasoning_to_the_pipeline():
    from index.parse import QuestionParser

    parser = QuestionParser.load()
    assert (
        rewrite("Sóc Trăng có mấy sản phẩm 5 sao?", "thế loại từ 3 sao trở lên?", parser)
        == "Sóc Trăng có mấy sản phẩm từ 3 sao trở lên?"
    )
    assert rewrite("An Giang có bao nhiêu sp 4 sao", "cộng với Tiền Giang được bao nhiêu", parser) is None
    assert (
        rewrite("An Giang có bao nhiêu sp 4 sao", "còn Tiền Giang", parser)
        == "Tiền Giang có bao nhiêu sp 4 sao"
    )


async def test_a_contact_field_asked_goes_to_the_contact_table_whatever_the_intent():
    from actions.contacts import ContactBook
    from actions.knowledge import ActionAnswerKnowledge
    from tests.unit.conftest import CONTACTS_FILE, FakeRetriever, make_pipeline, run_action, tracker_with

    action = ActionAnswerKnowledge(make_pipeline(FakeRetriever()), ContactBook.load(CONTACTS_FILE))
    messages, _ = await run_action(
        action, tracker_with("so dien thoai to kiem tra cong vu", "ask_ocop_stats")
    )
    assert (
        messages[0]["response"].startswith("utter_contact") and messages[0]["name"] == "Tổ kiểm tra công vụ"
    )
    figures, _ = await run_action(
        action, tracker_with("Tiền Giang có bao nhiêu sản phẩm 4 sao?", "ask_ocop_stats")
    )
    assert not figures[0]["response"].startswith("utter_contact")
