"""Backups (ops/backup.py) against the real PostgreSQL: Rasa's SQL tracker store, pg_dump, pg_restore.

Each test uses databases of its own (`ocop_test_backup_<id>`, `..._restored_<id>`), dropped at
the end, and copies of the content files in a temporary folder (never data/ itself).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prodtools import ROOT, RUN_ID

from ops import backup as ob

SENDERS = ("backup-alice", "backup-bob")


@pytest.fixture
def pg():
    """Connection settings with a source database of this test's own; both databases dropped afterwards."""
    settings = ob.Postgres()
    settings.db = f"ocop_test_backup_{RUN_ID}"
    restored = f"ocop_test_restored_{RUN_ID}"
    yield settings, restored
    for name in (settings.db, restored):
        settings.drop(name)


@pytest.fixture
def content(tmp_path) -> ob.Content:
    """Copies of data/cards, data/stats, data/contacts.csv and data/docs."""
    base = tmp_path / "data"
    base.mkdir()
    for name in ("cards", "stats", "docs"):
        shutil.copytree(ROOT / "data" / name, base / name)
    shutil.copy2(ROOT / "data" / "contacts.csv", base / "contacts.csv")
    return ob.Content(
        cards=base / "cards", stats=base / "stats", contacts=base / "contacts.csv", docs=base / "docs"
    )


def _env(pg: ob.Postgres, content: ob.Content) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        POSTGRES_HOST=pg.host,
        POSTGRES_PORT=str(pg.port),
        POSTGRES_USER=pg.user,
        POSTGRES_PASSWORD=pg.password,
        OCOP_CARDS_DIR=str(content.cards),
        OCOP_STATS_DIR=str(content.stats),
        OCOP_CONTACTS_FILE=str(content.contacts),
        OCOP_DOCS_DIR=str(content.docs),
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops.backup", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def _snapshot(content: ob.Content) -> dict[str, str]:
    """Every content file -> checksum."""
    found = {}
    for item, path in content.items().items():
        for member, file in ob._files(path, item).items():
            found[member] = ob.sha256(file)
    return found


def _store(pg: ob.Postgres, db: str, create: bool = False):
    """Rasa's SQLTrackerStore on db, with the project's domain (as endpoints.prod.yml configures it)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    return SQLTrackerStore(
        Domain.load(str(ROOT / "domain")),
        dialect="postgresql",
        host=pg.host,
        port=pg.port,
        db=db,
        username=pg.user,
        password=pg.password or None,
        login_db=pg.login_db if create else None,
    )


def _turn(text: str, intent: str, slots: dict[str, str], answer: str, t: float) -> list:
    """The events of one Rasa turn: the user's message, slots from entities, an action, its reply."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    entities = [
        {"entity": k, "value": v, "start": 0, "end": len(v), "extractor": "test"} for k, v in slots.items()
    ]
    parse = {"intent": {"name": intent, "confidence": 0.97}, "entities": entities, "text": text}
    return [
        UserUttered(text, parse["intent"], entities, parse, timestamp=t, message_id=f"m{t:.0f}"),
        *(SlotSet(k, v, timestamp=t + 0.1) for k, v in slots.items()),
        ActionExecuted("action_answer", policy="RulePolicy", confidence=1.0, timestamp=t + 0.2),
        BotUttered(answer, {"buttons": None}, {"utter_action": "action_answer"}, timestamp=t + 0.3),
        ActionExecuted("action_listen", timestamp=t + 0.4),
    ]


async def _write_conversations(store) -> None:
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    t = 1_765_000_000.0
    for n, sender in enumerate(SENDERS):
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        tracker.update_with_events(
            [
                ActionExecuted("action_session_start", timestamp=t),
                SessionStarted(timestamp=t),
                ActionExecuted("action_listen", timestamp=t),
                *_turn(
                    "sản phẩm OCOP 4 sao ở Hà Nội", "ask_product", {"province": "Hà Nội"}, "Có 12 ...", t + 1
                ),
                *_turn(f"còn {n + 3} sao thì sao", "ask_product", {"star": f"{n + 3}"}, "Có 5 ...", t + 10),
            ],
            store.domain,
        )
        await store.save(tracker)


def _state(tracker) -> tuple:
    """What a conversation continues from: events, slots, latest message."""
    return (
        [e.as_dict() for e in tracker.events],
        tracker.current_slot_values(),
        tracker.latest_message.as_dict(),
        tracker.latest_action_name,
    )


