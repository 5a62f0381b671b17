"""The web chat page: Vietnamese content, widget served locally, security headers."""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET a URL; (status, headers, body) also for HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def raw(web_url: str, method: str, path: str) -> int:
    """Status of a request sent with the path exactly as given (no normalisation)."""
    parts = urlsplit(web_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    try:
        conn.request(method, path)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def page(web_url: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = fetch(web_url + "/")
    return status, headers, body.decode("utf-8")


def test_page_is_the_vietnamese_ocop_page(page: tuple[int, dict[str, str], str]) -> None:
    status, headers, html = page
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="vi">' in html
    for text in (
        "Trợ lý OCOP – Mỗi xã một sản phẩm",
        "Sở Nông nghiệp và Môi trường / đường dây nóng tỉnh An Giang",
        "02963 957 006",
        'id="webchat"',
    ):
        assert text in html


def test_no_external_urls_and_widget_script_is_local(page: tuple[int, dict[str, str], str]) -> None:
    _, _, html = page
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == []
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    assert "/static/vendor/rasa-webchat.js" in sources
    assert all(src.startswith("/") for src in sources + re.findall(r'<link[^>]*\shref="([^"]+)"', html))


def test_widget_bundle_and_assets_are_served(web_url: str, page: tuple[int, dict[str, str], str]) -> None:
    _, _, html = page
    for path in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        status, headers, body = fetch(web_url + path)
        assert status == 200, path
        assert body, path
        if path.endswith(".js"):
            assert headers["Content-Type"] == "text/javascript; charset=utf-8", path
        if path.endswith(".css"):
            assert headers["Content-Type"] == "text/css; charset=utf-8", path
    _, _, bundle = fetch(web_url + "/static/vendor/rasa-webchat.js")
    assert len(bundle) > 100_000 and b"WebChat" in bundle
    assert b"fonts.googleapis.com" not in bundle  # `make web` drops the widget's font @import


def test_config_points_the_widget_at_rasa(web_url: str, rasa_url: str) -> None:
    status, headers, body = fetch(web_url + "/config.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    port = urlsplit(rasa_url).port
    assert re.fullmatch(rf'window\.OCOP_SOCKET_URL = "http://[\w.-]+:{port}";\n', body.decode())


def test_security_headers(web_url: str, rasa_url: str, page: tuple[int, dict[str, str], str]) -> None:
    _, headers, _ = page
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
    assert f":{urlsplit(rasa_url).port}" in connect


@pytest.mark.parametrize(
    "path",
    [
        "/package.json",
        "/package-lock.json",
        "/node_modules/rasa-webchat/package.json",
        "/static/../package.json",
        "/static/%2e%2e/package.json",
        "/static/..%2fpackage.json",
        "/static/nothing-here.js",
        "/index.html/../../ops/web.py",
    ],
)
def test_only_the_page_and_static_files_are_served(web_url: str, path: str) -> None:
    assert raw(web_url, "GET", path) == 404


def test_other_methods_are_refused(web_url: str) -> None:
    assert raw(web_url, "POST", "/") == 405
    assert raw(web_url, "HEAD", "/") == 200
