"""bot/rasa_run.py: the compiled action-response validator gives Rasa's verdicts."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_run

VALID = {
    "events": [{"event": "slot", "name": "province", "value": "An Giang", "timestamp": None}],
    "responses": [{"response": "utter_knowledge_answer", "answer": "…", "source": "Sở NN&PTNT"}],
}
INVALID = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
]


@pytest.fixture()
def action() -> RemoteAction:
    """A remote action (no endpoint needed to validate)."""
    return RemoteAction("action_answer_knowledge", None)


@pytest.fixture()
def patched(monkeypatch):
    """Apply the patch for this test only."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    rasa_run.apply_compiled_action_validation()
    assert getattr(RemoteAction._validate_action_result, "ocop_compiled", False)


def test_valid_response_passes(patched, action):
    assert action._validate_action_result(VALID) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_response_raises_rasas_error(patched, action, result):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(result)


@pytest.mark.parametrize("result", [VALID, *INVALID])
def test_same_verdict_as_rasa(action, result):
    original = RemoteAction._validate_action_result
    try:
        expected = original(action, result)
    except ValidationError:
        expected = "error"
    rasa_run.apply_compiled_action_validation()
    try:
        got = RemoteAction._validate_action_result(action, result)
    except ValidationError:
        got = "error"
    finally:
        RemoteAction._validate_action_result = original
    assert got == expected


def test_sqlite_connections_use_wal(tmp_path):
    import sqlalchemy as sa

    rasa_run.apply_sqlite_wal()
    rasa_run.apply_sqlite_wal()  # idempotent: one listener
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_sqlite_tracker_store_keeps_its_connections(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.pool import QueuePool

    rasa_run.apply_pool_pre_ping()
    rasa_run.apply_sqlite_wal()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    assert isinstance(store.engine.pool, QueuePool)
    tracker = DialogueStateTracker("u1", slots=[])
    tracker.update(UserUttered("xin chào"))
    import asyncio

    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("u1"))
    assert again is not None and again.latest_message.text == "xin chào"
