"""Sign-in: turn an authenticated identity into the local user, then open a login session or remember a hub
token for it.

The user is created on first login; display name and admin flag are brought up to date and lecture roles
mapped from the identity's groups and `load_roles`. The login pages (web/) and hub-token mode (auth/hub.py,
which the app hands `remember_hub_token`) call these; auth/ itself never imports a service.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader_service.auth.login_sessions import Identity
from grader_service.auth.role_mapping import RoleRule, apply_roles, mapped_roles
from grader_service.auth.tokens import HUB_TOKEN_KIND, hash_token, new_token_value
from grader_service.orm.auth import LoginSession
from grader_service.orm.base import utcnow
from grader_service.orm.models import ApiToken, User
from grader_service.services.users import get_or_create_user


def sign_in(session: Session, identity: Identity, rules: list[RoleRule]) -> User:
    """The local user of `identity`, with display name, admin flag and mapped lecture roles up to date."""
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


def remember_hub_token(
    session: Session, identity: Identity, rules: list[RoleRule], key: str, ttl: float
) -> None:
    """Sign the hub user in (roles from groups) and keep the token's hash for `ttl` seconds."""
    user = sign_in(session, identity, rules)
    now = utcnow()
    session.execute(
        delete(ApiToken).where(ApiToken.kind == HUB_TOKEN_KIND, ApiToken.expires_at < now - timedelta(days=1))
    )
    row = session.scalars(select(ApiToken).where(ApiToken.hashed == key)).first()
    expires_at = now + timedelta(seconds=ttl)
    if row is None:
        session.add(
            ApiToken(
                user_id=user.id,
                hashed=key,
                prefix="hub",
                kind=HUB_TOKEN_KIND,
                note="jupyterhub",
                expires_at=expires_at,
            )
        )
    elif row.kind == HUB_TOKEN_KIND and row.user_id == user.id:
        row.expires_at = expires_at
    session.flush()
