"""Answer cards: curated answers about how the programme works, matched by paraphrase.

    cards = CardStore(Path("data/cards"))              # validated; problems in cards.errors
    cards.cards()                                        # [Card(id="noi-nop-ho-so", ...), ...]

Files are re-read when they change: an edited card is live without a restart (the matcher,
index/card_match.py, re-embeds its paraphrases then). A broken card is reported with its
file and line; the others keep working.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from index.content_files import folder_files, read_files, stamp_of

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
    needs: tuple[str, ...] = ()  # words one of which a question must use ("hỗ trợ": not a fee asked)


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
    needs = raw.get("needs") or []
    if not isinstance(needs, list) or not all(isinstance(n, str) and n.strip() for n in needs):
        problems.append(f"{where}: needs must be a list of words or phrases")
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
        needs=tuple(n.strip() for n in needs),
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


def check_links(cards: Sequence[Card]) -> tuple[list[Card], list[str]]:
    """The cards with a unique id, and the problems: duplicate ids, related or superseding ids
    that no card has (by file and line). The store and the staff console both check with it."""
    seen: dict[str, Card] = {}
    errors: list[str] = []
    for card in cards:
        if card.id in seen:
            errors.append(f"{card.where}: duplicate id {card.id} (first at {seen[card.id].where})")
        else:
            seen[card.id] = card
    for card in seen.values():
        for rid in (*card.related, *filter(None, [card.superseded_by])):
            if rid not in seen:
                errors.append(f"{card.where}: card {card.id} refers to unknown card {rid}")
    return list(seen.values()), errors


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
        files = folder_files(self.folder, "*.yml")
        stamp = stamp_of(files)
        if stamp == self._stamp:
            return False
        cards, errors = read_files(files, parse_cards)
        valid, problems = check_links(cards)
        self._cards, self.errors, self._stamp = valid, errors + problems, stamp
        return True

    def cards(self) -> Sequence[Card]:
        """All valid cards."""
        return self._cards
