"""Index build/load with a deterministic fake embedder: incremental builds, hot reload, errors."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from bot.text import words
from index.retrieve import HybridRetriever, Tuning
from index.settings import Settings
from index.store import KnowledgeIndexError, build, load, make_faiss


class HashEmbedder:
    """Bag of hashed folded words: same interface as SentenceEmbedder, no model."""

    model_id = "hash-64"
    dim = 64

    def __init__(self) -> None:
        self.encoded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in words(text):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        return v / (np.linalg.norm(v) or 1.0)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self._vec(t) for t in texts])

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.encoded += len(texts)
        return np.vstack([self._vec(t) for t in texts])


def write_doc(folder: Path, name: str, title: str, body: str) -> None:
    (folder / f"{name}.md").write_text(
        f'---\ntitle: "{title}"\npublisher: "Báo thử"\ndate: "2024-01-02"\n---\n{body}\n', encoding="utf-8"
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_doc(docs, "a", "Sóc Trăng", "Sóc Trăng có 189 sản phẩm OCOP. Trong đó có 19 sản phẩm 4 sao.")
    write_doc(docs, "b", "Tiền Giang", "Tiền Giang có 207 sản phẩm OCOP cấp tỉnh.")
    return Settings(docs_dir=docs, build_dir=tmp_path / "build")


def test_build_then_search(settings):
    manifest = build(settings, HashEmbedder(), progress=False)
    assert manifest["passages"] == 2 and manifest["model_id"] == "hash-64"
    retriever = HybridRetriever(settings.build_dir, HashEmbedder(), Tuning())
    hits = retriever.search("Tiền Giang có bao nhiêu sản phẩm OCOP?", k=2)
    assert hits[0].doc_id == "b" and hits[0].meta["publisher"] == "Báo thử"


def test_rebuild_embeds_only_changed_documents(settings):
    first = HashEmbedder()
    build(settings, first, progress=False)
    write_doc(settings.docs_dir, "c", "An Giang", "An Giang có 165 sản phẩm OCOP.")
    second = HashEmbedder()
    manifest = build(settings, second, progress=False)
    assert second.encoded == 1 and manifest["reused_documents"] == 2 and manifest["passages"] == 3


def test_running_retriever_picks_up_a_new_index(settings):
    build(settings, HashEmbedder(), progress=False)
    retriever = HybridRetriever(settings.build_dir, HashEmbedder(), Tuning())
    assert retriever.reload_if_changed() is False
    write_doc(settings.docs_dir, "c", "An Giang", "An Giang có 165 sản phẩm OCOP.")
    time.sleep(0.01)
    build(settings, HashEmbedder(), progress=False)
    manifest = settings.build_dir / "manifest.json"
    os.utime(manifest, (time.time() + 5, time.time() + 5))  # coarse file-system clocks
    assert retriever.reload_if_changed() is True
    assert retriever.search("An Giang có bao nhiêu sản phẩm?", k=1)[0].doc_id == "c"


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeIndexError, match="not found.*make index"):
        load(tmp_path / "nothing")


def test_index_of_another_model_is_refused(settings):
    build(settings, HashEmbedder(), progress=False)
    with pytest.raises(KnowledgeIndexError, match="built with model 'hash-64'"):
        load(settings.build_dir, model_id="intfloat/multilingual-e5-small")


def test_corrupt_index_is_a_clear_error(settings):
    build(settings, HashEmbedder(), progress=False)
    (settings.build_dir / "faiss.index").write_bytes(b"garbage")
    with pytest.raises(KnowledgeIndexError, match="corrupt"):
        load(settings.build_dir)


def test_inconsistent_index_is_refused(settings):
    build(settings, HashEmbedder(), progress=False)
    path = settings.build_dir / "passages.jsonl"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeIndexError, match="inconsistent"):
        load(settings.build_dir)


def test_large_corpora_use_an_approximate_index():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, approx = make_faiss(vectors, exact_limit=1000), make_faiss(vectors, exact_limit=100)
    assert type(exact).__name__ == "IndexFlatIP" and type(approx).__name__ == "IndexHNSWFlat"
    _, ids = approx.search(vectors[:20], 1)
    assert (ids[:, 0] == np.arange(20)).mean() >= 0.95


def test_manifest_records_prompts_and_hashes(settings):
    build(settings, HashEmbedder(), progress=False)
    m = json.loads((settings.build_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["query_prompt"] == "query: " and m["passage_prompt"] == "passage: "
    assert len(m["documents"]["a"]["sha256"]) == 64 and m["chunker"]


def test_lexical_index_is_saved_with_the_build_and_loaded_as_built(settings, monkeypatch):
    import shutil

    import index.store as store

    build(settings, HashEmbedder(), progress=False)
    assert (settings.build_dir / "bm25").is_dir() and (settings.build_dir / "idf.json").is_file()
    saved = load(settings.build_dir)
    query = ["tien", "giang"]
    expected = saved.bm25.get_scores(query)
    # an index from before BM25 was saved: rebuilt at load, same scores and IDF
    shutil.rmtree(settings.build_dir / "bm25")
    rebuilt = load(settings.build_dir)
    assert np.allclose(rebuilt.bm25.get_scores(query), expected)
    assert rebuilt.idf == pytest.approx(saved.idf)
    # and with the files present, load does not re-tokenise the passages
    build(settings, HashEmbedder(), progress=False)
    monkeypatch.setattr(store, "passage_tokens", lambda rows: pytest.fail("re-tokenised at load"))
    assert np.allclose(load(settings.build_dir).bm25.get_scores(query), expected)


def test_document_named_by_number_is_favoured(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_doc(docs, "plan", "Kế hoạch 152/KH-UBND", "Sở Nông nghiệp chủ trì tổ chức đánh giá sản phẩm.")
    write_doc(docs, "news", "Tin tức", "Sở Nông nghiệp chủ trì tổ chức đánh giá sản phẩm mới.")
    settings = Settings(docs_dir=docs, build_dir=tmp_path / "build")
    build(settings, HashEmbedder(), progress=False)
    question = "Kế hoạch 152 giao Sở Nông nghiệp việc gì?"
    on = HybridRetriever(settings.build_dir, HashEmbedder(), Tuning(document_boost=5.0))
    off = HybridRetriever(settings.build_dir, HashEmbedder(), Tuning(document_boost=0.0))
    boosted = {h.doc_id: h.fused for h in on.search(question, k=2)}
    plain = {h.doc_id: h.fused for h in off.search(question, k=2)}
    assert boosted["plan"] / boosted["news"] > 2 * plain["plan"] / plain["news"]
    assert on.search(question, k=1)[0].doc_id == "plan"
