"""End-to-end tests against running servers (start them with scripts/serve.py).

    python scripts/serve.py -- python -m pytest -q tests/e2e     # what `make e2e` runs

Base URLs: WEB_URL (default http://localhost:8080) and RASA_URL (default
http://localhost:5005); scripts/serve.py exports both for the command it runs.
"""

from __future__ import annotations

import os
import urllib.request

import pytest


def _base(name: str, default: str) -> str:
    return os.environ.get(name, default).rstrip("/")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def web_url() -> str:
    """Base URL of the web chat page (scripts/web.py)."""
    url = _base("WEB_URL", "http://localhost:8080")
    if not _answers(url + "/"):
        pytest.fail(f"the web chat page does not answer on {url}/: start scripts/serve.py first")
    return url


@pytest.fixture(scope="session")
def rasa_url() -> str:
    """Base URL of the Rasa server."""
    url = _base("RASA_URL", "http://localhost:5005")
    if not _answers(url + "/"):
        pytest.fail(f"Rasa does not answer on {url}/: start scripts/serve.py first")
    return url
