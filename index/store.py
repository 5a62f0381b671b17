"""Build, save and load the knowledge index (FAISS vectors + BM25 + passage metadata)."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.text import search_words
from index.embed import Embedder
from index.ingest import load_documents, make_passages
from index.settings import Settings

FORMAT = 2


class KnowledgeIndexError(RuntimeError):
    """The built index is missing, corrupt or does not match the model."""


def passage_embed_text(title: str, text: str) -> str:
    """Text that is embedded and BM25-indexed for a passage: title gives context."""
    return f"{title}. {text}" if title else text


def bm25_tokens(text: str) -> list[str]:
    """Accent-folded syllables plus syllable bigrams (phrases such as "tiem_nang")."""
    syl = search_words(text)
    return syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:])]


def make_faiss(vectors: np.ndarray, exact_limit: int):  # noqa: ANN201 - faiss has no types
    """Exact inner product for small corpora, HNSW (inner product) above exact_limit."""
    import faiss

    dim = vectors.shape[1]
    if len(vectors) <= exact_limit:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    index.add(vectors)
    return index


def chunker_id(max_words: int) -> str:
    """Identify the passage splitter (its code and size): a change re-embeds everything."""
    import hashlib

    from index import ingest

    code = Path(ingest.__file__).read_bytes() + Path(__file__).read_bytes()
    return f"{max_words}-{hashlib.sha256(code).hexdigest()[:16]}"


def _previous(build_dir: Path, model_id: str, max_words: int) -> dict[str, tuple[list, np.ndarray]]:
    """Reusable passages+vectors per document sha from the previous build (same model, splitter)."""
    manifest = build_dir / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        if meta.get("model_id") != model_id or meta.get("chunker") != chunker_id(max_words):
            return {}
        vectors = np.load(build_dir / "vectors.npy")
        rows = [json.loads(x) for x in (build_dir / "passages.jsonl").read_text("utf-8").splitlines()]
    except (OSError, ValueError):
        return {}
    out: dict[str, tuple[list, list]] = {}
    for i, row in enumerate(rows):
        out.setdefault(row["doc_sha"], ([], []))
        out[row["doc_sha"]][0].append(row)
        out[row["doc_sha"]][1].append(vectors[i])
    return {k: (v[0], np.array(v[1], dtype=np.float32)) for k, v in out.items()}


Report = Callable[[str, int, int], None]  # (stage: read | embed | save, done, total)


def _encode(embedder: Embedder, texts: list[str], progress: bool, report: Report | None) -> list[np.ndarray]:
    """Passage vectors, in chunks of 8 when someone follows the progress (int8: one text at a time anyway)."""
    if report is None:
        return list(embedder.encode_passages(texts, progress=progress))
    out: list[np.ndarray] = []
    for start in range(0, len(texts), 8):
        report("embed", start, len(texts))
        out.extend(embedder.encode_passages(texts[start : start + 8]))
    report("embed", len(texts), len(texts))
    return out


def build(
    settings: Settings, embedder: Embedder, progress: bool = True, report: Report | None = None
) -> dict[str, Any]:
    """(Re)build the index; documents whose hash did not change reuse their vectors."""
    started = time.perf_counter()
    if report is not None:
        report("read", 0, 0)
    docs = load_documents(settings.docs_dir)
    if not docs:
        raise KnowledgeIndexError(f"no documents in {settings.docs_dir}")
    reuse = _previous(settings.build_dir, embedder.model_id, settings.max_words)
    rows: list[dict[str, Any]] = []
    vectors: list[np.ndarray] = []
    todo: list[tuple[int, str]] = []
    reused_docs = 0
    for doc in docs:
        if doc.sha256 in reuse:
            old_rows, old_vecs = reuse[doc.sha256]
            for row, vec in zip(old_rows, old_vecs):
                rows.append(row)
                vectors.append(vec)
            reused_docs += 1
            continue
        for p in make_passages(doc, settings.max_words):
            row = p.to_dict() | {"doc_sha": doc.sha256, "title": doc.meta.get("title", "")}
            rows.append(row)
            vectors.append(None)  # type: ignore[arg-type]
            todo.append((len(rows) - 1, passage_embed_text(row["title"], " ".join(p.sentences))))
    if todo:
        fresh = _encode(embedder, [t for _, t in todo], progress, report)
        for (i, _), vec in zip(todo, fresh):
            vectors[i] = vec
    matrix = np.vstack(vectors).astype(np.float32)
    embed_seconds = time.perf_counter() - started
    manifest = {
        "format": FORMAT,
        "model_id": embedder.model_id,
        "dim": int(matrix.shape[1]),
        "query_prompt": settings.query_prompt,
        "passage_prompt": settings.passage_prompt,
        "max_words": settings.max_words,
        "chunker": chunker_id(settings.max_words),
        "passages": len(rows),
        "documents": {d.doc_id: {"sha256": d.sha256, "meta": d.meta} for d in docs},
        "reused_documents": reused_docs,
        "embedded_passages": len(todo),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds": round(embed_seconds, 2),
    }
    if report is not None:
        report("save", len(rows), len(rows))
    save(settings.build_dir, rows, matrix, manifest, settings.exact_limit)
    return manifest


def save(build_dir: Path, rows: list[dict], matrix: np.ndarray, manifest: dict, exact_limit: int) -> None:
    """Write the index into a fresh folder and swap it in atomically (one writer at a time:
    `make index` and the console's background rebuild may run together)."""
    import fcntl

    build_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(build_dir.with_name(build_dir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _write(build_dir, rows, matrix, manifest, exact_limit)


def _write(build_dir: Path, rows: list[dict], matrix: np.ndarray, manifest: dict, exact_limit: int) -> None:
    """`save` under its lock."""
    import faiss

    tmp = build_dir.with_name(build_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    faiss.write_index(make_faiss(matrix, exact_limit), str(tmp / "faiss.index"))
    tokens = passage_tokens(rows)  # BM25 and IDF built once here, not at every load
    lexical_index(tokens).save(str(tmp / "bm25"))
    (tmp / "idf.json").write_text(json.dumps(idf_table(tokens), ensure_ascii=False), "utf-8")
    np.save(tmp / "vectors.npy", matrix)
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    old = build_dir.with_name(build_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if build_dir.exists():
        build_dir.rename(old)
    tmp.rename(build_dir)
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class LoadedIndex:
    """Everything a retriever needs, loaded from a build folder."""

    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    faiss_index: Any
    bm25: Any
    stamp: float
    provinces: list[set[str]] | None = None
    idf: dict[str, float] | None = None
    word_sets: dict[int, frozenset[str]] | None = None
    doc_numbers: dict[str, set[str]] | None = None  # numbers named in each document (retrieve)
    doc_rows: dict[str, list[dict[str, Any]]] | None = None

    def rows_of(self, doc_id: str) -> list[dict[str, Any]]:
        """The passages of one document (the doc -> passages map is built on first use)."""
        if self.doc_rows is None:
            self.doc_rows = {}
            for row in self.rows:
                self.doc_rows.setdefault(row["doc_id"], []).append(row)
        return self.doc_rows.get(doc_id, [])

    def doc_meta(self, doc_id: str) -> dict[str, Any]:
        """Metadata of a document (title, publisher, date, ...)."""
        return self.manifest["documents"].get(doc_id, {}).get("meta", {})


def manifest_stamp(build_dir: Path) -> float:
    """Modification time of the manifest (0 if missing): the hot-reload signal."""
    try:
        return (build_dir / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


def load(build_dir: Path, model_id: str | None = None) -> LoadedIndex:
    """Load a built index; clear errors when missing, corrupt or built with another model."""
    import bm25s
    import faiss

    manifest_path = build_dir / "manifest.json"
    if not manifest_path.is_file():
        raise KnowledgeIndexError(f"knowledge index not found in {build_dir}; run `make index`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        rows = [json.loads(x) for x in (build_dir / "passages.jsonl").read_text("utf-8").splitlines()]
        index = faiss.read_index(str(build_dir / "faiss.index"))
    except (OSError, ValueError, RuntimeError) as exc:
        raise KnowledgeIndexError(
            f"knowledge index in {build_dir} is corrupt ({exc}); run `make index`"
        ) from exc
    if manifest.get("format") != FORMAT or index.ntotal != len(rows):
        raise KnowledgeIndexError(f"knowledge index in {build_dir} is inconsistent; run `make index`")
    if model_id is not None and manifest.get("model_id") != model_id:
        raise KnowledgeIndexError(
            f"knowledge index was built with model {manifest.get('model_id')!r} but the server "
            f"uses {model_id!r}; run `make index`"
        )
    try:
        bm25 = bm25s.BM25.load(str(build_dir / "bm25"))
        idf = json.loads((build_dir / "idf.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # built before BM25 was saved with the index
        tokens = passage_tokens(rows)
        bm25, idf = lexical_index(tokens), idf_table(tokens)
    return LoadedIndex(manifest, rows, index, bm25, manifest_stamp(build_dir), idf=idf)


def passage_tokens(rows: list[dict[str, Any]]) -> list[list[str]]:
    """BM25 tokens of every passage (title + sentences)."""
    return [bm25_tokens(passage_embed_text(r["title"], " ".join(r["sentences"]))) for r in rows]


def lexical_index(tokens: list[list[str]]) -> Any:  # noqa: ANN401 - bm25s has no types
    """A BM25 index over the passages' tokens."""
    import bm25s

    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    return bm25


def idf_table(tokens: list[list[str]]) -> dict[str, float]:
    """Inverse document frequency of each syllable over the passages (BM25's formula)."""
    df: dict[str, int] = {}
    for toks in tokens:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    n = len(tokens)
    return {t: math.log((n - c + 0.5) / (c + 0.5) + 1.0) for t, c in df.items()}
