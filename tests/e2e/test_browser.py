"""Browser end-to-end test of the web chat, and the socket.io Origin check.

The browser part runs tests/e2e/browser_check.mjs (playwright-core from web/node_modules
driving /usr/bin/chromium, or $CHROMIUM_PATH) and asserts on the JSON it prints. The
screenshot goes to results/e2e/webchat.png (docs/screenshot-webchat.png is a copy).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "browser_check.mjs"
RESULTS = ROOT / "results" / "e2e"
QUESTION = "Tiền Giang có bao nhiêu sản phẩm OCOP 4 sao?"
EXPECT = ("95", "Nguồn")
HOTLINE = "Số điện thoại đường dây nóng ngành nông nghiệp"
FORBIDDEN_ORIGIN = "http://evil.example"
TIMEOUT = float(os.environ.get("E2E_BROWSER_TIMEOUT", "240"))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def polling_handshake(rasa_url: str, origin: str) -> tuple[int, list[str], str]:
    """Open an engine.io long-polling session with an Origin; (status, ACAO headers, body)."""
    req = urllib.request.Request(f"{rasa_url}/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read().decode()
            return resp.status, resp.headers.get_all("Access-Control-Allow-Origin") or [], body
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_all("Access-Control-Allow-Origin") or [], err.read().decode()


def websocket_handshake(rasa_url: str, origin: str) -> int:
    """Status line of a raw WebSocket upgrade request to the socket.io endpoint."""
    parts = urlsplit(rasa_url)
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_socket_refuses_a_forbidden_origin(rasa_url: str) -> None:
    status, allow, body = polling_handshake(rasa_url, FORBIDDEN_ORIGIN)
    assert status in (400, 403)
    assert allow == []
    assert "not an accepted origin" in body
    assert websocket_handshake(rasa_url, FORBIDDEN_ORIGIN) in (400, 403)


def test_socket_accepts_the_web_chat_origin(rasa_url: str, web_url: str) -> None:
    origin = origin_of(web_url)
    status, allow, body = polling_handshake(rasa_url, origin)
    assert status == 200
    assert allow == [origin]  # exactly one header, or browsers refuse the response
    handshake = json.loads(body[1:])  # engine.io "open" packet: 0{...}
    assert handshake["sid"] and handshake["upgrades"] == []  # long-polling only (Sanic 21.12)


@pytest.fixture(scope="module")
def browser_report(web_url: str, rasa_url: str) -> dict:
    """Run the browser scenario once; the tests below check its report."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    if not (ROOT / "web" / "node_modules" / "playwright-core").is_dir():
        pytest.fail("web/node_modules is missing: run `make web`")
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.fail(f"{chromium} not found: run `make browser`")
    RESULTS.mkdir(parents=True, exist_ok=True)
    cmd = [
        node,
        str(SCRIPT),
        "--url",
        web_url + "/",
        "--screenshot",
        str(RESULTS / "webchat.png"),
        "--question",
        QUESTION,
        "--hotline",
        HOTLINE,
        "--timeout",
        "90",
    ]
    for text in EXPECT:
        cmd += ["--expect", text]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (RESULTS / "browser_report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return report


def test_scenario_completed(browser_report: dict) -> None:
    assert browser_report["error"] is None, (
        browser_report["error"] + "\nsteps: " + repr(browser_report["steps"])
    )


def test_greeting_and_vietnamese_widget(browser_report: dict) -> None:
    assert "Xin chào" in browser_report["greeting"]
    assert browser_report["placeholder"] and "câu hỏi" in browser_report["placeholder"]
    assert browser_report["title"].startswith("Trợ lý OCOP")


def test_question_gets_a_sourced_answer(browser_report: dict) -> None:
    answer = browser_report["answer"] or ""
    assert all(text in answer for text in EXPECT), answer
    assert Path(browser_report["screenshot"]).stat().st_size > 10_000


def test_conversation_survives_a_reload(browser_report: dict) -> None:
    assert browser_report["sessionBefore"]
    assert browser_report["sessionAfter"] == browser_report["sessionBefore"]
    assert browser_report["restoredQuestion"] and browser_report["restoredAnswer"]
    assert browser_report["greetingsAfterReload"] == 1  # no new session, no second greeting


def test_hotline_buttons_are_phone_links(browser_report: dict) -> None:
    hrefs = [link["href"] for link in browser_report["telLinks"]]
    assert any(href.startswith("tel:0") for href in hrefs), browser_report["telLinks"]


def test_page_stays_local_and_clean(browser_report: dict) -> None:
    assert browser_report["externalRequests"] == []
    assert browser_report["cspViolations"] == []
    assert browser_report["consoleErrors"] == []
