"""The one function-word table (data/language/function_words.yml), replayed on its example corpus."""

from __future__ import annotations

from pathlib import Path

import yaml

from actions.hotline import GENERIC
from bot.text import CHAT_WORDS, FUNCTION_WORDS, words

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "language" / "function_words_examples.yml"


def test_content_words_of_the_examples():
    data = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    for text, expected in data["content"].items():
        kept = [w for w in words(text) if w not in FUNCTION_WORDS | CHAT_WORDS]
        assert kept == [str(x) for x in expected], text


def test_contact_only_messages():
    data = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    for text, only in data["contact_only"].items():
        assert all(w in GENERIC for w in words(text)) == only, text


def test_no_other_function_word_table_in_code():
    root = Path(__file__).resolve().parents[2]
    for folder in ("bot", "actions", "index"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert '"a ah ak' not in text and '"cho toi em minh' not in text, path
