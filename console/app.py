"""The console's Sanic app: sessions, CSRF, roles and page rendering; routes in console/views_*.py."""

from __future__ import annotations

import itertools
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic, response
from sanic.exceptions import Forbidden, NotFound
from sanic.response import HTTPResponse

from console.auth import User, same_token, session_user
from console.config import PREFIX, ConsoleConfig
from console.db import make_engine
from console.tracker import tracker_engine
from ops.health import health

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ocop_staff"
LOGIN_CSRF_COOKIE = "ocop_staff_login"
PUBLIC = (f"{PREFIX}/login", f"{PREFIX}/static/")
# probes of the process manager, Docker and Kubernetes: outside /staff, so nginx never exposes them
PROBES = ("/health", "/ready")
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
_names = itertools.count()


def messages() -> dict[str, str]:
    """The console's Vietnamese messages (console/messages.yml)."""
    return yaml.safe_load((HERE / "messages.yml").read_text(encoding="utf-8"))


def _date(ts: float | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A timestamp as local date and time."""
    return datetime.fromtimestamp(ts).strftime(fmt) if ts else ""


def create_app(cfg: ConsoleConfig | None = None, name: str | None = None) -> Sanic:
    """The console app for a configuration (database, tracker store, cards folder)."""
    from console import views_cards, views_data, views_docs, views_files, views_handoff, views_users

    cfg = cfg or ConsoleConfig.from_env()
    app = Sanic(name or f"ocop_console_{next(_names)}")
    app.config.FORWARDED_SECRET = None
    app.config.PROXIES_COUNT = cfg.proxies  # 0: the socket's address; never trust headers by default
    app.config.REQUEST_MAX_SIZE = max(2_000_000, cfg.upload_max_bytes + 1_000_000)  # an upload and its form
    app.ctx.cfg = cfg
    app.ctx.db = make_engine(cfg.db_url)
    app.ctx.tracker = tracker_engine(cfg.tracker_url)
    app.ctx.msg = messages()
    app.ctx.embedder = None
    app.ctx.vectors = {}
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["date"] = _date
    env.globals.update(prefix=PREFIX, msg=app.ctx.msg)
    app.ctx.jinja = env
    app.static(f"{PREFIX}/static", str(HERE / "static"), name="static")

    @app.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        """Every page but the login needs a session; every POST needs its CSRF token."""
        request.ctx.user = None
        path = request.path
        if path in PROBES:
            return None
        if not path.startswith(PREFIX):
            raise NotFound("not found")
        if path.startswith(PUBLIC):
            return None
        user = session_user(app.ctx.db, request.cookies.get(SESSION_COOKIE))
        if user is None:
            target = f"{PREFIX}/login" + (f"?next={path}" if request.method == "GET" else "")
            return response.redirect(target)
        request.ctx.user = user
        if (
            request.method == "POST"
            and int(request.headers.get("content-length") or 0) > app.config.REQUEST_MAX_SIZE
        ):
            # Sanic refuses the body and runs this middleware before answering: say why, in Vietnamese
            limit = f"{cfg.upload_max_bytes / 1e6:g}"
            return render(
                request,
                "error.html",
                status=413,
                message=app.ctx.msg["upload"]["request_too_large"].format(limit=limit),
            )
        if request.method == "POST" and not same_token(user.csrf, request.form.get("csrf")):
            return render(request, "error.html", status=403, message=app.ctx.msg["csrf_failed"])
        return None

    @app.on_response
    async def headers(request: Request, resp: HTTPResponse) -> None:
        """No caching of staff pages, no framing, only this origin's scripts and styles."""
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith(f"{PREFIX}/static/"):
            resp.headers.setdefault("Cache-Control", "no-store")

    @app.exception(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> HTTPResponse:
        """A role that may not do this: 403 with a page saying so."""
        return render(request, "error.html", status=403, message=app.ctx.msg["forbidden"])

    app.add_route(health, "/health", methods=["GET"], name="health")
    app.add_route(ready, "/ready", methods=["GET"], name="ready")
    views_users.register(app)
    views_data.register(app)
    views_cards.register(app)
    views_files.register(app)
    views_docs.register(app)
    views_handoff.register(app)
    return app


async def ready(request: Request) -> HTTPResponse:
    """Readiness: 200 when the console database and the tracker store answer SELECT 1, else 503."""
    from ops.health import database_problem, readiness

    missing = {}
    for name, engine in (("console_db", request.app.ctx.db), ("tracker_store", request.app.ctx.tracker)):
        problem = await database_problem(engine)
        if problem:
            missing[name] = problem
    return readiness(missing)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    """A template rendered with the user, their CSRF token and the messages."""
    user: User | None = getattr(request.ctx, "user", None)
    page = request.app.ctx.jinja.get_template(template)
    body = page.render(user=user, csrf=user.csrf if user else context.pop("csrf", ""), **context)
    return response.html(body, status=status)


def require(request: Request, role: str) -> User:
    """The user, if their role allows `role` (else 403)."""
    user: User | None = request.ctx.user
    if user is None or not user.can(role):
        raise Forbidden("forbidden")
    return user


def set_cookie(resp: HTTPResponse, cfg: ConsoleConfig, name: str, value: str, max_age: int) -> None:
    """An HttpOnly, SameSite=Strict cookie under the prefix (Secure when configured)."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = PREFIX
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if cfg.secure_cookies:
        cookie["secure"] = True


def new_token() -> str:
    """A random token for a login form's CSRF cookie."""
    return secrets.token_urlsafe(32)
