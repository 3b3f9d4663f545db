"""The OAuth2 provider: registered clients, authorization codes with PKCE, the token exchange, revocation.

Authorization code flow (RFC 6749 section 4.1) with PKCE S256 (RFC 7636). Errors are `OAuthError`s
carrying the RFC 6749 error code. Access tokens are ApiToken rows of kind "oauth", so they work for the
REST API and for git exactly like API tokens, expire after `token_ttl` and can be revoked (RFC 7009).
No token or code value is ever logged or put in an error message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from grader_service.auth.tokens import create_token, hash_token, new_token_value
from grader_service.orm.auth import OAuthCode
from grader_service.orm.base import utcnow
from grader_service.orm.models import ApiToken, User

#: RFC 7636 section 4.1: 43-128 characters of the unreserved set
PKCE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
STATE_MAX = 1024
TOKEN_KIND = "oauth"


class OAuthError(Exception):
    """An RFC 6749 error: `error` is the code (invalid_grant...), `description` a readable reason."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidClientOrRedirect(Exception):
    """The authorize request names an unknown client or a redirect URI not registered for it: RFC 6749
    section 4.1.2.1 forbids redirecting then, so this is shown to the user instead."""


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    name: str
    skip_consent: bool = False
    pkce_required: bool = True

    def secret_matches(self, secret: str | None) -> bool:
        return secret is not None and hmac.compare_digest(secret.encode(), self.client_secret.encode())


