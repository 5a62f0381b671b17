"""Conversations rebuilt from Rasa's SQL tracker store (the `events` table), read-only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.outcomes import turn_outcome

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
_TYPES = ("user", "bot", "slot")


@dataclass
class Turn:
    """One user message and what the assistant did with it."""

    sender: str
    at: float
    text: str
    channel: str
    replies: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    refs: list[str] | None = None
    outcome: str = "other"


def tracker_engine(url: str) -> Engine:
    """A read-only engine on the tracker store (SQLite opened with mode=ro)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).resolve()
        return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", future=True)
    options = {"postgresql_readonly": True} if url.startswith("postgresql") else {}
    return sa.create_engine(url, future=True, pool_pre_ping=True, execution_options=options)


def read_events(
    engine: Engine, since: float | None = None, until: float | None = None, sender: str | None = None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(sender, type, event) of user, bot and slot events in order (none if the table is missing)."""
    query = sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.data).where(
        EVENTS.c.type_name.in_(_TYPES)
    )
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since)
    if until is not None:
        query = query.where(EVENTS.c.timestamp < until)
    if sender is not None:
        query = query.where(EVENTS.c.sender_id == sender)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(EVENTS.c.id)).all()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return
    for sender_id, type_name, data in rows:
        try:
            event = json.loads(data or "{}")
        except ValueError:
            continue
        yield sender_id, type_name, event


def build_turns(events: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Turn]:
    """Turns from events: a user event opens a turn; bot events and answer_refs belong to it."""
    open_turns: dict[str, Turn] = {}
    turns: list[Turn] = []
    for sender, kind, event in events:
        if kind == "user":
            turn = Turn(
                sender,
                float(event.get("timestamp") or 0.0),
                str(event.get("text") or ""),
                str(event.get("input_channel") or ""),
            )
            open_turns[sender] = turn
            turns.append(turn)
            continue
        turn = open_turns.get(sender)
        if turn is None:
            continue
        if kind == "bot":
            turn.replies.append(str(event.get("text") or ""))
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                turn.responses.append(str(name))
        elif kind == "slot" and event.get("name") == "answer_refs":
            turn.refs = [str(r) for r in event.get("value") or []]
    for turn in turns:
        turn.outcome = turn_outcome(turn.responses, turn.refs)
    return turns
