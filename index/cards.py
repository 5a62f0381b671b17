"""Answer cards: curated answers about how the programme works, matched by paraphrase.

    cards = CardStore(Path("data/cards"))              # validated; problems in cards.errors
    matcher = CardMatcher(cards, embedder)
    match = matcher.best("dang ky ocop o dau")           # CardMatch(card=noi-nop-ho-so, score=...)

A card is found by the embedding similarity of the question to the card's paraphrases
plus the IDF-weighted share of the question's words that they contain. Files are
re-read when they change (the paraphrases are re-embedded then): an edited card is
live without a restart. A broken card is reported with its file and line; the others
keep working.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

from bot.text import FUNCTION_WORDS, search_words
from index.embed import Embedder

REQUIRED = ("id", "topic", "questions", "answer", "source")
SOURCE_FIELDS = ("title", "issuer", "date")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class CardSource:
    """The legal text or article that states a card's answer."""

    title: str
    issuer: str
    date: str
    number: str = ""
    article: str = ""


@dataclass(frozen=True)
class Card:
    """One curated answer with the ways people ask for it."""

    id: str
    topic: str
    questions: tuple[str, ...]
    answer: str
    source: CardSource
    valid_from: str = ""
    superseded_by: str = ""
    related: tuple[str, ...] = ()
    contact: str = ""
    where: str = ""


@dataclass(frozen=True)
class CardMatch:
    """The best card for a question and how well it matched."""

    card: Card
    score: float
    dense: float
    coverage: float  # share of the question's (IDF-weighted) words the card speaks to at all
    paraphrase: str


class CardSourceStore(Protocol):
    """What the matcher needs from a set of cards (files, or in memory in tests)."""

    def cards(self) -> Sequence[Card]:
        """All valid cards."""
        ...

    def reload_if_changed(self) -> bool:
        """Re-read the cards when they changed."""
        ...


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of every mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, with its 1-based line under "__line__"."""
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def parse_card(raw: Any, where: str) -> Card | list[str]:
    """A validated card, or the problems of the entry (each prefixed by file:line)."""
    if not isinstance(raw, dict):
        return [f"{where}: a card must be a mapping"]
    problems = [f"{where}: missing {k}" for k in REQUIRED if not raw.get(k)]
    if problems:
        return problems
    source = raw["source"]
    if not isinstance(source, dict) or any(not source.get(k) for k in SOURCE_FIELDS):
        return [f"{where}: source needs {', '.join(SOURCE_FIELDS)}"]
    questions = raw["questions"]
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        return [f"{where}: questions must be a list of texts"]
    if not _ID.match(str(raw["id"])):
        problems.append(f"{where}: id {raw['id']!r} must be lowercase letters, digits and dashes")
    related = raw.get("related") or []
    if not isinstance(related, list):
        problems.append(f"{where}: related must be a list of card ids")
    if problems:
        return problems
    return Card(
        id=str(raw["id"]),
        topic=str(raw["topic"]),
        questions=tuple(q.strip() for q in questions),
        answer=" ".join(str(raw["answer"]).split()),
        source=CardSource(
            str(source["title"]),
            str(source["issuer"]),
            str(source["date"]),
            str(source.get("number") or ""),
            str(source.get("article") or ""),
        ),  # fmt: skip
        valid_from=str(raw.get("valid_from") or ""),
        superseded_by=str(raw.get("superseded_by") or ""),
        related=tuple(str(r) for r in related),
        contact=str(raw.get("contact") or ""),
        where=where,
    )


def parse_cards(text: str, name: str) -> tuple[list[Card], list[str]]:
    """Cards and problems of one YAML file."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return [], [f"{name}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})"]
    entries = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return [], [f"{name}:1: expected a top-level 'cards:' list"]
    cards, errors = [], []
    for raw in entries:
        line = raw.get("__line__", 1) if isinstance(raw, dict) else 1
        parsed = parse_card(raw, f"{name}:{line}")
        (errors.extend if isinstance(parsed, list) else cards.append)(parsed)
    return cards, errors


class CardStore:
    """Cards read from a folder of YAML files, re-read when a file changes."""

    def __init__(self, folder: Path | None, cards: Sequence[Card] = ()) -> None:
        """Read `folder` (or hold the given cards: the in-memory store of tests)."""
        self.folder = folder
        self._cards: list[Card] = list(cards)
        self.errors: list[str] = []
        self._stamp: tuple = ()
        if folder is not None:
            self.reload_if_changed()

    def reload_if_changed(self) -> bool:
        """Re-read the files when one changed; duplicate ids and unknown related ids are reported."""
        if self.folder is None:
            return False
        files = sorted(self.folder.glob("*.yml")) if self.folder.is_dir() else []
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        if stamp == self._stamp:
            return False
        cards: list[Card] = []
        errors: list[str] = []
        for path in files:
            found, problems = parse_cards(path.read_text(encoding="utf-8"), path.name)
            cards.extend(found)
            errors.extend(problems)
        seen: dict[str, Card] = {}
        for card in cards:
            if card.id in seen:
                errors.append(f"{card.where}: duplicate id {card.id} (first at {seen[card.id].where})")
            else:
                seen[card.id] = card
        for card in seen.values():
            for rid in (*card.related, *filter(None, [card.superseded_by])):
                if rid not in seen:
                    errors.append(f"{card.where}: card {card.id} refers to unknown card {rid}")
        self._cards, self.errors, self._stamp = list(seen.values()), errors, stamp
        return True

    def cards(self) -> Sequence[Card]:
        """All valid cards."""
        return self._cards


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
        """The question word of a text and the content words just before it ("nộp hồ sơ | ở đâu")."""
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
        terms = set(self._terms(question))
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
