"""Hybrid retrieval: dense FAISS + BM25 over folded syllables, weighted RRF, confidence."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.entities import canonical_provinces, find_provinces
from bot.text import FUNCTION_WORDS, search_words
from index.embed import Embedder
from index.sentence import ID_NUMBER
from index.store import LoadedIndex, bm25_tokens, load, manifest_stamp
from index.units import asked_unit, states_count_of

TUNING_FILE = Path(__file__).with_name("retrieval.json")
STOPWORDS = FUNCTION_WORDS


@dataclass(frozen=True)
class Tuning:
    """Fusion weights and refusal threshold (tuned by `python -m index tune`)."""

    dense_weight: float = 2.0
    bm25_weight: float = 1.0
    rrf_k: float = 10.0
    coverage_weight: float = 0.5
    threshold: float = 0.95
    depth: int = 30
    province_boost: float = 0.5
    coverage_rerank: float = 1.0
    answer_type_boost: float = 1.0
    document_boost: float = 1.0

    @classmethod
    def load(cls, path: Path = TUNING_FILE) -> Tuning:
        """Read tuned values if the file exists."""
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        return cls()


@dataclass
class Hit:
    """One retrieved passage with its scores."""

    row: dict[str, Any]
    fused: float
    dense: float
    bm25: float
    coverage: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        """Document id."""
        return self.row["doc_id"]

    @property
    def sentences(self) -> list[str]:
        """Sentences of the passage."""
        return self.row["sentences"]


def passage_provinces(row: dict[str, Any], meta: dict[str, Any]) -> set[str]:
    """Provinces a passage is about: named in it, else in its document's title/metadata."""
    named = {m.value for m in find_provinces(" ".join(row["sentences"]))}
    if named:
        return named
    return {m.value for m in find_provinces(f"{row.get('title', '')} {meta.get('province', '')}")}


def content_terms(text: str) -> list[str]:
    """Folded syllables of a query without function words."""
    return [w for w in search_words(text) if w not in STOPWORDS]


