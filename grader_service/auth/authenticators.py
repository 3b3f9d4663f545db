"""Identity providers of the login pages: a small base class and three authenticators.

`Authenticator` is the contract (JupyterHub-style): `authenticate(handler, data)` returns who the user is,
or None. The base class then normalises the name, applies `allowed_users`, `admin_users` and the
`post_auth_hook`. Authenticators with `login_service` set log in at an external provider instead of the
form: `start_login` redirects there and `finish_login` handles the provider's callback. The handler they
get is the login page (web/login_handlers.py), seen through the `LoginPage` protocol, and outbound HTTP
goes through `fetch`, which the app sets (auth/ imports no Tornado).
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import ipaddress
import json
import secrets
from typing import Any, ClassVar, Protocol
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from traitlets import Any as AnyTrait
from traitlets import Bool, Float, List, Set, Unicode
from traitlets.config import LoggingConfigurable

from grader_service.auth.http_client import Fetch, OutboundHTTPError, OutboundRequest
from grader_service.auth.login_sessions import Identity
from grader_service.auth.passwords import verify_password
from grader_service.git.names import USERNAME_PATTERN
from grader_service.orm.auth import PasswordUser
from grader_service.orm.models import User


class LoginError(Exception):
    """A login that cannot go on; the message is shown to the user (it never holds a secret)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LoginPage(Protocol):
    """What an authenticator uses of the page handling the login (a Tornado RequestHandler in web/)."""

    @property
    def settings(self) -> dict[str, Any]: ...

    @property
    def request(self) -> Any: ...

    def get_query_argument(self, name: str, default: str) -> str: ...

    def set_signed_cookie(
        self, name: str, value: str, expires_days: float | None = ..., **kwargs: Any
    ) -> None: ...

    def get_signed_cookie(
        self, name: str, value: str | None = None, max_age_days: float = 31
    ) -> bytes | None: ...

    def clear_cookie(self, name: str, **kwargs: Any) -> None: ...


class Authenticator(LoggingConfigurable):
    """Base class of the identity providers. Subclasses implement `authenticate` (form logins) or set
    `login_service` and implement `start_login` / `finish_login` (external providers)."""

    #: shown as "Sign in with <login_service>"; empty for authenticators that use the login form
    login_service: ClassVar[str] = ""
    #: whether the login form asks for a password
    asks_password: ClassVar[bool] = True
    #: outbound HTTP (external providers); the app sets it (web/http_client.tornado_fetch)
    fetch: Fetch | None = None

    allowed_users = Set(
        Unicode(), help="User names that may log in; empty: everyone the provider authenticates."
    ).tag(config=True)
    admin_users = Set(
        Unicode(),
        help="User names that become global admins when they log in (in addition "
        "to GraderService.admin_users).",
    ).tag(config=True)
    post_auth_hook = AnyTrait(
        None,
        allow_none=True,
        help="A callable (authenticator, handler, identity) → "
        "identity or None, run after a successful login (may be async). Return a changed "
        "Identity (e.g. more groups) or None to refuse the login.",
    ).tag(config=True)

    def check_config(self, ip: str) -> None:
        """Called when the service starts; raise ValueError for a configuration that must not run."""

    async def authenticate(self, handler: LoginPage, data: dict[str, str]) -> Identity | None:
        raise NotImplementedError(f"{type(self).__name__} does not log in with the form")

    async def start_login(self, handler: LoginPage, next_url: str) -> str:
        """The URL to send the browser to (external providers only)."""
        raise NotImplementedError(f"{type(self).__name__} logs in with the form")

    async def finish_login(self, handler: LoginPage) -> tuple[Identity | None, str]:
        """Handle the provider's callback: (identity or None, the `next` URL to go on to)."""
        raise NotImplementedError(f"{type(self).__name__} logs in with the form")

    async def complete(self, handler: LoginPage, identity: Identity | None) -> Identity | None:
        """Normalise and check what a provider returned: name rules, allowed_users, admin_users, the hook."""
        if identity is None:
            return None
        name = identity.name.strip().lower()
        if not USERNAME_PATTERN.fullmatch(name) or ".." in name:
            raise LoginError(
                "this user name cannot be used here: use 1-64 letters, digits or . _ @ + -, "
                "starting with a letter or digit"
            )
        if self.allowed_users and name not in self.allowed_users:
            self.log.warning("login refused for %s: not in allowed_users", name)
            return None
        identity = Identity(
            name=name,
            display_name=identity.display_name,
            groups=tuple(identity.groups),
            admin=identity.admin or name in self.admin_users,
            extra=identity.extra,
        )
        if self.post_auth_hook is not None:
            result: Any = self.post_auth_hook(self, handler, identity)
            if inspect.isawaitable(result):
                result = await result
            if result is not None and not isinstance(result, Identity):
                raise TypeError("post_auth_hook must return an Identity or None")
            identity = result
        return identity


