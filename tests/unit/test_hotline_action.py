"""Contact lookup action: click-to-call buttons, clarification, general hotlines."""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.contacts import ContactBook
from actions.followup import ActionFollowup
from actions.lookup import ActionLookupContact, person_in
from tests.unit.conftest import CONTACTS_FILE, FakeRetriever, make_pipeline, run_action
from tests.unit.conftest import tracker_with as shared_tracker_with

CONTACTS = ContactBook.load(CONTACTS_FILE)


def tracker_with(text: str, intent: str = "ask_contact", **slots):
    return shared_tracker_with(text, intent, **slots)


run = run_action


async def test_topic_request_gets_phone_and_call_buttons():
    messages, slots = await run(
        ActionLookupContact(CONTACTS), tracker_with("sdt phản ánh cán bộ vi phạm công vụ")
    )
    first = messages[0]
    assert first["response"] == "utter_contact"
    assert first["name"] == "Tổ kiểm tra công vụ"
    payloads = [b["payload"] for b in first["buttons"]]
    assert "tel:02963957049" in payloads and "tel:0378247247" in payloads
    assert "mailto:kiemtracongvu@angiang.gov.vn" in payloads
    assert slots["pending"] is None


async def test_generic_request_asks_for_the_topic_then_answers():
    messages, slots = await run(ActionLookupContact(CONTACTS), tracker_with("cho tôi xin số điện thoại"))
    assert [m["response"] for m in messages] == ["utter_ask_contact_topic"]
    assert slots["pending"] == "contact"
    follow = tracker_with("về thủ tục hành chính", "inform", pending="contact")
    messages, slots = await run(ActionFollowup(None, CONTACTS), follow)
    assert messages[0]["response"] == "utter_contact"
    assert "tel:02963957006" in [b["payload"] for b in messages[0]["buttons"]]


async def test_unmatched_topic_after_clarification_lists_general_hotlines():
    follow = tracker_with("sở y tế", "inform", pending="contact")
    messages, _ = await run(ActionFollowup(None, CONTACTS), follow)
    assert messages[0]["response"] == "utter_contact_none"
    assert len(messages) >= 2 and all(m["response"] == "utter_contact" for m in messages[1:])


async def test_person_phone_is_that_persons_number():
    messages, _ = await run(
        ActionLookupContact(CONTACTS), tracker_with("so dien thoai ong le hoang tam", "ask_contact")
    )
    assert len(messages) == 1
    assert messages[0]["phones"] == "0919 199 392"


async def test_person_question_says_the_title():
    messages, _ = await run(
        ActionLookupContact(CONTACTS), tracker_with("ông Nguyễn Sĩ Lâm là ai", "ask_person")
    )
    assert messages[0]["response"] == "utter_contact_person"
    assert "Giám đốc" in messages[0]["title"]


async def test_email_question_uses_the_email_response():
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker_with("email tổ kiểm tra công vụ"))
    assert messages[0]["response"] == "utter_contact_email"
    assert messages[0]["email"] == "kiemtracongvu@angiang.gov.vn"


async def test_broken_contact_table_still_answers(tmp_path):
    broken = tmp_path / "contacts.csv"
    broken.write_text("this is not,a contact table\n", encoding="utf-8")
    book = ContactBook.load(broken)
    messages, _ = await run(ActionLookupContact(book), tracker_with("sdt tthc"))
    assert messages[0]["response"] == "utter_contacts_unavailable"


async def test_reverse_lookup_by_phone_and_email():
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker_with("Số 0919 199 392 là của ai vậy?"))
    assert messages[0]["response"] == "utter_contact_person" and "Lê Hoàng Tâm" in messages[0]["name"]
    messages, _ = await run(
        ActionLookupContact(CONTACTS), tracker_with("nslam@angiang.gov.vn là email của ai?")
    )
    assert "Nguyễn Sĩ Lâm" in messages[0]["name"]


