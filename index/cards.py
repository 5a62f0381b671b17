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
    coverage: float
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


def _terms(text: str) -> list[str]:
    """Folded content syllables."""
    return [w for w in search_words(text) if w not in FUNCTION_WORDS]


@dataclass
class _Built:
    """Embedded paraphrases of one version of the cards."""

    cards: list[Card]
    owner: list[int]  # paraphrase -> card index
    texts: list[str]
    vectors: np.ndarray
    words: list[frozenset[str]]  # per card: every content word of its paraphrases
    idf: dict[str, float] = field(default_factory=dict)


class CardMatcher:
    """Finds the card a question asks for (dense + lexical over the paraphrases)."""

    def __init__(self, store: CardSourceStore, embedder: Embedder, coverage_weight: float = 0.5) -> None:
        """Embed the store's paraphrases now; again whenever the store reloads."""
        self.store, self.embedder, self.coverage_weight = store, embedder, coverage_weight
        self._built = self._build()

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
        words = [frozenset(w for q in c.questions for w in _terms(q)) for c in cards]
        df = Counter(w for ws in words for w in ws)
        n = max(1, len(cards))
        idf = {w: math.log(1 + n / c) for w, c in df.items()}
        return _Built(cards, owner, texts, vectors, words, idf)

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
        b = self._built
        if not b.texts:
            return []
        vec = self.embedder.encode_queries([question]) if vector is None else vector
        sims = b.vectors @ vec[0]
        best_para: dict[int, int] = {}
        for p, i in enumerate(b.owner):
            if i not in best_para or sims[p] > sims[best_para[i]]:
                best_para[i] = p
        terms = set(_terms(question))
        total = sum(b.idf.get(t, 1.5) for t in terms)
        out = []
        for i, p in best_para.items():
            have = terms & b.words[i]
            coverage = sum(b.idf.get(t, 1.5) for t in have) / total if total else 0.0
            dense = float(sims[p])
            out.append(
                CardMatch(b.cards[i], dense + self.coverage_weight * coverage, dense, coverage, b.texts[p])
            )
        return sorted(out, key=lambda m: m.score, reverse=True)

    def best(self, question: str, vector: np.ndarray | None = None) -> CardMatch | None:
        """The best-scoring card, if there are cards."""
        found = self.scored(question, vector)
        return found[0] if found else None
