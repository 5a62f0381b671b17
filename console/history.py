"""Audit log and content versions: every change is recorded and can be reverted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from console.db import audit_log, content_versions, dismissed_questions


def audit(engine: Engine, user: str, action: str, target: str, before: str | None, after: str | None) -> None:
    """Record who changed what, when, with the text before and after."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(audit_log).values(
                user_name=user, action=action, target=target[:255], before=before, after=after, at=time.time()
            )
        )


def recent_audit(engine: Engine, limit: int = 100) -> list[sa.Row]:
    """The latest audit entries, newest first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)))


def write_versioned(
    engine: Engine, folder: Path, name: str, text: str | None, author: str, note: str, area: str = "cards"
) -> int:
    """Store the file's current content as a version ("<area>/<name>"), then replace the file
    atomically (remove it when `text` is None); the version id."""
    path = folder / name
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    with engine.begin() as conn:
        version = conn.execute(
            sa.insert(content_versions).values(
                path=f"{area}/{name}", content=previous, author=author, note=note[:255], at=time.time()
            )
        ).inserted_primary_key[0]
    if text is None:
        path.unlink(missing_ok=True)
        return int(version)
    tmp = folder / f".{name}.{os.getpid()}.tmp"  # not *.yml: the running store never reads it
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return int(version)


def versions(engine: Engine, name: str | None = None, limit: int = 100) -> list[sa.Row]:
    """Stored versions (of one file, or all), newest first."""
    query = sa.select(content_versions).order_by(content_versions.c.id.desc()).limit(limit)
    if name is not None:
        query = query.where(content_versions.c.path.in_([name, f"cards/{name}"]))
    with engine.connect() as conn:
        return list(conn.execute(query))


def version(engine: Engine, version_id: int) -> sa.Row | None:
    """One stored version."""
    with engine.connect() as conn:
        return conn.execute(sa.select(content_versions).where(content_versions.c.id == version_id)).first()


def dismiss(engine: Engine, user: str, texts: list[str]) -> int:
    """Hide normalized questions from the unanswered list; how many were new."""
    with engine.begin() as conn:
        have = set(conn.execute(sa.select(dismissed_questions.c.text)).scalars())
        new = [t[:500] for t in dict.fromkeys(texts) if t and t[:500] not in have]
        for text in new:
            conn.execute(sa.insert(dismissed_questions).values(text=text, user_name=user, at=time.time()))
    if new:
        audit(engine, user, "unanswered.dismiss", f"{len(new)} câu", None, "\n".join(new))
    return len(new)


def undismiss(engine: Engine, user: str, text: str) -> None:
    """Show a dismissed question again."""
    with engine.begin() as conn:
        conn.execute(sa.delete(dismissed_questions).where(dismissed_questions.c.text == text))
    audit(engine, user, "unanswered.restore", text[:255], text, None)


def dismissed(engine: Engine) -> list[sa.Row]:
    """The dismissed questions, newest first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(dismissed_questions).order_by(dismissed_questions.c.id.desc())))