async def test_pronoun_refers_to_the_previous_person():
    _, slots = await run(
        ActionLookupContact(CONTACTS), tracker_with("Giám đốc Sở Nông nghiệp An Giang là ai", "ask_person")
    )
    assert slots["last_contact"]
    follow = tracker_with("số điện thoại của ông ấy", "ask_contact", last_contact=slots["last_contact"])
    messages, _ = await run(ActionLookupContact(CONTACTS), follow)
    assert messages[0]["phones"] == "0913 979 245"


PEOPLE_DOCS = {
    "st-visit": {
        "meta": {
            "title": "An Giang học kinh nghiệm OCOP",
            "publisher": "VPĐP Sóc Trăng",
            "date": "2023-04-28",
        },
        "passages": [
            [
                "Tiếp đoàn có ông Lê Văn Đăng, Phó Giám đốc Sở Nông nghiệp và Phát triển nông thôn tỉnh Sóc Trăng.",
                "Đoàn trao đổi kinh nghiệm thực hiện Chương trình OCOP.",
            ]
        ],
    }
}


async def test_person_not_in_the_directory_is_answered_from_the_documents():
    from tests.unit.conftest import FakeRetriever

    retriever = FakeRetriever(PEOPLE_DOCS)
    messages, _ = await run(
        ActionLookupContact(CONTACTS, make_pipeline(retriever, contacts=CONTACTS)),
        tracker_with("Ông Lê Văn Đăng là ai?", "ask_person"),
    )
    assert messages[0]["response"].startswith("utter_kb_answer"), messages
    assert "Phó Giám đốc Sở Nông nghiệp" in messages[0]["answer"]
    assert "VPĐP Sóc Trăng" in messages[0]["source"]
    assert retriever.queries, "the documents were searched"


async def test_person_in_the_directory_does_not_search_the_documents():
    from tests.unit.conftest import FakeRetriever

    retriever = FakeRetriever(PEOPLE_DOCS)
    messages, _ = await run(
        ActionLookupContact(CONTACTS, make_pipeline(retriever, contacts=CONTACTS)),
        tracker_with("ông Nguyễn Sĩ Lâm là ai", "ask_person"),
    )
    assert messages[0]["response"] == "utter_contact_person" and messages[0]["name"].endswith("Lâm")
    assert retriever.queries == []


async def test_unknown_person_nowhere_gets_a_refusal_with_a_hotline():
    from tests.unit.conftest import FakeRetriever

    messages, _ = await run(
        ActionLookupContact(
            CONTACTS, make_pipeline(FakeRetriever(PEOPLE_DOCS, threshold=0.9), contacts=CONTACTS)
        ),
        tracker_with("Bà Hoàng Thị Xuân là ai?", "ask_person"),
    )
    assert [m["response"] for m in messages] == ["utter_kb_no_answer"]
    assert "0913 979 245" in messages[0]["contact"]


async def test_asking_for_another_number_gives_another_contact_never_the_same():
    first, slots = await run(
        ActionLookupContact(CONTACTS), tracker_with("số điện thoại Phòng Tổng hợp UBND tỉnh", "ask_contact")
    )
    assert "02963 957 006" in first[0]["phones"]
    again, slots2 = await run(
        ActionLookupContact(CONTACTS),
        tracker_with("còn số khác không?", "ask_contact", last_contact=slots["last_contact"]),
    )
    assert again[0]["response"] == "utter_contact_another"
    assert all("02963 957 006" not in m.get("phones", "") for m in again)
    assert slots2["last_contact"] != slots["last_contact"]


async def test_private_data_of_a_person_is_never_given():
    messages, _ = await run(
        ActionLookupContact(CONTACTS),
        tracker_with("cho xin số căn cước và địa chỉ nhà riêng của ông Lê Hoàng Tâm", "ask_person"),
    )
    assert [m["response"] for m in messages] == ["utter_contact_private"]