def is_loopback(ip: str) -> bool:
    if ip in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


class DevAuthenticator(Authenticator):
    """Development only: any user name logs in, with the shared `password` if one is set. Refuses to run on
    an address other than loopback unless `allow_non_loopback` is set."""

    password = Unicode("", help="A password every user must type; empty: none.").tag(config=True)
    allow_non_loopback = Bool(
        False,
        help="Allow the dev authenticator when the service listens on an address "
        "reachable from other machines (never do this in production).",
    ).tag(config=True)

    @property
    def asks_password(self) -> bool:  # type: ignore[override]  # a ClassVar in the base, from config here
        return bool(self.password)

    def check_config(self, ip: str) -> None:
        if not is_loopback(ip) and not self.allow_non_loopback:
            raise ValueError(
                f"DevAuthenticator lets anyone log in, so it only runs on a loopback address (the "
                f"service listens on {ip or 'all addresses'!r}); use PasswordAuthenticator or "
                f"GenericOAuthenticator, or set DevAuthenticator.allow_non_loopback = True"
            )

    async def authenticate(self, handler: LoginPage, data: dict[str, str]) -> Identity | None:
        name = data.get("username", "").strip()
        if not name:
            return None
        if self.password and not secrets.compare_digest(
            data.get("password", "").encode(), self.password.encode()
        ):
            return None
        return Identity(name=name)


def _check_password(session: Session, name: str, password: str) -> Identity | None:
    row = session.execute(
        select(User.name, User.display_name, PasswordUser.password_hash)
        .join(PasswordUser, PasswordUser.user_id == User.id)
        .where(User.name == name)
    ).first()
    if not verify_password(password, row[2] if row else None) or row is None:
        return None
    return Identity(name=row[0], display_name=row[1])


class PasswordAuthenticator(Authenticator):
    """Users with passwords stored (scrypt-hashed) in the database; admins set them with
    `PUT /api/users/<name>/password`."""

    async def authenticate(self, handler: LoginPage, data: dict[str, str]) -> Identity | None:
        name = data.get("username", "").strip().lower()
        password = data.get("password", "")
        if not name or not password or len(password) > 1024:
            return None
        db = handler.settings["db"]
        with db.session() as session:
            return await db.run(session, _check_password, name, password)


