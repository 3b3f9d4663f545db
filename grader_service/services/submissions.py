"""Submission use cases: hand in (release, deadline, late-period and max-submission rules), list, grade."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore
from grader_service.grades.api import late_scaling
from grader_service.orm.base import utcnow
from grader_service.orm.models import (
    AutoStatus,
    FeedbackStatus,
    Job,
    ManualStatus,
    Submission,
    User,
)
from grader_service.schemas.requests import SubmissionCreate, SubmissionUpdate
from grader_service.schemas.responses.resources import SubmissionLogJob, SubmissionLogs
from grader_service.services.access import get_assignment, get_lecture, get_submission
from grader_service.services.extensions import deadline_for
from grader_service.services.grading import queue_autograde
from grader_service.services.grading_record import needs_manual_clause, recompute_from_cells
from grader_service.services.guards import require
from grader_service.services.settings import Limits

# Handing in is check-then-insert; these locks serialise it per (assignment, user) within one process, and
# the row lock on the user serialises it across processes on PostgreSQL.
_LOCKS = [threading.Lock() for _ in range(64)]


def _lock_for(assignment_id: int, user_id: int) -> threading.Lock:
    return _LOCKS[hash((assignment_id, user_id)) % len(_LOCKS)]


def recompute_scores(submission: Submission) -> None:
    """Score from the per-cell grading record (or the automatic score before there is one), late scaled."""
    recompute_from_cells(submission)


def _submitted_commit(
    store: RepoStore, lecture_code: str, assignment_id: int, username: str, commit: str | None
) -> str:
    """The commit to hand in: the one named (it must be in the student's repo) or the repo's newest."""
    ref = RepoRef(lecture_code, str(assignment_id), "user", username)
    store.seed_user_repo(lecture_code, str(assignment_id), username)  # idempotent, under the repo's lock
    if commit is None:
        head = store.head(ref)
        if head is None:
            raise Conflict(
                "your repository has no commits yet: fetch the assignment and push your work first"
            )
        return head
    if not store.has_commit(ref, commit):
        raise BadRequest(
            f"commit {commit} is not in your repository for this assignment; push it first", field="commit"
        )
    return commit


def create_submission(
    session: Session,
    actor: Actor,
    lecture_id: int,
    assignment_id: int,
    body: SubmissionCreate,
    limits: Limits,
    store: RepoStore,
    now: datetime | None = None,
) -> Submission:
    lecture = get_lecture(session, actor, lecture_id)
    assignment = get_assignment(session, actor, lecture_id, assignment_id)
    require(session, assignment, "submit")
    commit = _submitted_commit(store, lecture.code, assignment.id, actor.name, body.commit)
    with _lock_for(assignment.id, actor.user_id):
        session.scalars(select(User).where(User.id == actor.user_id).with_for_update()).one()
        now = now or utcnow()
        scaling = 1.0
        deadline = deadline_for(session, assignment, actor.user_id)  # their extension, if they have one
        if deadline is not None:
            found = late_scaling(deadline, now, assignment.late_periods or [])
            if found is None:
                raise Conflict(
                    f"the deadline ({deadline.isoformat()}) "
                    + ("and every late period have" if assignment.late_periods else "has")
                    + " passed"
                )
            scaling = found
        if assignment.max_submissions is not None:
            count = (
                session.scalar(
                    select(func.count())
                    .select_from(Submission)
                    .where(Submission.assignment_id == assignment.id, Submission.user_id == actor.user_id)
                )
                or 0
            )
            if count >= assignment.max_submissions:
                raise Conflict(f"the maximum number of submissions ({assignment.max_submissions}) is reached")
        submission = Submission(
            assignment_id=assignment.id,
            user_id=actor.user_id,
            commit_hash=commit,
            submitted_at=now,
            late_scaling=scaling,
            auto_status=AutoStatus.pending,
            manual_status=ManualStatus.not_graded,
            feedback_status=FeedbackStatus.not_generated,
        )
        session.add(submission)
        session.flush()
        queue_autograde(session, submission, limits)
        session.commit()
    return submission


def list_submissions(
    session: Session,
    actor: Actor,
    lecture_id: int,
    assignment_id: int,
    username: str | None,
    filter_: str | None,
    *,
    needs_manual: bool | None = None,
    auto_status: str | None = None,
) -> list[tuple[Submission, str]]:
    assignment = get_assignment(session, actor, lecture_id, assignment_id)
    if filter_ not in (None, "", "latest", "best"):
        raise BadRequest(f"filter must be 'latest' or 'best' (got {filter_!r})", field="filter")
    statuses = [s.value for s in AutoStatus]
    if auto_status is not None and auto_status not in statuses:
        raise BadRequest(
            f"auto_status must be one of {', '.join(statuses)} (got {auto_status!r})", field="auto_status"
        )
    stmt = (
        select(Submission, User.name)
        .join(User, User.id == Submission.user_id)
        .where(Submission.assignment_id == assignment.id)
    )
    if not actor.is_staff(lecture_id):
        stmt = stmt.where(Submission.user_id == actor.user_id)
    elif username:
        stmt = stmt.where(User.name == username)
    if auto_status is not None:
        stmt = stmt.where(Submission.auto_status == AutoStatus(auto_status))
    if needs_manual is not None:
        waiting = needs_manual_clause()
        stmt = stmt.where(waiting if needs_manual else ~waiting)
    if filter_:
        order = (
            (
                Submission.final_score.is_(None),
                Submission.final_score.desc(),
                Submission.submitted_at.desc(),
                Submission.id.desc(),
            )
            if filter_ == "best"
            else (Submission.submitted_at.desc(), Submission.id.desc())
        )
        rank = func.row_number().over(partition_by=Submission.user_id, order_by=order).label("rank")
        inner = stmt.add_columns(rank).subquery()
        ranked = (
            select(Submission, User.name)
            .join(inner, inner.c.id == Submission.id)
            .join(User, User.id == Submission.user_id)
            .where(inner.c.rank == 1)
        )
        stmt = ranked
    stmt = stmt.order_by(Submission.submitted_at.desc(), Submission.id.desc())
    return [(s, n) for s, n in session.execute(stmt)]


def get_submission_view(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, submission_id: int
) -> tuple[Submission, str]:
    submission = get_submission(session, actor, lecture_id, assignment_id, submission_id)
    name = session.scalar(select(User.name).where(User.id == submission.user_id))
    return submission, name or ""


def update_submission(
    session: Session,
    actor: Actor,
    lecture_id: int,
    assignment_id: int,
    submission_id: int,
    body: SubmissionUpdate,
) -> tuple[Submission, str]:
    submission, name = get_submission_view(session, actor, lecture_id, assignment_id, submission_id)
    require(session, submission.assignment, "grade")
    given = body.model_fields_set
    for field in ("auto_status", "manual_status"):
        if field in given:
            value = getattr(body, field)
            if value is None:
                raise BadRequest(f"{field} may not be null", field=field)
            setattr(submission, field, type(getattr(submission, field))(value))
    recompute_scores(submission)
    submission.updated_at = utcnow()
    session.flush()
    return submission, name


def submission_logs(
    session: Session, actor: Actor, lecture_id: int, assignment_id: int, submission_id: int
) -> SubmissionLogs:
    submission = get_submission(session, actor, lecture_id, assignment_id, submission_id)
    job = session.scalars(
        select(Job).where(Job.submission_id == submission.id, Job.kind == "autograde").order_by(Job.id.desc())
    ).first()
    if job is None:
        return SubmissionLogs(submission_id=submission.id, job=None, log="")
    return SubmissionLogs(
        submission_id=submission.id,
        job=SubmissionLogJob(id=job.id, state=job.state, error=job.error),
        log=job.log or "",
    )
