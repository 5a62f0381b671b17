"""The console app on a free port: login, sessions, cookies, CSRF, roles, rate limits, card forms."""

from __future__ import annotations

import asyncio
import dataclasses
import http.cookiejar
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
import pytest_asyncio
from sanic import Sanic, response

from console.app import create_app, set_cookie
from console.auth import create_user
from console.config import ConsoleConfig
from console.db import make_engine
from index.cards import CardStore
from tests.staff.conftest import PII_TEXT


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Return 3xx responses instead of following them."""

    def redirect_request(self, *args: Any) -> None:
        return None


class Client:
    """A browser-like client: cookies kept, redirects returned."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.headers = headers or {}
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def _call(self, path: str, form: dict[str, Any] | None) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=self.headers)
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(), dict(err.headers)

    async def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        return await asyncio.to_thread(self._call, path, None)

    async def post(self, path: str, form: dict[str, Any]) -> tuple[int, str, dict[str, str]]:
        return await asyncio.to_thread(self._call, path, form)

    async def csrf(self, path: str) -> str:
        status, body, _ = await self.get(path)
        assert status == 200, body
        return re.search(r'name="csrf" value="([^"]+)"', body).group(1)

    async def login(self, name: str, password: str) -> tuple[int, str, dict[str, str]]:
        token = await self.csrf("/staff/login")
        return await self.post("/staff/login", {"csrf": token, "name": name, "password": password})


@pytest_asyncio.fixture
async def server(config: ConsoleConfig, request: pytest.FixtureRequest) -> Any:
    """The console on 127.0.0.1:<free port> with a viewer, an editor and an admin (behind
    `proxies` proxies when the test is marked so)."""
    marker = request.node.get_closest_marker("proxies")
    if marker:
        config = dataclasses.replace(config, proxies=marker.args[0])
    engine = make_engine(config.db_url)
    for name, role in (("xem", "viewer"), ("sua", "editor"), ("quantri", "admin")):
        create_user(engine, name, f"{name}-mat-khau", role)
    Sanic.test_mode = True  # several apps in one process: Sanic touches its HTTP class up once
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await srv.startup()
    await srv.before_start()
    await srv.after_start()
    yield {"base": base, "config": config}
    await srv.before_stop()
    srv.close()
    await srv.after_stop()


async def test_every_page_needs_a_login(server: dict) -> None:
    client = Client(server["base"])
    for path in ("/staff/", "/staff/cards", "/staff/unanswered", "/staff/conversations", "/staff/users"):
        status, _, headers = await client.get(path)
        assert status == 302 and headers["Location"].startswith("/staff/login"), path
    status, _, _ = await client.post("/staff/cards/new", {"id": "x"})
    assert status == 302
    assert (await client.get("/other"))[0] == 404


async def test_login_cookie_and_logout(server: dict) -> None:
    client = Client(server["base"])
    status, _, headers = await client.login("sua", "sua-mat-khau")
    assert status == 302 and headers["Location"] == "/staff/"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie
    status, body, _ = await client.get("/staff/")
    assert status == 200 and "Tổng quan" in body
    token = await client.csrf("/staff/")
    assert (await client.post("/staff/logout", {"csrf": token}))[0] == 302
    assert (await client.get("/staff/"))[0] == 302


def test_secure_cookie_when_configured(config: ConsoleConfig) -> None:
    secure = ConsoleConfig(config.db_url, config.tracker_url, config.cards_dir, secure_cookies=True)
    resp = response.text("")
    set_cookie(resp, secure, "c", "v", 10)
    assert "Secure" in str(resp.cookies["c"]) and "HttpOnly" in str(resp.cookies["c"])
    assert ConsoleConfig.from_env({"OCOP_CONSOLE_SECURE_COOKIES": "1"}).secure_cookies


async def test_wrong_password_is_refused(server: dict) -> None:
    client = Client(server["base"])
    status, body, headers = await client.login("sua", "sai-mat-khau")
    assert status == 401 and "không đúng" in body and "ocop_staff=" not in headers.get("Set-Cookie", "")
    assert (await client.login("khong-co", "sua-mat-khau"))[0] == 401


