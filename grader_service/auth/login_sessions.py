"""Browser logins at the service: who an authenticator says the user is, and the login session cookie (a
random value whose SHA-256 is a LoginSession row). Signing in (identity → local user) is a service:
services/sign_in.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader_service.auth.tokens import hash_token
from grader_service.orm.auth import LoginSession
from grader_service.orm.base import utcnow
from grader_service.orm.models import User

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
