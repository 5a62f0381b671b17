"""Handoff inbox: conversations waiting for staff, take one, read it whole, reply, close.

Every page needs a session (console/app.py); taking, replying and closing need the editor role
and the form's CSRF token, and go to the Rasa server (bot/channels/handoff.py) with the shared
token, which appends them to the conversation's tracker and sends them on the user's channel.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from sanic import Request, Sanic, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from bot.logmask import mask_pii_stdlib as mask
from console.app import render, require
from console.config import PREFIX
from console.handoff import RasaHandoffClient, handoffs, inbox, transcript
from console.history import audit
from ops.handoff_token import shared_token

ACTIONS = ("take", "reply", "close")
MAX_REPLY = 2000


def notice_of(action: str, status: int, body: dict) -> str:
    """The notice shown after an action (a key of messages.yml handoff.notices)."""
    if status == 0:
        return "unreachable"
    error = str(body.get("error") or "")
    if status == 409 and error in ("zalo_window", "not_handed_off"):
        return error
    if status != 200:
        return "empty" if status == 400 else "failed"
    if action == "reply" and not body.get("delivered"):
        return str(body.get("reason") or "send_failed")
    return {"take": "taken", "reply": "sent", "close": "closed"}[action]


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db = app.ctx.cfg, app.ctx.db
    if getattr(app.ctx, "rasa", None) is None:
        app.ctx.rasa = RasaHandoffClient(cfg.rasa_url, shared_token())

    def page_of(sender: str, notice: str = "") -> str:
        """The conversation's page (with a notice)."""
        return f"{PREFIX}/handoff/c/{quote(sender, safe='')}" + (f"?notice={notice}" if notice else "")

    @app.get(f"{PREFIX}/handoff")
    async def handoff_inbox(request: Request) -> HTTPResponse:
        """Waiting conversations first, with how long they have waited; then those being handled."""
        items = await asyncio.to_thread(inbox, app.ctx.tracker)
        return render(request, "handoff_inbox.html", items=items, mask=mask, now=time.time())

    @app.get(f"{PREFIX}/handoff/rows")
    async def handoff_rows(request: Request) -> HTTPResponse:
        """The inbox table only (the page polls it)."""
        items = await asyncio.to_thread(inbox, app.ctx.tracker)
        return render(request, "handoff_rows.html", items=items, mask=mask, now=time.time())

    @app.get(f"{PREFIX}/handoff/count.json")
    async def handoff_count(request: Request) -> HTTPResponse:
        """How many conversations wait for staff, and how many are being handled (the header polls it)."""
        items = await asyncio.to_thread(inbox, app.ctx.tracker)
        waiting = sum(1 for h in items if h.status == "waiting")
        return response.json({"waiting": waiting, "active": len(items) - waiting})

    @app.get(f"{PREFIX}/handoff/c/<sender:str>")
    async def handoff_page(request: Request, sender: str) -> HTTPResponse:
        """The whole conversation, its handoff state and what staff can do."""
        state = (await asyncio.to_thread(handoffs, app.ctx.tracker, sender)).get(sender)
        lines = await asyncio.to_thread(transcript, app.ctx.tracker, sender)
        if not lines:
            raise NotFound("not found")
        notice = request.args.get("notice", "")
        return render(
            request, "handoff_conversation.html", sender=sender, state=state, lines=lines, mask=mask,
            notice=notice if notice in app.ctx.msg["handoff"]["notices"] else "", max_reply=MAX_REPLY,
        )  # fmt: skip

    @app.get(f"{PREFIX}/handoff/c/<sender:str>/lines")
    async def handoff_lines(request: Request, sender: str) -> HTTPResponse:
        """The transcript only (the page polls it)."""
        lines = await asyncio.to_thread(transcript, app.ctx.tracker, sender)
        return render(request, "handoff_lines.html", lines=lines, mask=mask)

    @app.post(f"{PREFIX}/handoff/c/<sender:str>/<action:str>")
    async def handoff_act(request: Request, sender: str, action: str) -> HTTPResponse:
        """Take, reply or close: checked here (role, state, who took it), done by the Rasa server."""
        user = require(request, "editor")
        if action not in ACTIONS:
            raise NotFound("not found")
        state = (await asyncio.to_thread(handoffs, app.ctx.tracker, sender)).get(sender)
        if state is None:
            return response.redirect(page_of(sender, "not_handed_off"))
        text = (request.form.get("text") or "").strip() if action == "reply" else ""
        if action == "reply":
            if state.staff != user.name:
                return response.redirect(page_of(sender, "take_first"))
            if not 0 < len(text) <= MAX_REPLY:
                return response.redirect(page_of(sender, "empty"))
        status, body = await asyncio.to_thread(app.ctx.rasa.send, action, sender, user.name, text)
        if status == 200:
            audit(db, user.name, f"handoff.{action}", sender, state.staff, text or None)
        return response.redirect(page_of(sender, notice_of(action, status, body)))
