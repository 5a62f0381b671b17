"""Fixtures for action unit tests: an in-memory fake index and JSON trackers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

from bot.text import CHAT_WORDS, FUNCTION_WORDS, PROGRAMME_WORDS, words

FIXTURES = Path(__file__).parent / "fixtures"

DOCS = {
    "st-2023": {
        "meta": {
            "title": "Sóc Trăng trao đổi kinh nghiệm OCOP",
            "publisher": "VPĐP nông thôn mới Sóc Trăng",
            "date": "2023-04-28",
        },
        "passages": [
            [
                "Qua gần 4 năm triển khai thực hiện, đến nay toàn tỉnh có 189 sản phẩm được Hội đồng cấp tỉnh đánh giá đạt từ 3 sao trở lên.",
                "Trong đó, có 01 sản phẩm đạt hạng 5 sao, 19 sản phẩm đạt hạng 4 sao và 169 sản phẩm hạng 3 sao của 102 chủ thể.",
            ],
        ],
    },
    "tg-2023": {
        "meta": {
            "title": "Tiền Giang: chú trọng phát triển các sản phẩm OCOP",
            "publisher": "không rõ",
            "date": "2023-09-11",
        },
        "passages": [
            [
                "Từ khi triển khai Chương trình OCOP đến nay, tỉnh Tiền Giang đã có 207 sản phẩm đạt OCOP cấp tỉnh, trong đó có 95 sản phẩm 4 sao và 112 sản phẩm 3 sao."
            ],
        ],
    },
    "prog-cert": {
        "meta": {
            "title": "Thời hạn giấy chứng nhận OCOP",
            "publisher": "Nhóm phát triển trợ lý OCOP (tổng hợp)",
            "date": "2025-07-06",
            "sources": ["thuvienphapluat.vn"],
        },
        "passages": [
            [
                "Giấy chứng nhận sản phẩm OCOP có thời hạn 36 tháng kể từ ngày có quyết định công nhận.",
                "Hết hạn, chủ thể phải đăng ký để sản phẩm được đánh giá lại.",
            ],
        ],
    },
}


def FakeHit(  # noqa: N802 - stands for the class it builds
    row: dict[str, Any], fused: float, dense: float = 0.9, bm25: float = 1.0, coverage: float = 1.0,
    meta: dict[str, Any] | None = None,
) -> Any:  # fmt: skip
    """A real index.retrieve.Hit with test defaults."""
    from index.retrieve import Hit

    return Hit(row, fused, dense, bm25, coverage, meta or {})


class FakeEmbedder:
    """Bag-of-syllables vectors (hashed, normalised): same interface as the real embedder."""

    model_id = "fake"
    dim = 256

    def encode_queries(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in words(text):
                out[i, hash(w) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[i])) or 1.0
            out[i] /= norm
        return out

    encode_passages = encode_queries


class FakeRetriever:
    """In-memory index with the HybridRetriever interface: lexical overlap scoring."""

    def __init__(self, docs: dict[str, Any] = DOCS, threshold: float = 0.3) -> None:
        self.rows = []
        self.meta = {}
        for doc_id, doc in docs.items():
            self.meta[doc_id] = doc["meta"]
            for pos, sentences in enumerate(doc["passages"]):
                self.rows.append(
                    {"doc_id": doc_id, "position": pos, "sentences": sentences, "title": doc["meta"]["title"]}
                )
        self.threshold = threshold
        self.reloads = 0
        self.queries: list[str] = []

        self.index = self  # the LoadedIndex side: rows and doc_meta
        self.embedder = FakeEmbedder()
        self.idf: dict[str, float] = {}

    def doc_meta(self, doc_id: str) -> dict[str, Any]:
        return self.meta.get(doc_id, {})

    def reload_if_changed(self) -> bool:
        self.reloads += 1
        return False

    def dense_query(self, query: str) -> Any:
        return self.embedder.encode_queries([query])

    def search(self, query: str, k: int = 5, vector: Any = None) -> list[Any]:
        self.queries.append(query)
        q = set(words(query))
        scored = []
        for row in self.rows:
            have = set(words(row["title"] + " " + " ".join(row["sentences"])))
            score = len(q & have) / max(1, len(q))
            scored.append(FakeHit(row, score, coverage=score, meta=self.meta[row["doc_id"]]))
        return sorted(scored, key=lambda h: h.fused, reverse=True)[:k]

    def confidence(self, hits: list[Any]) -> float:
        return hits[0].fused if hits else 0.0

    def confident(self, hits: list[Any]) -> bool:
        return self.confidence(hits) >= self.threshold


def load_tracker(name: str) -> Tracker:
    """A Tracker from a JSON fixture."""
    return Tracker.from_dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


@pytest.fixture
def fake_retriever() -> FakeRetriever:
    return FakeRetriever()


CONTACTS_FILE = Path(__file__).resolve().parents[2] / "data" / "contacts.csv"


def tracker_with(text: str, intent: str, **slots: Any) -> Tracker:
    """The stats fixture with another text / intent / slots."""
    tracker = load_tracker("tracker_stats.json")
    tracker.latest_message = {"text": text, "intent": {"name": intent}, "entities": []}
    tracker.slots.update(slots)
    return tracker


async def run_action(action: Any, tracker: Tracker) -> tuple[list[dict], dict[str, Any]]:
    """Run an action with a CollectingDispatcher; return (messages, slots set)."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def make_pipeline(retriever: Any, rows: Any = (), cards: Any = (), contacts: Any = None) -> Any:
    """An AnswerPipeline over in-memory stores (the served one is built by build_pipeline)."""
    from index.card_match import CardMatcher
    from index.cards import CardStore
    from index.figures import FigureAnswerer
    from index.labels import Labels
    from index.parse import QuestionParser
    from index.pipeline import AnswerPipeline
    from index.pipeline_tuning import PipelineTuning
    from index.stats import StatsTable

    table = StatsTable(None, {}, rows)
    figures = FigureAnswerer(table, Labels.load(), lambda r: r.source or r.doc)
    matcher = CardMatcher(CardStore(None, cards), retriever.embedder)
    from bot.segment import GAZETTEER
    from index.answer import SentencePicker
    from index.pick_weights import PickWeights

    merged = GAZETTEER["merged_2025"]
    parser = QuestionParser.load()
    # fixed weights (not the fitted index/answer.json): the fake's confidence floor refuses
    weights = PickWeights(min_confidence=retriever.threshold if isinstance(retriever, FakeRetriever) else 0.0)
    picker = SentencePicker(
        retriever.embedder, parser, weights, FUNCTION_WORDS | CHAT_WORDS | PROGRAMME_WORDS
    )
    return AnswerPipeline(
        retriever, matcher, figures, parser, contacts, None, PipelineTuning(), merged, picker
    )
