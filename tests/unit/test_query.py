"""Query preparation: noise, long messages, chat shorthand, typo correction (index/query.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.contacts import ContactBook
from actions.followup import ActionFollowup
from actions.lookup import ActionLookupContact
from bot.text import canonical_words
from index.lexicon import Lexicon, edits1, spelling_key
from index.query import (
    expand_bare_subject,
    expand_shorthand,
    focus,
    prepare_question,
    strip_noise,
    unify_accents,
)
from tests.unit.conftest import CONTACTS_FILE, run_action, tracker_with

CONTACTS = ContactBook.load(CONTACTS_FILE)
DOCS = [
    "Tỉnh An Giang có 165 sản phẩm OCOP. Tiền Giang có 207 sản phẩm OCOP.",
    "Chương trình OCOP là Chương trình Mỗi xã một sản phẩm.",
    "Giấy chứng nhận có thời hạn 36 tháng. Bao nhiêu sản phẩm đạt 5 sao?",
]
WORDS = ["là gì", "bao nhiêu", "sản phẩm", "chương trình", "thời hạn", "chứng nhận", "khoẻ"]
LEX = Lexicon(DOCS, WORDS)


def test_strip_noise_drops_emoji_and_repeated_punctuation():
    assert strip_noise("ocop la gi ạ ??? 🤔🤔") == "ocop la gi ạ?"
    assert (
        strip_noise("An Giang có bao nhiêu sản phẩm OCOP 😊🙏!!!") == "An Giang có bao nhiêu sản phẩm OCOP!"
    )


def test_focus_keeps_the_question_of_a_long_message():
    story = "Tôi là nông dân ở huyện Chợ Mới, nhà có vườn xoài và làm mứt xoài bán cho bà con. " * 3
    message = story + "Nhờ bot trả lời giúp tôi một chuyện thôi: giấy chứng nhận OCOP có thời hạn bao lâu?"
    assert focus(message) == "giấy chứng nhận OCOP có thời hạn bao lâu?"
    short = "Chào bot. An Giang có bao nhiêu sản phẩm OCOP?"
    assert focus(short) == short  # short messages are left whole


def test_focus_adds_the_previous_sentence_to_a_short_question():
    context = "Con tôi bảo hộ gia đình cũng được làm hồ sơ OCOP, người quen lại bảo phải có công ty. " * 2
    assert focus(context + "Tôi muốn hỏi về hợp tác xã. Có được không?").endswith(
        "Tôi muốn hỏi về hợp tác xã. Có được không?"
    )


def test_focus_keeps_the_sentence_naming_the_place_the_question_leaves_out():
    story = "Em là học sinh lớp chín, cô giáo giao bài tìm hiểu về sản phẩm của quê mình. " * 2
    message = story + "Em nghe nói Cần Thơ có sản phẩm 5 sao. Cho em hỏi là có bao nhiêu sản phẩm như thế ạ?"
    assert (
        focus(message)
        == "Em nghe nói Cần Thơ có sản phẩm 5 sao. Cho em hỏi là có bao nhiêu sản phẩm như thế ạ?"
    )
    named = story + "Em nghe nói có nhiều hàng mới. Cho em hỏi Cần Thơ có bao nhiêu sản phẩm 5 sao ạ?"
    assert focus(named) == "Cho em hỏi Cần Thơ có bao nhiêu sản phẩm 5 sao ạ?"


def test_mostly_unaccented_message_is_folded():
    assert unify_accents("ocop la gi ạ?") == "ocop la gi a?"
    assert unify_accents("Tiền Giang co bao nhieu san pham") == "Tien Giang co bao nhieu san pham"
    assert unify_accents("An Giang có bao nhiêu sản phẩm") == "An Giang có bao nhiêu sản phẩm"
    assert unify_accents("ai được tham gia ocop") == "ai được tham gia ocop"  # accented, few marks


def test_shorthand_expanded_in_the_style_of_the_message():
    assert expand_shorthand("TG co bnhieu sp ocop", LEX) == "Tien Giang co bao nhieu san pham ocop"
    assert expand_shorthand("ag có bn sp 5 sao", LEX) == "An Giang có bao nhiêu sản phẩm 5 sao"
    assert expand_shorthand("Quyết định 148/QĐ-TTg", LEX) == "Quyết định 148/QĐ-TTg"  # codes untouched


def test_edits_and_spelling_keys():
    assert {"giang", "gain", "gaing"} - edits1("gaing") == {"gaing"}
    assert spelling_key("khỏe") == spelling_key("khoẻ")


def test_typos_corrected_against_the_vocabulary_only_when_unknown():
    assert LEX.correct("An Gaing có bao nhiêu sảm phẩm ocop") == "An Giang có bao nhiêu sản phẩm ocop"
    assert LEX.correct("chươnng trình ocop") == "chương trình ocop"
    assert LEX.correct("soc trang co bao nhieu san pham ocpo") == "soc trang co bao nhieu san pham ocop"
    assert LEX.correct("Bạn có khỏe không") == "Bạn có khỏe không"  # a real word stays
    assert LEX.correct("gia xoai hom nay") == "gia xoai hom nay"  # no attested neighbour: kept
    assert LEX.correct("An Giang có bao nhiêu sản phẩm OCPO") == "An Giang có bao nhiêu sản phẩm OCPO"
    assert LEX.correct("AN GAING CÓ BAO NHIÊU") == "AN Giang CÓ BAO NHIÊU"


def test_bare_subject_becomes_the_programme():
    assert expand_bare_subject("ocop la gi a?", None) == "chuong trinh ocop la gi"
    assert expand_bare_subject("ocop nghia la gi vay ban", LEX) == "chương trình ocop là gì"
    assert expand_bare_subject("OCOP là cái gì thế?", LEX) == "chương trình ocop là gì"
    assert expand_bare_subject("ocop 3 sao la gi", LEX) == "ocop 3 sao la gi"


def test_prepare_question_end_to_end():
    assert prepare_question("ocop la gi ạ ??? 🤔🤔", LEX) == "chương trình ocop là gì"
    assert prepare_question("TG co bnhieu sp ocop", None) == "Tien Giang co bao nhieu san pham ocop"


async def test_generic_request_with_filler_words_asks_for_the_topic():
    messages, slots = await run_action(
        ActionLookupContact(CONTACTS), tracker_with("liên hệ ai bây giờ", "ask_contact", pending=None)
    )
    assert [m["response"] for m in messages] == ["utter_ask_contact_topic"]
    assert slots["pending"] == "contact"


async def test_followup_naming_an_agency_gets_the_contact_without_pending(fake_retriever):
    tracker = tracker_with("bên tổ kiểm tra công vụ ạ", "inform", pending=None, last_question=None)
    tracker.latest_message["entities"] = [{"entity": "agency", "value": "Tổ kiểm tra công vụ"}]
    messages, _ = await run_action(ActionFollowup(fake_retriever, CONTACTS), tracker)
    assert messages[0]["response"] == "utter_contact"
    assert messages[0]["name"] == "Tổ kiểm tra công vụ"


def test_star_signs_are_kept():
    assert strip_noise("An Giang có mấy sp 5⭐ 😊") == "An Giang có mấy sp 5⭐"


def test_accents_restored_from_the_bigram_model():
    from index.accents import AccentModel

    model = AccentModel([*DOCS, "Sản phẩm được 60 điểm thì xếp mấy sao?", "thì", "thi", "mấy", "máy"])
    assert model.restore("san pham duoc 60 diem thi xep may sao") == "sản phẩm được 60 điểm thì xếp mấy sao"
    assert model.restore("OCOP la gi") == "OCOP là gi"  # acronyms kept; unseen words as typed
    assert model.restore("An Giang có") == "An Giang có"  # accented text is left alone
    two = model.readings("thi may sao", 2, general=False)
    assert two[0] == "thì mấy sao" and len(two) == 2 and two[1] != two[0]  # the second-best reading
    assert model.readings("thi may sao")[0] == "thì mấy sao" and len(model.readings("thi may sao")) <= 2


def test_a_province_named_without_accents_gets_its_own_spelling():
    from index.accents import AccentModel

    model = AccentModel(["Lòng an dân là gốc.", "Sóc Trăng có mấy sản phẩm."])
    assert model.restore("long an co may san pham") == "long an có mấy sản phẩm"  # not "lòng an"
    assert model.restore("Soc Trang co may san pham") == "Sóc Trăng có mấy sản phẩm"


def test_nlu_examples_keep_accented_sentences_only(tmp_path):
    from index.accents import nlu_examples

    (tmp_path / "a.yml").write_text(
        "- intent: x\n  examples: |\n    - [An Giang](province) có mấy sản phẩm\n    - ag co may sp\n",
        encoding="utf-8",
    )
    assert nlu_examples(tmp_path) == ["An Giang có mấy sản phẩm"]


def test_opening_formulas_of_cues_examples_are_dropped():
    """The openers corpus of cues_examples.yml replays against cues.yml `openers`."""
    import yaml

    from index.query import drop_opener

    root = Path(__file__).resolve().parents[2]
    examples = yaml.safe_load((root / "data/language/cues_examples.yml").read_text("utf-8"))["openers"]
    assert examples
    for message, question in examples.items():
        assert drop_opener(message) == question, message


async def test_a_post_checked_of_someone_the_directory_does_not_list_is_not_answered_with_its_holder():
    """ "Ông X là giám đốc sở phải không?" for an X the table does not list: the documents answer
    (here: nothing reliable, so a refusal), not the directory's director."""
    from tests.unit.conftest import FakeRetriever, make_pipeline

    pipeline = make_pipeline(FakeRetriever(), contacts=CONTACTS)
    holder = next(c for c in CONTACTS.contacts if "giám đốc sở" in c.title.lower())
    text = "Ông Trần Văn Khánh là giám đốc Sở Nông nghiệp An Giang phải ko?"
    messages, _ = await run_action(
        ActionLookupContact(CONTACTS, pipeline), tracker_with(text, "ask_contact", pending=None)
    )
    assert messages and all(holder.name not in str(m.get("name", "")) for m in messages)
    assert messages[0]["response"] != "utter_contact_person"
    # the holder's own name checked: the directory answers
    own = f"{holder.name} là giám đốc Sở Nông nghiệp An Giang phải không?"
    messages, _ = await run_action(
        ActionLookupContact(CONTACTS, pipeline), tracker_with(own, "ask_contact", pending=None)
    )
    assert any(holder.name in str(m.get("name", "")) for m in messages), messages