async def test_another_number_after_a_procedure_complaint_is_a_complaint_channel():
    messages, slots = await run(
        ActionLookupContact(CONTACTS), tracker_with("muốn phản ánh việc giải quyết thủ tục hành chính")
    )
    assert messages[0]["name"] == "Phòng Tổng hợp"
    again, _ = await run(
        ActionLookupContact(CONTACTS),
        tracker_with("số đó không ai nghe, còn số nào khác không", last_contact=slots["last_contact"]),
    )
    assert again[1]["name"] == "Tổ kiểm tra công vụ"  # shares "phản ánh", unlike the agriculture lines


async def test_asking_only_for_a_field_answers_about_the_last_contact():
    messages, slots = await run(ActionLookupContact(CONTACTS), tracker_with("sdt tổ kiểm tra công vụ"))
    follow, _ = await run(
        ActionLookupContact(CONTACTS), tracker_with("còn email?", last_contact=slots["last_contact"])
    )
    assert follow[0]["response"] == "utter_contact_email"
    assert follow[0]["email"] == "kiemtracongvu@angiang.gov.vn"


async def test_a_request_without_topic_uses_the_problem_described_before():
    tracker = tracker_with("vậy gọi số nào?")
    tracker.events = [
        {"event": "user", "text": "hồ sơ nộp ở một cửa quá hạn cả tháng chưa có kết quả"},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "vậy gọi số nào?"},
    ]
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker)
    assert messages[0]["response"] == "utter_contact"
    assert messages[0]["name"] == "Phòng Tổng hợp"
    tracker.events = [{"event": "user", "text": "vậy gọi số nào?"}]  # nothing before: ask the topic
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker)
    assert messages[0]["response"] == "utter_ask_contact_topic"


async def test_a_figure_question_routed_to_the_contacts_is_answered_from_the_knowledge():
    pipeline = make_pipeline(FakeRetriever(), contacts=CONTACTS)
    tracker = tracker_with("Sóc Trăng có bao nhiêu sản phẩm 4 sao?", "ask_contact")
    messages, _ = await run(ActionLookupContact(CONTACTS, pipeline), tracker)
    assert messages and not messages[0]["response"].startswith("utter_contact")
    asked = tracker_with("sdt hỏi về sản phẩm 4 sao", "ask_contact")  # a contact word: the directory
    messages, _ = await run(ActionLookupContact(CONTACTS, pipeline), asked)
    assert messages[0]["response"].startswith("utter_contact")
    when = tracker_with("hội thảo nông sản tỉnh tổ chức ngày nào, ở đâu?", "ask_contact")  # a date asked
    messages, _ = await run(ActionLookupContact(CONTACTS, pipeline), when)
    assert messages and not messages[0]["response"].startswith("utter_contact")


def test_a_one_word_person_without_honorific_is_not_trusted():
    from actions.hotline import entity_values

    def person(text: str, span: str) -> dict[str, list[str]]:
        tracker = tracker_with(text, "ask_person")
        start = text.index(span)
        tracker.latest_message["entities"] = [
            {"entity": "person", "value": "Nguyễn Sĩ Lâm", "start": start, "end": start + len(span)}
        ]
        return entity_values(tracker)

    assert person("bà ấy làm chức vụ gì", "làm") == {}
    assert person("số của ông Lâm", "Lâm") == {"person": ["Nguyễn Sĩ Lâm"]}
    assert person("sdt Nguyễn Sĩ Lâm", "Nguyễn Sĩ Lâm") == {"person": ["Nguyễn Sĩ Lâm"]}


async def test_another_number_after_a_contact_with_several_says_them_before_the_next_contact():
    first, slots = await run(ActionLookupContact(CONTACTS), tracker_with("sdt tổ kiểm tra công vụ"))
    assert first[0]["name"] == "Tổ kiểm tra công vụ" and " – " in first[0]["phones"]  # two numbers
    again, slots2 = await run(
        ActionLookupContact(CONTACTS),
        tracker_with("số khác?", "ask_contact", last_contact=slots["last_contact"]),
    )
    assert [m["response"] for m in again[:2]] == ["utter_contact_all_numbers", "utter_contact_another"]
    assert again[0]["phones"] == first[0]["phones"]
    assert slots2["last_contact"] != slots["last_contact"]


