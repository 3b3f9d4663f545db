"""PageHandler: base of the HTML pages (login, logout, consent): templates, session, CSRF, safe redirects."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tornado import template, web

from grader_service.auth.login_sessions import COOKIE_NAME, SessionUser, end_session, session_user
from grader_service.orm.session import Database

log = logging.getLogger("grader_service.auth")
TEMPLATES = template.Loader(str(Path(__file__).with_name("templates")), autoescape="xhtml_escape")
CSRF_COOKIE = "grader-xsrf"
CSRF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


class PageHandler(web.RequestHandler):
    """HTML pages. CSRF protection is a double-submitted random value (cookie `grader-xsrf` + form field
    `_xsrf`), named so it cannot clash with the Hub's or a Jupyter server's `_xsrf` cookie on one host."""

    @property
    def db(self) -> Database:
        return self.settings["db"]

    @property
    def base(self) -> str:
        return self.settings["base_url"]

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        )

    @property
    def secure_cookies(self) -> bool:
        return self.settings["public_url"].startswith("https:")

    def cookie_args(self) -> dict[str, Any]:
        return {"path": self.base, "httponly": True, "samesite": "Lax", "secure": self.secure_cookies}

    # -- CSRF --
    def csrf_token(self) -> str:
        value = self.get_cookie(CSRF_COOKIE)
        if not value or not CSRF_PATTERN.fullmatch(value):
            value = secrets.token_urlsafe(24)
            self.set_cookie(CSRF_COOKIE, value, **self.cookie_args())
        return value

    def csrf_ok(self) -> bool:
        cookie = self.get_cookie(CSRF_COOKIE) or ""
        sent = self.get_body_argument("_xsrf", "")
        return bool(cookie) and bool(sent) and secrets.compare_digest(cookie.encode(), sent.encode())

    # -- login session --
    async def session_user(self) -> SessionUser | None:
        value = self.get_cookie(COOKIE_NAME)
        if not value or len(value) > 128:
            return None
        with self.db.session() as session:
            return await self.db.run(session, session_user, value)

    async def end_login_session(self) -> None:
        value = self.get_cookie(COOKIE_NAME)
        if value and len(value) <= 128:
            with self.db.session() as session:
                await self.db.run(session, end_session, value)
        self.clear_cookie(COOKIE_NAME, path=self.base)

    def set_login_cookie(self, value: str) -> None:
        self.set_cookie(
            COOKIE_NAME, value, expires_days=self.settings["login_session_ttl"] / 86400, **self.cookie_args()
        )

    # -- redirects --
    def safe_next(self, raw: str | None) -> str | None:
        """`raw` if it is a path on this service (no scheme, host or `//`), else None (open-redirect
        guard)."""
        if not raw or "\\" in raw or any(ord(c) < 32 for c in raw):
            return None
        parts = urlsplit(raw)
        if parts.scheme or parts.netloc or not parts.path.startswith(self.base) or raw.startswith("//"):
            return None
        return raw

    # -- output --
    def page(self, name: str, status: int = 200, **values: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        values.setdefault("error", None)
        self.finish(TEMPLATES.load(name).generate(**values))

    def message(
        self,
        heading: str,
        message: str,
        status: int = 200,
        *,
        error: bool = False,
        signed_in_as: str | None = None,
        login_link: bool = False,
    ) -> None:
        self.page(
            "message.html",
            status,
            heading=heading,
            message=message,
            error=error,
            signed_in_as=signed_in_as,
            logout_url=self.base + "logout",
            xsrf=self.csrf_token() if signed_in_as else "",
            login_url=self.base + "login" if login_link else None,
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = "the service could not handle this request" if status_code >= 500 else self._reason
        self.message("Something went wrong", f"{status_code}: {reason}", status_code, error=True)
