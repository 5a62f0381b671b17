"""Passage answers: the sentence of the retrieved passages that best answers a parsed question.

    picker = SentencePicker(embedder, PickWeights.load(), parser)
    answer = picker.compose(question, query_text, hits, idf, query_vector)
    answer.text, answer.doc_id, answer.score

Every candidate sentence gets the same general signals (`FEATURES`): embedding similarity
to the question, IDF-weighted coverage of its words, shared word pairs, the passage's
retrieval score, and a few checks read from the parsed question (does the sentence state
the kind of thing asked, the place, the star level, the year?). Its score is the weighted
sum; the weights and the answer threshold are fitted by `make tune` (index/answer_fit.py,
saved in index/answer.json), not set by hand. No check vetoes a sentence.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.text import fold
from index.embed import Embedder
from index.parse import NATIONAL, Question, QuestionParser
from index.sentence import (
    DATE_S,
    DOCUMENT_NUMBER,
    YEAR,
    announces_list,
    bigrams,
    folded_tokens,
    has_figure,
    is_heading,
    is_list,
    names_person,
    provinces_in,
    stars_in,
    without_provinces,
)
from index.units import asked_unit, states_count_of

WEIGHTS_FILE = Path(__file__).with_name("answer.json")
FEATURES = (
    "dense",  # cosine of question and sentence embeddings
    "dense_rank",  # the same, relative to the candidates (1 for the closest, 0 for the farthest)
    "coverage",  # IDF-weighted share of the question's content words in the sentence
    "context",  # the same share in the sentence with its document title and the sentence before
    "phrase",  # share of the question's word pairs the sentence has
    "run",  # IDF-weighted share of the question in its longest run of words in the sentence
    "document_match",  # the question names a document number that the sentence's document states
    "passage",  # the passage's retrieval score, relative to the best passage
    "list_missing",  # the question asks for a list, the sentence enumerates nothing
    "province_match",  # the sentence names the province asked about
    "star_match",  # the sentence states the star level asked about
    "local",  # no province asked; the sentence is about one province
    "target_mismatch",  # a target asked and an actual figure stated, or the reverse
    "heading",  # a heading, caption or byline (no closing punctuation), or its document's title
    "related",  # a teaser of another article
)
# What the parsed question fixes, the sentence must state; a sentence that does not is
# no candidate (these are checks of the question's type, not of its words):
#   the province asked (in the sentence, the one before it or the title), the year asked
#   (there or in the passage), the star level asked, the unit counted ("bao nhiêu chủ thể"),
#   the document number named (in what was retrieved of the sentence's document),
#   and the kind of answer: a figure for a count, a date, a duration, a person's name.
REQUIRED_KINDS = ("count", "date", "duration", "person", "address", "money")


class HitLike(Protocol):
    """What the composer needs from a retrieved passage."""

    row: dict[str, Any]
    fused: float
    meta: dict[str, Any]


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
class PickWeights:
    """Feature weights and the answer threshold (fitted by `make tune`, index/answer.json)."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "dense": 2.0,
            "dense_rank": 0.5,
            "coverage": 2.0,
            "context": 1.0,
            "phrase": 1.0,
            "run": 1.0,
            "document_match": 1.0,
            "passage": 0.5,
            "list_missing": -0.5,
            "province_match": 0.5,
            "star_match": 0.5,
            "local": -0.3,
            "target_mismatch": -0.5,
            "heading": -2.0,
            "related": -0.2,
        }  # fmt: skip
    )
    threshold: float = 2.0  # the best sentence must score this much to be an answer
    margin: float = 0.0  # ... and lead the best sentence of any other document by this much
    retrieval: float = 0.0  # weight of the retrieval's confidence (minus 1) added to that score
    min_confidence: float = 0.0  # below this retrieval confidence nothing is answered
    neighbour_share: float = 0.8  # neighbours scoring this share of the best are kept
    max_sentences: int = 4
    max_words: int = 90

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> PickWeights:
        """Read fitted weights if the file exists (unknown features are ignored)."""
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        kept = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "weights" in kept:
            kept["weights"] = {
                **cls().weights,
                **{k: float(v) for k, v in kept["weights"].items() if k in FEATURES},
            }
        return cls(**kept)

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        """Write the weights as JSON."""
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    def accepts(self, score: float, margin: float, confidence: float) -> bool:
        """Is the best sentence an answer: score plus weighted retrieval confidence over the threshold, lead over the margin?"""
        return (
            confidence >= self.min_confidence
            and score + self.retrieval * (confidence - 1.0) >= self.threshold
            and margin >= self.margin
        )

    def vector(self) -> np.ndarray:
        """The weights in FEATURES order."""
        return np.array([self.weights.get(f, 0.0) for f in FEATURES], dtype=np.float32)


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage, with its features."""

    hit: int
    index: int
    features: np.ndarray


@dataclass(frozen=True)
class _Asked:
    """A question as the picker reads it: content words, pairs, place, stars, unit, kinds."""

    question: Question
    tokens: tuple[str, ...]
    terms: frozenset[str]
    total: float  # IDF mass of the terms
    pairs: set[str]
    asked: frozenset[str]  # provinces asked about
    stars: frozenset[str]
    unit: str | None
    kinds: tuple[str, ...]  # REQUIRED_KINDS the question asks for
    agencies: frozenset[str]  # agencies the question names ("so_cong_thuong")
    weight: Callable[[str], float]


@dataclass(frozen=True)
class _Around:
    """What surrounds a passage's sentences: title (with date), publisher, numbers, years."""

    title: str
    publisher: str
    heading: str  # the folded document title
    numbers: list[str]  # numbers stated in what was retrieved of the document
    years: frozenset[str]  # years stated in the title or the passage


