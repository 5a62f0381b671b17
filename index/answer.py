"""Passage answers: the sentence of the retrieved passages that best answers a parsed question.

    picker = SentencePicker(embedder, parser, PickWeights.load(), stopwords)
    answer = picker.compose(question, query_text, hits, idf, query_vector, confidence)
    answer.text, answer.doc_id, answer.score

Every sentence of the best passages that states what the parsed question fixes
(index/sentence_checks.py) gets the same general signals (`FEATURES`, index/pick_weights.py):
embedding similarity to the question, IDF-weighted coverage of its words, shared word pairs,
the passage's retrieval score, and a few type signals. Its score is the weighted sum; the
weights, the answer threshold, the margin over another document and the weight of the
retrieval's confidence are fitted by `make tune` (index/answer_fit.py, saved in
index/answer.json), not set by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.text import fold
from index.embed import Embedder, SentenceVectors
from index.parse import Question, QuestionParser
from index.pick_weights import FEATURES, WEIGHTS_FILE, PickWeights
from index.sentence import YEAR, announces_list, folded_tokens, has_figure, provinces_in
from index.sentence_checks import Around, Asked, HitLike, SentenceChecks


@dataclass
class Answer:
    """The chosen sentences and where they come from."""

    sentences: list[str]
    doc_id: str
    meta: dict[str, Any]
    has_figures: bool
    score: float

    @property
    def text(self) -> str:
        """The answer text."""
        return " ".join(self.sentences)


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, with its features."""

    hit: int
    index: int
    features: np.ndarray


