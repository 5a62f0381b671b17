"""Serve the web chat page (web/) with security headers; standard library only.

    python -m ops.web [--host 127.0.0.1] [--port 8080] [--rasa-port 5005] [--socket-url URL]

Routes: `/` (web/index.html), `/config.js` (the socket URL for the widget) and
`/static/...` (web/static: page CSS/JS and the widget bundle copied by `make web`).
Nothing else under web/ (node_modules, package files) is served.

The socket URL defaults to `http://<host of the request>:<rasa-port>`, so the page works
whether it is opened as localhost or 127.0.0.1; set `--socket-url` / `OCOP_SOCKET_URL`
when Rasa is behind a proxy. The Content-Security-Policy allows scripts from this server
only and connections to this server and the socket URL.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
STATIC = WEB / "static"
sys.path.insert(0, str(ROOT))  # bot.contact_values: hotline numbers from the contact table
MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$")


def request_hostname(host_header: str | None) -> str:
    """The host name of a Host header without its port; 'localhost' when unusable."""
    host = (host_header or "").strip()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else ""
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host if _HOST.match(host) else "localhost"


def page_html() -> str:
    """web/index.html with its hotline placeholders filled from the contact table (HTML-escaped)."""
    from bot.contact_values import fill_text, shared_values

    values = {key: html.escape(value) for key, value in shared_values().values().items()}
    return fill_text((WEB / "index.html").read_text(encoding="utf-8"), values)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(socket_url: str) -> str:
    """CSP: our own scripts only; connections to ourselves and to the Rasa socket."""
    origin = origin_of(socket_url)
    ws_origin = re.sub(r"^http", "ws", origin)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # the widget injects its stylesheet as <style> elements
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            f"connect-src 'self' {origin} {ws_origin}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class Handler(BaseHTTPRequestHandler):
    """GET/HEAD for the page, its config and static files; nothing else."""

    server_version = "ocop-web"

    def version_string(self) -> str:
        """Server header without the Python version."""
        return self.server_version

    rasa_port = 5005
    socket_url: str | None = None

    def socket_url_for_request(self) -> str:
        """The socket URL the widget should connect to."""
        if self.socket_url:
            return self.socket_url.rstrip("/")
        return f"http://{request_hostname(self.headers.get('Host'))}:{self.rasa_port}"

    def resolve(self, path: str) -> tuple[bytes, str] | None:
        """(body, content type) for a URL path, or None."""
        if path in ("/", "/index.html"):
            return page_html().encode(), MIME[".html"]
        if path == "/config.js":
            body = f"window.OCOP_SOCKET_URL = {json.dumps(self.socket_url_for_request())};\n"
            return body.encode(), MIME[".js"]
        if path.startswith("/static/"):
            target = (STATIC / unquote(path[len("/static/") :])).resolve()
            if STATIC.resolve() in target.parents and target.is_file() and target.suffix in MIME:
                return target.read_bytes(), MIME[target.suffix]
        return None

    def send_common_headers(self, content_type: str, length: int, cache: str) -> None:
        """Status line already sent: content and security headers."""
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", cache)
        self.send_header("Content-Security-Policy", content_security_policy(self.socket_url_for_request()))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()

    def answer(self, head_only: bool) -> None:
        """Serve GET or HEAD."""
        path = urlsplit(self.path).path
        try:
            found = self.resolve(path)
        except OSError:
            found = None
        if found is None:
            body, status, ctype = "Không tìm thấy trang.\n".encode(), HTTPStatus.NOT_FOUND, MIME[".txt"]
        else:
            (body, ctype), status = found, HTTPStatus.OK
        self.send_response(status)
        cache = "public, max-age=3600" if path.startswith("/static/vendor/") else "no-cache"
        self.send_common_headers(ctype, len(body), cache)
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        """GET."""
        self.answer(head_only=False)

    def do_HEAD(self) -> None:
        """HEAD."""
        self.answer(head_only=True)

    def refuse(self) -> None:
        """405 for every other method."""
        body = b"method not allowed\n"
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_common_headers(MIME[".txt"], len(body), "no-cache")
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse

    def log_message(self, format: str, *args: object) -> None:
        """One line per request on stderr (var/logs/web.log under make run)."""
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


class Server(ThreadingHTTPServer):
    """Threaded server; worker threads do not block shutdown."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(host: str, port: int, rasa_port: int, socket_url: str | None) -> ThreadingHTTPServer:
    """A threading HTTP server bound to host:port."""
    handler = type("OcopHandler", (Handler,), {"rasa_port": rasa_port, "socket_url": socket_url})
    return Server((host, port), handler)


def main() -> int:
    """Parse arguments and serve until interrupted."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    ap.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    ap.add_argument("--socket-url", default=os.environ.get("OCOP_SOCKET_URL") or None)
    args = ap.parse_args()
    if not (STATIC / "vendor" / "rasa-webchat.js").is_file():
        print("warning: web/static/vendor/rasa-webchat.js is missing; run `make web`", file=sys.stderr)
    server = make_server(args.host, args.port, args.rasa_port, args.socket_url)
    print(f"web chat on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
