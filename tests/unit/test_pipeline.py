"""The question-answering pipeline on in-memory stores: statistics table, cards, parse, keyboard."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from index.cards import CardStore, parse_cards
from index.keyboard import KeyboardDecoder
from index.lexicon import Lexicon, dictionary_words
from index.parse import Ask, QuestionParser
from index.pipeline import Context
from index.reply import Reply
from index.stats import StatsTable, parse_csv
from tests.unit.conftest import FakeRetriever, make_pipeline

ROOT = Path(__file__).resolve().parents[2]
HEADER = "id,scope,metric,star,value,value_max,qualifier,kind,period,as_of,doc,source,quote\n"
DOCS = {
    "ag": "Tỉnh A có 165 sản phẩm OCOP, gồm 14 sản phẩm 4 sao. Sau đó có 182 sản phẩm của 125 chủ thể.",
    "vn": "Cả nước có 2.000 sản phẩm 4 sao.",
    "tg": "Tỉnh B có 207 sản phẩm, trong đó có 95 sản phẩm 4 sao. Phấn đấu ít nhất 200 sản phẩm. Phấn đấu có thêm 170 sản phẩm. Đề nghị công nhận 5 sao cho 05 sản phẩm. Phấn đấu 40% chủ thể là hợp tác xã, 30% chủ thể là doanh nghiệp.",
}
ROWS = HEADER + (
    "a1,An Giang,san_pham,3+,165,,,actual,,2024-11-06,ag,,Tỉnh A có 165 sản phẩm OCOP\n"
    "a2,An Giang,san_pham,4,14,,,actual,,2024-11-06,ag,,gồm 14 sản phẩm 4 sao\n"
    "a3,An Giang,san_pham,3+,182,,,actual,,2025-02,ag,,Sau đó có 182 sản phẩm\n"
    "a4,An Giang,san_pham,3+,170,,thêm,target,2025,,ag-missing,,Phấn đấu có thêm 170 sản phẩm\n"
    "t1,Tiền Giang,san_pham,3+,207,,,actual,,2023-09-11,tg,,Tỉnh B có 207 sản phẩm\n"
    "t2,Tiền Giang,san_pham,4,95,,,actual,,2023-09-11,tg,,có 95 sản phẩm 4 sao\n"
    "t3,Tiền Giang,san_pham,3+,200,,ít nhất,target,2025,2023-09-11,tg,,Phấn đấu ít nhất 200 sản phẩm\n"
    "t4,Tiền Giang,san_pham,3+,999,,,actual,,2023-09-11,tg,,Tỉnh B có 207 sản phẩm\n"
    "t5,Tiền Giang,san_pham,3+,170,,thêm,target,2025,,tg,,Phấn đấu có thêm 170 sản phẩm\n"
    "a5,An Giang,chu_the,,125,,,actual,,2025-02,ag,,182 sản phẩm của 125 chủ thể\n"
    "t6,Tiền Giang,san_pham,5_de_nghi,5,,,actual,,2023-09-11,tg,,Đề nghị công nhận 5 sao cho 05 sản phẩm\n"
    "v1,Việt Nam,san_pham,4,2000,,,actual,,2025-07,vn,,Cả nước có 2.000 sản phẩm 4 sao\n"
    "t7,Tiền Giang,ty_le_htx,,40,,,target,2025,2023-09-11,tg,,40% chủ thể là hợp tác xã\n"
    "t8,Tiền Giang,ty_le_dn,,30,,,target,2025,2023-09-11,tg,,30% chủ thể là doanh nghiệp\n"
)


def table() -> StatsTable:
    rows, errors = parse_csv(ROWS, "fixture.csv", DOCS)
    return StatsTable(None, DOCS, rows), errors


def test_broken_rows_are_reported_by_file_and_line_and_the_rest_work():
    t, errors = table()
    assert any(e.startswith("fixture.csv:5:") and "ag-missing" in e for e in errors)
    assert any(e.startswith("fixture.csv:9:") and "not written in the quote" in e for e in errors)
    assert {r.id for r in t.rows()} == set("a1 a2 a3 a5 t1 t2 t3 t5 t6 t7 t8 v1".split())


def test_committed_table_and_cards_are_valid():
    from index.stats import document_texts

    t = StatsTable.load(ROOT / "data" / "stats", document_texts(ROOT / "data" / "docs"))
    assert t.errors == [] and len(t.rows()) >= 30
    cards = CardStore(ROOT / "data" / "cards")
    assert cards.errors == [] and len(cards.cards()) >= 20


def with_cards(p, store):  # noqa: ANN001, ANN201 - a pipeline and a CardStore (or its folder)
    """The pipeline answering from these cards (rebuilt at once)."""
    p.cards.store = store if isinstance(store, CardStore) else CardStore(store)
    p.cards.refresh()
    p.cards._built = p.cards._build()
    return p


def pipeline():
    t, _ = table()
    return make_pipeline(FakeRetriever(), t.rows())


@pytest.mark.parametrize(
    "question, response, must",
    [
        (
            "Tiền Giang và An Giang tỉnh nào nhiều sản phẩm 4 sao hơn?",
            "utter_stat_compare",
            ["Tiền Giang", "95", "14"],
        ),
        ("Tổng số sản phẩm OCOP của An Giang và Tiền Giang cộng lại?", "utter_stat_sum", ["389"]),
        ("Tiền Giang hơn An Giang bao nhiêu sản phẩm 4 sao?", "utter_stat_compare", ["81"]),
        ("An Giang tăng bao nhiêu sản phẩm OCOP so với trước?", "utter_stat_trend_up", ["17"]),
        ("Tiền Giang đã đạt mục tiêu 2025 chưa?", "utter_stat_progress_reached", ["207", "200"]),
        ("Tỉnh nào có nhiều sản phẩm OCOP nhất?", "utter_stat_rank", ["Tiền Giang"]),
        (
            "Giữa An Giang và Tiền Giang, nơi nào có ít sản phẩm 4 sao nhất?",
            "utter_stat_rank_low",
            ["An Giang"],
        ),
        ("Số sản phẩm OCOP Tiền Giang tăng bao nhiêu so với 2021?", "utter_stat_trend_single", ["207"]),
        ("Ở Tiền Giang, hạng 4 sao chiếm tỷ trọng bao nhiêu?", "utter_stat_share", ["45,9"]),
        ("Tháng 11/2024 An Giang có bao nhiêu sản phẩm OCOP?", "utter_stat_figure", ["165"]),
        ("Bình quân mỗi chủ thể ở An Giang có mấy sản phẩm?", "utter_stat_average", ["1,46", "182", "125"]),
        ("Tiền Giang có sản phẩm 5 sao chưa?", "utter_stat_none_but", ["5 sản phẩm"]),
        ("Sao Tiền Giang có 12 sản phẩm 4 sao rồi mà ít ai biết?", "utter_stat_premise", ["95"]),
        (
            "Sản phẩm 4 sao chiếm tầm bao nhiêu phần trăm tổng số của Tiền Giang?",
            "utter_stat_share",
            ["45,9"],
        ),
        (
            "Tiền Giang có mấy sản phẩm 4 sao, số liệu tính đến lúc nào?",
            "utter_stat_figure",
            ["95", "11/09/2023"],
        ),
    ],
)
def test_reasoning_over_the_table(question, response, must):
    reply = pipeline().answer(question)
    assert reply.kind == "statistic" and reply.response == response
    text = " ".join(str(v) for v in reply.kwargs.values())
    assert all(m in text for m in must), text


def test_a_follow_up_adds_a_star_level_to_the_last_figure():
    p = pipeline()
    first = p.answer("Tiền Giang có bao nhiêu sản phẩm 4 sao?")
    context = Context(first.question, first.refs, ("Tiền Giang",))
    reply = p.answer("cộng với 3 sao trở lên là bao nhiêu", context)
    assert reply.response == "utter_stat_sum" and "302" in reply.kwargs["total"]


def test_a_relative_target_is_not_computed():
    p = pipeline()
    p.figures.table._rows = [r for r in p.figures.table.rows() if r.id != "t3"]
    reply = p.answer("Tiền Giang đã đạt mục tiêu 2025 chưa?")
    assert reply.response == "utter_stat_progress_relative"
    newest = [r for r in p.figures.table.rows() if r.scope == "Tiền Giang" and r.kind == "actual"]
    assert len(reply.refs) >= 2 and any(
        f"stat:{r.id}" in reply.refs for r in newest
    )  # with the newest figure


def test_figures_with_different_dates_say_so():
    reply = pipeline().answer("Tiền Giang và An Giang tỉnh nào nhiều sản phẩm 4 sao hơn?")
    assert "utter_stat_dates_differ" in [r for r, _ in reply.messages()]


def test_follow_ups_use_the_conversation():
    p = pipeline()
    first = p.answer("An Giang có bao nhiêu sản phẩm 4 sao?")
    ctx = Context(first.question, first.refs, ("An Giang", "Tiền Giang"))
    assert p.answer("cộng lại là bao nhiêu?", ctx).kwargs["total"].startswith("109")
    source = p.answer("số liệu đó lấy từ đâu?", ctx)
    assert source.kind == "followup" and "14 sản phẩm 4 sao" in source.kwargs["sources"]


def test_unknown_decision_number_is_refused():
    reply = pipeline().answer("Quyết định 777/QĐ-TTg về OCOP nói gì?")
    assert reply.kind == "refusal" and reply.response == "utter_kb_unknown_document"


def test_a_question_about_something_the_table_does_not_count_is_not_answered_from_it():
    reply = pipeline().answer("An Giang có bao nhiêu thành viên hội đồng đánh giá?")
    assert reply.kind != "statistic"


CARDS = """cards:
- id: noi-nop
  topic: hồ sơ
  questions: ["nộp hồ sơ OCOP ở đâu", "nop ho so o dau"]
  answer: Nộp tại UBND xã.
  source: {title: "Quyết định 1489/QĐ-TTg", issuer: "Thủ tướng Chính phủ", date: "2025-07-06"}
