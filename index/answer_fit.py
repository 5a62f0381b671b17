"""Fitting the sentence picker: feature weights that rank right sentences first, then the answer threshold.

    weights = fit_ranking(groups)                                  # groups: (features, is_right)
    fitted = calibrate(PickWeights(weights), served, negatives)    # threshold and margin
    fitted.save()                                                  # index/answer.json

`make tune` (index/evaluate.py `fit_picker`) builds the groups from the labelled questions
on the served pipeline; a wrong answer costs five refusals.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from index.pick_weights import FEATURES, PickWeights

MARGINS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # lead over the best sentence of another document
RETRIEVAL_WEIGHTS = (0.0, 5.0, 10.0, 20.0, 40.0)  # weight of the retrieval's confidence
TYPED = (0.0, 0.25, 0.5, 0.75, 1.0)  # allowance of a typed question (unit counted, agency named)


def fit_ranking(
    groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = 0.005, steps: int = 800, rate: float = 0.5
) -> dict[str, float]:
    """Feature weights that rank each question's right sentences first (listwise softmax, L2).

    `groups` are (features, is_right) per answerable question: the sentences that contain
    an expected answer should score highest. Weights are scaled to a largest magnitude of 3.

    >>> x = np.zeros((2, len(FEATURES))); x[0, 0] = 1.0
    >>> fit_ranking([(x, np.array([True, False]))])["dense"] > 0
    True
    """
    usable = [(x, y) for x, y in groups if y.any() and not y.all()]
    w = np.zeros(len(FEATURES), dtype=np.float64)
    for _ in range(steps):
        grad = l2 * w
        for x, y in usable:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = np.where(y, p, 0.0)
            q /= q.sum()
            grad += x.T @ (p - q) / max(1, len(usable))
        w -= rate * grad
    w *= 3.0 / max(1e-6, float(np.abs(w).max()))  # readable magnitudes; the order is what counts
    return {f: round(float(v), 4) for f, v in zip(FEATURES, w)}


def _top_two(x: np.ndarray, w: np.ndarray, passages: np.ndarray | None) -> tuple[float, float, int]:
    """Best score, its margin over the best sentence of another document, and the best's row."""
    s = x @ w
    b = int(np.argmax(s))
    others = s[passages != passages[b]] if passages is not None else s[np.arange(len(s)) != b]
    return float(s[b]), float(s[b] - others.max()) if len(others) else math.inf, b


def calibrate(
    weights: PickWeights,
    groups: Sequence[tuple],
    negatives: Sequence[tuple],
    wrong_cost: float = 5.0,
) -> PickWeights:
    """The same weights with the answer threshold, margin, retrieval weight and typed allowance that keep the most right answers.

    `groups` are (features, is_right, document of each sentence, retrieval confidence[, typed])
    of answerable questions; `negatives` (features, documents, confidence[, typed]) of questions
    the documents do not answer. A wrong or unwarranted answer costs `wrong_cost` refusals; an
    answer with no right sentence among the candidates is wrong too. The margin is how far
    the best sentence must lead the best one of any other document (a close call between
    documents is a guess); the retrieval weight adds how well the passages matched as a whole;
    the typed allowance, how much a question whose unit or agency every candidate was checked
    to state may score less.
    """
    w = weights.vector().astype(np.float64)
    right, wrong = [], []
    for x, y, docs, conf, *typed in groups:
        if len(x):
            score, margin, b = _top_two(x, w, docs)
            (right if y[b] else wrong).append((score, margin, conf, bool(typed and typed[0])))
    for x, docs, conf, *typed in negatives:
        if len(x):
            wrong.append((*_top_two(x, w, docs)[:2], conf, bool(typed and typed[0])))
    floors = sorted(
        {0.0, *np.quantile([r[2] for r in right + wrong] or [0.0], [0.05, 0.1, 0.2, 0.3]).round(3)}
    )
    best = (-math.inf, 0.0, 0.0, 0.0, 0.0, 0.0)
    for floor, retrieval, margin, allowance in itertools.product(floors, RETRIEVAL_WEIGHTS, MARGINS, TYPED):
        kept_right, kept_wrong = (
            [sc + retrieval * (c - 1.0) + allowance * t for sc, m, c, t in rows if m >= margin and c >= floor]
            for rows in (right, wrong)
        )
        thr = best_threshold(kept_right, kept_wrong, wrong_cost)
        gain = sum(r >= thr for r in kept_right) - wrong_cost * sum(x >= thr for x in kept_wrong)
        if gain > best[0]:
            best = (gain, thr, margin, retrieval, float(floor), allowance)
    return replace(
        weights,
        threshold=round(best[1], 4),
        margin=best[2],
        retrieval=best[3],
        min_confidence=best[4],
        typed=best[5],
    )


def best_threshold(right: Sequence[float], wrong: Sequence[float], wrong_cost: float) -> float:
    """The score above which answering pays: each right answer kept +1, each wrong one -`wrong_cost`."""
    cuts = sorted(set(right) | set(wrong))
    if not cuts:
        return 0.0
    best, best_gain = cuts[0] - 0.01, -math.inf
    for i, c in enumerate(cuts):
        thr = (cuts[i - 1] + c) / 2 if i else c - 0.01
        gain = sum(r >= thr for r in right) - wrong_cost * sum(x >= thr for x in wrong)
        if gain > best_gain:
            best, best_gain = thr, gain
    return best
