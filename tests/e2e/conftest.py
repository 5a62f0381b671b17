"""End-to-end tests against running servers (start them with scripts/serve.py).

    python scripts/serve.py -- python -m pytest -q tests/e2e     # what `make e2e` runs

Base URLs: WEB_URL (default http://localhost:8080) and RASA_URL (default
http://localhost:5005); scripts/serve.py exports both for the command it runs.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid

import pytest


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
        pytest.fail(f"{what} does not answer on {url}/: start scripts/serve.py first")
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
    req = urllib.request.Request(WEBHOOK, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def say(sender: str, message: str) -> list[dict]:
    """Send one user message; return the bot messages."""
    status, body = post_raw(json.dumps({"sender": sender, "message": message}).encode())
    assert status == 200, body
    return json.loads(body)


def text_of(messages: list[dict]) -> str:
    """All texts and button payloads of a reply."""
    parts = []
    for m in messages:
        parts.append(m.get("text") or "")
        parts.extend(b.get("payload", "") for b in m.get("buttons") or [])
    return "\n".join(parts)


@pytest.fixture
def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"