- id: broken
  topic: x
  questions: ["a"]
- id: ho-so
  topic: hồ sơ
  questions: ["hồ sơ OCOP gồm giấy tờ gì"]
  answer: Phiếu đăng ký và báo cáo tự đánh giá.
  source: {title: "Quyết định 148/QĐ-TTg", issuer: "Thủ tướng Chính phủ", date: "2023-02-24"}
  related: [noi-nop]
"""


def test_a_broken_card_is_reported_by_file_and_line_and_the_others_work():
    cards, errors = parse_cards(CARDS, "cards.yml")
    assert [c.id for c in cards] == ["noi-nop", "ho-so"]
    assert errors and errors[0].startswith("cards.yml:7:")


def test_an_edited_card_is_live_without_restart(tmp_path):
    (tmp_path / "c.yml").write_text(CARDS, encoding="utf-8")
    store = CardStore(tmp_path)
    p = with_cards(make_pipeline(FakeRetriever()), store)
    assert p.answer("nộp hồ sơ OCOP ở đâu").kwargs["answer"] == "Nộp tại UBND xã."
    (tmp_path / "c.yml").write_text(
        CARDS.replace("Nộp tại UBND xã.", "Nộp tại bộ phận một cửa của xã."), encoding="utf-8"
    )
    assert p.answer("nộp hồ sơ OCOP ở đâu").kwargs["answer"] == "Nộp tại bộ phận một cửa của xã."


def test_a_card_does_not_answer_for_a_year_it_does_not_speak_to(tmp_path):
    (tmp_path / "c.yml").write_text(CARDS, encoding="utf-8")
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    p.tuning = dataclasses.replace(
        p.tuning, card_min_coverage=0.0, card_threshold=0.5
    )  # only the year decides
    assert p.answer("năm 2025 nộp hồ sơ OCOP ở đâu").refs == ("card:noi-nop",)  # its decision's year
    assert p.answer("năm 2031 nộp hồ sơ OCOP ở đâu").kind != "card"


def test_a_later_part_asking_for_a_figure_adds_the_tables_figure_to_the_card(tmp_path):
    (tmp_path / "c.yml").write_text(CARDS, encoding="utf-8")
    t, _ = table()
    p = with_cards(make_pipeline(FakeRetriever(), t.rows()), CardStore(tmp_path))
    p.tuning = dataclasses.replace(p.tuning, card_min_coverage=0.0, card_threshold=0.5)
    reply = p.answer("nộp hồ sơ OCOP ở đâu, và hiện nay cả nước có bao nhiêu sản phẩm 4 sao?")
    assert reply.refs == ("card:noi-nop", "stat:v1")
    assert [r for r, _ in reply.messages()] == ["utter_card_answer", "utter_stat_figure"]
    alone = p.answer("nộp hồ sơ OCOP ở đâu")
    assert alone.refs == ("card:noi-nop",) and len(alone.messages()) == 1


def test_cue_examples_parse_as_written():
    parser = QuestionParser.load()
    data = yaml.safe_load((ROOT / "data" / "language" / "cues_examples.yml").read_text(encoding="utf-8"))
    for text, ask in data["asks"].items():
        assert parser.parse(text).ask == Ask(ask), text
    for text, wants in data["answer_types"].items():
        assert list(parser.parse(text).wants) == wants, text
    for text, posts in data["posts"].items():
        assert sorted(parser.posts_asked(parser.parse(text).folded)) == posts, text
    for text, phrase in data["star_phrases"].items():
        assert parser.star_phrase(text) == phrase, text
    for text, parts in data["clauses"].items():
        assert parser.clauses(text) == parts, text
    for text, agencies in data["asked_agencies"].items():
        assert sorted(parser.asked_agencies(parser.parse(text))) == agencies, text
    from index.units import states_count_of

    for text, about in data["articles"].items():
        assert bool(parser.asks_article.search(parser.parse(text).folded)) is about, text
    for sentence, unit, counts in data["counts"]:
        assert states_count_of(sentence, unit) is counts, (sentence, unit)
    for text, elliptical in data["elliptical"].items():
        assert parser.is_elliptical(parser.parse(text).folded) is elliptical, text
    for text, words in data["source_clause"].items():
        assert sorted(parser.parse(text).content) == words, text
    for text, like in data["like_last"].items():
        assert bool(parser.like_last.search(parser.parse(text).folded)) is like, text
    for text, words in data["tail_fillers"].items():
        assert sorted(parser.parse(text).content) == words, text
    for text, exists in data["exists"].items():
        assert bool(parser.exists.search(parser.parse(text).folded)) is exists, text


def test_keyboard_examples_decode_as_written():
    lexicon = Lexicon([], dictionary_words())
    decoder = KeyboardDecoder.load(lexicon.word_keys)
    data = yaml.safe_load((ROOT / "data" / "language" / "keyboard_examples.yml").read_text(encoding="utf-8"))
    for typed, meant in data["decoded"].items():
        assert decoder.decode(typed) == meant
    for typed in data["unchanged"]:
        assert decoder.decode(typed) == typed


def test_the_server_and_make_tune_use_the_same_pipeline_object(monkeypatch):
    """The action server loads build_pipeline()'s object; `index eval` (make tune) answers
    through that same factory and the object's answer(), not a copy of its steps."""
    import argparse

    from actions import resources
    from index import evaluate, pipeline

    served = make_pipeline(FakeRetriever())
    calls: list[str] = []
    original = type(served).answer

    def recording(self, message, context=Context()):  # noqa: ANN001, ANN202
        calls.append(message)
        return original(self, message, context)

    monkeypatch.setattr(type(served), "answer", recording)
    monkeypatch.setattr(pipeline, "build_pipeline", lambda *a, **k: served)
    monkeypatch.setattr(evaluate, "build_pipeline", lambda *a, **k: served)
    monkeypatch.setattr(resources, "_knowledge", None)
    assert resources.load_knowledge().value is served  # the action server's object

    class Retriever(FakeRetriever):
        def __init__(self, *a, **k) -> None:  # noqa: ANN002, ANN003
            from index.retrieve import Tuning

            super().__init__()
            self.tuning = Tuning()

        def dense_query(self, q):  # noqa: ANN001, ANN202
            return None

        def search(self, q, k=5, vector=None):  # noqa: ANN001, ANN202
            return super().search(q, k)

    monkeypatch.setattr(evaluate, "HybridRetriever", Retriever)
    items = [
        {"q": "nộp hồ sơ OCOP ở đâu", "doc": None, "served": True, "card": "noi-nop"},
        {"q": "x", "doc": None},
    ]
    monkeypatch.setattr(evaluate, "load_questions", lambda path: items)
    args = argparse.Namespace(
        questions=["q.yaml"],
        tune=False,
        calibrate=False,
        keep_cards=False,
        tune_cards=False,
        min_hit1=0.0,
        min_hit3=0.0,
        verbose=False,
    )
    evaluate.main(argparse.Namespace(build_dir=None), None, args)
    assert calls == [i["q"] for i in items]  # make tune / index eval answered through it
    monkeypatch.setattr(resources, "_knowledge", None)


