"""CLI: python -m index build | search "..." | stats | tune | eval."""

from __future__ import annotations

import argparse
import json
import sys
import time

from index.settings import Settings


def _embedder(settings: Settings):  # noqa: ANN202
    """Load the configured embedding model."""
    from index.embed import load_embedder

    return load_embedder(settings)


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    """Build or update the index."""
    from index.store import build

    started = time.perf_counter()
    manifest = build(settings, _embedder(settings), progress=not args.quiet)
    total = time.perf_counter() - started
    print(
        f"index: {manifest['passages']} passages from {len(manifest['documents'])} documents "
        f"({manifest['embedded_passages']} embedded, {manifest['reused_documents']} documents "
        f"unchanged) in {total:.1f} s -> {settings.build_dir}"
    )
    return 0


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    """Print the best passages for a query."""
    from index.retrieve import HybridRetriever

    retriever = HybridRetriever(settings.build_dir, _embedder(settings))
    hits = retriever.search(args.query, k=args.k)
    print(f"confidence {retriever.confidence(hits):.3f} (threshold {retriever.tuning.threshold:.3f})")
    for h in hits:
        text = " ".join(h.sentences)
        print(
            f"[{h.fused:.3f} cos={h.dense:.3f} bm25={h.bm25:.2f} cov={h.coverage:.2f}] "
            f"{h.doc_id}#{h.row['position']}: {text[:200]}"
        )
    return 0


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print what the built index holds."""
    path = settings.build_dir / "manifest.json"
    if not path.is_file():
        print(f"no index in {settings.build_dir}; run `make index`", file=sys.stderr)
        return 1
    m = json.loads(path.read_text(encoding="utf-8"))
    print(f"model: {m['model_id']} (dim {m['dim']}), prompts {m['query_prompt']!r}/{m['passage_prompt']!r}")
    print(f"passages: {m['passages']}, documents: {len(m['documents'])}, built {m['built_at']}")
    for doc_id, d in m["documents"].items():
        meta = d["meta"]
        print(f"  {doc_id}: {meta.get('publisher', '?')}, {meta.get('date', '?')} ({d['sha256'][:10]})")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Evaluate hit@1/hit@3 on the labelled retrieval set (and tune with --tune)."""
    from index.evaluate import main as eval_main

    return eval_main(settings, _embedder(settings), args)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run a sub-command."""
    ap = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build or update the index from data/docs")
    b.add_argument("--quiet", action="store_true")
    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5)
    sub.add_parser("stats", help="describe the built index")
    e = sub.add_parser("eval", help="hit@k and served outcomes on the labelled sets of tests/retrieval/")
    e.add_argument(
        "--questions", nargs="+", default=["tests/retrieval/questions.yaml", "tests/retrieval/passages2.yaml"]
    )
    e.add_argument("--tune", action="store_true", help="grid-search fusion weights and threshold")
    e.add_argument(
        "--calibrate",
        action="store_true",
        help="recalibrate the picker's answer rule only (threshold, margin, retrieval weight, typed allowance)",
    )
    e.add_argument(
        "--tune-cards", action="store_true", help="fit only the card thresholds on the served pipeline (slow)"
    )
    e.add_argument(
        "--keep-cards",
        action="store_true",
        help="with --tune: keep the card thresholds (their grid is the slow part)",
    )
    e.add_argument("--min-hit1", type=float, default=0.0)
    e.add_argument("--min-hit3", type=float, default=0.0)
    e.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    handlers = {"build": cmd_build, "search": cmd_search, "stats": cmd_stats, "eval": cmd_eval}
    try:
        return handlers[args.cmd](settings, args)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