async def test_repeated_failures_are_slowed_then_refused(server: dict) -> None:
    client = Client(server["base"])
    timings = []
    for _ in range(6):
        start = time.perf_counter()
        assert (await client.login("sua", "sai"))[0] == 401
        timings.append(time.perf_counter() - start)
    assert max(timings[:3]) < 0.8 <= min(timings[3:])  # slow_after=3, delay 0.8 s
    status, body, _ = await client.login("sua", "sua-mat-khau")  # lock_after=6: even the right password
    assert status == 429 and "tạm thời bị khoá" in body
    other = Client(server["base"])  # the same address is locked for another name too
    assert (await other.login("xem", "xem-mat-khau"))[0] == 429
    spoofed = Client(server["base"], {"X-Forwarded-For": "198.51.100.7"})  # no proxy configured: ignored
    assert (await spoofed.login("xem", "xem-mat-khau"))[0] == 429


async def test_login_without_csrf_is_refused(server: dict) -> None:
    client = Client(server["base"])
    await client.csrf("/staff/login")
    status, _, _ = await client.post("/staff/login", {"name": "sua", "password": "sua-mat-khau"})
    assert status == 403


async def test_post_without_csrf_token_is_refused(server: dict) -> None:
    client = Client(server["base"])
    await client.login("sua", "sua-mat-khau")
    form = {"card": "ocop-la-gi", "q": "ocop là cái gì thế"}
    assert (await client.post("/staff/unanswered/add", form))[0] == 403
    assert (await client.post("/staff/unanswered/add", {**form, "csrf": "sai"}))[0] == 403
    assert "ocop là cái gì thế" not in (server["config"].cards_dir / "tham-gia.yml").read_text("utf-8")
    token = await client.csrf("/staff/")
    status, _, headers = await client.post("/staff/unanswered/add", {**form, "csrf": token})
    assert status == 302 and headers["Location"] == "/staff/cards/ocop-la-gi?added=1"
    assert "ocop là cái gì thế" in (server["config"].cards_dir / "tham-gia.yml").read_text("utf-8")


async def test_viewer_reads_but_cannot_edit(server: dict) -> None:
    client = Client(server["base"])
    await client.login("xem", "xem-mat-khau")
    status, body, _ = await client.get("/staff/cards/ocop-la-gi")
    assert status == 200 and 'id="save-card"' not in body
    token = await client.csrf("/staff/cards")
    before = (server["config"].cards_dir / "tham-gia.yml").read_text("utf-8")
    status, _, _ = await client.post(
        "/staff/cards/ocop-la-gi", {"csrf": token, "answer": "sai", "topic": "x"}
    )
    assert status == 403
    assert (await client.post("/staff/unanswered/add", {"csrf": token, "card": "ocop-la-gi", "q": "x"}))[
        0
    ] == 403
    assert (await client.get("/staff/cards/new"))[0] == 403
    assert (await client.get("/staff/users"))[0] == 403
    assert (await client.get("/staff/conversations.csv?raw=1"))[0] == 403
    assert (server["config"].cards_dir / "tham-gia.yml").read_text("utf-8") == before


async def test_editor_writes_a_card_and_sees_errors(server: dict) -> None:
    client = Client(server["base"])
    await client.login("sua", "sua-mat-khau")
    token = await client.csrf("/staff/cards/new?q=le+phi")
    form = {
        "csrf": token,
        "id": "Sai Ma",
        "topic": "phí",
        "questions": "lệ phí ocop",
        "answer": "Không mất phí.",
    }
    status, body, _ = await client.post("/staff/cards/new", form)
    assert status == 400 and "source needs title, issuer, date" in body and "staff.yml:3" in body
    form.update(id="phi-ocop", source_title="QĐ 148", source_issuer="Thủ tướng", source_date="2023-02-24")
    status, _, headers = await client.post("/staff/cards/new", form)
    assert status == 302 and headers["Location"] == "/staff/cards/phi-ocop?added=new"
    cards = {c.id: c for c in CardStore(server["config"].cards_dir).cards()}
    assert cards["phi-ocop"].answer == "Không mất phí."
    status, body, _ = await client.get("/staff/audit")
    assert status == 200 and "card.create" in body


