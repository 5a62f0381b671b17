"""The sentence picker: general signals, what the question fixes, fitted weights and threshold."""

from __future__ import annotations

import math

import numpy as np
import yaml

from bot.text import CHAT_WORDS, FUNCTION_WORDS, PROGRAMME_WORDS
from index.answer import SentencePicker
from index.answer_fit import calibrate, fit_ranking
from index.parse import QuestionParser
from index.pick_weights import FEATURES, PickWeights
from index.sentence import has_figure, is_heading, longest_run, names_person
from index.sentence_checks import SentenceChecks
from index.source import format_date, source_line
from tests.unit.conftest import FakeEmbedder, FakeRetriever
from tests.unit.test_pipeline import ROOT

PARSER = QuestionParser.load()


def picker(threshold: float = 0.5) -> SentencePicker:
    """A picker with the default (hand-set, unfitted) weights and the fake embedder."""
    return SentencePicker(FakeEmbedder(), PARSER, PickWeights(threshold=threshold))


def ask(question: str, p: SentencePicker | None = None):
    retriever = FakeRetriever()
    q = PARSER.parse(question)
    return (p or picker()).compose(
        q, question, retriever.search(question), {}, retriever.dense_query(question)
    )


def test_figures_are_not_years_or_dates():
    assert has_figure("có 165 sản phẩm") and has_figure("ít nhất 30% chủ thể") and has_figure("36 tháng")
    assert not has_figure("giai đoạn 2021 - 2025") and not has_figure("ngày 24/3/2021")


def test_sentence_checks():
    assert names_person("Ông Trần Văn Hiểu, Phó Chủ tịch UBND tỉnh, chủ trì.")
    assert not names_person("UBND tỉnh chủ trì hội nghị.")
    assert is_heading("Cơ sở pháp lý của chương trình") and not is_heading("Có 165 sản phẩm.")
    assert longest_run("so khoa hoc va cong nghe".split(), "cac so khoa hoc chu tri".split()) == [
        "so",
        "khoa",
        "hoc",
    ]


def test_the_star_level_asked_picks_its_sentence():
    answer = ask("Sóc Trăng có bao nhiêu sản phẩm 4 sao?")
    assert answer is not None and "19 sản phẩm đạt hạng 4 sao" in answer.text
    assert answer.doc_id == "st-2023" and answer.has_figures


def test_another_province_never_answers():
    assert ask("Đồng Nai có bao nhiêu sản phẩm OCOP?") is None


def test_a_count_needs_a_figure_and_a_duration_a_duration():
    answer = ask("Giấy chứng nhận có thời hạn bao lâu?")
    assert answer is not None and "36 tháng" in answer.text


def test_below_the_threshold_it_refuses():
    assert ask("Sóc Trăng có bao nhiêu sản phẩm 4 sao?", picker(threshold=1e6)) is None
    assert picker().compose(PARSER.parse("x"), "x", [], {}) is None


def test_fit_ranking_learns_which_signal_marks_the_right_sentence():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(30):
        x = rng.random((6, len(FEATURES)))
        y = np.zeros(6, dtype=bool)
        y[int(np.argmax(x[:, FEATURES.index("coverage")]))] = True  # coverage decides
        groups.append((x, y))
    w = fit_ranking(groups)
    assert w["coverage"] == max(w.values()) and w["coverage"] > 0


def test_calibrate_prices_a_wrong_answer_at_five_refusals():
    base = PickWeights(weights={f: (1.0 if f == "coverage" else 0.0) for f in FEATURES})

    def one(score: float, right: bool, confidence: float = 1.0):
        x = np.zeros((1, len(FEATURES)))
        x[0, FEATURES.index("coverage")] = score
        return x, np.array([right]), np.array(["doc"]), confidence

    rights = [one(s, True) for s in (2.0, 2.1, 2.2, 2.3)]
    wrong = [one(2.05, False)]
    fitted = calibrate(base, rights + wrong, [], wrong_cost=5.0)
    assert 2.05 < fitted.threshold <= 2.1  # keep three right answers rather than risk the wrong one
    assert calibrate(base, rights + wrong, [], wrong_cost=0.5).threshold < 2.0


def test_calibrate_weighs_the_retrieval_when_it_separates_right_from_wrong():
    base = PickWeights(weights={f: (1.0 if f == "coverage" else 0.0) for f in FEATURES})

    def one(score: float, right: bool, confidence: float):
        x = np.zeros((1, len(FEATURES)))
        x[0, FEATURES.index("coverage")] = score
        return x, np.array([right]), np.array(["doc"]), confidence

    # the same sentence scores; only how well the passages matched tells right from wrong
    groups = [one(2.0 + i / 100, True, 1.05) for i in range(4)] + [
        one(2.0 + i / 100, False, 0.95) for i in range(4)
    ]
    fitted = calibrate(base, groups, [], wrong_cost=5.0)
    assert fitted.retrieval > 0 or fitted.min_confidence > 0.95
    kept = [fitted.accepts(2.0 + i / 100, math.inf, c) for c in (1.05, 0.95) for i in range(4)]
    assert kept == [True] * 4 + [False] * 4


def test_an_answer_must_lead_by_the_margin():
    weights = PickWeights(
        weights={f: (1.0 if f == "coverage" else 0.0) for f in FEATURES}, threshold=0.0, margin=0.5
    )
    assert weights.accepts(1.0, 0.6, 1.0) and not weights.accepts(1.0, 0.4, 1.0)


