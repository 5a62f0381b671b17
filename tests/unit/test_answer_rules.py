"""Answer-type rules of the extractive composer, on small in-memory documents."""

from __future__ import annotations

from index.answer import compose
from index.question import announces_list, has_figure, names_person
from index.units import asked_unit
from tests.unit.conftest import FakeRetriever


def doc(title: str, date: str, *passages: list[str]) -> dict:
    """One fake document."""
    return {"meta": {"title": title, "publisher": "Báo X", "date": date}, "passages": list(passages)}


PLAN = doc(
    "Tiền Giang phát triển sản phẩm OCOP",
    "2023-09-11",
    [
        "Đến nay, tỉnh Tiền Giang đã có 207 sản phẩm đạt OCOP từ 3 sao trở lên.",
        "Đến năm 2025, tỉnh Tiền Giang phấn đấu có ít nhất 200 sản phẩm đạt từ 3 sao trở lên.",
    ],
    ["Tỉnh đã hỗ trợ 08 điểm bán sản phẩm OCOP; phấn đấu phát triển 10 điểm trưng bày sản phẩm OCOP."],
)
MONEY = doc(
    "Quyền lợi khi đạt OCOP",
    "2025-07-06",
    [
        "Ngân sách trung ương hỗ trợ đăng ký nhãn hiệu tối đa 35 triệu đồng cho mỗi nhãn hiệu.",
        "Tỉnh Bắc Giang thưởng 300 triệu đồng cho sản phẩm lần đầu đạt 5 sao.",
    ],
)
GROUPS = doc(
    "Nhóm sản phẩm OCOP",
    "2023-02-24",
    [
        "Sản phẩm OCOP được chia thành 6 nhóm sản phẩm theo Quyết định 148/QĐ-TTg.",
        "Sáu nhóm gồm: thực phẩm; đồ uống; dược liệu; thủ công mỹ nghệ; sinh vật cảnh; du lịch.",
    ],
)
VISIT = doc(
    "Sóc Trăng trao đổi kinh nghiệm OCOP",
    "2023-04-28",
    [
        "Trong 02 ngày, đoàn công tác tỉnh An Giang đến làm việc với Sở Nông nghiệp tỉnh Sóc Trăng.",
        "Ông Lê Văn Đáng – Phó Giám đốc Sở Nông nghiệp tỉnh Sóc Trăng chủ trì tiếp đoàn.",
    ],
    [
        "Ngay sau khi đề án được phê duyệt, tỉnh Sóc Trăng tổ chức nhiều chuyến công tác.",
        "UBND tỉnh Sóc Trăng phê duyệt Đề án OCOP tại Quyết định số 1397/QĐ-UBND ngày 20 tháng 5 năm 2019.",
    ],
    [
        "Đến nay tỉnh Sóc Trăng có 189 sản phẩm đạt từ 3 sao trở lên.",
        "Trong đó có 01 sản phẩm 5 sao, 19 sản phẩm 4 sao và 169 sản phẩm 3 sao của 102 chủ thể.",
    ],
)


def answer(question: str, docs: dict) -> str | None:
    """The composed answer text, or None when nothing answers."""
    retriever = FakeRetriever(docs, threshold=0.0)
    result = compose(question, retriever.search(question))
    return result.text if result else None


def test_a_year_no_passage_states_is_refused():
    assert answer("Năm 2019 Tiền Giang có bao nhiêu sản phẩm OCOP?", {"tg": PLAN}) is None
    text = answer("Năm 2023 Tiền Giang có bao nhiêu sản phẩm OCOP?", {"tg": PLAN})
    assert text is not None and "207" in text  # the document's own date states the year


def test_target_and_actual_figures_are_told_apart():
    assert "207" in answer("Tiền Giang có bao nhiêu sản phẩm OCOP?", {"tg": PLAN})
    assert "200" in answer("Tiền Giang phấn đấu bao nhiêu sản phẩm OCOP?", {"tg": PLAN})
    assert "10 điểm" in answer("Tiền Giang đặt mục tiêu bao nhiêu điểm trưng bày OCOP?", {"tg": PLAN})