async def test_a_contact_question_the_directory_cannot_match_is_tried_against_the_documents():
    from tests.unit.conftest import FakeRetriever, make_pipeline

    docs = {
        "st-lam-viec": {
            "meta": {
                "title": "Sóc Trăng tiếp đoàn công tác",
                "publisher": "VP Điều phối",
                "date": "2023-04-28",
            },
            "passages": [
                ["Ông Lê Văn Khải, Phó Giám đốc Sở, chủ trì buổi làm việc với đoàn công tác ngày 27/4/2023."]
            ],
        }
    }
    pipeline = make_pipeline(FakeRetriever(docs), contacts=CONTACTS)
    text = "Ai chủ trì buổi làm việc với đoàn công tác ngày 27/4/2023?"
    messages, _ = await run_action(
        ActionLookupContact(CONTACTS, pipeline), tracker_with(text, "ask_contact", pending=None)
    )
    assert messages[0]["response"].startswith("utter_kb_answer"), messages
    assert "Lê Văn Khải" in messages[0]["answer"]


def test_focus_keeps_every_question_of_a_message_that_asks_several():
    story = "Nhà tôi làm bánh tráng ở Phú Tân đã lâu, bán ở chợ và gửi đi thành phố cho người quen. " * 2
    message = story + "Tôi muốn biết làm OCOP thì được hỗ trợ những gì? Có mất phí gì không?"
    assert focus(message) == "Tôi muốn biết làm OCOP thì được hỗ trợ những gì? Có mất phí gì không?"


def test_equivalents_are_read_in_their_first_form():
    """abbreviations_examples.yml `equivalents`, replayed."""
    path = Path(__file__).resolve().parents[2] / "data" / "language" / "abbreviations_examples.yml"
    for text, words in yaml.safe_load(path.read_text(encoding="utf-8"))["equivalents"].items():
        assert " ".join(canonical_words(text)) == words, text
