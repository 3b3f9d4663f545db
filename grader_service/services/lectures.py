"""Lecture use cases: list, create, update, soft delete, and bulk membership changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict, Forbidden
from grader_service.orm.base import utcnow
from grader_service.orm.models import (
    Assignment,
    Lecture,
    LectureMember,
    LectureStatus,
    Role,
    Submission,
    User,
)
from grader_service.schemas.requests import LectureCreate, LectureUpdate, MemberItem, MemberRemoval
from grader_service.services.access import get_lecture
from grader_service.services.users import get_or_create_user


def list_lectures(session: Session, actor: Actor, include_archived: bool = True) -> list[Lecture]:
    stmt = select(Lecture).where(Lecture.deleted_at.is_(None)).order_by(Lecture.id)
    if not actor.is_admin:
        stmt = stmt.where(Lecture.id.in_(list(actor.roles)))
    if not include_archived:
        stmt = stmt.where(Lecture.status == LectureStatus.active)
    return list(session.scalars(stmt))


def create_lecture(session: Session, actor: Actor, body: LectureCreate) -> Lecture:
    if session.scalars(select(Lecture.id).where(Lecture.code == body.code)).first() is not None:
        raise Conflict(f"a lecture with code {body.code!r} already exists", field="code")
    lecture = Lecture(code=body.code, name=body.name)
    session.add(lecture)
    session.flush()
    return lecture


def update_lecture(session: Session, actor: Actor, lecture_id: int, body: LectureUpdate) -> Lecture:
    lecture = get_lecture(session, actor, lecture_id)
    if body.name is not None:
        lecture.name = body.name
    if body.status is not None:
        lecture.status = LectureStatus(body.status)
    session.flush()
    return lecture


def has_submissions(session: Session, lecture_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(Submission.assignment_id == Assignment.id, Assignment.lecture_id == lecture_id)
            )
        )
    )


def delete_lecture(session: Session, actor: Actor, lecture_id: int, force: bool) -> None:
    """Soft delete: the rows stay (nothing submitted is lost) but the lecture disappears from every view."""
    lecture = get_lecture(session, actor, lecture_id)
    if force and not actor.is_admin:
        raise Forbidden("only an admin may force the deletion of a lecture", field="force")
    if has_submissions(session, lecture_id) and not force:
        raise Conflict(
            f"lecture {lecture.code!r} has submissions; archive it instead, or ask an admin to "
            "delete it with ?force=true"
        )
    lecture.deleted_at = utcnow()
    # free the code so a new lecture can use it; the old one keeps its rows under a tombstone code
    lecture.code = f"{lecture.code[:40]}~deleted~{lecture.id}"


def list_members(
    session: Session, actor: Actor, lecture_id: int, role: str | None
) -> list[tuple[User, Role]]:
    get_lecture(session, actor, lecture_id)
    if role is not None and role not in Role.__members__:
        raise BadRequest(f"role must be one of student, tutor, instructor (got {role!r})", field="role")
    stmt = (
        select(User, LectureMember.role)
        .join(LectureMember, LectureMember.user_id == User.id)
        .where(LectureMember.lecture_id == lecture_id)
        .order_by(LectureMember.role, User.name)
    )
    if role is not None:
        stmt = stmt.where(LectureMember.role == Role(role))
    return [(u, r) for u, r in session.execute(stmt)]


def _no_duplicates(names: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise BadRequest(f"username {name!r} appears twice", field=f"[{i}].username")
        seen.add(name)


def upsert_members(session: Session, actor: Actor, lecture_id: int, items: list[MemberItem]) -> None:
    get_lecture(session, actor, lecture_id)
    _no_duplicates([i.username for i in items])
    existing = {
        m.user_id: m
        for m in session.scalars(select(LectureMember).where(LectureMember.lecture_id == lecture_id))
    }
    for item in items:
        user = get_or_create_user(session, item.username, item.display_name)
        member = existing.get(user.id)
        if member is None:
            session.add(LectureMember(lecture_id=lecture_id, user_id=user.id, role=Role(item.role)))
        else:
            member.role = Role(item.role)
    session.flush()


def remove_members(session: Session, actor: Actor, lecture_id: int, items: list[MemberRemoval]) -> int:
    get_lecture(session, actor, lecture_id)
    _no_duplicates([i.username for i in items])
    names = [i.username for i in items]
    members = session.execute(
        select(LectureMember, User.name)
        .join(User, User.id == LectureMember.user_id)
        .where(LectureMember.lecture_id == lecture_id, User.name.in_(names))
    ).all()
    found = {name for _, name in members}
    for i, name in enumerate(names):
        if name not in found:
            raise BadRequest(f"{name!r} is not a member of this lecture", field=f"[{i}].username")
    for member, _ in members:
        session.delete(member)
    return len(members)


def member_counts(session: Session, lecture_id: int) -> dict[str, int]:
    rows = session.execute(
        select(LectureMember.role, func.count())
        .where(LectureMember.lecture_id == lecture_id)
        .group_by(LectureMember.role)
    )
    counts = {r.value: 0 for r in Role}
    counts.update({r.value: n for r, n in rows})
    return counts
