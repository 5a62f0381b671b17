"""Guarantee a reply for every user turn, and sanitise what users type.

Rasa 3.6 stays silent when a custom action fails (action server down or timing out):
the processor logs the error and listens again. Channels wrap their `on_new_message`
with `guarded`, which sends the domain's `utter_service_unavailable` apology (with the
general hotline) whenever a turn produced no message at all, except in a conversation handed
off to staff (paused: silence is intended; bot/handoff.py).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.text import clean_user_text
from ops.turns import record_turn

logger = logging.getLogger(__name__)
FALLBACK_RESPONSE = "utter_service_unavailable"
MAX_CHARS = 2000
DATA = Path(__file__).resolve().parents[2] / "data"
# Files whose `buttons:` payloads may name an intent: 👍 / 👎, and the handoff offer's confirm / decline.
BUTTON_FILES = (DATA / "feedback.yml", DATA / "handoff" / "office_hours.yml")
_PHONE = re.compile(r"(?<!\d)(\+?84|0)(\d[\d .-]{7,12}\d)(?!\d)")
_ID_CARD = re.compile(r"(?<!\d)\d{9}(?:\d{3})?(?!\d)")


def mask_pii(text: str) -> str:
    """Mask phone and ID-card numbers typed by users before they reach a log line."""
    text = _PHONE.sub(lambda m: m.group(0)[:3] + "*" * max(0, len(m.group(0)) - 5) + m.group(0)[-2:], text)
    return _ID_CARD.sub(lambda m: "*" * (len(m.group(0)) - 3) + m.group(0)[-3:], text)


@functools.lru_cache(maxsize=1)
def button_payloads() -> frozenset[str]:
    """The payloads of our own quick replies that name an intent (BUTTON_FILES)."""
    payloads: set[str] = set()
    for path in BUTTON_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
        payloads.update(str(b["payload"]) for b in (data or {}).get("buttons") or [])
    return frozenset(payloads)


def sanitise(text: str) -> str:
    """Clean user text; a leading "/" would inject an intent, so it is dropped, except in the
    exact payloads of our own buttons (rating, handoff offer). Words typed with the Vietnamese input method off
    ("ddawng kys", "ho62 so7") are decoded here, so that NLU and the actions read "đăng ký",
    "hồ sơ" (index/keyboard.py; data/language/keyboard.yml)."""
    from index.keyboard import word_list_decoder

    cleaned = clean_user_text(text, MAX_CHARS)
    if cleaned in button_payloads():
        return cleaned
    return word_list_decoder().decode(cleaned.lstrip("/").strip())


def fallback_response() -> dict[str, Any]:
    """The apology response, read from the running agent's domain, hotline from the contact table."""
    try:
        from rasa.core.nlg import interpolator
        from sanic import Sanic

        from bot.contact_values import shared_values

        domain = Sanic.get_app().ctx.agent.domain
        variants = domain.responses.get(FALLBACK_RESPONSE) or []
        if variants:
            return interpolator.interpolate(copy.deepcopy(dict(variants[0])), shared_values().values())
    except Exception as exc:  # noqa: BLE001 - never fail while handling a failure
        logger.error("cannot read %s from the domain: %s", FALLBACK_RESPONSE, exc)
    return {}


class CountingOutput(OutputChannel):
    """Wraps an output channel and counts what is sent through it."""

    def __init__(self, inner: OutputChannel) -> None:
        """Wrap inner."""
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        """Channel name (of the wrapped channel at runtime)."""
        return "counting"

    def __getattr__(self, item: str) -> Any:
        """Delegate everything else (messages, sid, ...) to the wrapped channel."""
        return getattr(self.inner, item)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Count, then forward."""
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


async def send_fallback(output: OutputChannel, recipient_id: str) -> None:
    """Send the apology with the general hotline through a channel."""
    response = fallback_response()
    if response:
        await output.send_response(recipient_id, response)


async def _handed_off(message: UserMessage, output: OutputChannel) -> bool:
    """The turn is silent because staff have the conversation (bot/handoff.py)."""
    from bot.handoff import after_silent_turn

    try:
        return await after_silent_turn(message.sender_id, output)
    except Exception:  # noqa: BLE001 - then the apology, as for any silent turn
        logger.exception("cannot check the handoff state of %s", message.sender_id)
        return False


def guarded(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[None]]:
    """Wrap a channel's message handler so that every turn gets at least one reply."""

    async def handler(message: UserMessage) -> None:
        started = time.perf_counter()
        counting = CountingOutput(message.output_channel)
        message.output_channel = counting
        outcome = "answered"
        try:
            await on_new_message(message)
        except Exception:  # noqa: BLE001 - the user still gets an answer
            logger.exception("turn failed for sender %s", message.sender_id)
            outcome = "error"
        if counting.sent == 0 and outcome == "answered" and await _handed_off(message, counting):
            outcome = "handoff"  # staff answer this conversation: the assistant stays silent
        elif counting.sent == 0:
            logger.warning("no reply for sender %s: sending the service apology", message.sender_id)
            await send_fallback(counting.inner, message.sender_id)
            outcome = "apology" if outcome == "answered" else outcome
        record_turn(message.input_channel, outcome, time.perf_counter() - started)

    return handler
