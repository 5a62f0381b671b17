"""Unanswered questions grouped by meaning: threshold clustering over cosine similarity."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from console.tracker import Turn

# Cosine of e5-small query vectors; lower values merge unrelated questions about one province.
THRESHOLD = 0.94
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The form under which two messages count as the same question."""
    return _SPACE.sub(" ", text).strip().strip("?.!… ").lower()


def cluster(vectors: np.ndarray, threshold: float = THRESHOLD) -> list[list[int]]:
    """Groups of row indices, in input order: a row joins the group whose first row (its
    leader) is most similar when the cosine similarity reaches `threshold`, else it leads a
    new group. Comparing with leaders, not centroids, keeps groups from drifting (deterministic)."""
    vecs = np.asarray(vectors, dtype=np.float32)
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
    groups: list[list[int]] = []
    leaders: list[int] = []
    for i, vec in enumerate(vecs):
        if leaders:
            sims = vecs[leaders] @ vec
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                continue
        groups.append([i])
        leaders.append(i)
    return groups


@dataclass(frozen=True)
class Group:
    """Similar unanswered questions: how often, examples, first and last time asked."""

    key: str
    questions: tuple[str, ...]  # distinct texts, most asked first
    senders: tuple[str, ...]  # the conversation that asked each question last
    count: int  # messages, repeats included
    first: float
    last: float
    outcomes: tuple[str, ...]
    centroid: np.ndarray
    refs: tuple[str, ...] = ()  # what answered the questions (first ref of each turn), most used first
    comments: tuple[str, ...] = ()  # distinct 👎 comments, oldest first


def group_key(text: str) -> str:
    """A stable id for a group, from its first question."""
    return hashlib.sha1(normalize(text).encode()).hexdigest()[:12]


def group_turns(
    turns: Sequence[Turn],
    embed: Callable[[list[str]], np.ndarray],
    known: set[str] = frozenset(),
    threshold: float = THRESHOLD,
) -> list[Group]:
    """Groups of the given turns' questions (those in `known`, normalized, are left out), largest first."""
    by_text: dict[str, list[Turn]] = {}
    for turn in sorted(turns, key=lambda t: (t.at, t.sender)):
        norm = normalize(turn.text)
        if norm and norm not in known:
            by_text.setdefault(norm, []).append(turn)
    texts = list(by_text)
    if not texts:
        return []
    vectors = np.asarray(embed([by_text[t][0].text for t in texts]), dtype=np.float32)
    groups = []
    for members in cluster(vectors, threshold):
        ordered = sorted(members, key=lambda i: (-len(by_text[texts[i]]), i))
        all_turns = [turn for i in members for turn in by_text[texts[i]]]
        cent = vectors[members].sum(axis=0)
        refs = Counter(t.refs[0] for t in all_turns if t.refs)
        comments = dict.fromkeys(t.feedback_comment for t in all_turns if t.feedback_comment)
        groups.append(
            Group(
                key=group_key(texts[members[0]]),
                questions=tuple(by_text[texts[i]][0].text.strip() for i in ordered),
                senders=tuple(by_text[texts[i]][-1].sender for i in ordered),
                count=len(all_turns),
                first=min(t.at for t in all_turns),
                last=max(t.at for t in all_turns),
                outcomes=tuple(sorted({t.outcome for t in all_turns})),
                centroid=cent / max(float(np.linalg.norm(cent)), 1e-12),
                refs=tuple(r for r, _ in refs.most_common()),
                comments=tuple(comments),
            )
        )
    return sorted(groups, key=lambda g: (-g.count, -g.last, g.key))
