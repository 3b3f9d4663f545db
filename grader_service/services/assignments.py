"""Assignment use cases: list (students never see unreleased ones), create, update, status, soft delete."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict, Forbidden
from grader_service.grades.api import validate_late_periods
from grader_service.orm.base import utcnow
from grader_service.orm.models import (
    Assignment,
    AssignmentStatus,
    FeedbackRelease,
    GradingBasis,
    ScoreVisibility,
    Submission,
)
from grader_service.schemas.requests import AssignmentCreate, AssignmentFields, AssignmentUpdate
from grader_service.services.access import get_assignment, get_lecture
from grader_service.services.extensions import rescale_submissions
from grader_service.services.feedback_state import queue_due_releases
from grader_service.services.gradebook import enqueue_lecture_recompute
from grader_service.services.guards import require, require_active
from grader_service.services.settings import Limits

#: allowed status changes; unreleasing (released → created) is only allowed without submissions
TRANSITIONS = {
    AssignmentStatus.created: {AssignmentStatus.released},
    AssignmentStatus.released: {AssignmentStatus.closed, AssignmentStatus.created},
    AssignmentStatus.closed: {AssignmentStatus.released},
}


def list_assignments(session: Session, actor: Actor, lecture_id: int) -> list[Assignment]:
    get_lecture(session, actor, lecture_id)
    stmt = (
        select(Assignment)
        .where(Assignment.lecture_id == lecture_id, Assignment.deleted_at.is_(None))
        .order_by(Assignment.position, Assignment.id)
    )
    if not actor.is_staff(lecture_id):
        stmt = stmt.where(Assignment.status != AssignmentStatus.created)
    return list(session.scalars(stmt))


def _late_periods(body: AssignmentFields) -> list[dict[str, Any]]:
    periods = [p.model_dump() for p in body.late_periods or []]
    try:
        validate_late_periods(periods)
    except ValueError as exc:
        errors = getattr(exc, "errors", None) or [{"field": "periods", "message": str(exc)}]
        field = "late_" + errors[0]["field"] if errors[0]["field"].startswith("periods") else "late_periods"
        raise BadRequest(
            f"{field}: {errors[0]['message'].replace('periods[', 'late_periods[')}", field=field
        ) from exc
    return periods


def _apply_fields(assignment: Assignment, body: AssignmentFields, limits: Limits) -> None:
    given = body.model_fields_set
    if "assignment_type" in given:
        if body.assignment_type is None:
            raise BadRequest("assignment_type may not be null", field="assignment_type")
        assignment.assignment_type = body.assignment_type
    if "points" in given:
        if body.points is None:
            raise BadRequest("points may not be null", field="points")
        assignment.points = body.points
    if "deadline" in given:
        assignment.deadline = body.deadline.astimezone(UTC) if body.deadline else None
    if "late_periods" in given:
        assignment.late_periods = _late_periods(body)
    if "max_submissions" in given:
        assignment.max_submissions = body.max_submissions
    if "cell_timeout" in given:
        assignment.cell_timeout = limits.clamp_cell_timeout(body.cell_timeout)
    if "allowed_files" in given:
        assignment.allowed_files = list(body.allowed_files or [])
    if "position" in given and body.position is not None:
        assignment.position = body.position
    if "grading_basis" in given:
        if body.grading_basis is None:
            raise BadRequest("grading_basis may not be null", field="grading_basis")
        assignment.grading_basis = GradingBasis(body.grading_basis)
    for name, kind in (("feedback_release", FeedbackRelease), ("score_visibility", ScoreVisibility)):
        if name in given:
            value = getattr(body, name)
            if value is None:
                raise BadRequest(f"{name} may not be null", field=name)
            setattr(assignment, name, kind(value))
    if assignment.late_periods and assignment.deadline is None:
        raise BadRequest("late_periods need a deadline", field="late_periods")


def create_assignment(
    session: Session, actor: Actor, lecture_id: int, body: AssignmentCreate, limits: Limits
) -> Assignment:
    require_active(get_lecture(session, actor, lecture_id))
    assignment = Assignment(
        lecture_id=lecture_id,
        name=body.name,
        late_periods=[],
        allowed_files=[],
        cell_timeout=limits.clamp_cell_timeout(None),
        status=AssignmentStatus.created,
    )
    _apply_fields(assignment, body, limits)
    session.add(assignment)
    session.flush()
    return assignment


def _has_submissions(session: Session, assignment_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Submission.assignment_id == assignment_id))))


def _grading_inputs(assignment: Assignment) -> tuple[Any, ...]:
    return (
        assignment.status == AssignmentStatus.created,
        assignment.assignment_type,
        assignment.points,
        assignment.grading_basis,
    )


def update_assignment(
    session: Session,
    actor: Actor,
    lecture_id: int,
    assignment_id: int,
    body: AssignmentUpdate,
    limits: Limits,
) -> Assignment:
    assignment = get_assignment(session, actor, lecture_id, assignment_id, for_update=True)
    require(session, assignment, "edit")
    before = _grading_inputs(assignment)
    lateness_before = (assignment.deadline, list(assignment.late_periods or []))
    release_before = (assignment.feedback_release, assignment.deadline)
    if body.name is not None:
        assignment.name = body.name
    _apply_fields(assignment, body, limits)
    if body.status is not None and AssignmentStatus(body.status) != assignment.status:
        new = AssignmentStatus(body.status)
        if new not in TRANSITIONS[assignment.status]:
            raise Conflict(
                f"an assignment cannot go from {assignment.status.value} to {new.value}", field="status"
            )
        if new == AssignmentStatus.released and assignment.release_commit is None:
            raise Conflict(
                "generate the assignment before releasing it (POST .../generate): students need "
                "the student version in the release repository",
                field="status",
            )
        if new == AssignmentStatus.created and _has_submissions(session, assignment.id):
            raise Conflict(
                "the assignment has submissions; close it instead of unreleasing it", field="status"
            )
        assignment.status = new
    assignment.updated_at = utcnow()
    session.flush()
    rescaled = False
    if (assignment.deadline, list(assignment.late_periods or [])) != lateness_before:
        rescaled = bool(rescale_submissions(session, assignment))
    if _grading_inputs(assignment) != before or rescaled:
        # What counts (released or not, type, points, best/latest) changed: recompute the lecture's grades,
        # this assignment's from its submissions.
        enqueue_lecture_recompute(
            session, lecture_id, reason="assignment changed", assignment_ids=[assignment.id]
        )
    if (assignment.feedback_release, assignment.deadline) != release_before:
        queue_due_releases(session, assignment)  # e.g. switched to on_grading: graded work goes out now
    return assignment


def delete_assignment(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, force: bool
) -> None:
    assignment = get_assignment(session, actor, lecture_id, assignment_id, for_update=True)
    require(session, assignment, "edit")
    if force and not actor.is_admin:
        raise Forbidden("only an admin may force the deletion of an assignment", field="force")
    if _has_submissions(session, assignment.id) and not force:
        raise Conflict(
            f"assignment {assignment.name!r} has submissions; close it instead, or ask an admin "
            "to delete it with ?force=true"
        )
    assignment.deleted_at = utcnow()
    if assignment.status != AssignmentStatus.created:
        enqueue_lecture_recompute(session, lecture_id, reason="assignment deleted")
