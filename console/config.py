"""Console settings read from the environment (database URLs, cookies, login limits)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/staff"


def tracker_url_from_env(env: dict[str, str]) -> str:
    """OCOP_TRACKER_URL, else the SQLite file of OCOP_TRACKER_DB (what `make run` writes)."""
    if env.get("OCOP_TRACKER_URL"):
        return env["OCOP_TRACKER_URL"]
    var = Path(env.get("OCOP_VAR_DIR") or ROOT / "var")
    return f"sqlite:///{Path(env.get('OCOP_TRACKER_DB') or var / 'tracker.db').resolve()}"


@dataclass(frozen=True)
class ConsoleConfig:
    """Where the console keeps its data and reads the assistant's, and its login rules."""

    db_url: str
    tracker_url: str
    cards_dir: Path
    stats_dir: Path = ROOT / "data" / "stats"
    contacts_file: Path = ROOT / "data" / "contacts.csv"
    docs_dir: Path = ROOT / "data" / "docs"
    index_dir: Path = ROOT / "index" / "build"  # the knowledge index rebuilt after a document upload
    upload_max_bytes: int = 10_000_000
    secure_cookies: bool = False
    proxies: int = 0  # reverse proxies in front (nginx: 1): the client address is read from X-Forwarded-For
    session_hours: float = 8.0
    # Login limits: after `slow_after` failures (per user and per client address) in
    # `window_s`, each answer is delayed; after `lock_after` the login is refused.
    slow_after: int = 3
    lock_after: int = 8
    window_s: float = 900.0
    delay_s: float = 1.0
    max_delay_s: float = 8.0
    # The Rasa server staff replies go through (bot/channels/handoff.py); OCOP_RASA_URL.
    rasa_url: str = "http://127.0.0.1:5005"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ConsoleConfig:
        """Read OCOP_CONSOLE_* (and the assistant's OCOP_TRACKER_*, OCOP_CARDS_DIR) variables."""
        env = dict(os.environ if env is None else env)
        var = Path(env.get("OCOP_VAR_DIR") or ROOT / "var")
        return cls(
            db_url=env.get("OCOP_CONSOLE_DB") or f"sqlite:///{(var / 'console.db').resolve()}",
            tracker_url=tracker_url_from_env(env),
            cards_dir=Path(env["OCOP_CARDS_DIR"])
            if env.get("OCOP_CARDS_DIR")
            else Settings.from_env().cards_dir,
            stats_dir=Path(env.get("OCOP_STATS_DIR") or ROOT / "data" / "stats"),
            contacts_file=Path(env.get("OCOP_CONTACTS_FILE") or ROOT / "data" / "contacts.csv"),
            docs_dir=Path(env.get("OCOP_DOCS_DIR") or ROOT / "data" / "docs"),
            index_dir=Path(env.get("OCOP_INDEX_DIR") or ROOT / "index" / "build"),
            upload_max_bytes=int(float(env.get("OCOP_CONSOLE_UPLOAD_MB", "10")) * 1_000_000),
            secure_cookies=env.get("OCOP_CONSOLE_SECURE_COOKIES", "0") == "1",
            proxies=int(env.get("OCOP_CONSOLE_PROXIES", "0")),
            session_hours=float(env.get("OCOP_CONSOLE_SESSION_HOURS", "8")),
            delay_s=float(env.get("OCOP_CONSOLE_LOGIN_DELAY", "1.0")),
            rasa_url=env.get("OCOP_RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT') or 5005}",
        )
