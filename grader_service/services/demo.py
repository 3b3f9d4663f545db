"""Seeds the demo lecture: an instructor, a tutor, two students with tokens, and one released assignment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from grader_service.auth.tokens import create_token
from grader_service.orm.models import ApiToken, Assignment, AssignmentStatus, Lecture, LectureMember, Role
from grader_service.services.settings import Limits
from grader_service.services.users import get_or_create_user

DEMO_LECTURE = {"code": "demo101", "name": "Demo 101: Python for Data Science"}
DEMO_ASSIGNMENT = "Assignment 1: Python basics"
DEMO_USERS = {
    "instructor": ("instructor", "Ines Instructor", Role.instructor),
    "tutor": ("tutor", "Tim Tutor", Role.tutor),
    "student1": ("student1", "Sam Student", Role.student),
    "student2": ("student2", "Sue Student", Role.student),
}
DEMO_TOKEN_NOTE = "demo"


def seed_demo(session: Session, limits: Limits) -> dict[str, Any]:
    """Create (or find) the demo data; every run issues fresh tokens and revokes the previous demo ones."""
    lecture = session.scalars(select(Lecture).where(Lecture.code == DEMO_LECTURE["code"])).first()
    if lecture is None:
        lecture = Lecture(**DEMO_LECTURE)
        session.add(lecture)
        session.flush()
    members = {
        m.user_id: m
        for m in session.scalars(select(LectureMember).where(LectureMember.lecture_id == lecture.id))
    }
    users: dict[str, Any] = {}
    for key, (name, display, role) in DEMO_USERS.items():
        user = get_or_create_user(session, name, display)
        session.flush()
        if user.id in members:
            members[user.id].role = role
        else:
            session.add(LectureMember(lecture_id=lecture.id, user_id=user.id, role=role))
        session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.note == DEMO_TOKEN_NOTE))
        token = create_token(session, user, note=DEMO_TOKEN_NOTE)
        users[key] = {"name": name, "display_name": display, "role": role.value, "token": token}
    assignment = session.scalars(
        select(Assignment).where(
            Assignment.lecture_id == lecture.id,
            Assignment.name == DEMO_ASSIGNMENT,
            Assignment.deleted_at.is_(None),
        )
    ).first()
    if assignment is None:
        # created unreleased: the demo command generates the release from the source notebook, then releases
        assignment = Assignment(
            lecture_id=lecture.id,
            name=DEMO_ASSIGNMENT,
            assignment_type="Homework",
            points=0.0,
            late_periods=[],
            allowed_files=[],
            cell_timeout=limits.clamp_cell_timeout(None),
            status=AssignmentStatus.created,
        )
        session.add(assignment)
    session.flush()
    return {
        "lecture": {"id": lecture.id, "code": lecture.code, "name": lecture.name},
        "assignment": {
            "id": assignment.id,
            "name": assignment.name,
            "status": assignment.status.value,
            "generated": assignment.release_commit is not None,
        },
        "users": users,
    }