def test_money_must_be_of_the_kind_asked():
    assert answer("Phí thẩm định hồ sơ OCOP là bao nhiêu tiền?", {"m": MONEY}) is None
    assert answer("Giá một hộp trà OCOP 5 sao bao nhiêu tiền?", {"m": MONEY}) is None
    # the words match a support amount, but a fee is asked
    assert answer("Lệ phí đăng ký nhãn hiệu OCOP là bao nhiêu tiền?", {"m": MONEY}) is None
    assert "35 triệu" in answer("Nhà nước hỗ trợ đăng ký nhãn hiệu tối đa bao nhiêu tiền?", {"m": MONEY})
    assert "300 triệu" in answer("Bắc Giang thưởng bao nhiêu tiền cho sản phẩm 5 sao?", {"m": MONEY})


def test_a_count_does_not_name_anything():
    assert answer("Kể tên các sản phẩm OCOP 5 sao của Sóc Trăng", {"st": VISIT}) is None


def test_star_level_is_exact_and_totals_are_a_fallback():
    assert "169 sản phẩm 3 sao" in answer("Sóc Trăng có bao nhiêu sản phẩm OCOP 3 sao?", {"st": VISIT})
    assert "189" in answer("Sóc Trăng có bao nhiêu sản phẩm từ 3 sao trở lên?", {"st": VISIT})
    only_total = {"tg": PLAN}
    assert "207" in answer("Tiền Giang có bao nhiêu sản phẩm 3 sao?", only_total)


def test_when_and_who_questions():
    assert "20 tháng 5 năm 2019" in answer(
        "Đề án OCOP của Sóc Trăng được phê duyệt vào ngày nào?", {"st": VISIT}
    )
    assert "Lê Văn Đáng" in answer(
        "Ai chủ trì tiếp đoàn An Giang tại Sở Nông nghiệp Sóc Trăng?", {"st": VISIT}
    )
    assert names_person("Ông Lê Văn Đáng chủ trì.") and not names_person("Sở Nông nghiệp tỉnh Sóc Trăng")


def test_an_announced_list_is_given():
    text = answer("Sản phẩm OCOP được chia thành mấy nhóm?", {"g": GROUPS})
    assert "6 nhóm" in text and "đồ uống" in text
    assert announces_list(GROUPS["passages"][0][0], GROUPS["passages"][0][1])
    assert not announces_list("Có 6 nhóm: thực phẩm, đồ uống, dược liệu.", "Nhóm thực phẩm là lớn nhất.")


def test_counts_of_something_else_or_about_something_else_are_refused():
    assert answer("Sóc Trăng có bao nhiêu thành viên hội đồng OCOP?", {"st": VISIT}) is None
    assert answer("Bao nhiêu sản phẩm OCOP Tiền Giang được xuất khẩu sang Nhật Bản?", {"tg": PLAN}) is None


def test_misspelt_province_is_read_from_the_passages():
    national = doc("Số liệu OCOP toàn quốc", "2025-07-01", ["Cả nước có 9.084 chủ thể OCOP."])
    text = answer("Sóc Trănng có bao nhiêu chủ thể ocop", {"st": VISIT, "vn": national})
    assert text is not None and "102 chủ thể" in text


def test_asked_units_and_figures():
    assert asked_unit("ho so ocop la bao nhieu tien") == "tien"
    assert asked_unit("so san pham 5 sao tang tu bao nhieu len bao nhieu") is None
    assert asked_unit("hoi dong co bao nhieu thanh vien") == "thanh vien"
    assert has_figure("dự kiến khoảng 5-8 sản phẩm") and not has_figure("giai đoạn 2021-2025")


