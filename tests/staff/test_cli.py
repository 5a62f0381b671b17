"""python -m console: migrate and create-user (password from stdin)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from console.__main__ import main
from console.auth import check_password
from console.db import HEAD, current_revision, make_engine


def test_create_user_reads_the_password_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    monkeypatch.setenv("OCOP_CONSOLE_DB", url)
    assert main(["migrate"]) == 0
    assert current_revision(make_engine(url)) == HEAD
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert main(["create-user", "hoa", "--role", "admin"]) == 0
    user = check_password(make_engine(url), "hoa", "mot-mat-khau-dai")
    assert user is not None and user.role == "admin"
    assert check_password(make_engine(url), "hoa", "mot-mat-khau-dai\n") is None
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    assert main(["create-user", "hoa", "--role", "viewer"]) == 2  # too short: refused, role unchanged
    assert check_password(make_engine(url), "hoa", "mot-mat-khau-dai").role == "admin"
