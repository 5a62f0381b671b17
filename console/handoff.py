"""The handoff inbox: conversations handed to staff, read from the tracker store; and the client
that asks the Rasa server to take, reply to or close one (bot/channels/handoff.py).

The state of a conversation is what its tracker says: the slots `handoff` (waiting / active) and
`handoff_staff`, and Rasa's pause. The console keeps nothing of its own besides the audit log.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from console.config import ROOT
from console.tracker import EVENTS

DATA = ROOT / "data"

SLOTS = ("handoff", "handoff_staff", "handoff_after_hours")
ZALO_WINDOW_HOURS = 168.0  # as bot/handoff.py: ZALO_REPLY_WINDOW_HOURS


@dataclass
class Handoff:
    """One conversation in the inbox."""

    sender: str
    status: str  # "waiting" or "active"
    since: float  # when it was handed off
    staff: str | None = None
    after_hours: bool = False
    channel: str = ""
    last_user_at: float = 0.0
    last_text: str = ""

    def zalo_window_open(self, now: float | None = None) -> bool:
        """Zalo still lets the OA message this user (always true on other channels)."""
        if self.channel != "zalo":
            return True
        hours = float(os.environ.get("ZALO_REPLY_WINDOW_HOURS", ZALO_WINDOW_HOURS))
        return (now or time.time()) - self.last_user_at <= hours * 3600


def _state_rows(engine: Engine, sender: str | None = None) -> list[Any]:
    """Pause, resume and handoff slot events, in order."""
    c = EVENTS.c
    query = sa.select(c.sender_id, c.type_name, c.action_name, c.timestamp, c.data).where(
        sa.or_(c.type_name.in_(("pause", "resume")), sa.and_(c.type_name == "slot", c.action_name.in_(SLOTS)))
    )
    if sender is not None:
        query = query.where(c.sender_id == sender)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query.order_by(c.id)))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []


def handoffs(engine: Engine, sender: str | None = None) -> dict[str, Handoff]:
    """Conversations handed off now (waiting or active), by sender."""
    found: dict[str, Handoff] = {}
    for row in _state_rows(engine, sender):
        current = found.get(row.sender_id)
        if row.type_name == "resume":
            found.pop(row.sender_id, None)
            continue
        if row.type_name == "pause":
            if current is None:  # paused without the slot (e.g. staff answered in Zalo's inbox)
                found[row.sender_id] = Handoff(row.sender_id, "active", float(row.timestamp or 0))
            continue
        value = json.loads(row.data or "{}").get("value")
        if row.action_name == "handoff":
            if value in ("waiting", "active"):
                if current is None or value == "waiting":
                    current = found[row.sender_id] = Handoff(row.sender_id, value, float(row.timestamp or 0))
                current.status = value
            else:
                found.pop(row.sender_id, None)
        elif current is not None and row.action_name == "handoff_staff":
            current.staff = str(value) if value else None
        elif current is not None and row.action_name == "handoff_after_hours":
            current.after_hours = bool(value)
    _add_last_messages(engine, found)
    return found


def _add_last_messages(engine: Engine, found: dict[str, Handoff]) -> None:
    """Each conversation's channel and latest user message."""
    if not found:
        return
    c = EVENTS.c
    query = (
        sa.select(c.sender_id, c.timestamp, c.data)
        .where(c.type_name == "user", c.sender_id.in_(list(found)))
        .order_by(c.id)
    )
    with engine.connect() as conn:
        for row in conn.execute(query):
            event = json.loads(row.data or "{}")
            item = found[row.sender_id]
            item.channel = str(event.get("input_channel") or item.channel)
            item.last_user_at = float(row.timestamp or 0)
            item.last_text = str(event.get("text") or "")


def inbox(engine: Engine) -> list[Handoff]:
    """Waiting conversations first (oldest first), then the active ones."""
    items = handoffs(engine).values()
    return sorted(items, key=lambda h: (h.status != "waiting", h.since))


class RasaDoor(Protocol):
    """What the console needs of the Rasa server: take, reply to, close a conversation."""

    def send(self, action: str, sender: str, staff: str, text: str = "") -> tuple[int, dict]:
        """(HTTP status, JSON answer) of POST /webhooks/handoff/<action>."""
        ...


class RasaHandoffClient:
    """POSTs to the Rasa server's handoff routes with the shared token."""

    def __init__(self, base_url: str, token: str, timeout: float = 20.0) -> None:
        """Base URL of one Rasa process (http://127.0.0.1:5005) and the shared token."""
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def send(self, action: str, sender: str, staff: str, text: str = "") -> tuple[int, dict]:
        """(status, answer); (0, {"error": "unreachable"}) when the server does not answer."""
        body = json.dumps({"sender": sender, "staff": staff, "text": text}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/handoff/{action}",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                return err.code, json.loads(err.read() or b"{}")
            except ValueError:
                return err.code, {"error": "bad_answer"}
        except OSError as err:
            return 0, {"error": "unreachable", "reason": str(err)}


@dataclass
class Line:
    """One line of a handoff transcript: the user, the assistant, staff, or a pause / resume mark."""

    at: float
    who: str  # "user", "bot", "staff", "pause", "resume"
    text: str = ""
    staff: str | None = None
    delivered: bool | None = None


def button_titles() -> dict[str, str]:
    """Payload -> title of our own buttons (👍 / 👎, the handoff offer), to show what was pressed."""
    titles: dict[str, str] = {}
    for path in (DATA / "feedback.yml", DATA / "handoff" / "office_hours.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
        titles.update({str(b["payload"]): f"[{b['title']}]" for b in (data or {}).get("buttons") or []})
    return titles


def transcript(engine: Engine, sender: str) -> list[Line]:
    """The whole conversation in order, with the assistant's answers and the staff's messages."""
    c = EVENTS.c
    query = (
        sa.select(c.type_name, c.timestamp, c.data)
        .where(c.sender_id == sender, c.type_name.in_(("user", "bot", "pause", "resume")))
        .order_by(c.id)
    )
    lines: list[Line] = []
    titles = button_titles()
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(query))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return lines
    for row in rows:
        event = json.loads(row.data or "{}")
        at = float(row.timestamp or 0)
        if row.type_name in ("pause", "resume"):
            lines.append(Line(at, row.type_name))
            continue
        text = str(event.get("text") or "")
        meta = event.get("metadata") or {}
        if row.type_name == "user":
            lines.append(Line(at, "user", titles.get(text, text)))
        elif meta.get("handoff_staff") and not meta.get("utter_action"):
            lines.append(Line(at, "staff", text, str(meta["handoff_staff"]), meta.get("delivered")))
        else:
            lines.append(Line(at, "bot", text, delivered=meta.get("delivered")))
    return lines
