"""The served pipeline on the labelled sets: right / refused / wrong, and the card thresholds' fit.

    right, refused, wrong = served_outcomes(pipeline, items)      # the object the action calls
    pipeline_report(pipeline, items, tune=True)                   # fits index/pipeline.json

A wrong answer costs five refusals. `index eval` (index/evaluate.py) prints it after hit@k.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import asdict, replace
from typing import Any

from bot.text import fold
from index.card_match import CardWeights
from index.pipeline import AnswerPipeline, Context
from index.pipeline_tuning import TUNING_FILE as PIPELINE_TUNING
from index.pipeline_tuning import PipelineTuning


def answers(item: dict[str, Any], text: str) -> bool:
    """Does an extracted answer contain one of the expected answers?"""
    folded = fold(text).lower()
    return any(fold(str(a)).lower() in folded for a in item.get("answer") or [])


def served_answers(item: dict[str, Any], text: str) -> bool:
    """A served reply answers when it has an expected passage substring, or all of its figures
    (a card or a statistics row words a fact differently from the document's sentence)."""
    if answers(item, text):
        return True
    have = {n.lstrip("0") or "0" for n in re.findall(r"\d+", fold(text).replace(".", ""))}
    for expected in item.get("answer") or []:
        numbers = {n.lstrip("0") or "0" for n in re.findall(r"\d+", fold(str(expected)).replace(".", ""))}
        if numbers and numbers <= have:
            return True
    return False


def served_outcomes(pipeline: AnswerPipeline, items: list[dict], show: bool = False) -> tuple[int, int, int]:
    """(right, refused, wrong) of the served pipeline: the object the action server calls."""
    right = refused = wrong = 0
    for item in items:
        reply = pipeline.answer(item["q"], Context())
        text = " ".join(str(v) for v in reply.kwargs.values())
        expected = bool(item.get("doc") or item.get("served"))
        if not reply.answered:
            right += not expected
            refused += expected
        elif item.get("card"):
            right += f"card:{item['card']}" in reply.refs
            wrong += f"card:{item['card']}" not in reply.refs
            if show and f"card:{item['card']}" not in reply.refs:
                print(f"  wrong card: {item['q']!r} -> {','.join(reply.refs)} (wanted {item['card']})")
        elif expected and served_answers(item, text):
            right += 1
        else:
            wrong += 1
            if show:
                print(f"  wrong: {item['q']!r} -> {reply.kind} {','.join(reply.refs)}: {text[:160]!r}")
    return right, refused, wrong


def pipeline_report(
    pipeline: AnswerPipeline, items: list[dict], tune: bool, wrong_cost: float = 5.0, show: bool = False
) -> tuple[int, int, int]:
    """Score the served pipeline; with `tune`, fit the card threshold (a wrong answer costs five refusals)."""
    if tune:
        best: tuple[float, PipelineTuning] | None = None
        grid = itertools.product(
            (0.0, 0.5), (0.0, 0.5), (0.0, 0.1, 0.2), [1.2 + 0.1 * i for i in range(12)], (0.5, 0.6)
        )
        for answer_w, vocab_w, focus_w, threshold, coverage in grid:
            weights = CardWeights(paraphrase=0.5, card=0.25, answer=answer_w, vocab=vocab_w, focus=focus_w)
            pipeline.tuning = replace(
                pipeline.tuning,
                card_weights=weights,
                card_threshold=round(threshold, 2),
                card_min_coverage=coverage,
            )
            pipeline.cards.weights = weights
            right, refused, wrong = served_outcomes(pipeline, items)
            cost = refused + wrong_cost * wrong
            if best is None or cost < best[0]:
                best = (cost, pipeline.tuning)
        pipeline.tuning = best[1]
        pipeline.cards.weights = best[1].card_weights
        PIPELINE_TUNING.write_text(json.dumps(asdict(pipeline.tuning), indent=1) + "\n", encoding="utf-8")
        print(f"tuned pipeline: {asdict(pipeline.tuning)} -> {PIPELINE_TUNING}")
    right, refused, wrong = served_outcomes(pipeline, items, show)
    print(f"served pipeline: {right} right, {refused} refused, {wrong} wrong of {len(items)}")
    return right, refused, wrong
