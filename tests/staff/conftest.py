"""Fixtures of the console tests: a copy of the cards, a migrated database, a tracker store."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from console.config import ConsoleConfig
from console.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
EVENTS_SQL = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),
    action_name VARCHAR(255), data TEXT)"""


def fixture_events() -> list[dict]:
    """Real Rasa 3.6 events of a few conversations (parse_data dropped), then two web chat
    conversations with 👍/👎 presses written after the feedback contract (with parse_data)."""
    return json.loads((FIXTURES / "tracker_events.json").read_text(encoding="utf-8"))


PII_TEXT = "Số của tôi là 0912345678, căn cước 079123456789, ai hỗ trợ lệ phí?"


def pii_events() -> list[dict]:
    """A web chat conversation whose message holds a phone and an ID-card number (refused)."""
    base = min(e["timestamp"] for e in fixture_events())
    rows = [
        ("user", None, {"event": "user", "text": PII_TEXT, "input_channel": "socketio"}),
        (
            "bot",
            None,
            {"event": "bot", "text": "Xin lỗi…", "metadata": {"utter_action": "utter_kb_no_answer"}},
        ),
    ]
    return [
        {"sender_id": "web-pii", "type_name": t, "timestamp": base + 1 + i, "intent_name": None,
         "action_name": a, "data": dict(d, timestamp=base + 1 + i)}
        for i, (t, a, d) in enumerate(rows)
    ]  # fmt: skip


def write_tracker(path: Path, events: list[dict], shift_to_now: bool = True) -> None:
    """A SQLite tracker store like Rasa's SQLTrackerStore writes, the events moved to the last hour."""
    shift = time.time() - 3600 - min(e["timestamp"] for e in events) if shift_to_now else 0.0
    with sqlite3.connect(path) as conn:
        conn.execute(EVENTS_SQL)
        for e in events:
            data = dict(e["data"], timestamp=e["timestamp"] + shift)
            conn.execute(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    e["sender_id"],
                    e["type_name"],
                    data["timestamp"],
                    e["intent_name"],
                    e["action_name"],
                    json.dumps(data),
                ),
            )


@pytest.fixture
def cards_dir(tmp_path: Path) -> Path:
    """A copy of data/cards (the tests never touch the files in git)."""
    folder = tmp_path / "cards"
    shutil.copytree(ROOT / "data" / "cards", folder)
    return folder


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A migrated console database."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str):  # noqa: ANN201 - SQLAlchemy engine
    """An engine on the migrated database."""
    return make_engine(db_url)


@pytest.fixture
def config(tmp_path: Path, cards_dir: Path, db_url: str) -> ConsoleConfig:
    """A console configuration on the temporary database, tracker and cards (fast login limits)."""
    tracker = tmp_path / "tracker.db"
    write_tracker(tracker, fixture_events() + pii_events())
    shutil.copytree(ROOT / "data" / "stats", tmp_path / "stats")
    shutil.copy(ROOT / "data" / "contacts.csv", tmp_path / "contacts.csv")
    return ConsoleConfig(
        db_url=db_url,
        tracker_url=f"sqlite:///{tracker}",
        cards_dir=cards_dir,
        stats_dir=tmp_path / "stats",
        contacts_file=tmp_path / "contacts.csv",
        delay_s=0.8,
        max_delay_s=0.8,
        slow_after=3,
        lock_after=6,
    )


def fake_embed(texts: list[str]) -> np.ndarray:
    """Hashed bag-of-words vectors: texts sharing most words are close (a stand-in for the model)."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().replace("?", " ").split():
            out[i, zlib.crc32(word.encode()) % 512] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@pytest.fixture
def embed() -> Callable[[list[str]], np.ndarray]:
    """The stand-in embedder."""
    return fake_embed


def pytest_configure(config: pytest.Config) -> None:
    """The marks of these tests."""
    config.addinivalue_line("markers", "proxies(n): serve the console behind n reverse proxies")