def parse_clients(raw: Iterable[Any]) -> dict[str, OAuthClient]:
    """Validate the `oauth_clients` config; ValueError naming the entry and field otherwise."""
    clients: dict[str, OAuthClient] = {}
    known = {"client_id", "client_secret", "redirect_uri", "name", "skip_consent", "pkce_required"}
    for i, entry in enumerate(raw):
        where = f"oauth_clients[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a dict with client_id, client_secret and redirect_uri")
        unknown = set(entry) - known
        if unknown:
            raise ValueError(
                f"{where}.{sorted(unknown)[0]}: unknown field (known: {', '.join(sorted(known))})"
            )
        client_id = entry.get("client_id")
        if not isinstance(client_id, str) or not re.fullmatch(r"[A-Za-z0-9._:-]{1,255}", client_id):
            raise ValueError(f"{where}.client_id: required, 1-255 letters, digits or . _ : -")
        if client_id in clients:
            raise ValueError(f"{where}.client_id: {client_id!r} is registered twice")
        secret = entry.get("client_secret")
        if not isinstance(secret, str) or len(secret) < 16:
            raise ValueError(f"{where}.client_secret: required, at least 16 characters")
        uris = entry.get("redirect_uri")
        uris = [uris] if isinstance(uris, str) else uris
        if not isinstance(uris, list) or not uris:
            raise ValueError(f"{where}.redirect_uri: required (a URL or a list of URLs)")
        for uri in uris:
            parts = urlsplit(uri) if isinstance(uri, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
                raise ValueError(
                    f"{where}.redirect_uri: {uri!r} is not an absolute http(s) URL without fragment"
                )
        for flag in ("skip_consent", "pkce_required"):
            if flag in entry and not isinstance(entry[flag], bool):
                raise ValueError(f"{where}.{flag}: must be true or false")
        clients[client_id] = OAuthClient(
            client_id=client_id,
            client_secret=secret,
            redirect_uris=tuple(uris),
            name=str(entry.get("name") or client_id),
            skip_consent=entry.get("skip_consent", False),
            pkce_required=entry.get("pkce_required", True),
        )
    return clients


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorization request (the consent form carries these fields back)."""

    client: OAuthClient
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def form_fields(self) -> dict[str, str]:
        out = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "scope": self.scope,
        }
        if self.code_challenge:
            out["code_challenge"] = self.code_challenge
            out["code_challenge_method"] = self.code_challenge_method or "S256"
        return out


def validate_authorize(clients: dict[str, OAuthClient], params: dict[str, str]) -> AuthorizeRequest:
    """Check an authorization request. Raises InvalidClientOrRedirect (show the user; never redirect) or
    OAuthError (send back to the client's redirect URI)."""
    client_id = params.get("client_id", "")
    client = clients.get(client_id)
    if client is None:
        raise InvalidClientOrRedirect("client_id: unknown client" if client_id else "client_id is missing")
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uri:
        if len(client.redirect_uris) != 1:
            raise InvalidClientOrRedirect("redirect_uri is missing (this client registered several)")
        redirect_uri = client.redirect_uris[0]
    elif redirect_uri not in client.redirect_uris:
        raise InvalidClientOrRedirect("redirect_uri: not registered for this client")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    state = params.get("state", "")
    if not state:
        raise OAuthError("invalid_request", "state is required")
    if len(state) > STATE_MAX:
        raise OAuthError("invalid_request", f"state is longer than {STATE_MAX} characters")
    challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if challenge is None:
        if client.pkce_required:
            raise OAuthError("invalid_request", "code_challenge is required (PKCE with S256)")
        if method:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
    else:
        if (method or "plain") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not PKCE_PATTERN.fullmatch(challenge):
            raise OAuthError(
                "invalid_request", "code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~"
            )
    scope = params.get("scope", "")
    if len(scope) > 255:
        raise OAuthError("invalid_scope", "scope is longer than 255 characters")
    return AuthorizeRequest(client, redirect_uri, state, scope, challenge, method)


def redirect_with(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` added to its query (the registered URI may already have a query)."""
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def issue_code(session: Session, request: AuthorizeRequest, user_id: int, ttl: float) -> str:
    """Store a new code for `user_id` (hashed) and return its value."""
    now = utcnow()
    session.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - timedelta(hours=1)))
    value = new_token_value()
    session.add(
        OAuthCode(
            hashed=hash_token(value),
            client_id=request.client.client_id,
            user_id=user_id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method if request.code_challenge else None,
            scope=request.scope,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    session.flush()
    return value


def authenticate_client(
    clients: dict[str, OAuthClient], client_id: str | None, client_secret: str | None
) -> OAuthClient:
    """The client that sent these credentials, or OAuthError invalid_client (401)."""
    client = clients.get(client_id or "")
    if client is None:
        hmac.compare_digest(b"x" * 16, (client_secret or "").encode())  # same work for unknown ids
        raise OAuthError("invalid_client", "client authentication failed", 401)
    if not client.secret_matches(client_secret):
        raise OAuthError("invalid_client", "client authentication failed", 401)
    return client


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return hmac.compare_digest(expected, challenge)


def exchange_code(
    session: Session, client: OAuthClient, form: dict[str, str], token_ttl: float, now: datetime | None = None
) -> dict[str, Any] | OAuthError:
    """The token response for an authorization_code grant, or the OAuthError to answer with.

    The error is returned, not raised, so that the unit of work still commits what a failed exchange must
    change: a claimed code stays used, and a replayed code's token stays revoked.
    """
    try:
        return _exchange(session, client, form, token_ttl, now or utcnow())
    except OAuthError as exc:
        return exc


def _exchange(
    session: Session, client: OAuthClient, form: dict[str, str], token_ttl: float, now: datetime
) -> dict[str, Any]:
    code_value = form.get("code") or ""
    if not code_value:
        raise OAuthError("invalid_request", "code is required")
    code = session.scalars(select(OAuthCode).where(OAuthCode.hashed == hash_token(code_value))).first()
    if code is None or code.client_id != client.client_id:
        raise OAuthError("invalid_grant", "the authorization code is invalid")
    if code.used_at is not None:
        # a replayed code: revoke what it produced (RFC 6749 section 4.1.2)
        if code.token_id is not None:
            session.execute(delete(ApiToken).where(ApiToken.id == code.token_id))
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if code.expires_at <= now:
        raise OAuthError("invalid_grant", "the authorization code has expired")
    # claim the code atomically, so two concurrent exchanges cannot both succeed
    claim = update(OAuthCode).where(OAuthCode.id == code.id, OAuthCode.used_at.is_(None)).values(used_at=now)
    # an UPDATE's result is a CursorResult (the one with rowcount); Session.execute is typed for any statement
    claimed = cast("CursorResult[Any]", session.execute(claim)).rowcount
    if claimed != 1:
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if form.get("redirect_uri", "") != code.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the one of the authorization request")
    if code.code_challenge:
        verifier = form.get("code_verifier") or ""
        if not verifier:
            raise OAuthError(
                "invalid_grant", "code_verifier is required (the authorization request used PKCE)"
            )
        if not PKCE_PATTERN.fullmatch(verifier) or not pkce_matches(verifier, code.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    user = session.get(User, code.user_id)
    if user is None:
        raise OAuthError("invalid_grant", "the user of this code no longer exists")
    value = create_token(
        session, user, expires_in=token_ttl, note=f"oauth:{client.client_id}"[:255], kind=TOKEN_KIND
    )
    code.token_id = session.scalars(select(ApiToken.id).where(ApiToken.hashed == hash_token(value))).one()
    session.flush()
    return {"access_token": value, "token_type": "Bearer", "expires_in": int(token_ttl), "scope": code.scope}


def revoke_token(session: Session, client: OAuthClient, token: str) -> None:
    """RFC 7009: revoke an access token this client obtained; unknown tokens are not an error."""
    session.execute(
        delete(ApiToken).where(
            ApiToken.hashed == hash_token(token),
            ApiToken.kind == TOKEN_KIND,
            ApiToken.note == f"oauth:{client.client_id}"[:255],
        )
    )
