"""Profile where a turn's time goes: Rasa NLU + policies (in-process) or the knowledge action.

    .venv-rasa/bin/python scripts/profile_turn.py rasa      # NLU parse + next-action prediction
    .venv-actions/bin/python scripts/profile_turn.py actions  # encode, search, compose

Prints per-stage p50/p95 in milliseconds over the questions of tests/eval/questions.yaml.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def questions(limit: int = 120) -> list[str]:
    """First turns of the project's question set."""
    items = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text(encoding="utf-8"))["items"]
    return [i["turns"][0] for i in items if i["turns"][0].strip()][:limit]


def report(name: str, samples: list[float]) -> None:
    """Print p50/p95 of a stage in ms."""
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    print(
        f"  {name:28s} p50 {statistics.median(samples) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   n={len(samples)}"
    )


def profile_rasa() -> None:
    """Time NLU parsing and policy prediction of the trained model, in process."""
    from rasa.core.agent import load_agent

    agent = asyncio.run(load_agent(model_path=str(ROOT / "models/ocop.tar.gz")))
    qs = questions()
    parse, predict = [], []

    async def run() -> None:
        for i, q in enumerate(qs):
            t0 = time.perf_counter()
            await agent.parse_message(q)
            parse.append(time.perf_counter() - t0)
            tracker = await agent.processor.fetch_tracker_and_update_session(f"prof-{i}")
            t0 = time.perf_counter()
            agent.processor.predict_next_with_tracker_if_should(tracker)
            predict.append(time.perf_counter() - t0)

    asyncio.run(run())
    print("Rasa server (in process):")
    report("NLU parse (tokenize→DIET→RS)", parse)
    report("policy prediction", predict)


def profile_actions() -> None:
    """Time the served question-answering pipeline (the object the knowledge action calls)."""
    from index.pipeline import Context, build_pipeline
    from index.settings import Settings

    pipeline = build_pipeline(Settings.from_env())
    prepare, answer = [], []
    for q in questions():
        t0 = time.perf_counter()
        pipeline.prepare(q)
        t1 = time.perf_counter()
        pipeline.answer(q, Context())
        t2 = time.perf_counter()
        prepare.append(t1 - t0)
        answer.append(t2 - t1)
    print(f"Action server (served pipeline, {len(pipeline.retriever.index.rows)} passages):")
    report("prepare message (keyboard, shorthand, typos, accents)", prepare)
    report("whole answer (prepare + parse + table / cards / passages)", answer)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "actions"
    profile_rasa() if which == "rasa" else profile_actions()
