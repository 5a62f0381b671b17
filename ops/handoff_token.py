"""The token the staff console and the Rasa server share for handoff replies (both environments).

OCOP_HANDOFF_TOKEN when set (production: the same value for the console and every Rasa
process); otherwise a random token in a file (OCOP_HANDOFF_TOKEN_FILE, default
var/handoff.token, mode 0600), written by whichever process needs it first.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN_ENV, TOKEN_FILE_ENV = "OCOP_HANDOFF_TOKEN", "OCOP_HANDOFF_TOKEN_FILE"


def token_file() -> Path:
    """Where the shared token is kept when OCOP_HANDOFF_TOKEN is not set."""
    var = Path(os.environ.get("OCOP_VAR_DIR") or ROOT / "var")
    return Path(os.environ.get(TOKEN_FILE_ENV) or var / "handoff.token")


def shared_token(create: bool = True) -> str:
    """OCOP_HANDOFF_TOKEN, else the token file (created with a random token if missing and asked)."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = token_file()
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # another process wrote it first
    return path.read_text().strip() if path.exists() else ""