def test_the_profiler_times_the_served_pipeline():
    text = (ROOT / "scripts" / "profile_turn.py").read_text(encoding="utf-8")
    assert "build_pipeline(" in text and ".answer(" in text


def test_no_card_paraphrase_is_a_question_of_an_evaluation_set():
    import glob

    from bot.text import fold

    asked = set()
    sets = glob.glob(str(ROOT / "tests" / "eval" / "*.yaml")) + [
        str(ROOT.parent / "shared" / "eval" / "dev.yaml")
    ]
    for f in filter(lambda f: Path(f).is_file(), sets):
        for item in yaml.safe_load(Path(f).read_text(encoding="utf-8"))["items"]:
            asked.update(" ".join(fold(t).lower().split()) for t in item["turns"])
    for item in yaml.safe_load((ROOT / "tests" / "retrieval" / "questions.yaml").read_text(encoding="utf-8"))[
        "items"
    ]:
        asked.add(" ".join(fold(item["q"]).lower().split()))
    for card in CardStore(ROOT / "data" / "cards").cards():
        for q in card.questions:
            assert " ".join(fold(q).lower().split()) not in asked, q


def test_every_response_the_code_names_is_in_the_domain():
    import re

    responses: set[str] = set()
    for path in (ROOT / "domain").glob("*.yml"):
        responses.update((yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).keys())
    named = set()
    for folder in ("index", "actions"):
        for path in (ROOT / folder).glob("*.py"):
            named.update(re.findall(r'"(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    named.discard("utter_action")  # Rasa's metadata key of a bot message (actions/handoff.py), not a response
    assert named and named <= responses, named - responses


def test_a_merged_province_figure_says_which_merger_it_predates():
    reply = pipeline().answer("An Giang có bao nhiêu sản phẩm 4 sao?")
    notes = dict(reply.notes)
    assert notes["utter_kb_note_merger"] == {
        "province": "An Giang",
        "merger": "đã hợp nhất với tỉnh Kiên Giang",
    }
    assert "utter_kb_note_merger" not in dict(
        pipeline().answer("Tiền Giang có bao nhiêu sản phẩm 4 sao?").notes
    )


def test_a_provincial_document_asked_of_another_province_is_said_to_be_whose_it_is():
    docs = {
        "st-de-an": {
            "meta": {
                "title": "Sóc Trăng triển khai OCOP",
                "publisher": "VP Điều phối Sóc Trăng",
                "date": "2023-04-28",
            },
            "passages": [
                [
                    "UBND tỉnh Sóc Trăng đã phê duyệt Đề án OCOP tại Quyết định số 1397/QĐ-UBND ngày 12/6/2019.",
                    "Sau khi Thủ tướng ban hành Quyết định số 490/QĐ-TTg, các tỉnh xây dựng đề án.",
                ]
            ],
        }
    }
    p = make_pipeline(FakeRetriever(docs))
    reply = p.answer("Quyết định 1397 phê duyệt đề án OCOP của An Giang phải không?")
    assert reply.response == "utter_kb_document_other_place"
    assert reply.kwargs["place"] == "Sóc Trăng" and reply.kwargs["asked"] == "An Giang"
    assert p.answer("Quyết định 1397 của Sóc Trăng là gì?").response != "utter_kb_document_other_place"
    # a national decision (QĐ-TTg) belongs to no province: nothing is said of whose it is
    assert p.answer("Quyết định 490 của An Giang quy định gì?").response != "utter_kb_document_other_place"


def test_an_article_named_by_its_title_is_answered_with_its_author_and_date():
    docs = {
        "tg-bai": {
            "meta": {
                "title": "Tiền Giang phát triển sản phẩm OCOP đặc trưng",
                "publisher": "Báo Ấp Bắc",
                "author": "Thanh Tuấn",
                "date": "2023-09-11",
            },  # fmt: skip
            "passages": [["Tiền Giang có 207 sản phẩm OCOP."]],
        },
        "st-bai": {
            "meta": {
                "title": "Sóc Trăng trao đổi kinh nghiệm OCOP",
                "publisher": "VP Điều phối",
                "date": None,
            },
            "passages": [["Sóc Trăng có 189 sản phẩm OCOP."]],
        },
    }
    p = make_pipeline(FakeRetriever(docs))
    reply = p.answer("Bài viết về sản phẩm OCOP đặc trưng Tiền Giang do ai viết, đăng ngày nào?")
    assert reply.response == "utter_kb_article" and reply.refs == ("doc:tg-bai",)
    assert reply.kwargs["author"] == "Thanh Tuấn" and reply.kwargs["date"] == "11/09/2023"
    assert (
        p.answer("bài Sóc Trăng trao đổi kinh nghiệm đăng ngày nào").response
        == "utter_kb_article_no_author_undated"
    )
    assert not p.answer("bài hát về OCOP do ai viết").response.startswith(
        "utter_kb_article"
    )  # names no article


def test_an_elliptical_follow_up_is_read_only_against_the_last_answers_document():
    p = pipeline()
    alone = p.answer("còn hội đồng cấp tỉnh?", Context())
    assert alone.kind == "refusal"  # nothing to lean on: not answered from any passage
    after = p.answer("còn hội đồng cấp tỉnh?", Context("Sóc Trăng có bao nhiêu sản phẩm?", ("doc:tg-2023",)))
    assert after.kind == "refusal" or after.refs == ("doc:tg-2023",)  # never another document


def test_a_bare_figure_of_another_place_is_the_last_question_for_that_place():
    p = pipeline()
    first = p.answer("Sóc Trăng có bao nhiêu chủ thể OCOP?")
    ctx = Context(first.question, first.refs, ("Sóc Trăng",))
    again = p.answer("thế Tiền Giang bao nhiêu?", ctx)
    assert again.kind == "refusal" or "chủ thể" in str(again.kwargs)  # the owners, never its products
    assert "207" not in str(again.kwargs)


def test_a_message_asking_two_things_gets_both_answers_with_their_sources():
    p = pipeline()
    reply = p.answer("Tiền Giang có bao nhiêu sản phẩm 4 sao? Hết hạn chủ thể phải làm gì?", Context())
    answers = [m[1].get("answer", "") for m in reply.messages()]
    assert any("95 sản phẩm 4 sao" in a for a in answers) and any("đánh giá lại" in a for a in answers)
    assert reply.refs == ("doc:tg-2023", "doc:prog-cert")


def test_a_document_number_asked_is_no_figure():
    parser = QuestionParser.load()
    assert not parser.parse("Sóc Trăng phê duyệt đề án OCOP theo quyết định số mấy?").figure
    assert parser.parse("Sóc Trăng có mấy sản phẩm OCOP?").figure


SUPERSEDED = """cards:
- id: cong-nhan-nay
  topic: công nhận
  questions: ["ai công nhận sản phẩm OCOP 3 sao"]
  answer: "Từ 07/2025, UBND tỉnh công nhận sản phẩm 3 sao."
  source: {title: "Quyết định 1489/QĐ-TTg", number: "1489/QĐ-TTg", issuer: "Thủ tướng Chính phủ", date: "2025-07-06"}
  valid_from: "2025-07-06"
- id: cong-nhan-truoc
  topic: công nhận
  questions: ["trước đây cấp huyện công nhận sản phẩm 3 sao phải không"]
  answer: "Trước 07/2025, UBND cấp huyện công nhận sản phẩm 3 sao."
  source: {title: "Quyết định 148/QĐ-TTg", number: "148/QĐ-TTg", issuer: "Thủ tướng Chính phủ", date: "2023-02-24"}
  valid_from: "2023-02-24"
  superseded_by: cong-nhan-nay
"""


def test_a_year_before_a_card_took_effect_gets_the_card_it_superseded(tmp_path):
    (tmp_path / "c.yml").write_text(SUPERSEDED, encoding="utf-8")
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    p.tuning = dataclasses.replace(p.tuning, card_min_coverage=0.0, card_threshold=0.5)
    assert p.answer("ai công nhận sản phẩm OCOP 3 sao").refs == ("card:cong-nhan-nay",)
    assert p.answer("năm 2024 ai công nhận sản phẩm OCOP 3 sao").refs == ("card:cong-nhan-truoc",)


def test_a_part_of_the_last_card_asked_with_trong_do_is_that_card_again(tmp_path):
    (tmp_path / "c.yml").write_text(
        SUPERSEDED.replace("3 sao.", "3 sao, trong đó có sản phẩm 5 sao do Bộ công nhận."), encoding="utf-8"
    )
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    after = p.answer("trong đó bao nhiêu sản phẩm 5 sao?", Context("ai công nhận", ("card:cong-nhan-nay",)))
    assert after.refs == ("card:cong-nhan-nay",)
    alone = p.answer("trong đó bao nhiêu sản phẩm 5 sao?", Context())
    assert alone.refs != ("card:cong-nhan-nay",)


def test_a_target_asked_with_the_present_figure_gets_both():
    reply = pipeline().answer(
        "Tiền Giang đặt mục tiêu bao nhiêu sản phẩm, và hiện nay có bao nhiêu?", Context()
    )
    said = " ".join(str(m[1].get("figures", "")) for m in reply.messages())
    assert "mục tiêu ít nhất 200" in said and "207 sản phẩm" in said


def test_a_short_follow_up_without_a_place_is_asked_of_the_last_answers_place():
    p = pipeline()
    first = p.answer("An Giang có bao nhiêu sản phẩm OCOP?")
    ctx = Context(first.question, first.refs, ("An Giang",))
    owners = p.answer("thế có mấy chủ thể?", ctx)  # a measure named, no place
    assert owners.kind == "statistic" and owners.refs == ("stat:a5",)
    four = p.answer(
        "trong số đó hàng 4 sao là mấy?",
        Context("Tiền Giang có bao nhiêu sản phẩm?", ("stat:t1",), ("Tiền Giang",)),
    )
    assert four.kind == "statistic" and four.refs == ("stat:t2",)
    total = p.answer(
        "tất cả tổng cộng là mấy?",
        Context("Tiền Giang có mấy sản phẩm 4 sao?", ("stat:t2",), ("Tiền Giang",)),
    )
    assert total.kind == "statistic" and total.refs == ("stat:t1",)
    alone = p.answer("thế có mấy chủ thể?", Context())  # no earlier place: never An Giang's
    assert "stat:a5" not in alone.refs
    two = p.answer(
        "thế có mấy chủ thể?", Context("so sánh", ("stat:a1", "stat:t1"), ("An Giang", "Tiền Giang"))
    )
    assert "stat:a5" not in two.refs  # two places before: which one is not guessed
    after_card = p.answer(
        "trong số đó hàng 4 sao là mấy?", Context("Tiền Giang có mục tiêu gì?", ("card:x",), ())
    )
    assert "stat:t2" not in after_card.refs  # after a card, "trong đó" asks a part of the card


def test_a_product_in_everyday_words_gets_the_groups_card_and_its_group():
    p = with_cards(
        make_pipeline(FakeRetriever()), CardStore(ROOT / "data" / "cards")
    )  # the shipped cards (the groups card among them)
    reply = p.answer("chậu mai vàng với bonsai của tôi thuộc nhóm nào của OCOP?", Context())
    assert reply.refs == ("card:nhom-san-pham",)
    assert ("utter_product_group", {"products": "mai vàng, bonsai", "group": "sinh vật cảnh"}) in reply.notes
    counted = p.answer("An Giang có bao nhiêu sản phẩm gạo đạt OCOP?", Context())
    assert counted.kind == "refusal" or "gạo" in counted.kwargs.get("answer", "")


SUPPORT = """cards:
- id: ho-tro
  topic: hỗ trợ
  questions: ["nhà nước hỗ trợ đăng ký nhãn hiệu OCOP bao nhiêu tiền", "phí đăng ký nhãn hiệu được hỗ trợ bao nhiêu"]
  answer: "Ngân sách hỗ trợ đăng ký nhãn hiệu tối đa 35 triệu đồng."
  source: {title: "Thông tư 53/2022/TT-BTC", number: "53/2022/TT-BTC", issuer: "Bộ Tài chính", date: "2022"}
  needs: [hỗ trợ, ngân sách]
- id: dang-ky
  topic: đăng ký
  questions: ["đăng ký OCOP ở đâu", "đăng ký OCOP thế nào, phí đăng ký"]
  answer: "Chủ thể nộp phiếu đăng ký tại UBND xã."
  source: {title: "Quyết định 148/QĐ-TTg", number: "148/QĐ-TTg", issuer: "Thủ tướng Chính phủ", date: "2023-02-24"}
"""


def test_a_card_answers_only_its_subject_and_a_money_question_only_with_an_amount(tmp_path):
    (tmp_path / "c.yml").write_text(SUPPORT, encoding="utf-8")
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    p.tuning = dataclasses.replace(p.tuning, card_min_coverage=0.0, card_threshold=0.5)
    assert p.answer("nhà nước hỗ trợ đăng ký nhãn hiệu bao nhiêu tiền").refs == ("card:ho-tro",)
    fee = p.answer(
        "đăng ký chứng nhận phải đóng phí bao nhiêu tiền"
    )  # a fee: neither support nor a card without an amount
    assert fee.refs not in (("card:ho-tro",), ("card:dang-ky",))
    assert p.answer("đăng ký OCOP ở đâu").refs == ("card:dang-ky",)


def test_another_group_of_the_same_share_is_asked_with_con():
    p = pipeline()
    first = p.answer("Tiền Giang đặt mục tiêu bao nhiêu % chủ thể là hợp tác xã?")
    assert first.refs == ("stat:t7",)
    after = p.answer("thế còn doanh nghiệp?", Context(first.question, first.refs, ("Tiền Giang",)))
    assert after.kind == "statistic" and after.refs == ("stat:t8",)
    alone = p.answer("thế còn doanh nghiệp?", Context())
    assert "stat:t8" not in alone.refs


def test_each_part_of_a_message_gets_its_own_card_or_none():
    p = pipeline()
    answerer, seen = p.card_answers, []

    def card_of(q, variants, context, tuning):  # noqa: ANN001, ANN202 - one card per part, none for "x"
        seen.append(context.refs)
        text = variants[0]
        return (
            None if text == "x" else Reply("card", "utter_card_answer", {"answer": text}, (f"card:{text}",))
        )

    answerer.answer = card_of
    both = answerer.answer_parts(["a", "b"], Context(), p.tuning)
    assert both.refs == ("card:a", "card:b") and ("utter_card_answer", {"answer": "b"}) in both.notes
    assert seen == [(), ("card:a",)]  # the second part is read after the first part's card
    assert answerer.answer_parts(["a", "x"], Context(), p.tuning) is None


def test_a_star_level_named_alone_after_a_figure_is_the_last_question_at_that_level():
    p = pipeline()
    ctx = Context("Tiền Giang có mấy sản phẩm 4 sao?", ("stat:t2",), ("Tiền Giang",))
    assert p.answer("thế từ 3 sao trở lên thì sao?", ctx).refs == ("stat:t1",)
    assert "stat:t1" not in p.answer("thế từ 3 sao trở lên thì sao?", Context()).refs


def test_a_superseded_card_speaks_to_the_years_it_was_in_force(tmp_path):
    (tmp_path / "c.yml").write_text(SUPERSEDED, encoding="utf-8")
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    before, now = p.cards.get("cong-nhan-truoc"), p.cards.get("cong-nhan-nay")
    assert p.card_answers.speaks_to(before, "2024")  # in force 2023-2025, though its text says neither
    assert not p.card_answers.speaks_to(before, "2022")
    assert not p.card_answers.speaks_to(now, "2030")  # an open period covers no later year


def test_a_place_in_the_list_of_the_last_card_gets_that_card_again(tmp_path):
    (tmp_path / "c.yml").write_text(
        SUPERSEDED.replace(
            "UBND tỉnh công nhận sản phẩm 3 sao.", "có 3 bước: chấm điểm, họp hội đồng, ra quyết định."
        ),
        encoding="utf-8",
    )
    p = with_cards(make_pipeline(FakeRetriever()), CardStore(tmp_path))
    last = Context("quy trình công nhận có mấy bước", ("card:cong-nhan-nay",))
    assert p.answer("còn bước cuối?", last).refs == ("card:cong-nhan-nay",)
    assert p.answer("còn bước cuối?", Context()).refs != ("card:cong-nhan-nay",)  # no list before
    assert p.answer("còn hồ sơ thứ hai?", last).refs != ("card:cong-nhan-nay",)  # the card lists no dossier
