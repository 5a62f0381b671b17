"""Kinds of figure questions read by the table stage: level ranges, sums over places said before,
districts, units the measure does not count (in-memory table, the real cue files)."""

from __future__ import annotations

from index.parse import Ask, QuestionParser
from index.pipeline import Context
from index.stats import StatsTable, parse_csv
from tests.unit.conftest import FakeRetriever, make_pipeline

HEADER = "id,scope,metric,star,value,value_max,qualifier,kind,period,as_of,doc,source,quote\n"
DOCS = {
    "ag": "Năm trước tỉnh có 2 sản phẩm 5 sao. Nay có 14 sản phẩm 4 sao và 5 sản phẩm 5 sao, tổng 182 sản phẩm.",
    "tg": "Tỉnh B có 207 sản phẩm. Tỉnh đã hỗ trợ 08 điểm giới thiệu và bán sản phẩm. Đến 2025 có 10 điểm bán.",
}
ROWS = HEADER + (
    "a1,An Giang,san_pham,5,2,,,actual,,2024-11-06,ag,,có 2 sản phẩm 5 sao\n"
    "a2,An Giang,san_pham,4,14,,,actual,,2025-02,ag,,có 14 sản phẩm 4 sao\n"
    "a3,An Giang,san_pham,5,5,,,actual,,2025-02,ag,,5 sản phẩm 5 sao\n"
    "a4,An Giang,san_pham,3+,182,,,actual,,2025-02,ag,,tổng 182 sản phẩm\n"
    "t1,Tiền Giang,san_pham,3+,207,,,actual,,2023-09-11,tg,,Tỉnh B có 207 sản phẩm\n"
    "t2,Tiền Giang,diem_ban,,8,,,actual,,2023-09-11,tg,,hỗ trợ 08 điểm giới thiệu và bán sản phẩm\n"
    "t3,Tiền Giang,diem_ban,,10,,,target,2025,2023-09-11,tg,,Đến 2025 có 10 điểm bán\n"
)


def pipeline():  # noqa: ANN201
    rows, errors = parse_csv(ROWS, "fixture.csv", DOCS)
    assert errors == []
    return make_pipeline(FakeRetriever(), StatsTable(None, DOCS, rows).rows())


def test_from_four_stars_up_adds_the_levels_counted_at_one_date():
    reply = pipeline().answer("bên An Giang hiện có bao nhiêu sản phẩm đạt từ 4 sao trở lên vậy")
    assert reply.response == "utter_stat_sum" and reply.kwargs["total"].startswith("19 ")
    assert reply.refs == ("stat:a2", "stat:a3")  # the 5-star row of the same date, not the older one


def test_a_sum_over_the_places_said_before_adds_the_new_place():
    ctx = Context("An Giang có bao nhiêu sản phẩm OCOP?", ("stat:a4",), ("An Giang",))
    reply = pipeline().answer("vậy thêm Tiền Giang vô, gộp cả hai tỉnh lại thì được bao nhiêu sản phẩm", ctx)
    assert reply.response == "utter_stat_sum" and reply.kwargs["total"].startswith("389 ")
    assert reply.kwargs["parts"] == "An Giang và Tiền Giang"


def test_a_district_named_is_not_answered_with_its_province_figure():
    reply = pipeline().answer("Thị xã Gò Công ở Tiền Giang được mấy sản phẩm OCOP rồi")
    assert reply.kind != "statistic" and "207" not in str(reply.kwargs)


def test_a_count_of_something_the_measure_does_not_count_is_not_listed_from_the_table():
    reply = pipeline().answer("Tiền Giang phấn đấu có bao nhiêu điểm")
    assert reply.kind != "statistic"


def test_the_parser_reads_districts_sums_rankings_and_level_ranges():
    parser = QuestionParser.load()
    assert parser.parse("huyện Chợ Mới có mấy sản phẩm").locality == "cho moi"
    assert parser.parse("CHUONG TRINH MOI XA MOT SAN PHAM LA GI").locality == ""
    assert parser.parse("Thành phố Cần Thơ có bao nhiêu sản phẩm").locality == ""
    assert (
        parser.parse("thanh pho chau doc co bao nhieu san pham").locality == "chau doc"
    )  # a city, lowercase
    assert parser.parse("tổng ba tỉnh gộp lại được mấy sản phẩm 3 sao").ask == Ask.SUM
    ranked = parser.parse(
        "số sản phẩm 4 sao của An Giang, Sóc Trăng, Tiền Giang, sắp từ nhiều đến ít giúp em"
    )
    assert ranked.ask == Ask.RANK
    assert parser.parse("Tiền Giang có mấy sản phẩm 4 sao trở lên").stars == ("4", "5")


def test_a_date_of_a_count_and_a_date_in_brackets_are_read_as_such():
    parser = QuestionParser.load()
    as_of = parser.parse("Tiền Giang tính tới hết năm 2025 được bao nhiêu sản phẩm OCOP")
    assert as_of.kind == "actual" and as_of.reached
    assert parser.parse("Tiền Giang phấn đấu đến năm 2025 có bao nhiêu sản phẩm").kind == "target"
    assert parser.parse("bài ngày 6/11/2024 nói chủ thể OCOP có vai trò gì").values == ()


