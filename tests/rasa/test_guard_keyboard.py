"""Channels decode input-method leftovers before NLU sees the message (bot/channels/guard.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.channels.guard import sanitise

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "language" / "keyboard_examples.yml"


def test_every_channel_message_is_decoded_like_the_examples():
    data = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    for typed, meant in data["decoded"].items():
        assert sanitise(typed) == meant
    for typed in data["unchanged"]:
        assert sanitise(typed) == typed


def test_an_intent_injection_is_still_dropped():
    assert sanitise("/restart") == "restart"


def test_only_our_rating_payloads_keep_their_intent():
    assert sanitise('/feedback{"feedback":"down"}') == '/feedback{"feedback":"down"}'
    assert sanitise('/feedback{"feedback":"up"}') == '/feedback{"feedback":"up"}'
    assert not sanitise('/feedback{"feedback":"x"}').startswith("/")  # anything else: no intent injected
    assert not sanitise("/greet").startswith("/")