def test_the_document_heading_is_not_an_answer():
    cycle = doc(
        "Chu trình OCOP gồm 6 bước",
        "2025-07-06",
        [
            "Chu trình OCOP gồm 6 bước",
            "Chương trình OCOP được triển khai hằng năm theo một chu trình gồm 6 bước.",
            "Sáu bước là: tuyên truyền; nhận ý tưởng; nhận phương án; triển khai; đánh giá; xúc tiến thương mại.",
        ],
    )
    text = answer("Chu trình OCOP gồm bao nhiêu bước?", {"c": cycle})
    assert text.startswith("Chương trình OCOP được triển khai") and "xúc tiến thương mại" in text


def test_fees_prices_and_single_word_units():
    cert = doc(
        "Giấy chứng nhận OCOP",
        "2025-07-06",
        ["Chỉ sản phẩm đạt từ 3 sao đến 5 sao mới được cấp giấy chứng nhận OCOP, có thời hạn 36 tháng."],
    )
    assert answer("Lệ phí cấp giấy chứng nhận OCOP là bao nhiêu?", {"c": cert}) is None
    assert answer("Sóc Trăng có bao nhiêu người tiếp đoàn?", {"st": VISIT}) is None
    assert asked_unit("hoi dong co bao nhieu nguoi") == "nguoi"


def test_a_decision_date_is_not_the_year_asked():
    assert answer("Sóc Trăng có bao nhiêu sản phẩm OCOP vào năm 2019?", {"st": VISIT}) is None


def test_list_questions_prefer_the_sentence_giving_the_list():
    decisions = doc(
        "Cơ sở pháp lý OCOP",
        "2025-07-06",
        [
            "Quyết định 1489/QĐ-TTg sửa quy trình của Quyết định 148 thành hai cấp: cấp tỉnh và cấp trung ương.",
            "Quyết định 148/QĐ-TTg thay thế Quyết định 1048/QĐ-TTg và Quyết định 781/QĐ-TTg.",
        ],
    )
    assert "1048" in answer("Quyết định 148 thay thế những quyết định nào?", {"d": decisions})
    text = answer("Sản phẩm OCOP gồm những nhóm nào?", {"g": GROUPS})
    assert "đồ uống" in text


def test_durations_and_decision_years():
    cert = doc(
        "Giấy chứng nhận OCOP",
        "2025-07-06",
        ["Giấy chứng nhận OCOP có thời hạn 36 tháng kể từ ngày công nhận."],
    )
    assert "36 tháng" in answer("Giấy chứng nhận OCOP có thời hạn bao lâu?", {"c": cert})
    assert asked_unit("tham dinh ho so mat bao lau") == "thoi gian"
    target = doc(
        "Mục tiêu OCOP quốc gia",
        "2025-07-01",
        ["Mục tiêu theo Quyết định 919/QĐ-TTg ngày 01/08/2022 là có ít nhất 10.000 sản phẩm OCOP cả nước."],
    )
    # 2022 is when the decision was signed, not a year the figure is about
    assert answer("Năm 2022 cả nước có bao nhiêu sản phẩm OCOP?", {"t": target}) is None


def test_a_continuing_sentence_comes_with_the_one_it_continues():
    text = answer("Sóc Trăng có bao nhiêu sản phẩm OCOP 4 sao?", {"st": VISIT})
    assert text.startswith("Đến nay tỉnh Sóc Trăng có 189") and "19 sản phẩm 4 sao" in text


def test_what_is_ocop_is_answered_but_ocop_alone_is_not():
    about = doc(
        "Chương trình OCOP là gì",
        "2025-07-06",
        [
            'OCOP là viết tắt của tiếng Anh "One Commune One Product", tên tiếng Việt là Chương trình Mỗi xã một sản phẩm.'
        ],
    )
    assert "One Commune One Product" in answer("OCOP là gì?", {"a": about})
    assert answer("ocop ocop ocop", {"a": about}) is None