class SentencePicker:
    """Scores the sentences of retrieved passages and composes the extractive answer."""

    def __init__(
        self,
        embedder: Embedder | None,
        parser: QuestionParser,
        weights: PickWeights | None = None,
        stopwords: frozenset[str] = frozenset(),
    ) -> None:
        """Take the embedder, the parser's cue tables and the fitted weights (file when None)."""
        self.vectors = SentenceVectors(embedder)
        self.parser = parser
        self.checks = SentenceChecks(parser, stopwords)
        self._follow = weights is None
        self._stamp = WEIGHTS_FILE.stat().st_mtime if WEIGHTS_FILE.is_file() else 0.0
        self.weights = weights or PickWeights.load()
        self.stopwords = stopwords

    def refresh(self) -> None:
        """Pick up weights refitted by `make tune` (no restart)."""
        stamp = WEIGHTS_FILE.stat().st_mtime if WEIGHTS_FILE.is_file() else 0.0
        if self._follow and stamp != self._stamp:
            self._stamp, self.weights = stamp, PickWeights.load()

    def candidates(
        self,
        q: Question,
        query: str,
        hits: Sequence[HitLike],
        idf: dict[str, float] | None,
        query_vector: np.ndarray | None,
        max_hits: int = 5,
        view: Asked | None = None,
    ) -> list[Candidate]:
        """Every sentence of the best hits that states what the question fixes, with its features.

        `view` is the question as the checks read it, when the caller has read it already."""
        hits = list(hits[:max_hits])
        view = view or (self.checks.view(q, query, idf) if hits else None)
        if view is None or not hits:
            return []
        top = max(h.fused for h in hits) or 1.0
        qv = None if query_vector is None else np.asarray(query_vector, dtype=np.float32).reshape(-1)
        documents: dict[
            str, str
        ] = {}  # what was retrieved of each document (its number is often stated once)
        for hit in hits:
            doc = hit.row["doc_id"]
            documents[doc] = (
                f"{documents.get(doc, hit.row.get('title', ''))} {' '.join(hit.row['sentences'])}"
            )
        out: list[tuple[int, int, dict[str, float]]] = []
        seen: set[str] = set()  # overlapping passages repeat sentences: each is a candidate once
        for hi, hit in enumerate(hits):
            sentences = hit.row["sentences"]
            vectors = self.vectors.of(sentences) if qv is not None else [None] * len(sentences)
            around = Around(
                f"{hit.row.get('title', '')} {hit.meta.get('date') or ''}",
                fold(str(hit.meta.get("publisher") or "")).lower().strip(),
                fold(hit.row.get("title", "")).lower().strip(),
                re.findall(r"\d+", documents[hit.row["doc_id"]]),
                frozenset(YEAR.findall(fold(f"{hit.meta.get('date') or ''} {documents[hit.row['doc_id']]}"))),
                frozenset(YEAR.findall(fold(f"{hit.row.get('title', '')} {hit.meta.get('date') or ''}"))),
            )
            place = provinces_in(around.title)
            own = provinces_in(str(hit.meta.get("province") or ""))
            if (
                len(place) > 1 and own & place
            ):  # "An Giang và Sóc Trăng trao đổi…": "toàn tỉnh" is the publisher's
                place = own
            for si, sentence in enumerate(sentences):
                previous = sentences[si - 1] if si else ""
                here = provinces_in(sentence)
                place = here or provinces_in(previous) or place
                if sentence in seen:
                    continue
                seen.add(sentence)
                stated = frozenset(self.parser.stars_of(sentence)) if view.stars else frozenset()
                following = sentences[si + 1] if si + 1 < len(sentences) else ""
                if not self.checks.fits(view, sentence, previous, here | place, stated, around, following):
                    continue
                x = self.checks.features(view, sentence, previous, here, stated, around, hit)
                x["dense"] = (
                    float(np.dot(qv, vectors[si])) if qv is not None and vectors[si] is not None else 0.0
                )
                x["passage"] = hit.fused / top
                out.append((hi, si, x))
        dense = [x["dense"] for _, _, x in out]
        low, high = (min(dense), max(dense)) if dense else (0.0, 0.0)
        found = []
        for hi, si, x in out:
            x["dense_rank"] = (x["dense"] - low) / (high - low) if high > low else 1.0
            found.append(Candidate(hi, si, np.array([x[f] for f in FEATURES], dtype=np.float32)))
        return found

    # ---- composing ---------------------------------------------------------------
    def compose(
        self,
        q: Question,
        query: str,
        hits: Sequence[HitLike],
        idf: dict[str, float] | None = None,
        query_vector: np.ndarray | None = None,
        confidence: float = 1.0,
    ) -> Answer | None:
        """The best extractive answer, or None when it does not clear the calibrated threshold.

        `confidence` is the retrieval's (index/retrieve.py `confidence`): with the fitted
        `retrieval` weight, a strong sentence in weakly retrieved passages can still answer.
        A typed question (a unit counted, an agency named: every candidate was checked to
        state it) gets the fitted `typed` allowance.
        """
        self.refresh()
        view = self.checks.view(q, query, idf) if hits else None
        found = self.candidates(q, query, hits, idf, query_vector, view=view)
        if not found or view is None:
            return None
        w = self.weights
        scores = {(c.hit, c.index): float(c.features @ w.vector()) for c in found}
        (hi, si), score = max(scores.items(), key=lambda kv: kv[1])
        doc = hits[hi].row["doc_id"]
        rival = max((v for (h, _), v in scores.items() if hits[h].row["doc_id"] != doc), default=-math.inf)
        if not w.accepts(score, score - rival, confidence, view.typed):
            return None  # too weak, or a close call between two documents
        hit = hits[hi]
        sentences = hit.row["sentences"]
        chosen = [si]
        length = len(sentences[si].split())

        def add(k: int) -> None:
            nonlocal length
            if 0 <= k < len(sentences) and k not in chosen and len(chosen) < w.max_sentences:
                if length + len(sentences[k].split()) <= w.max_words:
                    chosen.append(k)
                    length += len(sentences[k].split())

        for k in (si + 1, si - 1, si + 2, si + 3):  # neighbours that answer too: a list that goes on
            if scores.get((hi, k), -math.inf) >= w.neighbour_share * score:
                add(k)
        if si + 1 < len(sentences):  # "bao gồm: ...": the details the sentence announces
            nxt = sentences[si + 1]
            if self._opens(self.parser.details, nxt) or announces_list(sentences[si], nxt):
                add(si + 1)
        first = min(chosen)
        if first > 0 and self._opens(self.parser.continues, sentences[first]):
            add(first - 1)  # "Trong đó, 19 sản phẩm 4 sao": say what "đó" is
        picked = [sentences[k] for k in sorted(chosen)]
        return Answer(picked, hit.row["doc_id"], hit.meta, has_figure(" ".join(picked)), score)

    @staticmethod
    def _opens(pattern: Any, sentence: str) -> bool:  # noqa: ANN401 - a compiled pattern or None
        """Does the sentence open with one of the pattern's words?"""
        return bool(pattern is not None and pattern.search(" ".join(folded_tokens(sentence))))
