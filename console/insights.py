"""What the pages show, computed from the tracker store: turns, conversations, groups, counts."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from console.clusters import Group, group_turns, normalize
from console.outcomes import ANSWERED, DISLIKED, OUTCOMES, UNANSWERED
from console.tracker import Turn, build_turns, read_events
from index.cards import Card, CardStore
from index.settings import Settings

_LOCK = threading.Lock()


def parse_day(text: str | None, end: bool = False) -> float | None:
    """A YYYY-MM-DD form field as a timestamp (the end of that day when `end`), None if empty or bad."""
    try:
        day = datetime.strptime((text or "").strip(), "%Y-%m-%d")
    except ValueError:
        return None
    return day.timestamp() + (86400 if end else 0)


def turns_between(tracker: Any, since: float | None, until: float | None) -> list[Turn]:
    """Turns of messages sent in [since, until)."""
    return build_turns(read_events(tracker, since, until))


@dataclass(frozen=True)
class Conversation:
    """One sender's turns in the period."""

    sender: str
    channel: str
    turns: tuple[Turn, ...]

    @property
    def first(self) -> float:
        """When it started."""
        return self.turns[0].at

    @property
    def outcomes(self) -> Counter:
        """How many turns had each outcome."""
        return Counter(t.outcome for t in self.turns)


def conversations(turns: Sequence[Turn], channel: str = "", outcome: str = "") -> list[Conversation]:
    """Conversations (newest first) with at least one turn matching the filters (`outcome`
    DISLIKED: a turn rated 👎)."""
    by_sender: dict[str, list[Turn]] = {}
    for turn in turns:
        by_sender.setdefault(turn.sender, []).append(turn)
    found = []
    for sender, ts in by_sender.items():
        if channel and not any(t.channel == channel for t in ts):
            continue
        if outcome == DISLIKED:
            if not any(t.feedback == "down" for t in ts):
                continue
        elif outcome and not any(t.outcome == outcome for t in ts):
            continue
        found.append(Conversation(sender, ts[0].channel, tuple(ts)))
    return sorted(found, key=lambda c: -c.turns[-1].at)


def daily_counts(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Per day: questions by channel and by outcome, the answered share, the 👍/👎 counts
    and the 👎 share of the answers (knowledge and contact answers, which carry the buttons)."""
    days: dict[str, dict[str, Any]] = {}
    for turn in turns:
        day = datetime.fromtimestamp(turn.at).strftime("%Y-%m-%d")
        row = days.setdefault(
            day, {"day": day, "total": 0, "channels": Counter(), "outcomes": Counter(), "feedback": Counter()}
        )
        row["total"] += 1
        row["channels"][turn.channel or "?"] += 1
        row["outcomes"][turn.outcome] += 1
        if turn.feedback:
            row["feedback"][turn.feedback] += 1
    for row in days.values():
        unanswered = sum(row["outcomes"][k] for k in UNANSWERED)
        row["answered_share"] = round(100 * (row["total"] - unanswered) / row["total"]) if row["total"] else 0
        row["answers"] = sum(row["outcomes"][k] for k in ANSWERED)
        row["down_share"] = round(100 * row["feedback"]["down"] / row["answers"]) if row["answers"] else 0
    return [days[d] for d in sorted(days)]


def feedback_totals(turns: Sequence[Turn]) -> dict[str, int]:
    """How many turns were rated 👍 ("up") and 👎 ("down")."""
    counts = Counter(t.feedback for t in turns if t.feedback)
    return {"up": counts["up"], "down": counts["down"]}


def outcome_totals(turns: Sequence[Turn]) -> list[tuple[str, int]]:
    """Turns per outcome, in the fixed order."""
    counts = Counter(t.outcome for t in turns)
    return [(k, counts[k]) for k in OUTCOMES]


class Embeddings:
    """The project's embedder, loaded at first use, with a cache of query vectors."""

    def __init__(self, settings: Settings | None = None) -> None:
        """Nothing is loaded yet."""
        self._settings = settings
        self._embedder: Any = None
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        """L2-normalised vectors of the texts (cached)."""
        with _LOCK:
            if self._embedder is None:
                from index.embed import load_embedder

                self._embedder = load_embedder(self._settings or Settings.from_env())
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                for text, vec in zip(missing, self._embedder.encode_queries(missing)):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)