def test_weights_file_round_trip(tmp_path):
    path = tmp_path / "answer.json"
    PickWeights(threshold=3.5, margin=0.25).save(path)
    loaded = PickWeights.load(path)
    assert loaded.threshold == 3.5 and loaded.margin == 0.25 and set(loaded.weights) == set(FEATURES)


def test_dates_and_sources_are_formatted():
    assert format_date("2024-11-06") == "06/11/2024" and format_date("2025-02") == "02/2025"
    assert format_date(None) == ""
    assert source_line({"publisher": "Báo X", "source_site": "x.vn"}) == "Báo X (x.vn)"
    assert source_line({"publisher": "Nhóm", "sources": ["a.vn", "b.vn", "c.vn"]}) == "Nhóm – a.vn; b.vn"


def _hits(*docs: tuple[str, list[str]]):
    from tests.unit.conftest import FakeHit

    return [
        FakeHit({"doc_id": d, "sentences": s, "title": ""}, 1.0 - 0.1 * i, meta={})
        for i, (d, s) in enumerate(docs)
    ]


def test_a_named_document_number_must_be_stated_by_the_answering_document():
    q = PARSER.parse("Theo kế hoạch 152, tỉnh phấn đấu mấy sản phẩm?")
    right = ("kh152", ["Kế hoạch 152/KH-UBND năm 2021.", "Phấn đấu có 20 sản phẩm đạt 3 sao."])
    other = ("qd919", ["Mục tiêu quốc gia là 10.000 sản phẩm đạt 3 sao."])
    p = picker(threshold=-1e6)
    answer = p.compose(q, q.text, _hits(other, right), {})
    assert answer is not None and answer.doc_id == "kh152"
    assert p.compose(q, q.text, _hits(other), {}) is None


def test_overlapping_passages_give_each_sentence_once():
    q = PARSER.parse("Có bao nhiêu sản phẩm đạt 3 sao?")
    same = ["Có 20 sản phẩm đạt 3 sao."]
    found = picker().candidates(q, q.text, _hits(("a", same), ("a", same)), {}, None)
    assert len(found) == 1


def test_a_post_asked_is_not_answered_by_its_deputy():
    docs = {
        "ag-x": {
            "meta": {"title": "Hội nghị OCOP", "publisher": "Báo X", "date": "2024-01-02"},
            "passages": [["Ông Lê Văn A, Phó Giám đốc Sở Nông nghiệp, chủ trì hội nghị OCOP."]],
        }
    }
    retriever = FakeRetriever(docs)
    p = picker(threshold=0.0)

    def pick(question: str):
        q = PARSER.parse(question)
        return p.compose(q, question, retriever.search(question), {}, retriever.dense_query(question))

    assert pick("ai là phó giám đốc sở nông nghiệp chủ trì hội nghị OCOP") is not None
    assert pick("giám đốc sở nông nghiệp là ai, chủ trì hội nghị OCOP") is None


def test_a_named_agency_is_answered_only_by_its_own_tasks():
    docs = {
        "ag-kh": {
            "meta": {"title": "Kế hoạch OCOP tỉnh A", "publisher": "Cổng X", "date": "2021-03-24"},
            "passages": [
                [
                    "Sở Công Thương: chủ trì xúc tiến thương mại, kết nối cung cầu cho sản phẩm OCOP.",
                    "Sở Tài nguyên: hướng dẫn thủ tục đất đai cho cơ sở sản xuất OCOP.",
                ]
            ],
        }
    }
    retriever = FakeRetriever(docs)
    p = picker(threshold=0.0)

    def pick(question: str):
        q = PARSER.parse(question)
        return p.compose(q, question, retriever.search(question), {}, retriever.dense_query(question))

    answer = pick("Sở Công Thương làm gì cho sản phẩm OCOP")
    assert answer is not None and answer.sentences[0].startswith("Sở Công Thương")
    assert pick("Sở Y tế làm gì cho sản phẩm OCOP") is None  # no sentence names it


def test_calibrate_gives_typed_questions_an_allowance_when_they_are_right_more_often():
    base = PickWeights(weights={f: (1.0 if f == "coverage" else 0.0) for f in FEATURES})

    def one(score: float, right: bool, typed: bool):
        x = np.zeros((1, len(FEATURES)))
        x[0, FEATURES.index("coverage")] = score
        return x, np.array([right]), np.array(["doc"]), 1.0, typed

    # typed questions (a unit counted, an agency named) are right at lower scores than untyped ones
    groups = (
        [one(2.0 + i / 100, True, True) for i in range(4)]
        + [one(2.0 + i / 100, False, False) for i in range(4)]
        + [one(3.0, True, False)]
    )
    fitted = calibrate(base, groups, [], wrong_cost=5.0)
    assert fitted.typed > 0
    assert all(fitted.accepts(2.0 + i / 100, math.inf, 1.0, True) for i in range(4))
    assert not any(fitted.accepts(2.0 + i / 100, math.inf, 1.0, False) for i in range(4))


def test_words_that_only_say_what_is_asked_are_not_content_words():
    """cues_examples.yml `content_words`: fillers, task, target, share and document words drop out."""
    parser = QuestionParser.load()
    checks = SentenceChecks(parser, FUNCTION_WORDS | CHAT_WORDS | PROGRAMME_WORDS)  # as served
    data = yaml.safe_load((ROOT / "data" / "language" / "cues_examples.yml").read_text(encoding="utf-8"))
    for text, words in data["content_words"].items():
        view = checks.view(parser.parse(text), text, None)
        assert sorted(view.terms) == words, text
