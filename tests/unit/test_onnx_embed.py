"""The ONNX exports (fp32, int8) give the same embeddings as the sentence-transformers folder."""

from __future__ import annotations

import dataclasses

import pytest

from index.onnx_export import onnx_path
from index.settings import DEFAULT_MODEL_DIR, Settings

np = pytest.importorskip("numpy")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.skipif(
    not onnx_path(DEFAULT_MODEL_DIR, "onnx-int8").is_file(), reason="run `make model` first"
)

TEXTS = [
    "An Giang có bao nhiêu sản phẩm OCOP?",
    "sdt phan anh tthc",
    "Giấy chứng nhận OCOP có hiệu lực trong 36 tháng kể từ ngày ký quyết định công nhận.",
    "thế còn 5 sao?",
    "Sóc Trăng đặt mục tiêu bao nhiêu sản phẩm OCOP 3 sao trở lên đến năm 2025 theo kế hoạch "
    "của Ủy ban nhân dân tỉnh, trong đó có bao nhiêu sản phẩm đạt 4 sao và 5 sao",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """Query embeddings from the torch (sentence-transformers) backend."""
    from index.embed import load_embedder

    embedder = load_embedder(Settings(backend="torch"))
    return embedder.encode_queries(TEXTS)


@pytest.mark.parametrize(("backend", "min_cos"), [("onnx", 0.9999), ("onnx-int8", 0.99)])
def test_onnx_matches_torch(reference, backend: str, min_cos: float) -> None:
    from index.embed import OnnxEmbedder, load_embedder

    embedder = load_embedder(Settings(backend=backend))
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.dim == 384 and embedder.model_id.endswith(f"[{backend}]")
    one_by_one = np.vstack([embedder.encode_queries([t]) for t in TEXTS])
    batched = embedder.encode_queries(TEXTS)  # reordered by length inside, fp32 padded
    assert np.allclose(one_by_one, batched, atol=1e-4)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-4)
    cosines = (batched * reference).sum(axis=1)
    assert cosines.min() >= min_cos, cosines


def test_query_and_passage_prompts_differ() -> None:
    from index.embed import load_embedder

    embedder = load_embedder(Settings())
    q = embedder.encode_queries(["OCOP là gì"])[0]
    p = embedder.encode_passages(["OCOP là gì"])[0]
    assert float(q @ p) < 0.999


def test_missing_export_is_a_clear_error(tmp_path) -> None:
    from index.embed import ModelMissingError, load_embedder

    (tmp_path / "config.json").write_text("{}")
    settings = dataclasses.replace(Settings(), model=str(tmp_path))
    with pytest.raises(ModelMissingError, match="make model"):
        load_embedder(settings)
    with pytest.raises(ModelMissingError, match="unknown embedding backend"):
        load_embedder(dataclasses.replace(settings, backend="gpu"))