def known_questions(cards: Sequence[Card]) -> set[str]:
    """The cards' paraphrases, normalized: a message written into a card is no longer open."""
    return {normalize(q) for card in cards for q in card.questions}


def unanswered_groups(
    tracker: Any,
    store: CardStore,
    embed: Embeddings,
    days: int,
    hidden: set[str] = frozenset(),
    threshold: float | None = None,
) -> list[Group]:
    """Refused and fallback questions of the last `days` days neither in a card nor `hidden`
    (normalized texts staff dismissed), grouped."""
    store.reload_if_changed()
    turns = [t for t in turns_between(tracker, time.time() - days * 86400, None) if t.outcome in UNANSWERED]
    kwargs = {"threshold": threshold} if threshold else {}
    return group_turns(turns, embed, known_questions(store.cards()) | set(hidden), **kwargs)


def disliked_groups(
    tracker: Any,
    store: CardStore,
    embed: Embeddings,
    days: int,
    hidden: set[str] = frozenset(),
    threshold: float | None = None,
) -> list[Group]:
    """Questions whose answer was rated 👎 in the last `days` days, grouped like the unanswered
    ones. A question staff dismissed, or wrote into a card other than the one that answered
    it, has been dealt with and is left out (one already in the answering card stays: that
    card's answer was disliked)."""
    store.reload_if_changed()
    turns = [t for t in turns_between(tracker, time.time() - days * 86400, None) if t.feedback == "down"]
    paraphrases = {card.id: {normalize(q) for q in card.questions} for card in store.cards()}

    def moved(turn: Turn) -> bool:
        ref = (turn.refs or [""])[0]
        answering = ref.removeprefix("card:") if ref.startswith("card:") else None
        norm = normalize(turn.text)
        return any(norm in qs for cid, qs in paraphrases.items() if cid != answering)

    kwargs = {"threshold": threshold} if threshold else {}
    return group_turns([t for t in turns if not moved(t)], embed, set(hidden), **kwargs)


def cards_by_similarity(store: CardStore, embed: Embeddings, centroid: np.ndarray) -> list[Card]:
    """All cards, the one whose paraphrases are closest to a group first."""
    cards = list(store.cards())
    if not cards:
        return []
    scores = []
    for card in cards:
        vecs = embed(list(card.questions))
        scores.append(float(np.max(vecs @ centroid)) if len(vecs) else -1.0)
    order = np.argsort(-np.asarray(scores), kind="stable")
    return [cards[i] for i in order]


def matching(groups: Sequence[Group], needle: str) -> list[Group]:
    """Groups with a question containing `needle` (case-insensitive), those questions first."""
    key = normalize(needle)
    found = []
    for group in groups:
        pairs = list(zip(group.questions, group.senders))
        hits = [p for p in pairs if key in normalize(p[0])]
        if hits:
            ordered = hits + [p for p in pairs if p not in hits]
            found.append(
                replace(group, questions=tuple(q for q, _ in ordered), senders=tuple(s for _, s in ordered))
            )
    return found


def top_refs(turns: Sequence[Turn], limit: int = 10) -> list[tuple[str, int]]:
    """What answered most often: card, statistics row and document ids, with counts."""
    counts = Counter(t.refs[0] for t in turns if t.refs and t.outcome in ("card", "statistic", "passage"))
    return counts.most_common(limit)


def chart_data(days: list[dict[str, Any]], totals: list[tuple[str, int]], refs: list[tuple[str, int]],
               labels: dict[str, Any], feedback: dict[str, int] | None = None) -> str:  # fmt: skip
    """The dashboard's figures as JSON safe inside a <script type="application/json"> block."""
    channels = sorted({c for d in days for c in d["channels"]})
    shares = [100 - d["answered_share"] if d["total"] else 0 for d in days]
    data = {
        "days": [d["day"] for d in days],
        "channels": channels,
        "perChannel": {c: [d["channels"][c] for d in days] for c in channels},
        "answeredShare": [d["answered_share"] for d in days],
        "unansweredShare": shares,
        "downShare": [d["down_share"] for d in days],
        "feedback": feedback or {"up": 0, "down": 0},
        "outcomeLabels": [labels["outcomes"][k] for k, _ in totals],
        "outcomeCounts": [n for _, n in totals],
        "refLabels": [r for r, _ in refs],
        "refCounts": [n for _, n in refs],
        "labels": labels["chart"],
    }
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
