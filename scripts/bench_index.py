"""Index benchmark: build time per 1,000 passages, query latency (encode + search), RSS.

    .venv-actions/bin/python scripts/bench_index.py [--synthetic 100000] [--queries 200]

Measures the real corpus with the real model, then a synthetic corpus of N passages made
by recombining the real sentences (real Vietnamese vocabulary for BM25; vectors are the
real passages' embeddings perturbed, so FAISS sees realistic geometry). Writes nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    """Resident memory of this process (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(samples: list[float], q: float) -> float:
    """Percentile in ms."""
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def latency(retriever, queries: list[str]) -> tuple[float, float, float]:  # noqa: ANN001
    """p50/p95 of encode + search, and the search-only p95 (ms)."""
    total, search_only = [], []
    for q in queries:
        t0 = time.perf_counter()
        vec = retriever.dense_query(q)
        t1 = time.perf_counter()
        retriever.search(q, 5, vector=vec)
        t2 = time.perf_counter()
        total.append(t2 - t0)
        search_only.append(t2 - t1)
    return statistics.median(total) * 1000, pct(total, 0.95), pct(search_only, 0.95)


def synthetic_build(src_dir: Path, out_dir: Path, n: int, rng: random.Random) -> float:
    """Write an n-passage index derived from the real one; return seconds taken."""
    import json

    from index.store import chunker_id, save

    rows = [json.loads(x) for x in (src_dir / "passages.jsonl").read_text("utf-8").splitlines()]
    vectors = np.load(src_dir / "vectors.npy")
    manifest = json.loads((src_dir / "manifest.json").read_text("utf-8"))
    sentences = [s for r in rows for s in r["sentences"]]
    t0 = time.perf_counter()
    out_rows, out_vecs = [], np.empty((n, vectors.shape[1]), dtype=np.float32)
    noise = np.random.default_rng(0)
    for i in range(n):
        base = rng.randrange(len(rows))
        sents = rng.sample(sentences, 3)
        out_rows.append(rows[base] | {"doc_id": f"syn-{i // 50}", "position": i % 50, "sentences": sents})
        v = vectors[base] + noise.normal(0, 0.05, vectors.shape[1]).astype(np.float32)
        out_vecs[i] = v / np.linalg.norm(v)
    manifest = manifest | {"passages": n, "chunker": chunker_id(manifest["max_words"])}
    manifest["documents"] = manifest["documents"] | {
        f"syn-{j}": {"sha256": "0", "meta": {}} for j in range(n // 50 + 1)
    }
    save(out_dir, out_rows, out_vecs, manifest, exact_limit=20000)
    return time.perf_counter() - t0


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--synthetic", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    from index.embed import load_embedder
    from index.ingest import load_documents, make_passages
    from index.retrieve import HybridRetriever
    from index.settings import Settings
    from index.store import build

    rng = random.Random(0)
    settings = Settings.from_env()
    items = yaml.safe_load((ROOT / "tests/retrieval/questions.yaml").read_text("utf-8"))["items"]
    queries = [rng.choice(items)["q"] for _ in range(args.queries)]
    rss0 = rss_mb()
    embedder = load_embedder(settings)
    print(f"model loaded: RSS {rss_mb():.0f} MB (before {rss0:.0f} MB)")

    with tempfile.TemporaryDirectory() as tmp:
        tmp_settings = Settings(docs_dir=settings.docs_dir, build_dir=Path(tmp) / "build")
        n_passages = sum(len(make_passages(d)) for d in load_documents(settings.docs_dir))
        t0 = time.perf_counter()
        build(tmp_settings, embedder, progress=False)
        build_s = time.perf_counter() - t0
        print(
            f"real corpus: {n_passages} passages built in {build_s:.1f} s "
            f"= {1000 * build_s / n_passages:.0f} s per 1,000 passages (embedding dominates)"
        )
        real = HybridRetriever(tmp_settings.build_dir, embedder)
        p50, p95, s95 = latency(real, queries)
        print(
            f"real corpus query latency (encode + search, 1 thread): p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(search alone p95 {s95:.1f} ms)"
        )

        syn_dir = Path(tmp) / "synthetic"
        syn_s = synthetic_build(tmp_settings.build_dir, syn_dir, args.synthetic, rng)
        print(
            f"synthetic corpus: {args.synthetic} passages indexed (HNSW + BM25 + files) in {syn_s:.1f} s "
            f"= {1000 * syn_s / args.synthetic:.2f} s per 1,000 passages without embedding"
        )
        t0 = time.perf_counter()
        syn = HybridRetriever(syn_dir, embedder)
        print(f"synthetic index loaded (FAISS, passages, saved BM25) in {time.perf_counter() - t0:.1f} s")
        p50, p95, s95 = latency(syn, queries)
        verdict = "PASS" if p95 <= 30 else "FAIL"
        print(
            f"synthetic {args.synthetic} passages query latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(search alone p95 {s95:.1f} ms) - target p95 <= 30 ms: {verdict}"
        )
        print(f"RSS with model + both indexes: {rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
