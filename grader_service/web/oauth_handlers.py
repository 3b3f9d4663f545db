"""/oauth2/authorize (login + consent page), /oauth2/token, /oauth2/revoke: the OAuth2 provider endpoints."""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any
from urllib.parse import unquote, urlencode

from tornado import web

from grader_service.auth.login_sessions import SessionUser
from grader_service.auth.oauth_provider import (
    AuthorizeRequest,
    InvalidClientOrRedirect,
    OAuthClient,
    OAuthError,
    authenticate_client,
    exchange_code,
    issue_code,
    redirect_with,
    revoke_token,
    validate_authorize,
)
from grader_service.auth.throttle import oauth_client_hint, retry_message
from grader_service.web.page_base import PageHandler, log

AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)


class AuthorizeHandler(PageHandler):
    """The authorization endpoint: sign in if needed, ask for consent unless the client skips it, then send
    the browser back to the client with a code (or an RFC 6749 error)."""

    @property
    def clients(self) -> dict[str, OAuthClient]:
        return self.settings["oauth_clients"]

    def _params(self, source: str) -> dict[str, str]:
        get = self.get_query_argument if source == "query" else self.get_body_argument
        return {k: v[:2048] for k in AUTHORIZE_FIELDS if (v := get(k, None)) is not None}

    def _validate(self, params: dict[str, str]) -> AuthorizeRequest | None:
        try:
            return validate_authorize(self.clients, params)
        except InvalidClientOrRedirect as exc:
            self.message(
                "Invalid sign-in request",
                f"The application's request is invalid: {exc}. Nothing was sent back to it.",
                400,
                error=True,
            )
        except OAuthError as exc:
            # the client and redirect URI are valid: tell the client (RFC 6749 section 4.1.2.1)
            back = {"error": exc.error, "error_description": exc.description}
            if params.get("state"):
                back["state"] = params["state"]
            client = self.clients[params["client_id"]]
            self.redirect(redirect_with(params.get("redirect_uri") or client.redirect_uris[0], back))
        return None

    async def _grant(self, request: AuthorizeRequest, user: SessionUser) -> None:
        with self.db.session() as session:
            code = await self.db.run(
                session, issue_code, request, user.user_id, self.settings["oauth_code_ttl"]
            )
        log.info("oauth: code issued to client %s for %s", request.client.client_id, user.name)
        self.redirect(redirect_with(request.redirect_uri, {"code": code, "state": request.state}))

    async def get(self) -> None:
        params = self._params("query")
        request = self._validate(params)
        if request is None:
            return
        user = await self.session_user()
        if user is None:
            self.redirect(self.base + "login?" + urlencode({"next": self.request.uri}))
            return
        if request.client.skip_consent:
            await self._grant(request, user)
            return
        self.page(
            "consent.html",
            client_name=request.client.name,
            username=user.name,
            xsrf=self.csrf_token(),
            fields=request.form_fields(),
            action=self.base + "oauth2/authorize",
        )

    async def post(self) -> None:
        if not self.csrf_ok():
            self.message(
                "Request refused",
                "The form's security token is missing or wrong (the request may "
                "not come from this site). Go back to the application and sign in again.",
                403,
                error=True,
            )
            return
        user = await self.session_user()
        if user is None:
            self.message(
                "Not signed in",
                "Your sign-in has expired. Go back to the application and sign in again.",
                403,
                error=True,
                login_link=True,
            )
            return
        request = self._validate(self._params("body"))
        if request is None:
            return
        if self.get_body_argument("decision", "") != "allow":
            log.info("oauth: %s denied client %s", user.name, request.client.client_id)
            self.redirect(
                redirect_with(
                    request.redirect_uri,
                    {
                        "error": "access_denied",
                        "error_description": "the user denied the request",
                        "state": request.state,
                    },
                )
            )
            return
        await self._grant(request, user)


