"""Per-student deadline extensions: grant, change, withdraw and list them; the deadline each student has.

An extension never shortens anything: a student's effective deadline is the later of the assignment's
deadline and their own, and an assignment without a deadline has no cut-off for anybody. The late periods
count from the effective deadline. Changing an extension rescales that student's submissions (the raw score
is kept) and recomputes their grades, as an assignment deadline change does for everyone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict, NotFound
from grader_service.grades.api import late_scaling
from grader_service.orm.base import utcnow
from grader_service.orm.models import Assignment, AssignmentExtension, LectureMember, Submission, User
from grader_service.schemas.extensions import ExtensionPut, ExtensionView
from grader_service.services.access import get_assignment
from grader_service.services.dispatch import Task, enqueue
from grader_service.services.guards import require


def effective_deadline(assignment: Assignment, extension: datetime | None) -> datetime | None:
    """The deadline that counts for one student: the later of the assignment's and their extension."""
    if assignment.deadline is None:
        return None
    if extension is None:
        return assignment.deadline
    return max(assignment.deadline, extension)


def extension_of(session: Session, assignment_id: int, user_id: int) -> datetime | None:
    return session.scalar(
        select(AssignmentExtension.deadline).where(
            AssignmentExtension.assignment_id == assignment_id, AssignmentExtension.user_id == user_id
        )
    )


def deadline_for(session: Session, assignment: Assignment, user_id: int) -> datetime | None:
    """The effective deadline of `user_id` for `assignment` (one indexed read)."""
    return effective_deadline(assignment, extension_of(session, assignment.id, user_id))


def extensions_by_user(session: Session, assignment_id: int) -> dict[int, datetime]:
    rows = session.execute(
        select(AssignmentExtension.user_id, AssignmentExtension.deadline).where(
            AssignmentExtension.assignment_id == assignment_id
        )
    )
    return {uid: deadline for uid, deadline in rows}


def scaling_at(assignment: Assignment, deadline: datetime | None, submitted_at: datetime) -> float:
    """The late scaling of a hand-in at `submitted_at` under `deadline`; 0 when later than every period."""
    if deadline is None:
        return 1.0
    found = late_scaling(deadline, submitted_at, assignment.late_periods or [])
    return 0.0 if found is None else found


def rescale_submissions(session: Session, assignment: Assignment, user_id: int | None = None) -> list[int]:
    """Apply the current deadlines (the assignment's and each student's extension) and late periods to
    the submissions already handed in (all, or one student's); returns the users whose scaling changed.
    A submission now later than every period counts 0 (it stays: nothing a student handed in is deleted)."""
    stmt = select(
        Submission.id, Submission.user_id, Submission.submitted_at, Submission.late_scaling, Submission.score
    ).where(Submission.assignment_id == assignment.id)
    if user_id is not None:
        stmt = stmt.where(Submission.user_id == user_id)
    own = extensions_by_user(session, assignment.id)
    changes, users = [], set()
    for sid, uid, submitted_at, old, score in session.execute(stmt):
        scaling = scaling_at(assignment, effective_deadline(assignment, own.get(uid)), submitted_at)
        if scaling != old:
            users.add(uid)
            changes.append(
                {
                    "id": sid,
                    "late_scaling": scaling,
                    "final_score": None if score is None else score * scaling,
                }
            )
    if changes:
        session.execute(update(Submission), changes)
    return sorted(users)


def _member(session: Session, lecture_id: int, username: str) -> User:
    user = session.scalar(
        select(User)
        .join(LectureMember, LectureMember.user_id == User.id)
        .where(LectureMember.lecture_id == lecture_id, User.name == username)
    )
    if user is None:
        raise NotFound(f"{username!r} is not a member of lecture {lecture_id}")
    return user


def _view(assignment: Assignment, username: str, row: AssignmentExtension) -> ExtensionView:
    return ExtensionView(
        username=username,
        deadline=row.deadline,
        assignment_deadline=assignment.deadline,
        effective_deadline=effective_deadline(assignment, row.deadline),
        granted_by=row.granted_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def own_extensions(session: Session, actor: Actor, lecture_id: int) -> dict[int, datetime]:
    """assignment id → the caller's own extended deadline, for the lecture's assignments (one query)."""
    rows = session.execute(
        select(AssignmentExtension.assignment_id, AssignmentExtension.deadline)
        .join(Assignment, Assignment.id == AssignmentExtension.assignment_id)
        .where(AssignmentExtension.user_id == actor.user_id, Assignment.lecture_id == lecture_id)
    )
    return {aid: deadline for aid, deadline in rows}


def list_extensions(session: Session, actor: Actor, lid: int, aid: int) -> list[ExtensionView]:
    assignment = get_assignment(session, actor, lid, aid)
    rows = session.execute(
        select(AssignmentExtension, User.name)
        .join(User, User.id == AssignmentExtension.user_id)
        .where(AssignmentExtension.assignment_id == assignment.id)
        .order_by(User.name)
    )
    return [_view(assignment, name, row) for row, name in rows]


def get_extension(session: Session, actor: Actor, lid: int, aid: int, username: str) -> ExtensionView:
    """Staff read anyone's extension; a student only their own (anyone else's is 404)."""
    assignment = get_assignment(session, actor, lid, aid)
    if not actor.is_staff(lid) and username != actor.name:
        raise NotFound(f"no extension for {username!r}")
    user = _member(session, lid, username)
    row = session.get(AssignmentExtension, (assignment.id, user.id))
    if row is None:
        raise NotFound(f"no extension for {username!r}")
    return _view(assignment, username, row)


def _after_change(session: Session, assignment: Assignment, lid: int, user_id: int) -> None:
    if rescale_submissions(session, assignment, user_id):
        enqueue(session, Task.RECOMPUTE_LEARNER, lecture_id=lid, user_id=user_id)


def put_extension(
    session: Session, actor: Actor, lid: int, aid: int, username: str, body: ExtensionPut
) -> tuple[ExtensionView, bool]:
    """Grant or change an extension; returns the view and whether it was created."""
    assignment = get_assignment(session, actor, lid, aid, for_update=True)
    require(session, assignment, "edit")
    user = _member(session, lid, username)
    if assignment.deadline is None:
        raise Conflict("the assignment has no deadline, so there is nothing to extend", field="deadline")
    deadline = body.deadline.astimezone(UTC)
    if deadline <= assignment.deadline:
        raise BadRequest(
            f"deadline: must be later than the assignment's deadline ({assignment.deadline.isoformat()})",
            field="deadline",
        )
    row = session.get(AssignmentExtension, (assignment.id, user.id))
    created = row is None
    if row is None:
        row = AssignmentExtension(assignment_id=assignment.id, user_id=user.id, deadline=deadline)
        session.add(row)
    row.deadline, row.granted_by, row.updated_at = deadline, actor.name, utcnow()
    session.flush()
    _after_change(session, assignment, lid, user.id)
    return _view(assignment, username, row), created


def delete_extension(session: Session, actor: Actor, lid: int, aid: int, username: str) -> None:
    assignment = get_assignment(session, actor, lid, aid, for_update=True)
    require(session, assignment, "edit")
    user = _member(session, lid, username)
    row = session.get(AssignmentExtension, (assignment.id, user.id))
    if row is None:
        raise NotFound(f"no extension for {username!r}")
    session.delete(row)
    session.flush()
    _after_change(session, assignment, lid, user.id)
