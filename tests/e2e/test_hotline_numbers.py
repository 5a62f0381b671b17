"""A hotline number changed in the contact table is served at once, by the domain's responses and
by the web page, without retraining or restarting (bot/nlg.py, bot/contact_values.py)."""

from __future__ import annotations

import os
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import say, text_of

OLD, NEW = "02963.957.006", "02963.957.123"  # the general hotline, and a number no row has


def _page(web_url: str) -> str:
    with urllib.request.urlopen(web_url + "/", timeout=10) as resp:
        return resp.read().decode("utf-8")


def _write(path: Path, text: str) -> None:
    """Write the table so that its change is seen (a later modification time)."""
    path.write_text(text, encoding="utf-8")
    stamp = time.time_ns() + 2_000_000_000
    os.utime(path, ns=(stamp, stamp))


def test_a_changed_hotline_number_is_served_without_retraining(web_url: str) -> None:
    table = os.environ.get("OCOP_CONTACTS_FILE")
    if not table:
        pytest.skip(
            "needs the servers' own copy of the contact table (python -m ops.serve --cards-copy, as make e2e)"
        )
    path = Path(table)
    original = path.read_text(encoding="utf-8")
    assert OLD in original
    ask = "mình muốn làm căn cước công dân thì làm sao"  # out of scope: the reply names the general hotline
    assert "02963 957 006" in text_of(say(f"nlg-{uuid.uuid4().hex[:6]}", ask))
    try:
        _write(path, original.replace(OLD, NEW))
        reply = text_of(say(f"nlg-{uuid.uuid4().hex[:6]}", ask))
        assert "02963 957 123" in reply and "02963 957 006" not in reply
        page = _page(web_url)
        assert "02963 957 123" in page and "{" not in page.split("<body", 1)[1]
    finally:
        _write(path, original)
    assert "02963 957 006" in text_of(say(f"nlg-{uuid.uuid4().hex[:6]}", ask))
