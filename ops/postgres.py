"""The PostgreSQL server of the production profile: its settings (environment) and admin operations.

One definition for `make prod` (ops/prod_config.py) and `make backup` / `make restore`
(ops/backup.py): POSTGRES_HOST [127.0.0.1], POSTGRES_PORT [5432], POSTGRES_USER [postgres],
POSTGRES_PASSWORD [], POSTGRES_DB [ocop], POSTGRES_LOGIN_DB [postgres].
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class ServiceError(Exception):
    """A clear, user-facing reason why an operation of ops/ did not happen."""


def env(name: str, default: str) -> str:
    """The variable, or the default when it is not set (an empty value stays empty)."""
    value = os.environ.get(name)
    return default if value is None else value


def plain_name(name: str) -> bool:
    """True for a plain PostgreSQL identifier (letters, digits, underscores)."""
    return bool(_DB_NAME.match(name))


@dataclass
class Postgres:
    """Connection to the tracker store's server (the production profile's variables)."""

    host: str = field(default_factory=lambda: env("POSTGRES_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(env("POSTGRES_PORT", "5432")))
    user: str = field(default_factory=lambda: env("POSTGRES_USER", "postgres"))
    password: str = field(default_factory=lambda: env("POSTGRES_PASSWORD", ""))
    db: str = field(default_factory=lambda: env("POSTGRES_DB", "ocop"))
    login_db: str = field(default_factory=lambda: env("POSTGRES_LOGIN_DB", "postgres"))

    def check_name(self, name: str) -> str:
        """The name if it is a plain database name, else ServiceError."""
        if not plain_name(name):
            raise ServiceError(f"{name!r} is not a plain database name")
        return name

    def tool_args(self, db: str) -> list[str]:
        """Connection options of pg_dump / pg_restore."""
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", self.check_name(db)]

    def tool_env(self) -> dict[str, str]:
        """Environment of pg_dump / pg_restore (password, no prompt, connect timeout)."""
        result = dict(os.environ, PGCONNECT_TIMEOUT="10")
        if self.password:
            result["PGPASSWORD"] = self.password
        return result

    @contextlib.contextmanager
    def cursor(self, db: str | None = None, timeout: int = 10) -> Iterator[Any]:
        """An autocommit cursor on db (default: the login database)."""
        import psycopg2

        try:
            conn = psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password or None,
                dbname=self.check_name(db or self.login_db),
                connect_timeout=max(1, timeout),
                application_name="ocop-ops",
            )
        except psycopg2.OperationalError as exc:
            detail = " ".join(str(exc).split()).rstrip(".")
            raise ServiceError(f"PostgreSQL at {self.host}:{self.port} is not reachable: {detail}") from exc
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def exists(self, db: str) -> bool:
        """True if the database exists."""
        with self.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.check_name(db),))
            return cur.fetchone() is not None

    def table_count(self, db: str) -> int:
        """Tables outside PostgreSQL's own schemas."""
        with self.cursor(db) as cur:
            cur.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
            return int(cur.fetchone()[0])

    def create(self, db: str) -> None:
        """CREATE DATABASE db."""
        from psycopg2 import sql

        with self.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.check_name(db))))

    def ensure(self, db: str | None = None) -> bool:
        """Create the database (default: POSTGRES_DB) if missing; True if it was created."""
        name = db or self.db
        if self.exists(name):
            return False
        self.create(name)
        return True

    def drop(self, db: str | None = None) -> None:
        """DROP DATABASE IF EXISTS db (default: POSTGRES_DB; its connections are ended first)."""
        from psycopg2 import sql

        name = self.check_name(db or self.db)
        with self.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
