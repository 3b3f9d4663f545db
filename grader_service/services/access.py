"""Fetching lectures and assignments the way the caller may see them (404 for everything hidden)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import NotFound
from grader_service.orm.models import Assignment, AssignmentStatus, Lecture, Submission


def get_lecture(session: Session, actor: Actor, lecture_id: int) -> Lecture:
    lecture = session.get(Lecture, lecture_id)
    if lecture is None or lecture.deleted_at is not None:
        raise NotFound(f"lecture {lecture_id} not found")
    if not actor.is_admin and actor.role_in(lecture_id) is None:
        raise NotFound(f"lecture {lecture_id} not found")
    return lecture


def assignment_visible(actor: Actor, assignment: Assignment) -> bool:
    if assignment.deleted_at is not None:
        return False
    if actor.is_staff(assignment.lecture_id):
        return True
    return actor.role_in(assignment.lecture_id) is not None and assignment.status != AssignmentStatus.created


def get_assignment(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, *, for_update: bool = False
) -> Assignment:
    get_lecture(session, actor, lecture_id)
    stmt = select(Assignment).where(Assignment.id == assignment_id, Assignment.lecture_id == lecture_id)
    if for_update:
        stmt = stmt.with_for_update()
    assignment = session.scalars(stmt).first()
    if assignment is None or not assignment_visible(actor, assignment):
        raise NotFound(f"assignment {assignment_id} not found in lecture {lecture_id}")
    return assignment


def get_submission(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, submission_id: int
) -> Submission:
    assignment = get_assignment(session, actor, lecture_id, assignment_id)
    submission = session.get(Submission, submission_id)
    if submission is None or submission.assignment_id != assignment.id:
        raise NotFound(f"submission {submission_id} not found")
    if not actor.is_staff(lecture_id) and submission.user_id != actor.user_id:
        raise NotFound(f"submission {submission_id} not found")
    return submission
