"""Retrieval evaluation on the labelled set: hit@1, hit@3, and tuning of fusion + threshold."""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.text import fold, has_diacritics
from index.answer_fit import calibrate, fit_ranking
from index.parse import Question
from index.pick_weights import PickWeights
from index.pipeline import AnswerPipeline, build_pipeline
from index.retrieve import TUNING_FILE, Hit, HybridRetriever, Tuning
from index.served_eval import answers, pipeline_report


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Read the labelled questions (q, doc or null, answer substrings)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["items"]


def is_hit(hit: Hit, item: dict[str, Any]) -> bool:
    """A hit is a passage of an expected document containing one expected answer."""
    docs = item["doc"] if isinstance(item["doc"], list) else [item["doc"]]
    if hit.doc_id not in docs:
        return False
    answers = item.get("answer") or []
    text = fold(hit.row["title"] + " " + " ".join(hit.sentences)).lower()
    return not answers or any(fold(str(a)).lower() in text for a in answers)


@dataclass
class Prepared:
    """A labelled question as the served pipeline reads it: parsed, with its readings' vectors."""

    item: dict[str, Any]
    question: Question
    variants: list[str]
    vectors: list[Any]


def prepare_items(pipeline: AnswerPipeline, items: list[dict]) -> list[Prepared]:
    """Prepare and parse every question once (the embeddings are the slow part)."""
    out = []
    for item in items:
        variants = pipeline.prepare(item["q"]) or [item["q"]]
        vectors = [pipeline.retriever.dense_query(v) for v in variants]
        out.append(Prepared(item, pipeline.parse(variants[0]), variants, vectors))
    return out


def evaluate(pipeline: AnswerPipeline, prepared: list[Prepared]) -> dict[str, Any]:
    """Score one tuning on the served passage path: hit@1/hit@3, and refusal quality.

    The refusal threshold is calibrated end to end: a question counts as answerable
    when the extracted answer is right, and an unanswerable one is already refused when
    the sentence picker finds no sentence that can answer it.
    """
    hit1 = hit3 = extracted = 0
    answerable = [p for p in prepared if p.item.get("doc")]
    pos_conf, neg_conf, misses = [], [], []
    for p in prepared:
        item = p.item
        conf, answer, hits = pipeline.passages.best(p.question, p.variants, p.vectors)
        if not item.get("doc"):
            if answer is not None:
                neg_conf.append(conf)
            continue
        ok = [is_hit(h, item) for h in hits[:3]]
        hit1 += bool(ok and ok[0])
        hit3 += any(ok)
        right = answer is not None and answers(item, answer.text)
        extracted += right
        if right:
            pos_conf.append(conf)
        if not (ok and ok[0]):
            misses.append((item["q"], hits[0].doc_id if hits else None, conf))
    n = max(1, len(answerable))
    return {
        "hit1": hit1 / n,
        "hit3": hit3 / n,
        "extracted": extracted / n,
        "pos": pos_conf,
        "neg": neg_conf,
        "misses": misses,
        "unanswerable": len(prepared) - len(answerable),
    }


def fit_picker(
    pipeline: AnswerPipeline, prepared: list[Prepared], wrong_cost: float = 5.0, refit: bool = True
) -> PickWeights:
    """Fit the sentence picker's weights and threshold on the labelled passages (index/answer.json).

    A sentence is right when it belongs to an expected document and holds an expected answer.
    Every reading of a question (accents restored, as typed) trains the ranking; the answer
    threshold is calibrated on the reading the served pipeline answers from (the best-scoring
    one, `PassageAnswerer.best`), over every question (the rival of the margin is the best sentence of another document).
    With `refit` False the feature weights are kept and only the answer rule is recalibrated.
    """
    retriever, picker = pipeline.retriever, pipeline.picker
    readings: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]]] = []
    ranking = []
    for p in prepared:
        mine = []
        docs = p.item.get("doc") or []
        docs = docs if isinstance(docs, list) else [docs]
        for text, vector in zip(p.variants, p.vectors):
            conf, hits, _ = pipeline.passages.retrieve(p.question, text, vector)
            found = picker.candidates(p.question, text, hits, retriever.idf, vector)
            if not found:
                continue
            x = np.stack([c.features for c in found]).astype(np.float64)
            y = np.array(
                [
                    hits[c.hit].doc_id in docs and answers(p.item, hits[c.hit].sentences[c.index])
                    for c in found
                ]
            )
            if docs:
                ranking.append((x, y))
            view = picker.checks.view(p.question, text, retriever.idf)
            typed = bool(view is not None and view.typed)
            mine.append((x, y, np.array([hits[c.hit].doc_id for c in found]), conf, typed))
        readings.append(mine)
    fitted = replace(picker.weights, weights=fit_ranking(ranking)) if refit else picker.weights
    w = fitted.vector().astype(np.float64)
    groups, negatives = [], []
    for p, mine in zip(prepared, readings):
        if not mine:
            continue
        x, y, docs, conf, typed = max(mine, key=lambda r: float((r[0] @ w).max()))  # the served reading
        if p.item.get("doc"):
            groups.append((x, y, docs, conf, typed))
        else:
            negatives.append((x, docs, conf, typed))
    calibrated = calibrate(fitted, groups, negatives, wrong_cost)
    calibrated.save()
    picker.weights = calibrated
    return calibrated


