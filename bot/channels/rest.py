"""REST channel hardened against bad input: 4xx for malformed requests, a reply for every turn.

Replaces Rasa's built-in `rest` channel (same URL `/webhooks/rest/webhook`, same JSON):
an empty or non-JSON body, a missing or non-string `message`, or a bad `sender` get
HTTP 400 with a clear error; injected intents ("/restart", "/intent{...}") are treated
as plain text; empty text gets the domain's `utter_message_empty` through the reserved
`/message_empty` intent; text is cleaned and bounded; a turn that produced no reply
(action server down) gets the service apology with the general hotline.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import guarded, mask_pii, sanitise

logger = logging.getLogger(__name__)
EMPTY_INTENT = "/message_empty"
MAX_BODY = 256 * 1024


def bad_request(reason: str) -> HTTPResponse:
    """A 400 with a short machine- and human-readable reason."""
    return response.json({"error": "bad_request", "reason": reason}, status=400)


def parse_body(request: Request) -> tuple[dict[str, Any] | None, str | None]:
    """Return (payload, None) or (None, reason) for a request body."""
    if not request.body:
        return None, 'empty body: send JSON {"sender": ..., "message": ...}'
    if len(request.body) > MAX_BODY:
        return None, "body too large"
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "body is not valid JSON"
    if not isinstance(payload, dict):
        return None, "body must be a JSON object"
    message = payload.get("message")
    if not isinstance(message, str):
        return None, "'message' must be a string"
    sender = payload.get("sender", "default")
    if not isinstance(sender, (str, int)) or not str(sender).strip() or len(str(sender)) > 128:
        return None, "'sender' must be a non-empty string of at most 128 characters"
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, "'metadata' must be an object"
    return payload, None


class RestInput(InputChannel):
    """Synchronous REST channel: POST a message, get the replies as a JSON list."""

    @classmethod
    def name(cls) -> str:
        """Same name and URL as Rasa's REST channel."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook."""
        bp = Blueprint("ocop_rest_webhook", __name__)
        handler = guarded(on_new_message)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            payload, problem = parse_body(request)
            if payload is None:
                return bad_request(problem or "bad request")
            text = sanitise(payload["message"]) or EMPTY_INTENT
            sender = str(payload.get("sender", "default")).strip()
            logger.debug("rest message from %s: %s", sender, mask_pii(text))
            collector = CollectingOutputChannel()
            await handler(
                UserMessage(
                    text, collector, sender, input_channel=self.name(), metadata=payload.get("metadata")
                )
            )
            return response.json(collector.messages)

        return bp