NATION = doc(
    "Sản phẩm OCOP trên cả nước",
    "2025-07-01",
    ["Đến giữa năm 2025, cả nước có 126 sản phẩm OCOP 5 sao."],
)
CITY = doc(
    "Hải Phòng phát triển sản phẩm OCOP",
    "2024-05-01",
    ["Đến nay, toàn thành phố có 287 sản phẩm OCOP 3 sao và 4 sao, chưa có sản phẩm nào đạt 5 sao."],
)
WHO = doc(
    "Cấp công nhận sản phẩm OCOP",
    "2025-07-06",
    [
        "Toàn tỉnh có nhiều sản phẩm được cấp giấy chứng nhận OCOP 3 sao trong năm.",
        "Từ tháng 07/2025, UBND tỉnh công nhận sản phẩm OCOP 3 sao và 4 sao.",
    ],
)


def test_national_question_is_not_answered_with_one_citys_count():
    docs = {"nation": NATION, "city": CITY}
    assert "126" in (answer("Toàn quốc có bao nhiêu sản phẩm OCOP 5 sao?", docs) or "")
    assert answer("Toàn quốc có bao nhiêu sản phẩm OCOP 5 sao?", {"city": CITY}) is None


def test_yes_no_question_about_a_star_level_needs_that_level():
    assert "01 sản phẩm 5 sao" in (answer("Sóc Trăng có sản phẩm OCOP 5 sao nào chưa?", {"v": VISIT}) or "")


def test_who_recognises_prefers_the_authority():
    assert "UBND tỉnh" in (answer("bây giờ ai cấp chứng nhận OCOP 3 sao", {"w": WHO}) or "")


LEADER = doc(
    "An Giang nâng cao giá trị sản phẩm OCOP",
    "2021-06-01",
    [
        "Theo ông Trần Anh Thư, tỉnh đặt mục tiêu có thêm 170 sản phẩm OCOP.",
        "Phó Chủ tịch UBND tỉnh An Giang Trần Anh Thư cho biết tỉnh phát huy vai trò của cấp xã.",
    ],
)


def test_who_is_question_prefers_the_sentence_with_the_title():
    assert "Phó Chủ tịch" in (answer("Trần Anh Thư là ai?", {"l": LEADER}) or "")
    assert "Phó Chủ tịch" in (answer("ông Trần Anh Thư giữ chức vụ gì", {"l": LEADER}) or "")


SCALE = doc(
    "Thang sao OCOP",
    "2023-02-24",
    [
        "Sản phẩm đạt dưới 30 điểm được xếp hạng 1 sao.",
        "Sản phẩm đạt từ 50 đến 69 điểm được xếp hạng 3 sao.",
        "Sản phẩm đạt từ 70 đến 89 điểm được xếp hạng 4 sao.",
    ],
)


def test_points_question_gets_the_band_that_holds_them():
    assert "50 đến 69" in answer("sản phẩm được 60 điểm thì xếp mấy sao", {"s": SCALE}).split(".")[0]
    assert "70 đến 89" in answer("được 75 điểm thì mấy sao", {"s": SCALE}).split(".")[0]
    assert "dưới 30" in answer("sản phẩm 20 điểm thì xếp hạng mấy sao", {"s": SCALE}).split(".")[0]


def test_who_is_a_title_holder_needs_a_named_person():
    assert answer("Giám đốc Sở Nông nghiệp Tiền Giang là ai?", {"tg": PLAN}) is None


def test_address_question_needs_an_address():
    assert answer("địa chỉ điểm bán sản phẩm OCOP ở Tiền Giang ở đâu", {"tg": PLAN}) is None


def test_plan_wording_and_yes_no_wording():
    assert "10 điểm" in answer("Tiền Giang tính mở bao nhiêu điểm trưng bày sản phẩm OCOP?", {"tg": PLAN})
    assert "01 sản phẩm 5 sao" in (answer("Sóc Trăng có sp OCOP 5 sao chưa?", {"v": VISIT}) or "")


def test_yes_no_question_about_a_reward_is_not_a_star_count():
    reward = doc("Thưởng OCOP", "2025-07-06", ["Mức thưởng cho sản phẩm OCOP khác nhau giữa các tỉnh."])
    assert "khác nhau" in (answer("Đạt OCOP 4 sao có được thưởng tiền không?", {"r": reward}) or "")