def best_threshold(pos: list[float], neg: list[float], wrong_cost: float = 5.0) -> tuple[float, float]:
    """Threshold with the fewest costly mistakes: a wrong answer costs `wrong_cost` refusals.

    `pos` are confidences of right extracted answers, `neg` of unanswerable questions that
    the extractor did answer (the only ones the threshold still has to stop).
    """
    candidates = sorted(set(pos + neg))
    best = (0.0, float("-inf"))
    for i, c in enumerate(candidates):
        prev = candidates[i - 1] if i else c - 0.01
        thr = (prev + c) / 2
        score = sum(p >= thr for p in pos) - wrong_cost * sum(x >= thr for x in neg)
        if score > best[1]:
            best = (thr, score)
    return best


def main(settings: Any, embedder: Any, args: argparse.Namespace) -> int:
    """Print hit@k (and tune when asked); exit 1 below the given minimums."""
    labelled = [item for path in args.questions for item in load_questions(Path(path))]
    items = [i for i in labelled if not i.get("served")]  # passages only; cards are scored served
    retriever = HybridRetriever(settings.build_dir, embedder)
    pipeline = build_pipeline(settings, retriever=retriever)  # the served object, tuned in place
    prepared = prepare_items(pipeline, items)
    if args.calibrate:  # the answer rule only: fusion and feature weights kept
        fitted = fit_picker(pipeline, prepared, refit=False)
        print(f"calibrated sentence picker: {asdict(fitted)}")
    if args.tune:
        grid = itertools.product([1.0, 1.5], [5.0], [0.25, 0.5], [0.5, 1.0], [3.0, 4.0], [0.5, 1.0, 2.0])
        best: tuple[float, Tuning] | None = None
        for dw, rk, cw, pb, cr, ab in grid:
            retriever.tuning = replace(
                retriever.tuning,
                dense_weight=dw,
                rrf_k=rk,
                coverage_weight=cw,
                province_boost=pb,
                coverage_rerank=cr,
                answer_type_boost=ab,
            )
            res = evaluate(pipeline, prepared)
            thr, sep = best_threshold(res["pos"], res["neg"])
            # Configurations meeting the gate of `make retrieval-eval` (--min-hit1/--min-hit3) first.
            meets = res["hit1"] >= args.min_hit1 and res["hit3"] >= args.min_hit3
            key = (
                meets * 10
                + 2 * res["hit1"]
                + res["hit3"]
                + res["extracted"]
                + 0.2 * sep / max(1, len(res["pos"]))
            )
            if best is None or key > best[0]:
                best = (key, replace(retriever.tuning, threshold=round(thr, 4)))
        assert best is not None
        retriever.tuning = best[1]
        fitted = fit_picker(pipeline, prepared)
        print(f"fitted sentence picker: {asdict(fitted)}")
        res = evaluate(pipeline, prepared)  # the retrieval threshold, calibrated with the fitted picker
        retriever.tuning = replace(
            retriever.tuning, threshold=round(best_threshold(res["pos"], res["neg"])[0], 4)
        )
        TUNING_FILE.write_text(json.dumps(asdict(retriever.tuning), indent=1) + "\n", encoding="utf-8")
        print(f"tuned: {asdict(retriever.tuning)} -> {TUNING_FILE}")
    res = evaluate(pipeline, prepared)
    answerable = [i for i in items if i.get("doc")]
    plain = sum(not has_diacritics(i["q"]) for i in items)
    thr = retriever.tuning.threshold
    refused_ok = res["unanswerable"] - sum(c >= thr for c in res["neg"])
    answered_ok = sum(c >= thr for c in res["pos"])
    print(f"questions: {len(items)} ({len(answerable)} answerable, {plain} without diacritics)")
    print(f"hit@1 = {res['hit1']:.3f}   hit@3 = {res['hit3']:.3f}")
    print(
        f"extracted answer right: {res['extracted']:.3f}; refusal threshold {thr:.3f}: "
        f"unanswerable refused {refused_ok}/{res['unanswerable']}, right answers kept "
        f"{answered_ok}/{len(res['pos'])}"
    )
    if args.verbose:
        for q, doc, conf in res["misses"]:
            print(f"  miss: {q!r} -> {doc} (conf {conf:.3f})")
    tune_cards = (args.tune and not args.keep_cards) or args.tune_cards
    pipeline_report(pipeline, labelled, tune_cards, show=args.verbose)
    ok = res["hit1"] >= args.min_hit1 and res["hit3"] >= args.min_hit3
    return 0 if ok else 1
