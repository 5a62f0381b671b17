"""Statistics rows and contacts edited as text: the loaders' checks, versions and revert."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cardfiles import CardError
from console.config import ConsoleConfig
from console.content import files_of, revert_to, save_text
from console.db import make_engine
from console.history import versions


def test_a_contact_edit_is_checked_written_and_revertible(config: ConsoleConfig) -> None:
    engine = make_engine(config.db_url)
    path = config.contacts_file
    original = path.read_text("utf-8")
    assert files_of(config, "contacts") == ["contacts.csv"]
    with pytest.raises(CardError) as err:  # a row without its organisation
        save_text(
            engine, config, "lan", "contacts", "contacts.csv", original + "moi-dong,Tên mới,,,,,,,,,0,\n"
        )
    assert any("contacts.csv dòng 6" in p for p in err.value.problems), err.value.problems
    assert path.read_text("utf-8") == original
    changed = original.replace("02963.957.006", "02963.957.007")
    save_text(engine, config, "lan", "contacts", "contacts.csv", changed)
    assert "02963.957.007" in path.read_text("utf-8")
    (change,) = versions(engine, "contacts/contacts.csv")
    assert change.content == original
    assert revert_to(engine, config, "lan", change.id) == "contacts/contacts.csv"
    assert path.read_text("utf-8") == original


def test_a_statistics_quote_must_be_in_its_document(config: ConsoleConfig) -> None:
    engine = make_engine(config.db_url)
    path = Path(config.stats_dir) / "ocop_stats.csv"
    original = path.read_text("utf-8")
    broken = original.replace(
        "Tỉnh An Giang đã có 165 sản phẩm đạt chứng nhận OCOP",
        "Tỉnh An Giang đã có 166 sản phẩm đạt chứng nhận OCOP",
    )
    assert broken != original
    with pytest.raises(CardError) as err:
        save_text(engine, config, "lan", "stats", "ocop_stats.csv", broken)
    assert any(p.startswith("ocop_stats.csv:2:") for p in err.value.problems), err.value.problems
    assert path.read_text("utf-8") == original
    with pytest.raises(CardError):
        save_text(engine, config, "lan", "stats", "../contacts.csv", original)
