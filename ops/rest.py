"""The one client of the REST channel (POST /webhooks/rest/webhook) for tools, tests and probes.

    reply = send(url, "alice", "xin chào")          # Reply(status, messages, seconds, error)
    messages = ask(url, "alice", "xin chào")        # the bot messages, or RestError
    status, raw = post_raw(url, b"not json")        # any body, any method (hostile-input tests)
    reply = await send_async(session, url, "alice", "xin chào")   # aiohttp session (load tools)

`url` is the webhook (`webhook(base)` builds it from RASA_URL-like bases). HTTP errors are
returned as a status, never raised, except by ask(); transport errors (refused, timeout)
give status None and the error text.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

PATH = "/webhooks/rest/webhook"
JSON = "application/json; charset=utf-8"


class RestError(Exception):
    """A turn that did not get a list of bot messages (HTTP error, not JSON, unreachable)."""


@dataclass
class Reply:
    """The outcome of one message."""

    status: int | None  # None: no HTTP answer (refused, timeout, reset)
    messages: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # why it is not a 200 with a JSON list
    raw: bytes = b""

    @property
    def ok(self) -> bool:
        """A 200 with a JSON list of messages (possibly empty)."""
        return self.error is None


def webhook(base: str) -> str:
    """The REST webhook under a server's base URL (e.g. RASA_URL)."""
    return base.rstrip("/") + PATH


def body(sender: str, text: str) -> bytes:
    """The JSON body of one user message."""
    return json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode("utf-8")


def post_raw(
    url: str,
    data: bytes | None,
    content_type: str | None = JSON,
    method: str = "POST",
    timeout: float = 60,
    cafile: str | None = None,
) -> tuple[int, bytes]:
    """Send any body; (HTTP status, response body). Transport errors raise OSError."""
    headers = {"Content-Type": content_type} if content_type else {}
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def parse(status: int, raw: bytes, seconds: float = 0.0) -> Reply:
    """A Reply from an HTTP answer."""
    if status != 200:
        return Reply(status, [], seconds, f"HTTP {status}: {raw[:200]!r}", raw)
    try:
        messages = json.loads(raw.decode("utf-8") or "[]")
    except ValueError:
        return Reply(status, [], seconds, f"HTTP {status}: not JSON: {raw[:200]!r}", raw)
    if not isinstance(messages, list):
        return Reply(status, [], seconds, f"HTTP {status}: not a JSON list: {raw[:200]!r}", raw)
    return Reply(status, messages, seconds, None, raw)


def send(url: str, sender: str, text: str, timeout: float = 60) -> Reply:
    """One message; never raises."""
    started = time.perf_counter()
    try:
        status, raw = post_raw(url, body(sender, text), timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - reported in the Reply
        return Reply(None, [], time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return parse(status, raw, time.perf_counter() - started)


def ask(url: str, sender: str, text: str, timeout: float = 60) -> list[dict[str, Any]]:
    """One message; its bot messages, or RestError."""
    reply = send(url, sender, text, timeout)
    if not reply.ok:
        raise RestError(f"{url}: {reply.error}")
    return reply.messages


async def send_async(session: Any, url: str, sender: str, text: str, timeout: float = 90) -> Reply:  # noqa: ANN401 - aiohttp.ClientSession
    """One message through an aiohttp session; never raises."""
    import aiohttp

    started = time.perf_counter()
    try:
        async with session.post(
            url,
            data=body(sender, text),
            headers={"Content-Type": JSON},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            raw = await resp.read()
            status = resp.status
    except Exception as exc:  # noqa: BLE001 - reported in the Reply
        return Reply(None, [], time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
    return parse(status, raw, time.perf_counter() - started)


def text_of(messages: list[dict[str, Any]]) -> str:
    """All texts and button payloads of a reply, one per line."""
    parts = []
    for m in messages:
        parts.append(str(m.get("text") or ""))
        parts.extend(str(b.get("payload", "")) for b in m.get("buttons") or [])
    return "\n".join(parts)
