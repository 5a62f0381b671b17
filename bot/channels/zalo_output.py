"""Rasa output channel that answers Zalo users through the OA message API."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.channels.zalo_api import ZaloApiClient, ZaloApiError
from bot.channels.zalo_quota import ReplyQuota
from ops.turns import record_zalo_send_failure

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
MAX_BUTTONS = 5
# Preferred cut points, best first: paragraph, line, sentence end, space.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…;:])\s+"),
    re.compile(r"\s+"),
)
_PHONE_JUNK = re.compile(r"[\s().\-]")


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split text into chunks of at most ``limit`` chars on natural boundaries."""
    rest = (text or "").strip()
    chunks: list[str] = []
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = 0
        for pattern in _BOUNDARIES:
            ends = [m for m in pattern.finditer(window) if 0 < m.start() <= limit]
            if ends and ends[-1].start() >= limit // 4:
                cut = ends[-1].start()
                nxt = ends[-1].end()
                break
        if not cut:
            cut = nxt = limit  # no usable boundary: hard cut
        piece = rest[:cut].strip()
        if piece:
            chunks.append(piece)
        rest = rest[nxt:].strip()
    if rest:
        chunks.append(rest)
    return chunks


def zalo_button(button: dict[str, Any]) -> dict[str, Any]:
    """Map a Rasa button ``{title, payload}`` to a Zalo template button."""
    title = str(button.get("title") or "")
    payload = str(button.get("payload") or button.get("url") or title)
    lowered = payload.lower()
    if lowered.startswith("tel:"):
        phone = _PHONE_JUNK.sub("", payload[4:])
        return {"title": title, "type": "oa.open.phone", "payload": {"phone_code": phone}}
    if lowered.startswith(("http://", "https://", "mailto:")):
        return {"title": title, "type": "oa.open.url", "payload": {"url": payload}}
    return {"title": title, "type": "oa.query.show", "payload": payload}


def buttons_attachment(buttons: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Build a template attachment holding at most five buttons."""
    items = [zalo_button(b) for b in buttons]
    if len(items) > MAX_BUTTONS:
        logger.warning("Zalo allows %d buttons; dropping %d", MAX_BUTTONS, len(items) - MAX_BUTTONS)
    return {"type": "template", "payload": {"buttons": items[:MAX_BUTTONS]}}


class ZaloOutput(OutputChannel):
    """Sends bot responses to a Zalo user as replies to their message (errors are logged)."""

    @classmethod
    def name(cls) -> str:
        """Channel name."""
        return "zalo"

    def __init__(
        self, client: ZaloApiClient, quota: ReplyQuota | None = None, reply_to: str | None = None
    ) -> None:
        """Use the shared API client; link replies to user message ``reply_to`` (or the
        user's latest) while ``quota`` says they are free."""
        self.client = client
        self.quota = quota
        self.reply_to = reply_to
        self.sent: int = 0
        self.failed: int = 0

    async def _reply_link(self, recipient_id: str) -> str | None:
        """The user message this reply answers, or None once it would not be free."""
        if self.quota is None:
            return self.reply_to
        grant = await self.quota.claim(recipient_id, self.reply_to)
        if grant.message_id:
            return grant.message_id
        self.client.stats["outside_free_window"] += 1
        logger.warning(
            "Zalo reply to %s is outside the free reply window (%s; message %s, %d of %d free replies "
            "used): sent as a normal cs message, billed as proactive",
            recipient_id,
            grant.reason,
            self.reply_to or "latest",
            grant.used,
            self.quota.limit,
        )
        return None

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> bool:
        """Send one message; log and swallow API errors so the turn is kept."""
        try:
            reply_to = await self._reply_link(recipient_id)
            await self.client.send_message(recipient_id, message, reply_to=reply_to)
        except ZaloApiError as e:
            self.failed += 1
            record_zalo_send_failure(e)
            logger.error("Could not send Zalo message to %s: %s", recipient_id, e)
            return False
        self.sent += 1
        return True

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text, split into ≤ 2,000-character messages."""
        for chunk in split_text(text):
            await self._send(recipient_id, {"text": chunk})

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Send text with a button template attached to its last chunk."""
        if not buttons:
            await self.send_text_message(recipient_id, text)
            return
        chunks = split_text(text) or [""]
        for chunk in chunks[:-1]:
            await self._send(recipient_id, {"text": chunk})
        message: dict[str, Any] = {"attachment": buttons_attachment(buttons)}
        if chunks[-1]:
            message["text"] = chunks[-1]
        await self._send(recipient_id, message)

    async def send_quick_replies(
        self,
        recipient_id: str,
        text: str,
        quick_replies: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Quick replies are sent as template buttons."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image by URL as a media template."""
        element = {"media_type": "image", "url": image}
        attachment = {
            "type": "template",
            "payload": {"template_type": "media", "elements": [element]},
        }
        await self._send(recipient_id, {"attachment": attachment})

    async def send_attachment(  # type: ignore[override]
        self, recipient_id: str, attachment: Any, **kwargs: Any
    ) -> None:
        """Send a raw Zalo attachment dict; a string is sent as text."""
        if isinstance(attachment, dict):
            await self._send(recipient_id, {"attachment": attachment})
        elif attachment:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Send ``custom.zalo`` verbatim as the Zalo message; ignore other custom JSON."""
        message: dict[str, Any] | None = (json_message or {}).get("zalo")
        if isinstance(message, dict):
            await self._send(recipient_id, message)
        else:
            logger.debug("Ignoring custom JSON without a 'zalo' key for Zalo")
