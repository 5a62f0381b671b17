"""One running assistant (tests/handoff/stack.py) shared by the handoff tests; `make handoff-test`."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.handoff.stack import EDITOR, ROOT, VIEWER, Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Actions (clock fixed in office hours), Rasa, the web chat page, the console, a fake Zalo API."""
    if not (ROOT / "models" / "ocop.tar.gz").exists():
        pytest.fail("no model: run `make train` first")
    work = ROOT / "var" / f"handoff-test-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    s = Stack(work)
    try:
        s.start_actions()
        s.start_rasa()
        s.start_web_and_console({EDITOR[0]: (EDITOR[1], "editor"), VIEWER[0]: (VIEWER[1], "viewer")})
        yield s
    finally:
        s.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def sender() -> str:
    """A new conversation id."""
    return f"handoff-{uuid.uuid4().hex[:10]}"
