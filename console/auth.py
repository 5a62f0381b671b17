"""Accounts: argon2 password hashes, server-side sessions, login rate limits, roles."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from console.config import ConsoleConfig
from console.db import login_attempts, sessions, users

ROLES = ("viewer", "editor", "admin")
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs as long as a wrong password."""
    return _HASHER.hash("not-a-password")


@dataclass(frozen=True)
class User:
    """A logged-in staff member and the session they use."""

    id: int
    name: str
    role: str
    csrf: str = ""

    def can(self, role: str) -> bool:
        """True when the user's role is at least `role` (viewer < editor < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _token_hash(token: str) -> str:
    """What the database keeps of a session token (a stolen table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(engine: Engine, name: str, password: str, role: str) -> None:
    """Add a user, or reset the password and role of an existing one."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or len(password) < 8:
        raise ValueError("a name and a password of at least 8 characters are needed")
    row = {"password_hash": _HASHER.hash(password), "role": role, "active": True}
    with engine.begin() as conn:
        done = conn.execute(sa.update(users).where(users.c.name == name).values(**row)).rowcount
        if not done:
            conn.execute(sa.insert(users).values(name=name, created_at=time.time(), **row))


def check_password(engine: Engine, name: str, password: str) -> User | None:
    """The active user when the password is right, else None (constant work either way)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name, users.c.active)).first()
    try:
        ok = _HASHER.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        ok = False
    return User(row.id, row.name, row.role) if ok and row else None


def failures(engine: Engine, cfg: ConsoleConfig, name: str, address: str) -> int:
    """Failed logins in the window for this name or from this address (the larger count)."""
    since = time.time() - cfg.window_s
    t = login_attempts.c
    with engine.connect() as conn:
        last_ok = conn.execute(sa.select(sa.func.max(t.at)).where(t.name == name, t.ok)).scalar()
        counts = [
            conn.execute(
                sa.select(sa.func.count())
                .select_from(login_attempts)
                .where(column == value, t.at >= max(since, start or 0.0), ~t.ok)
            ).scalar_one()
            # a user's count restarts at their last successful login; an address's does not
            for column, value, start in ((t.name, name, last_ok), (t.address, address, None))
        ]
    return max(counts)


def login_delay(cfg: ConsoleConfig, failed: int) -> float:
    """Seconds to wait before answering, given the failures so far (doubling, capped)."""
    if failed < cfg.slow_after:
        return 0.0
    return min(cfg.max_delay_s, cfg.delay_s * 2 ** (failed - cfg.slow_after))


def record_attempt(engine: Engine, name: str, address: str, ok: bool) -> None:
    """Remember a login attempt."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(login_attempts).values(name=name[:80], address=address[:64], at=time.time(), ok=ok)
        )


def open_session(engine: Engine, cfg: ConsoleConfig, user: User, address: str) -> str:
    """A new session for the user; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(sa.delete(sessions).where(sessions.c.expires_at < now))
        conn.execute(
            sa.insert(sessions).values(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + cfg.session_hours * 3600,
                address=address[:64],
            )
        )
    return token


def session_user(engine: Engine, token: str | None) -> User | None:
    """The user of a valid, unexpired session token."""
    if not token:
        return None
    query = (
        sa.select(users.c.id, users.c.name, users.c.role, sessions.c.csrf)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(
            sessions.c.token_hash == _token_hash(token), sessions.c.expires_at > time.time(), users.c.active
        )
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return User(row.id, row.name, row.role, row.csrf) if row else None


def close_session(engine: Engine, token: str | None) -> None:
    """Log out: forget the session."""
    if token:
        with engine.begin() as conn:
            conn.execute(sa.delete(sessions).where(sessions.c.token_hash == _token_hash(token)))


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected, str(given))


def list_users(engine: Engine) -> list[sa.Row]:
    """All users, by name."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(users).order_by(users.c.name)))


def set_active(engine: Engine, name: str, active: bool) -> None:
    """Enable or disable a user (a disabled user's sessions end)."""
    with engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.name == name).values(active=active))
