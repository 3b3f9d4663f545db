"""Browser logins at the service: a random cookie value whose SHA-256 is a LoginSession row, and sign-in.

Sign-in turns an authenticated identity into the local user: created on first login, display name and
admin flag updated, lecture roles mapped from groups and `load_roles`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader_service.auth.role_mapping import RoleRule, apply_roles, mapped_roles
from grader_service.auth.tokens import hash_token, new_token_value
from grader_service.orm.auth import LoginSession
from grader_service.orm.base import utcnow
from grader_service.orm.models import User
from grader_service.services.users import get_or_create_user

COOKIE_NAME = "grader-session"


@dataclass(frozen=True)
class Identity:
    """Who an authenticator says the user is."""

    name: str
    display_name: str | None = None
    groups: tuple[str, ...] = ()
    admin: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionUser:
    user_id: int
    name: str


def sign_in(session: Session, identity: Identity, rules: list[RoleRule]) -> User:
    """The local user of `identity`, with display name, admin flag and mapped lecture roles brought up to
    date."""
    user = get_or_create_user(session, identity.name, identity.display_name)
    session.flush()
    if identity.admin and not user.admin:
        user.admin = True
    apply_roles(session, user, mapped_roles(user.name, identity.groups, rules))
    return user


def start_session(session: Session, identity: Identity, rules: list[RoleRule], ttl: float) -> str:
    """Sign `identity` in and open a login session; returns the cookie value."""
    user = sign_in(session, identity, rules)
    now = utcnow()
    session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    value = new_token_value()
    session.add(
        LoginSession(
            hashed=hash_token(value), user_id=user.id, created_at=now, expires_at=now + timedelta(seconds=ttl)
        )
    )
    session.flush()
    return value


def session_user(session: Session, value: str) -> SessionUser | None:
    row = session.execute(
        select(LoginSession.expires_at, User.id, User.name)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.hashed == hash_token(value))
    ).first()
    if row is None or row[0] <= utcnow():
        return None
    return SessionUser(row[1], row[2])


def end_session(session: Session, value: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.hashed == hash_token(value)))
