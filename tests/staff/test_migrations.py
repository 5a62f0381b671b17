"""Alembic migrations of the console database: on an empty and on a populated database."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from console.auth import check_password, create_user
from console.db import HEAD, current_revision, make_engine, metadata, migrate


def test_upgrade_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'console.db'}"
    migrate(url)
    engine = make_engine(url)
    assert current_revision(engine) == HEAD
    names = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= names
    migrate(url)  # idempotent
    assert current_revision(engine) == HEAD


def test_upgrade_a_populated_database_keeps_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(url, "0001")
    engine = make_engine(url)
    assert "audit_log" not in sa.inspect(engine).get_table_names()
    create_user(engine, "lan", "mat-khau-dai", "editor")
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO login_attempts (name, address, at, ok) VALUES ('lan', '1.2.3.4', :t, 0)"),
            {"t": time.time()},
        )
    migrate(url, "0002")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO content_versions (path, content, author, note, at) VALUES ('cards/a.yml', 'x', 'lan', '', 1)"
            )
        )
    migrate(url)
    assert current_revision(engine) == HEAD
    assert check_password(engine, "lan", "mat-khau-dai") is not None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM login_attempts")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT path, content FROM content_versions")).all() == [
            ("cards/a.yml", "x")
        ]
        conn.execute(sa.text("SELECT id, text, user_name, at FROM dismissed_questions")).all()
        conn.execute(sa.text("SELECT id, user_name, action, target, before, after, at FROM audit_log")).all()


def test_head_is_the_last_migration() -> None:
    from alembic.script import ScriptDirectory

    from console.db import alembic_config

    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() == HEAD


def test_upgrade_on_postgresql_when_reachable() -> None:
    """The production database: the same migrations on the PostgreSQL of this machine."""
    import uuid

    import pytest

    admin = sa.create_engine(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        admin.connect().close()
    except Exception:  # noqa: BLE001 - no PostgreSQL here
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    name = f"ocop_console_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        engine = make_engine(url)
        assert current_revision(engine) == HEAD
        create_user(engine, "lan", "mat-khau-dai", "editor")
        migrate(url)  # idempotent on a populated database
        assert check_password(engine, "lan", "mat-khau-dai")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
