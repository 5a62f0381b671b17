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


def test_a_document_is_removed_brought_back_and_checked_as_text(
    config: ConsoleConfig, tmp_path: Path
) -> None:
    import dataclasses
    import shutil

    from console.app import messages
    from console.content import add_document, remove_document

    docs = tmp_path / "docs"
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "docs", docs)
    config = dataclasses.replace(config, docs_dir=docs)
    engine = make_engine(config.db_url)
    msg = messages()["documents"]
    name = "2026-01-05-hoi-cho.md"
    text = '---\ntitle: "Hội chợ"\npublisher: "Sở"\ndate: "2026-01-05"\n---\nHội chợ OCOP có 60 gian hàng của các tỉnh.\n'
    add_document(engine, config, "lan", name, text, "tải lên")
    assert name in files_of(config, "docs") and (docs / name).read_text("utf-8") == text
    remove_document(engine, config, "lan", name, "xoá")
    assert not (docs / name).exists()
    removal, upload = versions(engine, f"docs/{name}")
    assert (removal.content, upload.content) == (text, None)
    assert revert_to(engine, config, "lan", removal.id) == f"docs/{name}"  # brought back
    assert (docs / name).read_text("utf-8") == text
    with pytest.raises(CardError) as err:  # broken front matter, edited as text
        save_text(engine, config, "lan", "docs", name, '---\ntitle: "Hội chợ\n---\nHội chợ OCOP.\n')
    assert err.value.problems == [msg["front_matter"].format(name=name)]
    with pytest.raises(CardError) as err:  # the statistics table quotes this one
        remove_document(engine, config, "lan", "vn-2025-so-lieu-ocop-toan-quoc.md", "xoá")
    assert err.value.problems[0] == msg["breaks_stats"].format(name="vn-2025-so-lieu-ocop-toan-quoc.md")
    assert (
        all(p.startswith("ocop_stats.csv:") for p in err.value.problems[1:]) and len(err.value.problems) > 1
    )
    assert (docs / "vn-2025-so-lieu-ocop-toan-quoc.md").exists() and (docs / name).read_text("utf-8") == text
