"""Hotline numbers in responses come from the contact table (bot/nlg.py, bot/contact_values.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.contact_values import ContactValues, fill_text, placeholders
from bot.nlg import ContactNLG

ROOT = Path(__file__).resolve().parents[2]
PHONE = re.compile(r"(?<![\d{])0\d{2,4}[ .]?\d{3}[ .]?\d{3,4}(?!\d)")
HEADER = "id,name,title,organisation,province,topics,phones,email,source,verified_on,general,topic_label\n"


def response_texts() -> list[str]:
    """Every text, button title and payload of the domain's responses."""
    texts = []
    for path in sorted((ROOT / "domain").glob("*.yml")):
        for variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).values():
            for variant in variants:
                texts.append(str(variant.get("text") or ""))
                for button in variant.get("buttons") or []:
                    texts += [str(button.get("title") or ""), str(button.get("payload") or "")]
    return texts


def write_table(path: Path, phone: str, email: str = "tonghop@example.gov.vn") -> None:
    """A one-row contact table with the given general number, written so its mtime changes."""
    row = f"ag-ubnd-tong-hop,Phòng Tổng hợp,,UBND tỉnh An Giang,An Giang,thủ tục,{phone},{email},nguồn,2024-11-06,1,\n"
    path.write_text(HEADER + row, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000 * (1 + len(phone))
    os.utime(path, ns=(stamp, stamp))


def test_no_phone_number_is_written_into_the_domain() -> None:
    assert [t for t in response_texts() if PHONE.search(t)] == []


def test_every_placeholder_of_the_domain_is_in_the_shipped_table() -> None:
    used = placeholders(response_texts())
    values = ContactValues(ROOT / "data" / "contacts.csv").values()
    assert used, "the domain names no hotline at all"
    assert sorted(used - values.keys()) == []
    assert all(values[key] for key in used)


def domain_with(text: str, payload: str) -> Domain:
    """A minimal domain with one response naming the general hotline."""
    return Domain.from_dict(
        {"responses": {"utter_x": [{"text": text, "buttons": [{"title": "Gọi", "payload": payload}]}]}}
    )


def test_a_changed_number_is_served_without_retraining(tmp_path: Path) -> None:
    table = tmp_path / "contacts.csv"
    write_table(table, "02963.957.006")
    nlg = ContactNLG(
        domain=domain_with("Gọi {ag-ubnd-tong-hop.phone}", "{ag-ubnd-tong-hop.tel}"),
        values=ContactValues(table),
    )
    first = nlg.generate_from_slots("utter_x", {}, "rest")
    assert first["text"] == "Gọi 02963 957 006" and first["buttons"][0]["payload"] == "tel:02963957006"

    write_table(table, "0913.979.245")
    second = nlg.generate_from_slots("utter_x", {}, "rest")
    assert second["text"] == "Gọi 0913 979 245" and second["buttons"][0]["payload"] == "tel:0913979245"


def test_an_actions_own_argument_wins_over_the_table(tmp_path: Path) -> None:
    table = tmp_path / "contacts.csv"
    write_table(table, "02963.957.006")
    nlg = ContactNLG(domain=domain_with("Gọi {ag-ubnd-tong-hop.phone}", "x"), values=ContactValues(table))
    reply = nlg.generate_from_slots("utter_x", {}, "rest", **{"ag-ubnd-tong-hop.phone": "1900 0000"})
    assert reply["text"] == "Gọi 1900 0000"


def test_a_broken_table_keeps_the_last_good_numbers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    table = tmp_path / "contacts.csv"
    write_table(table, "02963.957.006")
    values = ContactValues(table)
    assert values.values()["ag-ubnd-tong-hop.phone"] == "02963 957 006"
    write_table(table, "not-a-number", email="")
    assert values.values()["ag-ubnd-tong-hop.phone"] == "02963 957 006"
    assert "contacts.csv:2" in caplog.text and "not-a-number" in caplog.text


def test_unknown_placeholders_stay_as_written() -> None:
    assert fill_text("{nobody.phone} {x.tel}", {"x.tel": "tel:0"}) == "{nobody.phone} tel:0"