def test_backup_and_restore_into_a_fresh_database_conversations_continue(pg, content, tmp_path):
    settings, restored = pg
    source = _store(settings, settings.db, create=True)  # Rasa creates the database, as in `make prod`
    asyncio.run(_write_conversations(source))
    before = {s: asyncio.run(source.retrieve(s)) for s in SENDERS}
    assert before["backup-alice"].get_slot("province") == "Hà Nội"
    assert before["backup-bob"].get_slot("star") == "4"
    source.engine.dispose()
    files_before = _snapshot(content)

    env = _env(settings, content)
    out = _cli(env, "backup", "--dir", str(tmp_path / "backups"), "--db", settings.db)
    assert out.returncode == 0, out.stderr
    folders = ob.complete_backups(tmp_path / "backups")
    assert len(folders) == 1 and "ok" in out.stdout
    assert sorted(p.name for p in folders[0].iterdir()) == ["content.tar.gz", "manifest.json", "tracker.dump"]
    manifest = ob.read_manifest(folders[0])
    assert manifest["database"]["name"] == settings.db
    assert manifest["content"]["files"] == files_before

    # the content changes after the backup: restore brings back the backed-up state
    card = next(content.cards.iterdir())
    card.write_text("edited after the backup\n")
    (content.docs / "new.md").write_text("new document\n")
    content.contacts.unlink()

    assert not settings.exists(restored)
    out = _cli(env, "restore", "latest", "--dir", str(tmp_path / "backups"), "--db", restored)
    assert out.returncode == 0, out.stderr
    assert _snapshot(content) == files_before
    assert not any(p.name.startswith(".") for p in content.cards.parent.iterdir())  # no staging left

    store = _store(settings, restored)
    try:
        assert set(asyncio.run(store.keys())) >= set(SENDERS)
        for sender in SENDERS:
            tracker = asyncio.run(store.retrieve(sender))
            assert _state(tracker) == _state(before[sender]), sender
            assert tracker.latest_message.text == "còn " + tracker.get_slot("star") + " sao thì sao"
        # the conversation continues in the restored database (ids and sequences restored too)
        tracker = asyncio.run(store.retrieve("backup-alice"))
        tracker.update_with_events(
            _turn(
                "ở Huế thì sao", "ask_product", {"province": "Thừa Thiên Huế"}, "Có 3 ...", 1_765_000_100.0
            ),
            store.domain,
        )
        asyncio.run(store.save(tracker))
        again = asyncio.run(store.retrieve("backup-alice"))
        assert len(again.events) == len(before["backup-alice"].events) + 5
        assert again.get_slot("province") == "Thừa Thiên Huế" and again.get_slot("star") == "3"
        assert again.latest_message.text == "ở Huế thì sao"
    finally:
        store.engine.dispose()

    # a database that holds tables is only overwritten with --replace (back to the backup)
    out = _cli(env, "restore", "latest", "--dir", str(tmp_path / "backups"), "--db", restored, "--no-content")
    assert out.returncode == 2 and "already holds tables" in out.stderr and "--replace" in out.stderr
    out = _cli(
        env,
        "restore",
        "latest",
        "--dir",
        str(tmp_path / "backups"),
        "--db",
        restored,
        "--no-content",
        "--replace",
    )
    assert out.returncode == 0, out.stderr
    store = _store(settings, restored)
    try:
        assert _state(asyncio.run(store.retrieve("backup-alice"))) == _state(before["backup-alice"])
    finally:
        store.engine.dispose()
    listing = _cli(env, "list", "--dir", str(tmp_path / "backups"))
    assert listing.returncode == 0 and folders[0].name in listing.stdout and "ok" in listing.stdout


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    for i in range(int(len(data) * at), min(len(data), int(len(data) * at) + 64)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupt_backup_fails_clearly_and_changes_nothing(pg, content, tmp_path):
    settings, restored = pg
    source = _store(settings, settings.db, create=True)
    asyncio.run(_write_conversations(source))
    source.engine.dispose()
    root = tmp_path / "backups"
    folder = ob.backup(root, settings, content)
    (content.stats / "edited-after.csv").write_text("a,b\n")  # the current state differs from the backup
    current = _snapshot(content)
    env = _env(settings, content)

    # 1. the archive is damaged: its checksum does not match
    _flip(folder / ob.ARCHIVE)
    out = _cli(env, "restore", str(folder), "--db", restored)
    assert out.returncode == 2
    assert (
        f"ERROR: backup {folder} is damaged, nothing was restored: content.tar.gz does not match"
        in out.stderr
    )
    assert _snapshot(content) == current and not settings.exists(restored)
    assert "DAMAGED" in _cli(env, "list", "--dir", str(root)).stdout

    # 2. damaged before its checksum was taken (manifest agrees): the archive itself is unreadable
    manifest = ob.read_manifest(folder)
    manifest["files"][ob.ARCHIVE] = ob.sha256(folder / ob.ARCHIVE)
    (folder / ob.MANIFEST).write_text(ob.json.dumps(manifest))
    # (tarfile stops at the first bad header: files are missing, or gzip reports the damage)
    with pytest.raises(
        ob.BackupError, match=r"damaged, nothing was restored: content\.tar\.gz (cannot be read|does not)"
    ):
        ob.restore(folder, settings, content, target_db=restored, say=lambda *_: None)
    assert _snapshot(content) == current and not settings.exists(restored)

    # 3. a damaged dump (manifest agrees): pg_restore cannot read it, no database is left behind
    good = ob.backup(root, settings, content, files=False)
    _flip(good / ob.DUMP, 0.3)
    manifest = ob.read_manifest(good)
    manifest["files"][ob.DUMP] = ob.sha256(good / ob.DUMP)
    (good / ob.MANIFEST).write_text(ob.json.dumps(manifest))
    with pytest.raises(ob.BackupError) as info:
        ob.restore(good, settings, content, target_db=restored, say=lambda *_: None)
    assert "pg_restore" in str(info.value) or "reading tracker.dump failed" in str(info.value)
    assert not settings.exists(restored)
    assert _snapshot(content) == current