class OAuthJsonHandler(web.RequestHandler):
    """Base of the back-channel endpoints: form-encoded requests, JSON answers, RFC 6749 errors."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Pragma", "no-cache")

    def check_form(self) -> None:
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")

    def form(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, values in self.request.body_arguments.items():
            if len(values) > 1:
                raise OAuthError("invalid_request", f"{name} is given more than once")
            out[name] = values[0].decode("utf-8", "replace")[:4096]
        return out

    def client(self, form: dict[str, str]) -> OAuthClient:
        """Client authentication: HTTP Basic or client_id + client_secret in the body, not both."""
        header = self.request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if header:
            if scheme.lower() != "basic":
                raise OAuthError("invalid_client", "use HTTP Basic client authentication", 401)
            if "client_secret" in form:
                raise OAuthError("invalid_request", "use one client authentication method, not two")
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401) from None
            client_id, sep, secret = raw.partition(":")
            if not sep:
                raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401)
            # RFC 6749 section 2.3.1: both are form-urlencoded before Basic encoding
            client_id, secret = unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
            if form.get("client_id", client_id) != client_id:
                raise OAuthError(
                    "invalid_request", "client_id in the body differs from the authenticated one"
                )
            return authenticate_client(self.settings["oauth_clients"], client_id, secret)
        if not form.get("client_id"):
            raise OAuthError("invalid_client", "client authentication is required", 401)
        return authenticate_client(
            self.settings["oauth_clients"], form.get("client_id"), form.get("client_secret")
        )

    def oauth_error(self, exc: OAuthError) -> None:
        self.set_status(exc.status)
        if exc.status == 401:
            self.set_header("WWW-Authenticate", 'Basic realm="Grader Service OAuth2"')
        log.warning("oauth: %s %s (%s)", self.request.path.rsplit("/", 1)[-1], exc.error, exc.description)
        self.finish(json.dumps(exc.as_json()))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = "invalid_request" if status_code < 500 else "server_error"
        self.finish(json.dumps({"error": error, "error_description": self._reason}))


class TokenHandler(OAuthJsonHandler):
    async def post(self) -> None:
        throttle, address = self.settings["login_throttle"], self.request.remote_ip
        account = "oauth-client:" + oauth_client_hint(
            self.request.headers.get("Authorization", ""), self.get_body_argument("client_id", "")
        )
        wait = throttle.retry_after(account, address)
        if wait:  # neither the secret nor the code is looked at
            self.set_header("Retry-After", str(math.ceil(wait)))
            self.oauth_error(OAuthError("invalid_request", retry_message(wait), 429))
            return
        try:
            self.check_form()
            form = self.form()
            client = self.client(form)
            grant = form.get("grant_type", "")
            if not grant:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant != "authorization_code":
                raise OAuthError("unsupported_grant_type", "only grant_type=authorization_code is supported")
            db = self.settings["db"]
            with db.session() as session:
                result = await db.run(session, exchange_code, client, form, self.settings["oauth_token_ttl"])
            if isinstance(result, OAuthError):
                raise result
        except OAuthError as exc:
            if exc.error in ("invalid_client", "invalid_grant"):
                throttle.failed(account, address)
            self.oauth_error(exc)
            return
        throttle.succeeded(account, address)
        log.info("oauth: access token issued to client %s", client.client_id)
        self.finish(json.dumps(result))


class RevokeHandler(OAuthJsonHandler):
    """RFC 7009 token revocation: 200 whether or not the token existed."""

    async def post(self) -> None:
        try:
            self.check_form()
            form = self.form()
            client = self.client(form)
            token = form.get("token", "")
            if not token:
                raise OAuthError("invalid_request", "token is required")
        except OAuthError as exc:
            self.oauth_error(exc)
            return
        db = self.settings["db"]
        with db.session() as session:
            await db.run(session, revoke_token, client, token)
        self.finish("{}")


default_handlers = [
    (r"/oauth2/authorize", AuthorizeHandler),
    (r"/oauth2/token", TokenHandler),
    (r"/oauth2/revoke", RevokeHandler),
]