async def test_a_field_asked_after_another_contact_was_offered_gives_the_asked_contacts_too():
    _, slots = await run(ActionLookupContact(CONTACTS), tracker_with("sdt tổ kiểm tra công vụ"))
    asked = tracker_with("số khác?", "ask_contact", last_contact=slots["last_contact"])
    _, slots2 = await run(ActionLookupContact(CONTACTS), asked)
    tracker = tracker_with("cho xin email luôn", "ask_contact", last_contact=slots2["last_contact"])
    tracker.events = [
        {"event": "user", "text": "sdt tổ kiểm tra công vụ"},
        {"event": "slot", "name": "last_contact", "value": slots["last_contact"]},
        {"event": "user", "text": "số khác?"},
        {"event": "slot", "name": "last_contact", "value": slots2["last_contact"]},
        {"event": "user", "text": "cho xin email luôn"},
    ]
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker)
    emails = [m.get("email") for m in messages if m.get("response") == "utter_contact_email"]
    assert "kiemtracongvu@angiang.gov.vn" in emails and len(emails) == 2  # the one asked, the one offered
    tracker.events[2] = {"event": "user", "text": "còn phòng tổng hợp?"}  # named, not offered: that one only
    messages, _ = await run(ActionLookupContact(CONTACTS), tracker)
    assert len([m for m in messages if m.get("response") == "utter_contact_email"]) == 1


async def test_a_contact_field_of_a_person_the_directory_does_not_list_is_not_another_contacts():
    messages, _ = await run(
        ActionLookupContact(CONTACTS),
        tracker_with("Cho xin email riêng của Phó Chủ tịch UBND tỉnh Đặng Văn Tú", "ask_contact"),
    )
    assert messages[0]["response"] == "utter_contact_unlisted_person"
    assert messages[0]["person"] == "Đặng Văn Tú"
    assert all(m["response"] == "utter_contact" for m in messages[1:]) and len(messages) > 1


async def test_a_listed_official_still_gets_the_directorys_contact():
    messages, _ = await run(
        ActionLookupContact(CONTACTS), tracker_with("số điện thoại ông Nguyễn Sĩ Lâm", "ask_contact")
    )
    assert messages[0]["response"] != "utter_contact_unlisted_person"
    assert "0913 979 245" in messages[0]["phones"]


def test_person_names_are_read_as_the_examples_say():
    """data/language/names_examples.yml, replayed."""
    path = Path(__file__).resolve().parents[2] / "data" / "language" / "names_examples.yml"
    for text, name in yaml.safe_load(path.read_text(encoding="utf-8")).items():
        assert person_in(text) == name, text


async def test_another_province_after_a_hotline_says_the_directory_has_none_there():
    follow = tracker_with("còn bên Sóc Trăng thì gọi số nào ạ", "inform", last_contact="ag-snn-giam-doc")
    follow.events = [
        *follow.events,
        {"event": "user", "text": "số đường dây nóng ngành nông nghiệp"},
        {"event": "slot", "name": "last_contact", "value": "ag-snn-giam-doc"},
        {"event": "user", "text": "còn bên Sóc Trăng thì gọi số nào ạ"},
    ]
    messages, _ = await run(ActionFollowup(None, CONTACTS), follow)
    assert messages[0]["response"] == "utter_contact_other_province"
    assert messages[0]["province"] == "Sóc Trăng"
    assert all(m["response"] == "utter_contact" for m in messages[1:]) and len(messages) >= 2


async def test_who_chaired_a_meeting_is_asked_of_the_documents_not_the_directory():
    pipeline = make_pipeline(FakeRetriever(), contacts=CONTACTS)
    text = "buổi làm việc với Sở NN&PTNT hôm đó do ai bên tỉnh bạn chủ trì tiếp đoàn"
    messages, _ = await run(ActionLookupContact(CONTACTS, pipeline), tracker_with(text, "ask_contact"))
    assert messages and not any(m.get("response", "").startswith("utter_contact") for m in messages)
