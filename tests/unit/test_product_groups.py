"""Everyday product names and their OCOP group (data/language/product_groups.yml and its corpus)."""

from __future__ import annotations

from pathlib import Path

import yaml

from index.product_groups import ProductGroups

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_corpus_replays() -> None:
    groups = ProductGroups.load()
    corpus = yaml.safe_load((ROOT / "data" / "language" / "product_groups_examples.yml").read_text("utf-8"))
    for text, expected in corpus.items():
        assert sorted({g for _, g in groups.by_group(text)}) == sorted(expected), text


def test_a_longer_name_wins_and_each_name_counts_once() -> None:
    groups = ProductGroups.load()
    assert groups.named("vườn trái cây cho khách tham quan") == [
        ("vườn trái cây cho khách tham quan", "dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch")
    ]
    assert groups.named("rượu vang và rượu") == [("rượu vang", "đồ uống"), ("rượu", "đồ uống")]


def test_a_count_of_a_named_product_needs_a_sentence_naming_it() -> None:
    groups = ProductGroups.load()
    assert groups.unnamed("An Giang có bao nhiêu sản phẩm gạo đạt OCOP?", "An Giang có 165 sản phẩm OCOP.")
    assert not groups.unnamed("An Giang có bao nhiêu sản phẩm gạo?", "Tỉnh có 12 sản phẩm gạo đạt 3 sao.")
    assert not groups.unnamed("An Giang có bao nhiêu sản phẩm OCOP?", "An Giang có 165 sản phẩm OCOP.")


def test_a_name_is_matched_with_its_accents_when_the_text_has_them() -> None:
    groups = ProductGroups.load()
    assert groups.named("Năm 2025 quy trình gồm mấy bước, có gì thay đổi không") == []  # not nấm, gốm
    assert groups.named("nấm rơm với gốm sứ") == [("nấm", "thực phẩm"), ("gốm sứ", "hàng thủ công mỹ nghệ")]
    assert groups.named("nam 2025 gom may buoc, cay kieng") == [
        ("cây kiểng", "sinh vật cảnh")
    ]  # one-word: not read
