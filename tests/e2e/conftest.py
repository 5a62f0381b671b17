"""End-to-end tests against running servers (start them with ops/serve.py, i.e. `make run`).

    python -m ops.serve -- python -m pytest -q tests/e2e     # what `make e2e` runs

Base URLs: WEB_URL (default http://localhost:8080) and RASA_URL (default
http://localhost:5005); ops/serve.py exports both for the command it runs.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import uuid

import pytest

from ops import rest


def _base(name: str, default: str) -> str:
    return os.environ.get(name, default).rstrip("/")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


def _running(var: str, default: str, what: str) -> str:
    """The base URL in $var, failing the test clearly when nothing answers there."""
    url = _base(var, default)
    if not _answers(url + "/"):
        pytest.fail(f"{what} does not answer on {url}/: start `make run` (python -m ops.serve) first")
    return url


@pytest.fixture(scope="session")
def web_url() -> str:
    """Base URL of the web chat page (ops/web.py)."""
    return _running("WEB_URL", "http://localhost:8080", "the web chat page")


@pytest.fixture(scope="session")
def rasa_url() -> str:
    """Base URL of the Rasa server."""
    return _running("RASA_URL", "http://localhost:5005", "Rasa")


RASA_URL = _base("RASA_URL", "http://localhost:5005")
WEBHOOK = f"{RASA_URL}/webhooks/rest/webhook"


def post_raw(body: bytes, content_type: str = "application/json", timeout: float = 60) -> tuple[int, bytes]:
    """POST raw bytes to the REST webhook; return (status, body)."""
    return rest.post_raw(WEBHOOK, body, content_type=content_type, timeout=timeout)


def say(sender: str, message: str) -> list[dict]:
    """Send one user message; return the bot messages."""
    reply = rest.send(WEBHOOK, sender, message, timeout=60)
    assert reply.status == 200, reply.error
    return reply.messages


def text_of(messages: list[dict]) -> str:
    """All texts and button payloads of a reply."""
    return rest.text_of(messages)


@pytest.fixture
def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"