class SentenceVectors:
    """Embeddings of passage sentences, computed once per sentence text (thread-safe cache)."""

    def __init__(self, embedder: Embedder | None, limit: int = 100_000) -> None:
        """Wrap the index's embedder (None: the dense signal is 0, as in unit tests without a model)."""
        self.embedder, self.limit = embedder, limit
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def of(self, sentences: Sequence[str]) -> list[np.ndarray | None]:
        """Vectors of the sentences (encoded in one batch for those not seen before)."""
        if self.embedder is None:
            return [None] * len(sentences)
        missing = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        if missing:
            vectors = self.embedder.encode_passages(missing)
            with self._lock:
                if len(self._cache) + len(missing) > self.limit:
                    self._cache.clear()
                self._cache.update(zip(missing, vectors))
        return [self._cache.get(s) for s in sentences]


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
        self._follow = weights is None
        self._stamp = WEIGHTS_FILE.stat().st_mtime if WEIGHTS_FILE.is_file() else 0.0
        self.weights = weights or PickWeights.load()
        self.stopwords = stopwords

    def refresh(self) -> None:
        """Pick up weights refitted by `make tune` (no restart)."""
        stamp = WEIGHTS_FILE.stat().st_mtime if WEIGHTS_FILE.is_file() else 0.0
        if self._follow and stamp != self._stamp:
            self._stamp, self.weights = stamp, PickWeights.load()

    # ---- features ----------------------------------------------------------------
    def _view(self, q: Question, query: str, idf: dict[str, float] | None) -> _Asked | None:
        """What the question asks, read once for all its candidate sentences (None: nothing)."""
        weight: Callable[[str], float] = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
        tokens = folded_tokens(query)
        asked = frozenset((set(q.scopes) & provinces_in(query) or set(q.scopes)) - {NATIONAL})  # no country
        place_words = {w for name in asked for w in folded_tokens(name)}
        skip = self.stopwords | set(q.stars) | set(q.years) | place_words | {"sao"}
        terms = frozenset(t for t in tokens if t not in skip)
        if not terms and not q.wants:
            return None  # nothing asked beyond function words and the programme's name ("ocop ocop ...")
        kinds = tuple(k for k in q.wants if k in REQUIRED_KINDS)
        if self.parser.asks_document and self.parser.asks_document.search(q.folded):
            kinds = tuple(k for k in kinds if k == "date")  # "quyết định số mấy": a number, not a count
        return _Asked(
            q, tokens, terms, sum(weight(t) for t in terms) or 1.0, bigrams(tokens), asked, frozenset(q.stars),
            "%" if "%" in query else asked_unit(" ".join(tokens)), kinds, self.parser.agencies_in(q.folded), weight,
        )  # fmt: skip

    def candidates(
        self,
        q: Question,
        query: str,
        hits: Sequence[HitLike],
        idf: dict[str, float] | None,
        query_vector: np.ndarray | None,
        max_hits: int = 5,
    ) -> list[Candidate]:
        """Every sentence of the best hits that states what the question fixes, with its features."""
        hits = list(hits[:max_hits])
        view = self._view(q, query, idf) if hits else None
        if view is None:
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
            around = _Around(
                f"{hit.row.get('title', '')} {hit.meta.get('date') or ''}",
                fold(str(hit.meta.get("publisher") or "")).lower().strip(),
                fold(hit.row.get("title", "")).lower().strip(),
                re.findall(r"\d+", documents[hit.row["doc_id"]]),
                frozenset(
                    YEAR.findall(
                        fold(f"{hit.row.get('title', '')} {hit.meta.get('date') or ''} {' '.join(sentences)}")
                    )
                ),
            )
            place = provinces_in(around.title)
            for si, sentence in enumerate(sentences):
                previous = sentences[si - 1] if si else ""
                here = provinces_in(sentence)
                place = here or provinces_in(previous) or place
                if sentence in seen:
                    continue
                seen.add(sentence)
                stated = frozenset(self.parser.stars_of(sentence)) if view.stars else frozenset()
                if not self._fits(view, sentence, previous, here | place, stated, around):
                    continue
                x = self._features(view, sentence, previous, here, stated, around, hit)
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

    def _fits(
        self,
        view: _Asked,
        sentence: str,
        previous: str,
        places: frozenset[str],
        stated: frozenset[str],
        around: _Around,
    ) -> bool:
        """Does the sentence state what the question fixes (REQUIRED_KINDS and the comment above it)?"""
        q, folded = view.question, fold(sentence).lower()
        if view.asked and not view.asked & places:
            return False  # about another province, or about none we can tell
        if q.years and not set(q.years) & around.years:
            return False  # a year asked that neither the passage nor its title states
        if view.stars and not {x[0] for x in view.stars} & {x[0] for x in stated | stars_in(sentence)}:
            return False  # another star level (a special level counts as its number of stars)
        if view.unit and not states_count_of(sentence, view.unit):
            return False  # "bao nhiêu chủ thể": a count of something else
        if any(not self._states(k, sentence, folded) for k in view.kinds):
            return False
        words = " ".join(folded_tokens(sentence))
        posts = self.parser.posts_asked(q.folded)
        if posts and not posts & self.parser.posts_asked(words):
            return False  # "giám đốc sở là ai": a deputy ("phó giám đốc") is someone else
        if (
            not posts
            and self._asks_post(q)
            and not (self.parser.post_words and self.parser.post_words.search(words))
        ):
            return False  # "X là ai": a sentence quoting X without saying X's post does not answer
        if view.agencies and not view.agencies & self.parser.agencies_in(f"{fold(previous).lower()} {words}"):
            return False  # "Sở Công Thương làm gì": another agency's tasks are not its tasks
        if self._asks_number(q) and not DOCUMENT_NUMBER.search(sentence):
            return False  # "quyết định số mấy": only a sentence stating a document number
        if q.document_numbers and not any(n in around.numbers for n in q.document_numbers):
            return False  # "Quyết định số N ...": only the document that states that number answers
        return not (around.publisher and around.publisher in folded and is_heading(sentence))  # a byline

    def _features(
        self,
        view: _Asked,
        sentence: str,
        previous: str,
        here: frozenset[str],
        stated: frozenset[str],
        around: _Around,
        hit: HitLike,
    ) -> dict[str, float]:
        """The lexical and type signals of one candidate (dense and passage are added by the caller)."""
        weight, terms, folded = view.weight, view.terms, fold(sentence).lower()
        s_tokens = folded_tokens(without_provinces(sentence, view.asked))
        s_set = set(s_tokens)
        ctx_set = s_set | set(folded_tokens(around.title)) | set(folded_tokens(previous))
        return {
            "coverage": sum(weight(t) for t in terms & s_set) / view.total,
            "context": sum(weight(t) for t in terms & ctx_set) / view.total,
            "phrase": len(view.pairs & bigrams(s_tokens)) / max(1, len(view.pairs)),
            "run": sum(weight(t) for t in longest_run(view.tokens, s_tokens)) / view.total,
            "document_match": float(any(n in around.numbers for n in view.question.document_numbers)),
            "list_missing": float("list" in view.question.wants and not is_list(sentence)),
            "province_match": float(bool(view.asked & here)),
            "star_match": float(bool(view.stars & stated)),
            "local": float(not view.asked and bool(here)),
            "target_mismatch": float(
                (view.question.kind == "target") != bool(self.parser.target.search(folded))
            ),
            "heading": float(is_heading(sentence) or folded.strip() == around.heading),
            "related": float(hit.row.get("section") == "related"),
        }

    def _asks_post(self, q: Question) -> bool:
        """Does the question ask who someone is ("X là ai", "chức vụ gì")?"""
        return bool(self.parser.asks_post and self.parser.asks_post.search(q.folded))

    def _asks_number(self, q: Question) -> bool:
        """Does the question ask for a document's number ("quyết định số mấy")?"""
        return bool(self.parser.asks_document and self.parser.asks_document.search(q.folded))

    def _states(self, want: str, sentence: str, folded: str) -> bool:
        """Does the sentence state the kind of thing asked (a count, a date, a person, a list)?"""
        if want == "count":
            return has_figure(sentence)
        if want == "date":
            return bool(DATE_S.search(folded))
        if want == "duration":
            return states_count_of(sentence, "thoi gian")
        if want == "person":
            return names_person(sentence)
        if want == "list":
            return is_list(sentence)
        if want == "money":
            return states_count_of(sentence, "tien")
        if want == "address":
            return bool(self.parser.address and self.parser.address.search(" ".join(folded_tokens(sentence))))
        return True

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
        """
        self.refresh()
        found = self.candidates(q, query, hits, idf, query_vector)
        if not found:
            return None
        w = self.weights
        scores = {(c.hit, c.index): float(c.features @ w.vector()) for c in found}
        (hi, si), score = max(scores.items(), key=lambda kv: kv[1])
        doc = hits[hi].row["doc_id"]
        rival = max((v for (h, _), v in scores.items() if hits[h].row["doc_id"] != doc), default=-math.inf)
        if not w.accepts(score, score - rival, confidence):
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


def longest_run(a: Sequence[str], b: Sequence[str]) -> Sequence[str]:
    """The longest run of words that `a` and `b` share in the same order.

    >>> longest_run("so khoa hoc va cong nghe".split(), "cac so khoa hoc va cong nghe chu tri".split())
    ['so', 'khoa', 'hoc', 'va', 'cong', 'nghe']
    """
    best, end, prev = 0, 0, [0] * (len(b) + 1)
    for i, x in enumerate(a):
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                if cur[j + 1] > best:
                    best, end = cur[j + 1], i + 1
        prev = cur
    return list(a[end - best : end])
