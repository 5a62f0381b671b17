"""The province gazetteer (data/language/provinces.yml) replayed on its example corpus."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.entities import find_provinces

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "language" / "provinces_examples.yml"


def test_examples_find_the_provinces_they_name():
    data = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    for text, expected in data["found"].items():
        assert [m.value for m in find_provinces(text)] == expected, text
    for text in data["none"]:
        assert find_provinces(text) == [], text
