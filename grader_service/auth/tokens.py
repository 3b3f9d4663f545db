"""API tokens: created random, stored as SHA-256, looked up without writing on every request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.orm.base import utcnow
from grader_service.orm.models import ApiToken, Lecture, LectureMember, User

#: how stale `last_used` may get before a request refreshes it (so a token check is read-only nearly always)
LAST_USED_RESOLUTION = timedelta(minutes=5)
#: `ApiToken.kind` of a remote worker's credential: it opens the worker routes only, never a user's
WORKER_TOKEN_KIND = "worker"
#: `ApiToken.kind` of a JupyterHub token the Hub vouched for (hub-token mode): a short-lived cache row
HUB_TOKEN_KIND = "hub"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_value() -> str:
    return secrets.token_hex(24)


def create_token(
    session: Session,
    user: User,
    *,
    expires_in: float | None = None,
    note: str | None = None,
    kind: str = "api",
) -> str:
    """Create a token for `user` and return its value (the only time the value is known)."""
    value = new_token_value()
    expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
    session.add(
        ApiToken(
            user_id=user.id,
            hashed=hash_token(value),
            prefix=value[:4],
            kind=kind,
            note=note,
            expires_at=expires_at,
        )
    )
    session.flush()
    return value


def parse_authorization(header: str | None) -> str | None:
    """The token from `token <t>`, `Bearer <t>` or HTTP Basic (password = token, any user name)."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    rest = rest.strip()
    if scheme in ("token", "bearer") and rest:
        return rest
    if scheme == "basic" and rest:
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, sep, password = decoded.partition(":")
        return password if sep and password else None
    return None


def resolve_actor(
    session: Session, token: str, admin_users: frozenset[str], now: datetime | None = None
) -> Actor | None:
    """The caller behind `token`, with their lecture roles; None when unknown or expired."""
    now = now or utcnow()
    row = session.execute(
        select(
            ApiToken.id,
            ApiToken.expires_at,
            ApiToken.last_used,
            ApiToken.kind,
            User.id,
            User.name,
            User.admin,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.hashed == hash_token(token))
    ).first()
    if row is None:
        return None
    token_id, expires_at, last_used, kind, user_id, name, admin = row
    if expires_at is not None and expires_at <= now:
        return None
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used=now))
    if kind == WORKER_TOKEN_KIND:  # no lecture roles and never admin, whoever the account is
        return Actor(user_id=user_id, name=name, token_id=token_id, is_worker=True)
    roles = dict(
        session.execute(
            select(LectureMember.lecture_id, LectureMember.role)
            .join(Lecture, Lecture.id == LectureMember.lecture_id)
            .where(LectureMember.user_id == user_id, Lecture.deleted_at.is_(None))
        ).all()
    )
    return Actor(
        user_id=user_id, name=name, is_admin=admin or name in admin_users, roles=roles, token_id=token_id
    )
