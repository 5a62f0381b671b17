"""Unit tests of the Vietnamese tokenizer component (run in the Rasa environment)."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.tokenizer import VietnameseTokenizer


@pytest.fixture(scope="module")
def tokenizer() -> VietnameseTokenizer:
    """A tokenizer with the default config."""
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokens(tokenizer: VietnameseTokenizer, text: str):
    """Tokenize a text as Rasa does at inference."""
    msg = Message({TEXT: text})
    tokenizer.process([msg])
    return msg.get(TOKENS_NAMES[TEXT])


def test_segments_compound_words(tokenizer):
    toks = tokens(tokenizer, "An Giang có bao nhiêu sản phẩm OCOP 3 sao?")
    assert [t.lemma for t in toks][:4] == ["an_giang", "co", "bao_nhieu", "san_pham"]
    assert toks[0].text == "An Giang"


def test_offsets_point_into_the_user_text(tokenizer):
    text = "Số điện thoại Phòng Tổng hợp UBND tỉnh An Giang"
    for tok in tokens(tokenizer, text):
        assert text[tok.start : tok.end] == tok.text


def test_folding_makes_unaccented_text_look_alike(tokenizer):
    accented = [t.lemma for t in tokens(tokenizer, "số điện thoại sản phẩm")]
    plain = [t.lemma for t in tokens(tokenizer, "so dien thoai san pham")]
    assert accented == plain == ["so", "dien_thoai", "san_pham"]


def test_unaccented_province_is_one_word(tokenizer):
    assert "soc_trang" in [t.lemma for t in tokens(tokenizer, "so san pham 3 sao cua soc trang")]


def test_phone_numbers_and_emails_stay_whole(tokenizer):
    toks = tokens(tokenizer, "gọi 02963.957.006 hoặc thutuchanhchinh@angiang.gov.vn")
    texts = [t.text for t in toks]
    assert "02963.957.006" in texts and "thutuchanhchinh@angiang.gov.vn" in texts


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "???", "<script>alert(1)</script>", "a" * 5000])
def test_odd_input_never_breaks(tokenizer, text):
    toks = tokens(tokenizer, text)
    assert len(toks) >= 1
    for tok in toks:
        assert tok.lemma


def test_nfd_input_is_normalised(tokenizer):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "sản phẩm")
    assert [t.lemma for t in tokens(tokenizer, nfd)] == ["san_pham"]