async def test_pages_render_from_the_tracker(server: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from console import insights
    from tests.staff.conftest import fake_embed

    monkeypatch.setattr(insights.Embeddings, "__call__", lambda self, texts: fake_embed(texts))
    client = Client(server["base"])
    await client.login("quantri", "quantri-mat-khau")
    status, body, _ = await client.get("/staff/unanswered")
    assert status == 200 and "Quyết định 2517/QĐ-TTg về OCOP quy định gì?" in body
    assert "Mục tiêu chương trình OCOP giai đoạn" not in body  # answered by a card
    link = re.search(r'href="(/staff/conversations/[^"]+)">\(hội thoại\)', body).group(1)
    status, transcript, _ = await client.get(link)
    assert status == 200 and ("Từ chối" in transcript or "ngoài phạm vi" in transcript)
    status, body, _ = await client.get("/staff/conversations?outcome=contact")
    assert status == 200 and "2 hội thoại" in body  # one of them in the feedback conversations
    status, body, _ = await client.get("/staff/conversations.csv?raw=1")
    assert status == 200 and body.startswith("time,conversation,channel,question,outcome")
    assert (await client.get("/staff/users"))[0] == 200
    assert (await client.get("/staff/unanswered?days=abc"))[0] == 200


async def test_dashboard_has_its_chart_data(server: dict) -> None:
    client = Client(server["base"])
    await client.login("xem", "xem-mat-khau")
    status, body, headers = await client.get("/staff/")
    assert status == 200 and "script-src 'self'" in headers["Content-Security-Policy"]
    data = json.loads(
        re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', body, re.S).group(1)
    )
    counts = dict(zip(data["outcomeLabels"], data["outcomeCounts"]))
    # 3 + 2 refusals of the fixture (2 in the feedback conversations) + the PII one
    assert counts["Từ chối"] == 6 and counts["Thẻ trả lời"] == 3
    assert set(data["channels"]) == {"rest", "socketio"} and sum(data["perChannel"]["rest"]) == 9
    assert "card:muc-tieu-quoc-gia" in data["refLabels"]
    assert data["feedback"] == {"up": 1, "down": 2} and sum(data["downShare"]) > 0
    assert data["labels"]["down"] and len(data["downShare"]) == len(data["days"])
    assert '<strong id="feedback-up">1</strong>' in body and '<strong id="feedback-down">2</strong>' in body


async def test_feedback_pages(server: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from console import insights
    from tests.staff.conftest import fake_embed

    monkeypatch.setattr(insights.Embeddings, "__call__", lambda self, texts: fake_embed(texts))
    client = Client(server["base"])
    await client.login("sua", "sua-mat-khau")
    status, body, _ = await client.get("/staff/unanswered")
    assert status == 200 and "/feedback" not in body and "sai số liệu" in body
    unanswered, disliked = body.split('<section id="disliked">')
    assert "Lệ phí gia hạn chứng nhận OCOP là bao nhiêu?" in unanswered  # the question after a 👎
    assert "Đồng Tháp có bao nhiêu sản phẩm OCOP 4 sao?" not in unanswered
    assert "<h2>Đồng Tháp có bao nhiêu sản phẩm OCOP 4 sao?</h2>" in disliked
    assert "<h2>Sản phẩm OCOP được chứng nhận bao lâu?</h2>" in disliked
    assert 'class="answering-card" href="/staff/cards/thoi-han-chung-nhan"' in disliked
    assert "stat:dt-2024-sp-4sao" in disliked and "Góp ý: “sai số liệu, năm nay nhiều hơn”" in disliked
    assert (
        disliked.count('class="add-to-card"') == 2
        and disliked.count('class="button secondary new-card"') == 2
    )
    viewer = Client(server["base"])
    await viewer.login("xem", "xem-mat-khau")
    status, body, _ = await viewer.get("/staff/unanswered")
    disliked = body.split('<section id="disliked">')[1]
    assert status == 200 and "<h2>Sản phẩm OCOP được chứng nhận bao lâu?</h2>" in disliked
    assert "add-to-card" not in disliked and "/staff/cards/thoi-han-chung-nhan" in disliked
    status, body, _ = await client.get("/staff/conversations?outcome=disliked")
    assert status == 200 and "2 hội thoại" in body and 'value="disliked" selected' in body
    status, body, _ = await client.get("/staff/conversations/webchat-feedback-down-7c1e")
    assert status == 200 and "/feedback" not in body
    rated = body.split("Đồng Tháp có bao nhiêu sản phẩm OCOP 4 sao?")[1].split('class="turn"')[0]
    assert "👎" in rated and "sai số liệu, năm nay nhiều hơn" in rated
    status, body, _ = await client.get("/staff/conversations.csv?outcome=disliked")
    assert status == 200 and body.splitlines()[0].endswith(",feedback,feedback_comment")
    assert ',down,"sai số liệu, năm nay nhiều hơn"' in body or ",down,sai số liệu" in body


async def test_numbers_are_masked_except_in_the_admin_export(server: dict) -> None:
    editor = Client(server["base"])
    await editor.login("sua", "sua-mat-khau")
    for path in (
        "/staff/conversations/web-pii",
        "/staff/conversations?channel=socketio",
        "/staff/conversations.csv",
    ):
        status, body, _ = await editor.get(path)
        assert status == 200 and "lệ phí" in body, path
        assert "0912345678" not in body and "079123456789" not in body, path
    admin = Client(server["base"])
    await admin.login("quantri", "quantri-mat-khau")
    status, body, _ = await admin.get("/staff/conversations.csv?raw=1")
    assert status == 200 and PII_TEXT in body


def test_csv_cells_are_not_formulas() -> None:
    from console.views_data import safe_cell

    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("-1+2") == "'-1+2" and safe_cell("ocop là gì") == "ocop là gì"


async def test_content_files_pages(server: dict) -> None:
    viewer, editor = Client(server["base"]), Client(server["base"])
    await viewer.login("xem", "xem-mat-khau")
    await editor.login("sua", "sua-mat-khau")
    status, body, _ = await viewer.get("/staff/files")
    assert status == 200 and "ocop_stats.csv" in body and "contacts.csv" in body and "tham-gia.yml" in body
    path = server["config"].contacts_file
    text = path.read_text("utf-8")
    token = await viewer.csrf("/staff/files/contacts/contacts.csv")
    assert (await viewer.post("/staff/files/contacts/contacts.csv", {"csrf": token, "text": ""}))[0] == 403
    token = await editor.csrf("/staff/files/contacts/contacts.csv")
    status, body, _ = await editor.post(
        "/staff/files/contacts/contacts.csv", {"csrf": token, "text": "id,name\n"}
    )
    assert status == 400 and "không có dòng liên hệ hợp lệ" in body and path.read_text("utf-8") == text
    new = text.replace("02963.957.006", "02963.957.008")
    status, _, headers = await editor.post("/staff/files/contacts/contacts.csv", {"csrf": token, "text": new})
    assert status == 302 and path.read_text("utf-8") == new
    assert (await editor.get("/staff/files/contacts/..%2Fconsole.db"))[0] == 404


async def test_dismissed_questions_leave_the_list(server: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from console import insights
    from tests.staff.conftest import fake_embed

    monkeypatch.setattr(insights.Embeddings, "__call__", lambda self, texts: fake_embed(texts))
    question = "TP HCM hôm nay bao nhiêu độ vậy bot"
    client = Client(server["base"])
    await client.login("sua", "sua-mat-khau")
    token = await client.csrf("/staff/unanswered")
    assert question in (await client.get("/staff/unanswered"))[1]
    status, _, _ = await client.post(
        "/staff/unanswered/dismiss", {"csrf": token, "q": [question], "card": "x"}
    )
    assert status == 302
    body = (await client.get("/staff/unanswered"))[1]
    assert f"<h2>{question}</h2>" not in body and "1 câu đã bỏ qua" in body
    await client.post("/staff/unanswered/restore", {"csrf": token, "text": question.lower()})
    assert f"<h2>{question}</h2>" in (await client.get("/staff/unanswered"))[1]


@pytest.mark.proxies(1)
async def test_behind_a_proxy_the_forwarded_address_is_limited(server: dict) -> None:
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for name in ("a", "b", "c", "d", "e", "f"):
        assert (await Client(server["base"], attacker).login(name, "sai"))[0] == 401
    assert (await Client(server["base"], attacker).login("xem", "xem-mat-khau"))[0] == 429
    other = Client(server["base"], {"X-Forwarded-For": "198.51.100.7"})  # same proxy, another client
    assert (await other.login("xem", "xem-mat-khau"))[0] == 302


async def test_probes_answer_without_a_login(server: dict) -> None:
    client = Client(server["base"])
    status, body, _ = await client.get("/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body, _ = await client.get("/ready")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    assert (await client.get("/healthz"))[0] == 404


async def test_ready_names_the_database_that_does_not_answer(config: ConsoleConfig, tmp_path: Any) -> None:
    from types import SimpleNamespace

    from console.app import ready
    from console.tracker import tracker_engine

    missing_tracker = tracker_engine(f"sqlite:///{tmp_path / 'absent' / 'tracker.db'}")
    app = SimpleNamespace(ctx=SimpleNamespace(db=make_engine(config.db_url), tracker=missing_tracker))
    resp = await ready(SimpleNamespace(app=app))
    body = json.loads(resp.body)
    assert resp.status == 503 and body["status"] == "not ready"
    assert list(body["missing"]) == ["tracker_store"]