def test_a_price_is_not_answered_with_a_count():
    reply = pipeline().answer("sản phẩm 5 sao của An Giang giá bán bao nhiêu một chai")
    assert reply.kind != "statistic"


def test_a_count_reached_is_not_answered_by_an_aim_nor_an_aim_by_a_count_reached():
    from index.sentence_checks import SentenceChecks

    parser = QuestionParser.load()
    checks = SentenceChecks(parser)
    assert checks.first_figure("Đến năm 2025, phấn đấu ít nhất 200 sản phẩm đạt 3 sao") == "aimed"
    assert checks.first_figure("Tỉnh đã hỗ trợ 08 điểm, sắp tới sẽ phát triển thêm nhiều điểm") == "reached"
    assert checks.first_figure("Toàn tỉnh có 207 sản phẩm") == ""


def test_someone_named_in_the_last_passage_is_asked_of_that_passage():
    docs = {
        "visit": {
            "meta": {
                "title": "Đoàn công tác tỉnh bạn đến thăm",
                "publisher": "Văn phòng điều phối",
                "date": "2023-04-28",
            },
            "passages": [
                [
                    "Buổi sáng, Bà Trần Thị Hoa – Phó Giám đốc Sở Nông nghiệp chủ trì tiếp đoàn công tác của tỉnh bạn.",
                    "Đoàn đã tham quan ba cơ sở sản xuất sản phẩm OCOP.",
                ]
            ],
        }
    }
    p = make_pipeline(FakeRetriever(docs, threshold=0.0))
    first = p.answer("ai chủ trì tiếp đoàn công tác của tỉnh bạn")
    assert first.kind == "passage" and "Trần Thị Hoa" in first.kwargs["answer"]
    again = p.answer("bà ấy giữ chức gì", Context(first.question, first.refs))
    assert again.kind == "passage" and "Phó Giám đốc" in again.kwargs["answer"]
    parser = QuestionParser.load()
    assert parser.refers_to_person(parser.parse("ông đó là ai vậy"))
    assert not parser.refers_to_person(parser.parse("ông bà mình làm mắm có được tham gia không"))


def test_a_second_ask_after_a_comma_is_answered_from_the_first_answers_document():
    docs = {
        "fair": {
            "meta": {
                "title": "Huyện Phú Lộc công bố sản phẩm mới",
                "publisher": "Báo tỉnh",
                "date": "2024-05-02",
            },
            "passages": [
                ["Huyện Phú Lộc vừa công bố thêm 6 sản phẩm đạt chuẩn 3 sao."],
                ["Bà Lê Thị Mai – Chủ tịch UBND huyện chủ trì."],
            ],
        },
        "other": {
            "meta": {"title": "Lễ công bố của ngành", "publisher": "Báo khác", "date": "2023-01-01"},
            "passages": [["Ông Trần Văn Bảy chủ trì buổi lễ công bố của ngành."]],
        },
    }
    p = make_pipeline(FakeRetriever(docs, threshold=0.0))
    reply = p.answer("huyện Phú Lộc công bố thêm mấy sản phẩm 3 sao, ai chủ trì buổi lễ công bố")
    said = " ".join(str(kw.get("answer", "")) for _, kw in reply.messages())
    assert "6 sản phẩm" in said and "Lê Thị Mai" in said and "Trần Văn Bảy" not in said


def test_a_figure_follow_up_ending_like_that_takes_the_last_questions_star_level():
    from index.rewrite import with_last_stars

    p = pipeline()
    q = with_last_stars(
        p.parse("vậy An Giang có mấy sản phẩm như vậy"), "sản phẩm 5 sao là gì", p.parse, p.parser
    )
    assert q.stars == ("5",)
    reply = p.answer("vậy An Giang có mấy sản phẩm như vậy", Context("sản phẩm 5 sao là gì ạ", ("card:x",)))
    assert reply.kind == "statistic" and reply.refs == ("stat:a3",)
    plain = p.parse("An Giang có mấy sản phẩm")  # no "như vậy": the question as asked
    assert with_last_stars(plain, "sản phẩm 5 sao là gì", p.parse, p.parser) == plain


def test_a_target_asked_after_a_figure_is_the_same_measures_target():
    p = pipeline()
    first = p.answer("Tiền Giang đã hỗ trợ bao nhiêu điểm giới thiệu và bán sản phẩm?")
    assert first.refs == ("stat:t2",)
    ctx = Context(first.question, first.refs, ("Tiền Giang",))
    assert p.answer("mục tiêu phát triển bao nhiêu điểm?", ctx).refs == ("stat:t3",)
    assert p.answer("mục tiêu bao nhiêu sản phẩm?", ctx).refs != ("stat:t3",)  # another measure
    assert p.answer("mục tiêu năm 2030 là bao nhiêu điểm?", ctx).refs != ("stat:t3",)  # another year
