"""Every fact of the programme facts file is reachable through a card or a statistics row."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.text import fold
from index.cards import CardStore
from index.stats import StatsTable, document_texts

ROOT = Path(__file__).resolve().parents[2]
FACTS = yaml.safe_load((Path(__file__).with_name("facts_cards.yml")).read_text(encoding="utf-8"))["facts"]


def test_each_fact_is_stated_by_its_card_or_row():
    cards = {c.id: c for c in CardStore(ROOT / "data" / "cards").cards()}
    rows = {
        r.id for r in StatsTable.load(ROOT / "data" / "stats", document_texts(ROOT / "data" / "docs")).rows()
    }
    missing = []
    for fact in FACTS:
        if "card" in fact:
            card = cards.get(fact["card"])
            text = fold(f"{card.answer} {card.source.title}").lower() if card else ""
            missing += [(fact["fact"], w) for w in fact["has"] if w not in text]
        else:
            missing += [(fact["fact"], r) for r in fact["stat"] if r not in rows]
    assert missing == []


def test_the_list_covers_every_section_of_the_facts_file():
    facts_file = ROOT.parent / "shared" / "knowledge" / "ocop_facts.md"
    if not facts_file.is_file():
        pytest.skip("../shared/knowledge/ocop_facts.md is not beside this checkout")
    text = fold(facts_file.read_text(encoding="utf-8")).lower()
    for number in ("490", "1048", "781", "919", "148", "1489", "1162", "950", "53/2022"):
        assert number in text
        assert any(number in fold(str(f)).lower() for f in FACTS), number
