"""Users: created on first mention, looked up by name; the 'who am I' view."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.orm.models import Lecture, LectureMember, User
from grader_service.schemas.responses.service import Me, MyLecture


def get_or_create_user(session: Session, name: str, display_name: str | None = None) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is not None:
        if display_name and user.display_name != display_name:
            user.display_name = display_name
        return user
    user = User(name=name, display_name=display_name)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:  # created concurrently by another request
        user = session.scalars(select(User).where(User.name == name)).one()
    return user


def whoami(session: Session, actor: Actor) -> Me:
    user = session.get(User, actor.user_id)
    rows = session.execute(
        select(Lecture.id, Lecture.code, Lecture.name, LectureMember.role)
        .join(LectureMember, LectureMember.lecture_id == Lecture.id)
        .where(LectureMember.user_id == actor.user_id, Lecture.deleted_at.is_(None))
        .order_by(Lecture.id)
    ).all()
    return Me(
        id=actor.user_id,
        name=actor.name,
        display_name=user.display_name if user else None,
        admin=actor.is_admin,
        lectures=[MyLecture(id=i, code=c, name=n, role=r) for i, c, n, r in rows],
    )
