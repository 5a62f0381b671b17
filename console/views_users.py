"""Login, logout, users (admin) and the audit log."""

from __future__ import annotations

import asyncio

from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from console import auth
from console.app import LOGIN_CSRF_COOKIE, SESSION_COOKIE, new_token, render, require, set_cookie
from console.config import PREFIX
from console.history import audit, recent_audit


def _next_path(value: str | None) -> str:
    """Where to go after logging in: only a path of the console itself."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/"


def address_of(request: Request) -> str:
    """The client address (the proxy's forwarded one when PROXIES_COUNT is set)."""
    return str(request.remote_addr or request.ip or "")


def register(app: Sanic) -> None:
    """Add the routes."""
    cfg, db, msg = app.ctx.cfg, app.ctx.db, app.ctx.msg

    def login_page(request: Request, token: str, status: int = 200, error: str = "") -> HTTPResponse:
        """The login form with a fresh double-submit CSRF cookie."""
        resp = render(
            request, "login.html", status=status, csrf=token, error=error, next=request.args.get("next", "")
        )
        set_cookie(resp, cfg, LOGIN_CSRF_COOKIE, token, 3600)
        return resp

    @app.get(f"{PREFIX}/login")
    async def login_form(request: Request) -> HTTPResponse:
        """The login form."""
        return login_page(request, request.cookies.get(LOGIN_CSRF_COOKIE) or new_token())

    @app.post(f"{PREFIX}/login")
    async def login(request: Request) -> HTTPResponse:
        """Check the password; slow down, then refuse, repeated failures."""
        form = request.form
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not auth.same_token(token, form.get("csrf")):
            return render(request, "error.html", status=403, message=msg["csrf_failed"])
        name, password = (form.get("name") or "").strip(), form.get("password") or ""
        address = address_of(request)
        failed = await asyncio.to_thread(auth.failures, db, cfg, name, address)
        if failed >= cfg.lock_after:
            return login_page(request, token, 429, msg["login_locked"])
        await asyncio.sleep(auth.login_delay(cfg, failed))
        user = await asyncio.to_thread(auth.check_password, db, name, password)
        await asyncio.to_thread(auth.record_attempt, db, name, address, user is not None)
        if user is None:
            return login_page(request, token, 401, msg["login_failed"])
        session = auth.open_session(db, cfg, user, address)
        resp = response.redirect(_next_path(form.get("next")))
        set_cookie(resp, cfg, SESSION_COOKIE, session, int(cfg.session_hours * 3600))
        return resp

    @app.post(f"{PREFIX}/logout")
    async def logout(request: Request) -> HTTPResponse:
        """End the session."""
        auth.close_session(db, request.cookies.get(SESSION_COOKIE))
        resp = response.redirect(f"{PREFIX}/login")
        set_cookie(resp, cfg, SESSION_COOKIE, "", 0)
        return resp

    @app.get(f"{PREFIX}/users")
    async def users_page(request: Request) -> HTTPResponse:
        """Users and their roles (admin)."""
        require(request, "admin")
        return render(request, "users.html", users=auth.list_users(db), roles=auth.ROLES, error="")

    @app.post(f"{PREFIX}/users")
    async def users_change(request: Request) -> HTTPResponse:
        """Create a user, reset a password, or enable/disable a user (admin)."""
        admin = require(request, "admin")
        form = request.form
        name = (form.get("name") or "").strip()
        action = form.get("action") or "create"
        if action in ("disable", "enable"):
            auth.set_active(db, name, action == "enable")
            audit(db, admin.name, f"user.{action}", name, None, None)
            return response.redirect(f"{PREFIX}/users")
        try:
            await asyncio.to_thread(
                auth.create_user, db, name, form.get("password") or "", form.get("role") or ""
            )
        except ValueError:
            users = auth.list_users(db)
            return render(
                request, "users.html", status=400, users=users, roles=auth.ROLES, error=msg["user_invalid"]
            )
        audit(db, admin.name, "user.save", name, None, form.get("role"))
        return response.redirect(f"{PREFIX}/users")

    @app.get(f"{PREFIX}/audit")
    async def audit_page(request: Request) -> HTTPResponse:
        """Who changed what and when (editors and admins)."""
        require(request, "editor")
        return render(request, "audit.html", entries=recent_audit(db, 200))
