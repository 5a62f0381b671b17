"""Conversations rebuilt from Rasa's SQL tracker store (the `events` table), read-only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.outcomes import ANSWERED, FEEDBACK_VALUES, turn_outcome

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
_TYPES = ("user", "bot", "slot")
# The 👍/👎 buttons' intent (payload /feedback{"feedback":"up"|"down"}) and the intent of a
# message saying what was wrong; the message right after a 👎 is its comment only with this intent.
FEEDBACK_INTENT = "feedback"
REASON_INTENT = "feedback_reason"
_PAYLOAD = re.compile(r"^\s*/feedback\b")


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
    feedback: str | None = None  # "up" or "down": the user's rating of this answer
    feedback_comment: str | None = None  # what was wrong, when said right after a "down"
    confidence: float | None = None  # the pipeline's confidence in its answer (slot answer_confidence)


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
    query = sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.intent_name, EVENTS.c.data).where(
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
    for sender_id, type_name, intent_name, data in rows:
        try:
            event = json.loads(data or "{}")
        except ValueError:
            continue
        if type_name == "user" and intent_name and not intent_of(event):
            event["parse_data"] = dict(event.get("parse_data") or {}, intent={"name": intent_name})
        yield sender_id, type_name, event


def intent_of(event: dict[str, Any]) -> str:
    """The intent name of a user event ("" when not parsed)."""
    return str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")


def is_feedback(event: dict[str, Any]) -> bool:
    """A 👍/👎 button press: the feedback intent (or its payload typed as text)."""
    return intent_of(event) == FEEDBACK_INTENT or bool(_PAYLOAD.match(str(event.get("text") or "")))


def feedback_value(event: dict[str, Any]) -> str | None:
    """The value ("up" or "down") of the feedback entity of a button press (None if absent)."""
    for entity in (event.get("parse_data") or {}).get("entities") or []:
        if entity.get("entity") == "feedback" and entity.get("value") in FEEDBACK_VALUES:
            return str(entity["value"])
    return None


def build_turns(events: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Turn]:
    """Turns from events: a user event opens a turn; bot events and answer_refs belong to it.

    A 👍/👎 press is no turn: its value goes to the last answered turn (card, statistic,
    passage, contact) of the same conversation, and the message right after a 👎 is that
    turn's comment when its intent is feedback_reason (else it is an ordinary question).
    The bot's replies to either are not shown as answers.
    """
    open_turns: dict[str, Turn | None] = {}
    history: dict[str, list[Turn]] = {}
    rated: dict[str, Turn | None] = {}  # the turn a press of this sender rated, while its events come
    awaiting: dict[str, Turn] = {}  # the turn whose 👎 may get a comment from the next message
    turns: list[Turn] = []
    for sender, kind, event in events:
        if kind == "user":
            comment_for = awaiting.pop(sender, None)
            rated.pop(sender, None)
            if is_feedback(event):
                target = _last_answered(history.get(sender, ()))
                open_turns[sender] = None
                value = feedback_value(event)
                if target is not None and value:
                    _rate(target, value, awaiting, sender)
                else:
                    rated[sender] = target  # the value may come with the feedback slot
                continue
            if comment_for is not None and intent_of(event) == REASON_INTENT:
                comment_for.feedback_comment = str(event.get("text") or "").strip() or None
                open_turns[sender] = None
                continue
            turn = Turn(
                sender,
                float(event.get("timestamp") or 0.0),
                str(event.get("text") or ""),
                str(event.get("input_channel") or ""),
            )
            open_turns[sender] = turn
            history.setdefault(sender, []).append(turn)
            turns.append(turn)
            continue
        if kind == "slot" and event.get("name") == "feedback" and rated.get(sender) is not None:
            if event.get("value") in FEEDBACK_VALUES:
                _rate(rated.pop(sender), str(event["value"]), awaiting, sender)
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
        elif kind == "slot" and event.get("name") == "answer_confidence":
            value = event.get("value")
            turn.confidence = float(value) if isinstance(value, (int, float)) else None
    for turn in turns:
        turn.outcome = turn_outcome(turn.responses, turn.refs)
    return turns


def _last_answered(turns: Iterable[Turn]) -> Turn | None:
    """The conversation's last turn answered with knowledge or a contact (those turns are closed)."""
    return next((t for t in reversed(list(turns)) if turn_outcome(t.responses, t.refs) in ANSWERED), None)


def _rate(turn: Turn, value: str, awaiting: dict[str, Turn], sender: str) -> None:
    """Record a press on `turn` (a later press replaces an earlier one; 👍 drops a comment)."""
    turn.feedback = value
    if value == "down":
        awaiting[sender] = turn
    else:
        turn.feedback_comment = None
