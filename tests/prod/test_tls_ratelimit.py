"""nginx of the production profile: TLS server block (self-signed certificate) and per-client rate limits.

The configuration tests need only nginx and openssl. The live test starts a second nginx of
the profile (ops/prod.py with PROD_ROLES=front: nginx alone under its own supervisord, on free ports) in front of
the Rasa processes of the running test profile, with TLS on and small limits, and no exempt
address.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from prodtools import ROOT, RUN_ID, base_settings

TOO_MANY = b'{"error": "too many requests"}\n'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (openssl of the OS), and its key."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def _request(
    url: str, data: bytes | None = None, method: str | None = None, cafile: Path | None = None
) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    headers = {"Content-Type": "application/json"} if data else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _message(sender: str, text: str = "xin chào") -> bytes:
    return json.dumps({"sender": sender, "message": text}).encode()


def test_tls_and_rate_limits_render_and_pass_nginx_t(prod, certificate, tmp_path):
    if not prod.nginx_binary():
        pytest.skip("nginx is not installed (make prod-test installs it)")
    cert, key = certificate
    s = base_settings(prod, tmp_path / "var")
    s.tls_cert, s.tls_key, s.tls_port = str(cert), str(key), 8443
    s.tls_listen = "0.0.0.0"
    conf = prod.render_nginx(s)
    prod.nginx_test(s, conf)
    text = conf.read_text()
    assert f"listen 127.0.0.1:{s.nginx_port};" in text and "listen 0.0.0.0:8443 ssl;" in text
    assert f'ssl_certificate "{cert}";' in text and f'ssl_certificate_key "{key}";' in text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "limit_req_zone $ocop_client zone=ocop_clients:10m rate=5r/s;" in text
    assert "limit_req_zone $ocop_client zone=ocop_zalo:1m rate=50r/s;" in text
    # every public endpoint is limited; the page and its files are not
    blocks = dict(re.findall(r"location\s+(.+?)\s*\{(.*?)\n        \}", text, re.S))
    assert "zone=ocop_clients burst=20 nodelay" in blocks["= /webhooks/rest/webhook"]
    assert "zone=ocop_clients burst=20 nodelay" in blocks["/socket.io/"]
    assert "zone=ocop_zalo burst=100 nodelay" in blocks["= /webhooks/zalo/webhook"]
    assert not any("limit_req" in blocks[k] for k in ("= /", "= /config.js", "^~ /static/"))
    assert "client_max_body_size 64k;" in text and "limit_req_status 429;" in text
    assert "        127.0.0.1 1;\n        ::1 1;" in text  # loopback exempt by default
    assert "https://localhost:8443" in s.web_origins()

    plain = prod.render_nginx(base_settings(prod, tmp_path / "plain")).read_text()
    assert " ssl;" not in plain and "ssl_certificate" not in plain


def test_bad_tls_or_rate_settings_are_refused(prod, certificate, tmp_path):
    cert, _key = certificate
    port = base_settings(prod, tmp_path).nginx_port
    for change, message in (
        ({"tls_cert": str(cert)}, "TLS needs both NGINX_TLS_CERT and NGINX_TLS_KEY"),
        ({"tls_cert": str(cert), "tls_key": str(tmp_path / "none.pem")}, "NGINX_TLS_KEY"),
        ({"rate_limit": "fast"}, "NGINX_RATE_LIMIT 'fast' is not an nginx rate"),
        ({"rate_exempt": ["localhost"]}, "NGINX_RATE_EXEMPT: 'localhost'"),
        ({"tls_cert": str(cert), "tls_key": str(cert), "tls_port": port}, "ports must be distinct"),
    ):
        s = replace(base_settings(prod, tmp_path / "var"), **change)
        with pytest.raises(prod.StartupError, match=re.escape(message)):
            s.validate()


@pytest.fixture(scope="module")
def tls_nginx(prod, profile, certificate):
    """A second nginx of the profile: TLS on, 1 request/s with a burst of 3, nobody exempt."""
    cert, key = certificate
    s = replace(profile.s, var_dir=ROOT / "var" / "prod-test" / f"{RUN_ID}-tls", extra_env={})
    s.nginx_port, s.tls_port = _free_port(), _free_port()
    s.tls_cert, s.tls_key, s.tls_listen = str(cert), str(key), "127.0.0.1"
    s.rate_limit, s.rate_burst, s.zalo_rate_limit, s.zalo_rate_burst = "1r/s", 3, "1r/s", 2
    s.rate_exempt = []
    s.roles, s.actions_port = ["front"], _free_port()  # nginx only; its own action balancer port
    nginx = prod.Profile(s)
    assert [p.name for p in nginx.programs] == ["nginx"]
    nginx.start(check=False, progress=False)  # renders the configuration and checks it with `nginx -t` first
    try:
        yield nginx
    finally:
        nginx.stop()
        shutil.rmtree(s.var_dir, ignore_errors=True)


def test_https_and_http_both_answer_and_limits_apply(tls_nginx, certificate):
    s, (cert, _key) = tls_nginx.s, certificate
    https, http = f"https://localhost:{s.tls_port}", f"http://127.0.0.1:{s.nginx_port}"
    status, headers, body = _request(https + "/", cafile=cert)  # verified against the certificate
    assert status == 200 and b"webchat" in body and headers.get("X-Frame-Options") == "DENY"
    status, _, body = _request(http + "/")
    assert status == 200 and b"webchat" in body
    status, _, body = _request(https + "/webhooks/rest/webhook", _message("tls-1"), cafile=cert)
    assert status == 200 and json.loads(body), body
    assert _request(https + "/status", cafile=cert)[0] == 404
    big = json.dumps({"sender": "tls-big", "message": "a" * 70_000}).encode()
    assert _request(https + "/webhooks/rest/webhook", big, cafile=cert)[0] == 413
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _request(https + "/")  # a client that does not trust the self-signed certificate

    time.sleep(4)  # the bucket refills (1 r/s, burst 3)
    with ThreadPoolExecutor(12) as pool:
        results = list(
            pool.map(
                lambda n: _request(https + "/webhooks/rest/webhook", _message(f"tls-rate-{n}"), cafile=cert),
                range(12),
            )
        )
    statuses = sorted(status for status, _, _ in results)
    assert 1 <= statuses.count(200) <= 5 and statuses.count(429) >= 7, statuses
    for status, headers, body in results:
        if status == 429:
            assert body == TOO_MANY and headers.get("Retry-After") == "1"
        else:
            assert status == 200 and json.loads(body)
    # plain HTTP shares the client's bucket
    assert _request(http + "/webhooks/rest/webhook", _message("tls-rate-http"))[0] == 429
    # pages are not limited
    assert _request(https + "/", cafile=cert)[0] == 200

    with ThreadPoolExecutor(8) as pool:
        zalo = list(pool.map(lambda _: _request(http + "/webhooks/zalo/webhook")[0], range(8)))
    assert zalo.count(429) >= 4 and zalo.count(200) >= 1, zalo
    errors = (s.log_dir / "nginx-error.log").read_text()
    assert "limiting requests" in errors  # logged at warn level


def test_loopback_is_exempt_in_the_default_profile(profile):
    url = f"http://127.0.0.1:{profile.s.nginx_port}/webhooks/zalo/webhook"
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: _request(url)[0], range(150)))
    assert statuses.count(200) == 150, sorted(set(statuses))
