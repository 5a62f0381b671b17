"""ops/rest.py, the shared REST client, against a small real HTTP server (sync and aiohttp)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest

from ops import rest


class Handler(BaseHTTPRequestHandler):
    """Echoes the sender and text; a few messages trigger errors."""

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append((self.headers.get("Content-Type"), data))  # type: ignore[attr-defined]
        try:
            payload = json.loads(data)
        except ValueError:
            return self._answer(400, b'{"error": "bad json"}')
        text = payload["message"]
        if text == "boom":
            return self._answer(500, b"internal error")
        if text == "html":
            return self._answer(200, b"<html>")
        if text == "dict":
            return self._answer(200, b'{"text": "not a list"}')
        reply = [{"recipient_id": payload["sender"], "text": f"echo {text}", "buttons": [{"payload": "/p"}]}]
        return self._answer(200, json.dumps(reply, ensure_ascii=False).encode())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture
def url(server) -> str:
    return rest.webhook(f"http://127.0.0.1:{server.server_address[1]}/")


def _closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return rest.webhook(f"http://127.0.0.1:{sock.getsockname()[1]}")


def test_send_and_ask(url, server):
    assert url.endswith(":" + str(server.server_address[1]) + "/webhooks/rest/webhook")
    reply = rest.send(url, "anh", "xin chào")
    assert reply.ok and reply.status == 200 and reply.seconds > 0
    assert reply.messages == [
        {"recipient_id": "anh", "text": "echo xin chào", "buttons": [{"payload": "/p"}]}
    ]
    content_type, body = server.seen[-1]
    assert content_type.startswith("application/json") and json.loads(body) == {
        "sender": "anh",
        "message": "xin chào",
    }
    assert rest.ask(url, "anh", "hi")[0]["text"] == "echo hi"
    assert rest.text_of(reply.messages) == "echo xin chào\n/p"


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [("boom", 500, "HTTP 500"), ("html", 200, "not JSON"), ("dict", 200, "not a JSON list")],
)
def test_errors_are_returned_and_ask_raises(url, text, status, error):
    reply = rest.send(url, "u", text)
    assert not reply.ok and reply.status == status and error in reply.error and reply.messages == []
    with pytest.raises(rest.RestError, match=error):
        rest.ask(url, "u", text)


def test_unreachable_server_gives_no_status():
    reply = rest.send(_closed_url(), "u", "xin chào", timeout=5)
    assert reply.status is None and "refused" in reply.error.lower()


def test_post_raw_sends_any_body(url, server):
    assert rest.post_raw(url, b"not json")[0] == 400
    status, raw = rest.post_raw(url, rest.body("s", "a"), content_type="text/plain")
    assert status == 200 and json.loads(raw)[0]["text"] == "echo a"
    assert server.seen[-1][0] == "text/plain"


async def test_send_async(url):
    async with aiohttp.ClientSession() as session:
        good = await rest.send_async(session, url, "b", "chào")
        bad = await rest.send_async(session, url, "b", "boom")
        gone = await rest.send_async(session, _closed_url(), "b", "chào", timeout=5)
    assert good.ok and good.messages[0]["text"] == "echo chào"
    assert bad.status == 500 and not bad.ok
    assert gone.status is None and gone.error
