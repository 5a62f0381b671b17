"""The staff console's door into Rasa: take, reply to and close a handed-off conversation.

    POST /webhooks/handoff/<take|reply|close>   {"sender": ..., "staff": ..., "text": ...}
    Authorization: Bearer <OCOP_HANDOFF_TOKEN>  (or the token file, var/handoff.token)

Only the console calls this (it checks the staff member's session, role and CSRF token first);
a request without the shared token gets 403, and without a configured token every request
does. nginx never exposes /webhooks/handoff (README "Production"). The work is done under the
conversation's lock on the tracker itself (bot/handoff.py): nothing the tracker does not know.

Answers: 200 {"ok": true, "channel", "delivered", "reason"}; 404 unknown conversation; 409
{"error": "not_handed_off"} or {"error": "zalo_window"} (Zalo no longer lets the OA write);
400 bad input.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import SlotSet
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import handoff
from ops.handoff_token import TOKEN_ENV, shared_token, token_file

logger = logging.getLogger(__name__)
ACTIONS = ("take", "reply", "close")


def authorised(request: Request, token: str) -> bool:
    """The request carries the shared token (constant-time comparison)."""
    given = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def parse(request: Request) -> tuple[dict[str, str] | None, str]:
    """(fields, "") or (None, why) for a request body."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None, "body is not JSON"
    if not isinstance(body, dict):
        return None, "body must be an object"
    fields = {k: body.get(k) for k in ("sender", "staff", "text")}
    if not all(isinstance(fields[k], str) and fields[k].strip() for k in ("sender", "staff")):
        return None, "'sender' and 'staff' are required"
    if len(fields["sender"]) > 128 or len(fields["staff"]) > 80:
        return None, "'sender' or 'staff' too long"
    return {k: str(v or "").strip() for k, v in fields.items()}, ""


async def act(agent: Any, input_channels: list[Any], action: str, fields: dict[str, str]) -> tuple[int, dict]:  # noqa: ANN401
    """Take, reply to or close a handed-off conversation; (HTTP status, JSON answer)."""
    sender, staff, text = fields["sender"], fields["staff"], fields["text"]
    if action == "reply" and not 0 < len(text) <= handoff.MAX_REPLY_CHARS:
        return 400, {
            "error": "bad_request",
            "reason": f"'text' must have 1 to {handoff.MAX_REPLY_CHARS} characters",
        }
    async with agent.lock_store.lock(sender):
        tracker = await agent.tracker_store.retrieve(sender)
        if tracker is None or not tracker.events:
            return 404, {"error": "unknown_conversation"}
        if not handoff.is_handed_off(tracker):
            return 409, {"error": "not_handed_off"}
        channel = tracker.get_latest_input_channel()
        output = handoff.output_for(input_channels, channel)
        in_window = handoff.within_zalo_window(tracker, channel)
        if action == "reply" and not in_window:
            return 409, {"error": "zalo_window", "hours": handoff.zalo_window_seconds() / 3600}
        if not in_window:
            output = None  # take / close are recorded; Zalo would refuse the message
        name = output.name() if output is not None else str(channel or "rest")
        if action == "close":
            delivered, why = await handoff.resume(
                agent, tracker, output, "utter_handoff_back", f"closed by {staff}"
            )
        else:
            if action == "take":
                for event in (SlotSet("handoff", handoff.ACTIVE), SlotSet(handoff.STAFF_KEY, staff)):
                    tracker.update(event)
                message = await handoff.render(agent, tracker, name, "utter_handoff_taken", staff=staff)
            else:
                message = {"text": text}
            delivered, why = await handoff.deliver(output, sender, message)
            tracker.update(handoff.bot_event(message, handoff_staff=staff, delivered=delivered))
        await agent.tracker_store.save(tracker)
    why = why or ("" if in_window else "zalo_window")
    logger.info("handoff %s of %s by %s: delivered=%s %s", action, sender, staff, delivered, why)
    return 200, {"ok": True, "channel": channel, "delivered": delivered, "reason": why}


class HandoffInput(InputChannel):
    """Routes for the staff console (not a user channel: it never starts a turn)."""

    @classmethod
    def name(cls) -> str:
        """Route prefix /webhooks/handoff."""
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """No settings besides the token (environment or token file)."""
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """GET / (health) and POST /<take|reply|close>."""
        bp = Blueprint("ocop_handoff", __name__)
        token = shared_token(create=True)
        if not token:
            logger.error(
                "no handoff token (%s or %s): the staff console cannot reply", TOKEN_ENV, token_file()
            )

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/<action:str>", methods=["POST"])
        async def receive(request: Request, action: str) -> HTTPResponse:
            if not authorised(request, token):
                return response.json({"error": "forbidden"}, status=403)
            if action not in ACTIONS:
                return response.json({"error": "unknown_action"}, status=404)
            fields, why = parse(request)
            if fields is None:
                return response.json({"error": "bad_request", "reason": why}, status=400)
            agent = request.app.ctx.agent
            status, body = await act(agent, getattr(request.app.ctx, "input_channels", []), action, fields)
            return response.json(body, status=status)

        return bp