def _claim(data: Any, path: str) -> Any:
    """`a.b.c` in nested dicts (None when a step is missing)."""
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class GenericOAuthenticator(Authenticator):
    """Logs in at an upstream OAuth2 / OpenID Connect provider (authorization code flow with PKCE)."""

    login_service = "OAuth 2.0"
    service_name = Unicode("your organisation", help="Shown on the login button: 'Sign in with ...'.").tag(
        config=True
    )
    client_id = Unicode("", help="The client id the provider registered for the grader service.").tag(
        config=True
    )
    client_secret = Unicode("", help="The client secret the provider issued.").tag(config=True)
    authorize_url = Unicode("", help="The provider's authorization endpoint.").tag(config=True)
    token_url = Unicode("", help="The provider's token endpoint.").tag(config=True)
    userdata_url = Unicode("", help="The provider's userinfo endpoint (called with the access token).").tag(
        config=True
    )
    scope = List(Unicode(), ["openid", "profile"], help="Scopes to request.").tag(config=True)
    username_claim = Unicode(
        "preferred_username", help="Userinfo field (dotted path) holding the user name."
    ).tag(config=True)
    display_name_claim = Unicode("name", help="Userinfo field (dotted path) holding the display name.").tag(
        config=True
    )
    groups_claim = Unicode(
        "",
        help="Userinfo field (dotted path) holding a list of groups; groups named "
        "<lecture>:<role> become lecture roles. Empty: no groups.",
    ).tag(config=True)
    callback_url = Unicode(
        "",
        help="This service's callback URL registered at the provider; default: <public_url>oauth2/callback.",
    ).tag(config=True)
    basic_auth = Bool(
        True, help="Send the client credentials to token_url with HTTP Basic (else in the form body)."
    ).tag(config=True)
    request_timeout = Float(10.0, help="Seconds to wait for the provider.").tag(config=True)

    STATE_COOKIE: ClassVar[str] = "grader-oauth-state"

    def check_config(self, ip: str) -> None:
        for name in ("client_id", "client_secret", "authorize_url", "token_url", "userdata_url"):
            if not getattr(self, name):
                raise ValueError(f"GenericOAuthenticator.{name} must be set")

    def _callback(self, handler: LoginPage) -> str:
        return self.callback_url or handler.settings["public_url"].rstrip("/") + "/oauth2/callback"

    async def start_login(self, handler: LoginPage, next_url: str) -> str:
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        handler.set_signed_cookie(
            self.STATE_COOKIE,
            json.dumps({"state": state, "verifier": verifier, "next": next_url}),
            expires_days=None,
            httponly=True,
            samesite="Lax",
            path=handler.settings["base_url"],
            secure=handler.request.protocol == "https",
        )
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self._callback(handler),
            "scope": " ".join(self.scope),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return self.authorize_url + ("&" if "?" in self.authorize_url else "?") + urlencode(params)

    async def finish_login(self, handler: LoginPage) -> tuple[Identity | None, str]:
        error = handler.get_query_argument("error", "")
        if error:
            raise LoginError(f"the identity provider refused the login ({error[:100]})", 403)
        raw = handler.get_signed_cookie(self.STATE_COOKIE, max_age_days=1)
        handler.clear_cookie(self.STATE_COOKIE, path=handler.settings["base_url"])
        if raw is None:
            raise LoginError("the login state cookie is missing or expired: start the login again")
        saved = json.loads(raw)
        state = handler.get_query_argument("state", "")
        if not state or not secrets.compare_digest(state.encode(), saved["state"].encode()):
            raise LoginError("state does not match the login this browser started: start the login again")
        code = handler.get_query_argument("code", "")
        if not code:
            raise LoginError("the identity provider sent no code")
        token = await self._token(handler, code, saved["verifier"])
        userinfo = await self._fetch_json(
            OutboundRequest(
                self.userdata_url,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self.request_timeout,
            ),
            "userdata_url",
        )
        name = _claim(userinfo, self.username_claim)
        if not isinstance(name, str) or not name:
            raise LoginError(
                f"the identity provider's userinfo has no {self.username_claim!r} "
                "(GenericOAuthenticator.username_claim)",
                502,
            )
        groups: Any = _claim(userinfo, self.groups_claim) if self.groups_claim else []
        if not isinstance(groups, list):
            groups = []
        display = _claim(userinfo, self.display_name_claim)
        identity = Identity(
            name=name,
            display_name=display if isinstance(display, str) else None,
            groups=tuple(g for g in groups if isinstance(g, str)),
        )
        return identity, saved.get("next") or ""

    async def _token(self, handler: LoginPage, code: str, verifier: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._callback(handler),
            "code_verifier": verifier,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.basic_auth:
            raw = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        data = await self._fetch_json(
            OutboundRequest(
                self.token_url,
                method="POST",
                headers=headers,
                body=urlencode(form),
                timeout=self.request_timeout,
            ),
            "token_url",
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise LoginError("the identity provider's token response has no access_token", 502)
        return token

    async def _fetch_json(self, request: OutboundRequest, what: str) -> Any:
        if self.fetch is None:
            raise RuntimeError("Authenticator.fetch is not set (the app sets it)")
        try:
            body = await self.fetch(request)
        except OutboundHTTPError as exc:
            detail = ""
            if exc.body:
                try:
                    detail = str(json.loads(exc.body).get("error", ""))[:100]
                except (ValueError, AttributeError):
                    detail = ""
            self.log.warning("GenericOAuthenticator: %s answered %s %s", what, exc.code, detail)
            raise LoginError(
                f"the identity provider's {what} answered {exc.code} {detail}".strip(), 502
            ) from None
        except OSError as exc:
            self.log.warning(
                "GenericOAuthenticator: %s unreachable: %s", what, exc.strerror or type(exc).__name__
            )
            raise LoginError(f"the identity provider's {what} cannot be reached", 502) from None
        try:
            return json.loads(body)
        except ValueError:
            raise LoginError(f"the identity provider's {what} did not answer JSON", 502) from None
