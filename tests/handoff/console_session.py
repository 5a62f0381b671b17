"""A staff member's console session over plain HTTP (cookies, CSRF token), for the tests."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - keep the 302 visible
        return None


@dataclass
class ConsoleSession:
    """Log in once; GET pages and POST forms with the session's CSRF token."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location) of a GET, or of a POST of `form`."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as resp:
                return resp.status, resp.read().decode(), resp.headers.get("Location") or ""
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(), err.headers.get("Location") or ""

    def login(self, name: str, password: str) -> ConsoleSession:
        """Log in (the login form's double-submit CSRF token first)."""
        _, page, _ = self.request("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _, location = self.request("/login", {"csrf": token, "name": name, "password": password})
        assert status == 302 and "/login" not in location, (status, location)
        return self

    def csrf(self) -> str:
        """The session's CSRF token (from any page's form)."""
        _, page, _ = self.request("/handoff")
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def act(self, sender: str, action: str, text: str = "", csrf: str | None = None) -> tuple[int, str]:
        """POST take / reply / close; (status, notice key from the redirect, or the body)."""
        form = {"csrf": self.csrf() if csrf is None else csrf, "text": text}
        status, body, location = self.request(
            f"/handoff/c/{urllib.parse.quote(sender, safe='')}/{action}", form
        )
        notice = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("notice", [""])[0]
        return status, notice or body
