"""Extractive answer composition: the right sentence, never another province's figures."""

from __future__ import annotations

from index.answer import compose, score_sentence
from index.question import has_figure
from index.source import format_date, source_line
from tests.unit.conftest import FakeRetriever


def test_figures_are_not_years_or_dates():
    assert has_figure("có 165 sản phẩm") and has_figure("ít nhất 30% chủ thể") and has_figure("36 tháng")
    assert (
        not has_figure("giai đoạn 2021 - 2025")
        and not has_figure("ngày 24/3/2021")
        and not has_figure("năm 2025")
    )


def test_sentence_about_another_province_is_rejected():
    sentence = "Tỉnh Tiền Giang đã có 207 sản phẩm đạt OCOP cấp tỉnh."
    assert score_sentence(sentence, "Sóc Trăng có bao nhiêu sản phẩm OCOP?", sentence, "") is None
    assert score_sentence(sentence, "Tiền Giang có bao nhiêu sản phẩm OCOP?", sentence, "") > 0.5


def test_number_question_needs_a_figure():
    sentence = "Tỉnh Sóc Trăng đẩy mạnh chương trình OCOP giai đoạn 2021 - 2025."
    assert score_sentence(sentence, "Sóc Trăng có bao nhiêu sản phẩm OCOP?", sentence, "") is None


def test_compose_picks_the_star_level_asked():
    retriever = FakeRetriever()
    question = "Sóc Trăng có bao nhiêu sản phẩm 4 sao?"
    answer = compose(question, retriever.search(question))
    assert answer is not None and "19 sản phẩm đạt hạng 4 sao" in answer.text
    assert answer.doc_id == "st-2023" and answer.has_figures


def test_compose_refuses_when_nothing_answers():
    retriever = FakeRetriever()
    question = "Đồng Nai có bao nhiêu sản phẩm OCOP?"
    assert compose(question, retriever.search(question)) is None
    assert compose("Sóc Trăng có bao nhiêu sản phẩm?", []) is None


def test_idf_weights_rare_words_more():
    retriever = FakeRetriever()
    question = "Giấy chứng nhận có thời hạn bao lâu?"
    idf = {"thoi": 3.0, "han": 3.0, "giay": 1.0, "chung": 1.0, "nhan": 1.0}
    answer = compose(question, retriever.search(question), idf)
    assert answer is not None and "36 tháng" in answer.text


def test_dates_and_sources_are_formatted():
    assert format_date("2024-11-06") == "06/11/2024" and format_date("2025-02") == "02/2025"
    assert format_date(None) == ""
    assert source_line({"publisher": "Báo X", "source_site": "x.vn"}) == "Báo X (x.vn)"
    assert source_line({"publisher": "Nhóm", "sources": ["a.vn", "b.vn", "c.vn"]}) == "Nhóm – a.vn; b.vn"
    assert source_line({"publisher": "Báo X", "source_site": "không rõ"}) == "Báo X"


def test_programme_name_is_not_a_count():
    from index.units import states_count_of

    sentence = "Trong 02 ngày, đoàn trao đổi về Chương trình Mỗi xã một sản phẩm."
    assert not states_count_of(sentence, "san pham")
    assert states_count_of("Quy trình còn hai cấp.", "cap")
    assert not states_count_of("phấn đấu ít nhất 40% chủ thể OCOP là hợp tác xã", "chu the")
