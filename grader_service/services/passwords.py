"""Admin-managed passwords of PasswordAuthenticator users: set (creating the user if needed) and remove."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.auth.passwords import check_password_rules, hash_password
from grader_service.errors import BadRequest, NotFound
from grader_service.orm.auth import LoginSession, PasswordUser
from grader_service.orm.models import User
from grader_service.schemas.responses.service import PasswordChanged
from grader_service.services.users import get_or_create_user


def set_password(session: Session, username: str, password: str) -> PasswordChanged:
    try:
        check_password_rules(password)
    except ValueError as exc:
        raise BadRequest(str(exc), field="password") from None
    user = get_or_create_user(session, username)
    session.flush()
    row = session.get(PasswordUser, user.id)
    created = row is None
    if row is None:
        session.add(PasswordUser(user_id=user.id, password_hash=hash_password(password)))
    else:
        row.password_hash = hash_password(password)
        # a new password ends the user's browser sessions
        session.query(LoginSession).filter(LoginSession.user_id == user.id).delete()
    session.flush()
    return PasswordChanged(username=user.name, created=created)


def remove_password(session: Session, username: str) -> None:
    user_id = session.scalar(select(User.id).where(User.name == username))
    row = session.get(PasswordUser, user_id) if user_id is not None else None
    if row is None:
        raise NotFound(f"user {username!r} has no password")
    session.delete(row)
    session.query(LoginSession).filter(LoginSession.user_id == user_id).delete()
