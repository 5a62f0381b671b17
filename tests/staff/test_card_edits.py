"""Card changes written to the files: validated, versioned, git-friendly, revertible."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from console.cardfiles import CardError, locate
from console.cardops import add_questions, create_card, raw_from_form, revert, update_card
from console.db import audit_log
from console.history import versions
from index.cards import CardStore

NEW = {
    "id": "phi-danh-gia-ocop",
    "topic": "phí mới",
    "questions": "Đăng ký OCOP có mất phí không?\nlệ phí đánh giá ocop",
    "answer": "Chủ thể không phải nộp phí khi đăng ký đánh giá, phân hạng sản phẩm OCOP.",
    "source_title": "Quyết định 148/QĐ-TTg",
    "source_issuer": "Thủ tướng Chính phủ",
    "source_date": "2023-02-24",
    "source_number": "148/QĐ-TTg",
}


def card(folder: Path, card_id: str):  # noqa: ANN201 - index.cards.Card
    return next(c for c in CardStore(folder).cards() if c.id == card_id)


def test_new_card_goes_to_staff_yml_and_loads(cards_dir: Path, engine) -> None:  # noqa: ANN001
    before = {p.name: p.read_text("utf-8") for p in cards_dir.glob("*.yml")}
    name = create_card(engine, cards_dir, "lan", raw_from_form(NEW))
    assert name == "staff.yml"
    store = CardStore(cards_dir)
    assert store.errors == []
    new = card(cards_dir, "phi-danh-gia-ocop")
    assert new.questions == ("Đăng ký OCOP có mất phí không?", "lệ phí đánh giá ocop")
    assert new.source.number == "148/QĐ-TTg"
    assert {p.name: p.read_text("utf-8") for p in cards_dir.glob("*.yml") if p.name != "staff.yml"} == before
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_log)).one()
    assert (row.user_name, row.action, row.before) == ("lan", "card.create", None)
    assert "phi-danh-gia-ocop" in row.after


def test_a_card_of_a_known_topic_goes_to_that_file(cards_dir: Path, engine) -> None:  # noqa: ANN001
    assert (
        create_card(engine, cards_dir, "lan", raw_from_form({**NEW, "topic": "tham gia"})) == "tham-gia.yml"
    )
    assert card(cards_dir, "phi-danh-gia-ocop").where.startswith("tham-gia.yml:")


def test_invalid_card_is_refused_with_file_and_line(cards_dir: Path, engine) -> None:  # noqa: ANN001
    with pytest.raises(CardError) as err:
        create_card(engine, cards_dir, "lan", raw_from_form({**NEW, "source_date": ""}))
    assert any(p.startswith("staff.yml:3:") and "source needs" in p for p in err.value.problems)
    with pytest.raises(CardError) as err:
        create_card(engine, cards_dir, "lan", raw_from_form({**NEW, "related": "khong-co-the-nay"}))
    assert any("unknown card khong-co-the-nay" in p for p in err.value.problems)
    assert not (cards_dir / "staff.yml").exists() and versions(engine) == []


def test_paraphrases_change_only_the_questions(cards_dir: Path, engine) -> None:  # noqa: ANN001
    path = cards_dir / "tham-gia.yml"
    old = path.read_text("utf-8").splitlines()
    assert add_questions(engine, cards_dir, "lan", "ocop-la-gi", ["ocop là cái gì thế", "OCOP là gì?"]) == 1
    new = path.read_text("utf-8").splitlines()
    assert [line for line in new if line not in old] == ['    - "ocop là cái gì thế"']
    assert len(new) == len(old) + 1
    assert "ocop là cái gì thế" in card(cards_dir, "ocop-la-gi").questions


def test_revert_restores_the_old_answer(cards_dir: Path, engine) -> None:  # noqa: ANN001
    original = card(cards_dir, "ocop-la-gi").answer
    found = locate(cards_dir, "ocop-la-gi")
    assert found is not None
    update_card(engine, cards_dir, "lan", "ocop-la-gi", {**found.raw, "answer": "Câu trả lời sai."})
    store = CardStore(cards_dir)
    assert card(cards_dir, "ocop-la-gi").answer == "Câu trả lời sai."
    (change,) = versions(engine, "tham-gia.yml")
    revert(engine, cards_dir, "lan", change.id)
    assert store.reload_if_changed()  # the running assistant's store sees the change
    assert next(c for c in store.cards() if c.id == "ocop-la-gi").answer == original
    assert len(versions(engine, "tham-gia.yml")) == 2  # the wrong answer is kept as a version too


def test_saving_every_card_unchanged_leaves_the_files_as_they_are(cards_dir: Path, engine) -> None:  # noqa: ANN001
    before = {p.name: p.read_text("utf-8") for p in cards_dir.glob("*.yml")}
    ids = [c.id for c in CardStore(cards_dir).cards()]
    assert len(ids) > 10
    for card_id in ids:
        found = locate(cards_dir, card_id)
        update_card(engine, cards_dir, "lan", card_id, dict(found.raw))
    assert {p.name: p.read_text("utf-8") for p in cards_dir.glob("*.yml")} == before


def test_an_edited_answer_is_rewrapped_and_reads_back(cards_dir: Path, engine) -> None:  # noqa: ANN001
    found = locate(cards_dir, "logo-ocop")
    answer = 'Dòng mới: "ngoặc kép", dấu #, dấu: hai chấm - và ' + "rất dài " * 30
    update_card(engine, cards_dir, "lan", "logo-ocop", {**found.raw, "answer": answer, "topic": "nhãn: OCOP"})
    again = card(cards_dir, "logo-ocop")
    assert again.answer == " ".join(answer.split()) and again.topic == "nhãn: OCOP"
    assert CardStore(cards_dir).errors == []
