"""Document ingestion: front matter, boilerplate removal without losing facts, passages."""

from __future__ import annotations

from pathlib import Path

from index.ingest import clean_lines, load_document, make_passages, split_sentences

PAGE = """---
title: "Tin thử"
publisher: "Sở thử"
date: "2024-11-06"
---
Hà Nội: 19°C Hà Nội
Đà Nẵng: 23°C Đà Nẵng
Hình ảnh hoạt động
# Tiêu đề bài
Tỉnh X đã có 165 sản phẩm OCOP. Trong đó có 14 sản phẩm 4 sao tại TP. Long Xuyên.
Máy ép nước xoài tại HTX GAP |
Tin liên quan

Bình Phước: Thêm 33 sản phẩm OCOP 4 sao

Bình Phước: Thêm 33 sản phẩm OCOP 4 sao

LNV - Ngày 20/2, Hội đồng đánh giá sản phẩm OCOP 4 sao cấp tỉnh năm 2024.
so-456-tap-chi-lang-nghe-viet-nam-2025-61
Lượt xem: 335
"""


def write(tmp_path: Path) -> Path:
    path = tmp_path / "tin-thu.md"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_front_matter_is_metadata(tmp_path):
    doc = load_document(write(tmp_path))
    assert doc.meta == {"title": "Tin thử", "publisher": "Sở thử", "date": "2024-11-06"}
    assert not doc.text.startswith("---")


def test_boilerplate_removed_facts_kept(tmp_path):
    lines = [line for _, line in clean_lines(load_document(write(tmp_path)).text)]
    joined = "\n".join(lines)
    assert "19°C" not in joined and "so-456" not in joined and "Lượt xem" not in joined
    assert "Hình ảnh hoạt động" not in joined and "Máy ép" not in joined
    assert "165 sản phẩm OCOP" in joined and "Thêm 33 sản phẩm OCOP 4 sao" in joined
    assert joined.count("Bình Phước: Thêm 33") == 1  # the teaser title printed twice is kept once
    assert "Ngày 20/2" in joined and "LNV -" not in joined


def test_related_teaser_is_its_own_passage(tmp_path):
    passages = make_passages(load_document(write(tmp_path)))
    teaser = [p for p in passages if "Bình Phước" in p.text]
    assert len(teaser) == 1 and teaser[0].section == "related"
    assert "165" not in teaser[0].text


def test_sentences_keep_abbreviations_and_numbers():
    text = "Tỉnh có 189 sản phẩm tại TP. Sóc Trăng. Số điện thoại 02963.957.006 hoạt động; đặc biệt là hỗ trợ. Mục tiêu 2025."
    assert split_sentences(text) == [
        "Tỉnh có 189 sản phẩm tại TP. Sóc Trăng.",
        "Số điện thoại 02963.957.006 hoạt động; đặc biệt là hỗ trợ.",
        "Mục tiêu 2025.",
    ]


def test_passages_are_bounded_and_positioned(tmp_path):
    long = "Câu thứ nhất có nhiều chữ để thử độ dài của đoạn văn. " * 30
    path = tmp_path / "dai.txt"
    path.write_text(long, encoding="utf-8")
    passages = make_passages(load_document(path), max_words=60)
    assert len(passages) > 3
    assert [p.position for p in passages] == list(range(len(passages)))
    assert all(len(p.text.split()) <= 60 for p in passages)


def test_dotted_abbreviations_corpus() -> None:
    """The example paragraphs of abbreviations_examples.yml split as written there."""
    import yaml

    examples = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "data/language/abbreviations_examples.yml").read_text("utf-8")
    )["sentences"]
    assert examples
    for paragraph, sentences in examples.items():
        assert split_sentences(paragraph) == sentences, paragraph
