"""Which answer card a question asks for: embedding similarity plus word overlap.

    matcher = CardMatcher(CardStore(Path("data/cards")), embedder)
    matcher.best("dang ky ocop o dau")       # CardMatch(card=noi-nop-ho-so, score=...)

The question is compared with every paraphrase of every card (e5 query-query cosine plus
the IDF-weighted share of its words in that paraphrase), with the card's answer (as a
passage) and with the card's vocabulary; the weights are fitted by `make tune`. Stopwords
and question words are language data, injected.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bot.text import FUNCTION_WORDS, search_words
from index.cards import Card, CardSourceStore
from index.embed import Embedder


@dataclass(frozen=True)
class CardMatch:
    """The best card for a question and how well it matched."""

    card: Card
    score: float
    dense: float
    coverage: float  # share of the question's (IDF-weighted) words the card speaks to at all
    paraphrase: str


YEAR_WORD = re.compile(r"(19|20)\d\d")
UNSEEN_IDF = 2.0  # a question word no card uses weighs like a rare one


@dataclass
class _Built:
    """Embedded paraphrases of one version of the cards."""

    cards: list[Card]
    owner: list[int]  # paraphrase -> card index
    texts: list[str]
    vectors: np.ndarray
    para_words: list[frozenset[str]]  # per paraphrase: its content words
    para_text: list[str]  # per paraphrase: its folded words, space-padded
    words: list[frozenset[str]]  # per card: every content word of its paraphrases
    vocab: list[frozenset[str]]  # per card: paraphrases and answer (what it can speak to)
    answers: np.ndarray  # per card: the answer embedded as a passage (question -> answer similarity)
    idf: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CardWeights:
    """How lexical overlap adds to embedding similarity (fitted by `make tune`)."""

    paraphrase: float = 0.5  # IDF-weighted share of the question's words in the best paraphrase
    card: float = 0.25  # ... in all of the card's paraphrases
    answer: float = 0.0  # embedding similarity of the question to the card's answer (as a passage)
    vocab: float = 0.0  # share of the question's words in the paraphrases and the answer
    focus: float = 0.0  # the paraphrase asks with the same question word about the same thing


class CardMatcher:
    """Finds the card a question asks for (dense + lexical over the paraphrases)."""

    def __init__(
        self,
        store: CardSourceStore,
        embedder: Embedder,
        weights: CardWeights | None = None,
        stopwords: frozenset[str] = FUNCTION_WORDS,
        question_words: tuple[str, ...] = (),
    ) -> None:
        """Embed the store's paraphrases now; again whenever the store reloads.

        `stopwords` and `question_words` ("o dau", "bao lau": folded) are language data."""
        self.store, self.embedder, self.stopwords = store, embedder, stopwords
        self.weights = weights or CardWeights()
        self.question_words = sorted(question_words, key=len, reverse=True)
        self._built = self._build()

    def focus(self, text: str) -> tuple[str, frozenset[str]] | None:
        """The question word of a text and the content words just before it ("gửi giấy tờ | chỗ nào")."""
        joined = f" {' '.join(search_words(text))} "
        for cue in self.question_words:
            at = joined.rfind(f" {cue} ")
            if at >= 0:
                before = [w for w in joined[:at].split() if w not in self.stopwords][-2:]
                return cue, frozenset(before)
        return None

    def _terms(self, text: str) -> list[str]:
        """Folded content syllables (stopwords are language data, injected)."""
        return [w for w in search_words(text) if w not in self.stopwords]

    def _build(self) -> _Built:
        """Embed every paraphrase and count words for IDF."""
        cards = list(self.store.cards())
        owner, texts = [], []
        for i, card in enumerate(cards):
            for q in card.questions:
                owner.append(i)
                texts.append(q)
        vectors = (
            self.embedder.encode_queries(texts) if texts else np.zeros((0, self.embedder.dim), np.float32)
        )
        para_words = [frozenset(self._terms(t)) for t in texts]
        para_text = [f" {' '.join(search_words(t))} " for t in texts]
        words = [frozenset(w for q in c.questions for w in self._terms(q)) for c in cards]
        vocab = [words[i] | frozenset(self._terms(c.answer)) for i, c in enumerate(cards)]
        answers = (
            self.embedder.encode_passages([c.answer for c in cards])
            if cards
            else np.zeros((0, self.embedder.dim), np.float32)
        )
        df = Counter(w for ws in words for w in ws)  # how citizens ask: paraphrases only
        n = max(1, len(cards))
        idf = {w: math.log(1 + n / c) for w, c in df.items()}
        return _Built(cards, owner, texts, vectors, para_words, para_text, words, vocab, answers, idf)

    def refresh(self) -> bool:
        """Re-embed when the cards changed on disk (live edits)."""
        if self.store.reload_if_changed():
            self._built = self._build()
            return True
        return False

    def get(self, card_id: str) -> Card | None:
        """A card by id."""
        return next((c for c in self._built.cards if c.id == card_id), None)

    def scored(self, question: str, vector: np.ndarray | None = None) -> list[CardMatch]:
        """Every card scored for a question, best first."""
        b, w = self._built, self.weights
        if not b.texts:
            return []
        vec = self.embedder.encode_queries([question]) if vector is None else vector
        sims = b.vectors @ vec[0]
        # years named are checked against the card's own years (CardAnswerer), not topic words
        terms = {t for t in self._terms(question) if not YEAR_WORD.fullmatch(t)}
        weight = {t: b.idf.get(t, UNSEEN_IDF) for t in terms}
        total = sum(weight.values()) or 1.0

        def share(have: frozenset[str]) -> float:
            return sum(weight[t] for t in terms & have) / total if terms else 0.0

        asked = self.focus(question) if w.focus else None
        best: dict[int, tuple[float, int]] = {}
        for p, i in enumerate(b.owner):
            score = float(sims[p]) + w.paraphrase * share(b.para_words[p])
            if asked and f" {asked[0]} " in b.para_text[p] and asked[1] & b.para_words[p]:
                score += w.focus
            if i not in best or score > best[i][0]:
                best[i] = (score, p)
        answer_sims = b.answers @ vec[0]
        out = []
        for i, (score, p) in best.items():
            score += (
                w.card * share(b.words[i]) + w.answer * float(answer_sims[i]) + w.vocab * share(b.vocab[i])
            )
            out.append(CardMatch(b.cards[i], score, float(sims[p]), share(b.vocab[i]), b.texts[p]))
        return sorted(out, key=lambda m: m.score, reverse=True)

    def best(self, question: str, vector: np.ndarray | None = None) -> CardMatch | None:
        """The best-scoring card, if there are cards."""
        found = self.scored(question, vector)
        return found[0] if found else None
