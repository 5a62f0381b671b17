"""Rule-based province and star detection, accent-folded text helpers."""

from __future__ import annotations

import pytest

from bot.entities import find_provinces, find_stars
from bot.text import clean_user_text, fold, fold_compact, has_diacritics


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sóc Trăng có bao nhiêu sản phẩm", ["Sóc Trăng"]),
        ("so san pham cua soc trang", ["Sóc Trăng"]),
        ("Sóc Trăg có bao nhiu", ["Sóc Trăng"]),
        ("tg co bao nhieu sp 4 sao", ["Tiền Giang"]),
        ("còn AG?", ["An Giang"]),
        ("TP. Hồ Chí Minh và Hà Nam", ["Hồ Chí Minh", "Hà Nam"]),
        ("tôi muốn hỏi về sản phẩm", []),
        ("stop", []),
    ],
)
def test_find_provinces(text, expected):
    assert [m.value for m in find_provinces(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sản phẩm 3 sao", ["3"]),
        ("thế còn năm sao?", ["5"]),
        ("4* thì sao", ["4"]),
        ("Hà Nam sao?", []),
        ("bao nhiêu sao", []),
    ],
)
def test_find_stars(text, expected):
    assert [m.value for m in find_stars(text)] == expected


def test_fold_keeps_length_and_strips_accents():
    text = "Đường dây nóng Sở Nông nghiệp"
    assert fold(text) == "duong day nong so nong nghiep" and len(fold(text)) == len(text)
    assert fold_compact("Gọi 02963.957.006  nhé") == "goi 02963957006 nhe"


def test_has_diacritics_and_cleaning():
    assert has_diacritics("số điện thoại") and not has_diacritics("so dien thoai 123")
    assert clean_user_text("  a\x00b\u200b  c\n\n", 10) == "a b c"
    assert len(clean_user_text("x" * 5000, 2000)) == 2000
    assert clean_user_text("<b>An Giang</b> có <i>mấy</i> sp") == "An Giang có mấy sp"
    assert clean_user_text("thích lắm <3 nhé") == "thích lắm <3 nhé"  # not markup


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sở Khoa học và Công nghệ An Giang được giao việc gì?", ["An Giang"]),  # not "Nghệ An"
        ("tỉnh Nghệ An có bao nhiêu sản phẩm OCOP", ["Nghệ An"]),
        ("TP. Hồ Chí Minh và Hà Nội", ["Hồ Chí Minh", "Hà Nội"]),
        ("so cong nghe an giang va tien giang", ["An Giang", "Tiền Giang"]),
        ("ag tg st", ["An Giang", "Tiền Giang", "Sóc Trăng"]),
    ],
)
def test_overlapping_names_prefer_the_longer(text, expected):
    assert [m.value for m in find_provinces(text)] == expected