class HybridRetriever:
    """Loads the index once, answers queries, and reloads when the build changes."""

    def __init__(self, build_dir: Path, embedder: Embedder, tuning: Tuning | None = None) -> None:
        """Load the built index for this embedder (raises a clear error if unusable)."""
        self.build_dir = build_dir
        self.embedder = embedder
        self.tuning = tuning or Tuning.load()
        # Explicit tuning (tests) is kept; the default follows retrieval.json (`make tune`).
        self._follow_tuning = tuning is None
        self._tuning_stamp = TUNING_FILE.stat().st_mtime if TUNING_FILE.is_file() else 0.0
        self._lock = threading.Lock()
        self.index: LoadedIndex = load(build_dir, embedder.model_id)

    def reload_if_changed(self) -> bool:
        """Swap in a rebuilt index or retuned weights (hot reload); keep the old if broken."""
        tuning_stamp = TUNING_FILE.stat().st_mtime if TUNING_FILE.is_file() else 0.0
        if self._follow_tuning and tuning_stamp != self._tuning_stamp:
            self._tuning_stamp = tuning_stamp
            self.tuning = Tuning.load()
        stamp = manifest_stamp(self.build_dir)
        if stamp == self.index.stamp or stamp == 0.0:
            return False
        with self._lock:
            if stamp == self.index.stamp:
                return False
            self.index = load(self.build_dir, self.embedder.model_id)
        return True

    @property
    def idf(self) -> dict[str, float]:
        """Syllable IDF of the loaded index (weights for answer extraction)."""
        return self.index.idf or {}

    def dense_query(self, query: str) -> np.ndarray:
        """Embed the query as given (the pipeline's readings have their accents restored, index/query.py)."""
        return self.embedder.encode_queries([canonical_provinces(query)])

    def search(self, query: str, k: int = 5, vector: np.ndarray | None = None) -> list[Hit]:
        """Return the k best passages by weighted reciprocal-rank fusion."""
        idx, t = self.index, self.tuning
        vec = self.dense_query(query) if vector is None else vector
        query = canonical_provinces(query)  # "tg", "Sóc Trăg" -> "Tiền Giang", "Sóc Trăng"
        n = len(idx.rows)
        depth = min(t.depth, n)
        dense_scores, dense_ids = idx.faiss_index.search(vec, depth)
        dense = {int(i): float(s) for i, s in zip(dense_ids[0], dense_scores[0]) if i >= 0}
        terms = bm25_tokens(query)
        bm = idx.bm25.get_scores(terms) if terms else np.zeros(n, dtype=np.float32)
        if len(bm) > depth:  # partial selection: O(n) instead of sorting every passage
            part = np.argpartition(-bm, depth)[:depth]
            bm_top = part[np.argsort(-bm[part])]
        else:
            bm_top = np.argsort(-bm)[:depth]
        fused: dict[int, float] = {}
        for rank, i in enumerate(sorted(dense, key=dense.get, reverse=True)):
            fused[i] = fused.get(i, 0.0) + t.dense_weight / (t.rrf_k + rank + 1)
        for rank, i in enumerate(bm_top):
            if bm[i] > 0:
                fused[int(i)] = fused.get(int(i), 0.0) + t.bm25_weight / (t.rrf_k + rank + 1)
        self._province_rerank(query, fused)
        folded = " ".join(search_words(query))
        self._document_rerank(folded, fused)
        self._answer_type_rerank(folded, fused)
        coverage = self._coverage(query, fused)
        for i in fused:  # lexical rerank: passages holding more of the (rare) query words
            fused[i] *= 1.0 + t.coverage_rerank * coverage[i]
        best = sorted(fused, key=fused.get, reverse=True)[:k]
        hits = []
        for i in best:
            row = idx.rows[i]
            if i in dense:
                cos = dense[i]
            else:
                cos = float(np.dot(vec[0], idx.faiss_index.reconstruct(i)))
            hits.append(Hit(row, fused[i], cos, float(bm[i]), coverage[i], idx.doc_meta(row["doc_id"])))
        return hits

    def _answer_type_rerank(self, folded: str, fused: dict[int, float]) -> None:
        """Favour passages that state a count of what "bao nhiêu X" asks for ("102 chủ thể")."""
        unit = asked_unit(folded)
        if not unit or not self.tuning.answer_type_boost:
            return
        for i in fused:
            if any(states_count_of(s, unit) for s in self.index.rows[i]["sentences"]):
                fused[i] *= 1.0 + self.tuning.answer_type_boost

    def _document_rerank(self, folded: str, fused: dict[int, float]) -> None:
        """Favour passages of the document a question names by number ("kế hoạch 152", "1048")."""
        ids = set(ID_NUMBER.findall(folded))
        if not ids or not self.tuning.document_boost:
            return
        for i in fused:
            if ids & self._numbers_of_document(self.index.rows[i]["doc_id"]):
                fused[i] *= 1.0 + self.tuning.document_boost

    def _numbers_of_document(self, doc_id: str) -> set[str]:
        """Numbers written in a document (computed when one of its passages is first a candidate)."""
        idx = self.index
        if idx.doc_numbers is None:
            idx.doc_numbers = {}
        if doc_id not in idx.doc_numbers:
            numbers: set[str] = set()
            for row in idx.rows_of(doc_id):
                text = " ".join(search_words(row["title"] + " " + " ".join(row["sentences"])))
                numbers.update(re.findall(r"\d+", text))
            idx.doc_numbers[doc_id] = numbers
        return idx.doc_numbers[doc_id]

    def _words_of(self, i: int) -> frozenset[str]:
        """Folded words of passage i (computed once per loaded index)."""
        idx = self.index
        if idx.word_sets is None:
            idx.word_sets = {}
        if i not in idx.word_sets:
            row = idx.rows[i]
            idx.word_sets[i] = frozenset(search_words(row["title"] + " " + " ".join(row["sentences"])))
        return idx.word_sets[i]

    def _coverage(self, query: str, candidates: dict[int, float]) -> dict[int, float]:
        """IDF-weighted share of the query's content words found in each candidate passage."""
        idf = self.idf
        content = set(content_terms(query))
        total = sum(idf.get(t, 1.0) for t in content)
        out = {}
        for i in candidates:
            have = self._words_of(i)
            out[i] = sum(idf.get(t, 1.0) for t in content & have) / total if total else 0.0
        return out

    def _provinces_of(self, i: int) -> set[str]:
        """Provinces of passage i (computed on first use, once per loaded index)."""
        idx = self.index
        if getattr(idx, "provinces", None) is None:
            idx.provinces = {}
        if i not in idx.provinces:
            row = idx.rows[i]
            idx.provinces[i] = passage_provinces(row, idx.doc_meta(row["doc_id"]))
        return idx.provinces[i]

    def _province_rerank(self, query: str, fused: dict[int, float]) -> None:
        """Favour passages about the province the question names; demote other provinces'."""
        wanted = {m.value for m in find_provinces(query)}
        boost = self.tuning.province_boost
        if not wanted or not boost:
            return
        for i in fused:
            here = self._provinces_of(i)
            if here & wanted:
                fused[i] *= 1.0 + boost
            elif here:
                fused[i] /= 1.0 + boost

    def confidence(self, hits: list[Hit]) -> float:
        """Confidence of the best hit: dense cosine plus weighted term coverage."""
        if not hits:
            return 0.0
        top = hits[0]
        return top.dense + self.tuning.coverage_weight * top.coverage

    def confident(self, hits: list[Hit]) -> bool:
        """Tell whether the best hit clears the calibrated refusal threshold."""
        return self.confidence(hits) >= self.tuning.threshold
