"""/login, /login/start, /logout and /oauth2/callback: signing in at the service with the configured
authenticator (the form, or an upstream OAuth2/OIDC provider)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from tornado import web

from grader_service.auth.authenticators import Authenticator, LoginError
from grader_service.auth.login_sessions import Identity
from grader_service.auth.throttle import retry_message
from grader_service.services.sign_in import start_session
from grader_service.web.page_base import PageHandler, log

MAX_FIELD = 1024


class LoginBase(PageHandler):
    @property
    def authenticator(self) -> Authenticator:
        return self.settings["authenticator"]

    async def sign_in_and_redirect(self, identity: Identity, next_url: str | None) -> None:
        with self.db.session() as session:
            value = await self.db.run(
                session,
                start_session,
                identity,
                self.settings["role_rules"],
                self.settings["login_session_ttl"],
            )
        self.set_login_cookie(value)
        log.info("login: %s signed in", identity.name)
        self.redirect(next_url or self.base + "login")

    def login_page(
        self, next_url: str | None, *, status: int = 200, error: str | None = None, username: str = ""
    ) -> None:
        query = "?" + urlencode({"next": next_url}) if next_url else ""
        auth = self.authenticator
        self.page(
            "login.html",
            status,
            error=error,
            username=username,
            xsrf=self.csrf_token(),
            action=self.base + "login" + query,
            login_service=auth.login_service and getattr(auth, "service_name", auth.login_service),
            start_url=self.base + "login/start" + query,
            asks_password=auth.asks_password,
        )


class LoginHandler(LoginBase):
    async def get(self) -> None:
        next_url = self.safe_next(self.get_query_argument("next", None))
        user = await self.session_user()
        if user is not None:
            if next_url:
                self.redirect(next_url)
            else:
                self.message("Signed in", f"You are signed in as {user.name}.", signed_in_as=user.name)
            return
        self.login_page(next_url)

    async def post(self) -> None:
        next_url = self.safe_next(self.get_query_argument("next", None))
        if not self.csrf_ok():
            self.login_page(
                next_url,
                status=403,
                error="The form's security token is missing or wrong. Reload the page and try again.",
            )
            return
        if self.authenticator.login_service:
            raise web.HTTPError(405)
        username = self.get_body_argument("username", "")[:MAX_FIELD]
        data = {"username": username, "password": self.get_body_argument("password", "")[: MAX_FIELD + 1]}
        throttle, address = self.settings["login_throttle"], self.request.remote_ip
        wait = throttle.retry_after(username, address)
        if wait:  # the password is not even looked at
            self.set_header("Retry-After", str(math.ceil(wait)))
            self.login_page(next_url, status=429, error=retry_message(wait), username=username)
            return
        try:
            identity = await self.authenticator.complete(
                self, await self.authenticator.authenticate(self, data)
            )
        except LoginError as exc:
            self.login_page(next_url, status=exc.status, error=exc.message, username=username)
            return
        if identity is None:
            throttle.failed(username, address)
            log.warning("login: failed attempt for user name %r from %s", username[:64], address)
            self.login_page(next_url, status=403, error="Invalid user name or password.", username=username)
            return
        throttle.succeeded(username, address)
        await self.sign_in_and_redirect(identity, next_url)


class LoginStartHandler(LoginBase):
    """Sends the browser to the upstream provider (external authenticators only)."""

    async def get(self) -> None:
        if not self.authenticator.login_service:
            self.redirect(self.base + "login")
            return
        next_url = self.safe_next(self.get_query_argument("next", None)) or ""
        self.redirect(await self.authenticator.start_login(self, next_url))


class UpstreamCallbackHandler(LoginBase):
    """/oauth2/callback: the upstream provider sends the browser back here with a code."""

    async def get(self) -> None:
        if not self.authenticator.login_service:
            raise web.HTTPError(404)
        try:
            identity, next_url = await self.authenticator.finish_login(self)
            identity = await self.authenticator.complete(self, identity)
        except LoginError as exc:
            self.message("Sign-in failed", exc.message, exc.status, error=True, login_link=True)
            return
        if identity is None:
            self.message("Sign-in refused", "Your account may not use this service.", 403, error=True)
            return
        await self.sign_in_and_redirect(identity, self.safe_next(next_url))


class LogoutHandler(LoginBase):
    async def get(self) -> None:
        user = await self.session_user()
        if user is None:
            self.message("Signed out", "You are not signed in.", login_link=True)
            return
        self.message("Sign out", f"You are signed in as {user.name}.", signed_in_as=user.name)

    async def post(self) -> None:
        if not self.csrf_ok():
            self.message(
                "Sign out",
                "The form's security token is missing or wrong. Reload the page and try again.",
                403,
                error=True,
            )
            return
        await self.end_login_session()
        self.message("Signed out", "You are signed out of the Grader Service.", login_link=True)


default_handlers = [
    (r"/login", LoginHandler),
    (r"/login/start", LoginStartHandler),
    (r"/logout", LogoutHandler),
    (r"/oauth2/callback", UpstreamCallbackHandler),
]
