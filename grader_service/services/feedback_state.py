"""Feedback state of a submission (set by the system only) and the release rules: when grading changes,
queue feedback that the assignment's `feedback_release` says is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.orm.base import utcnow
from grader_service.orm.grading import SubmissionGrading
from grader_service.orm.models import (
    Assignment,
    AutoStatus,
    FeedbackRelease,
    FeedbackStatus,
    Job,
    JobState,
    Submission,
)
from grader_service.schemas.responses.grading import FeedbackState
from grader_service.services import grading_record as rec
from grader_service.services import jobs
from grader_service.services.dispatch import enqueue
from grader_service.services.extensions import deadline_for

JOB_KIND = "feedback"


def outdated(record: SubmissionGrading | None) -> bool:
    """Feedback generated before a later change of scores or comments."""
    return bool(
        record and record.feedback_revision is not None and record.feedback_revision < record.revision
    )


def feedback_state(submission: Submission, record: SubmissionGrading | None) -> FeedbackState:
    return FeedbackState(
        status=submission.feedback_status,
        outdated=outdated(record),
        release_mode=submission.assignment.feedback_release,
        generated_at=record.feedback_generated_at if record else None,
        released_at=record.feedback_released_at if record else None,
        error=record.feedback_error if record else None,
    )


def fully_graded(session: Session, submission: Submission) -> bool:
    """Autograded, and no cell waits for a human."""
    if submission.auto_status != AutoStatus.automatically_graded:
        return False
    cells = rec.cells_of(session, submission.id)
    return bool(cells) and rec.totals(cells)["needs_manual"] == 0


def release_due(session: Session, submission: Submission, now: datetime | None = None) -> bool:
    """Whether the assignment's release mode says this submission's feedback goes out now."""
    assignment = submission.assignment
    mode = assignment.feedback_release
    if mode == FeedbackRelease.manual or not fully_graded(session, submission):
        return False
    if mode == FeedbackRelease.on_grading:
        return True
    deadline = deadline_for(session, assignment, submission.user_id)  # the student's own (extensions)
    return deadline is not None and (now or utcnow()) >= deadline


def queued_job(session: Session, submission_id: int) -> Job | None:
    """A feedback job of this submission that has not started yet (it will read the newest record)."""
    return session.scalars(
        select(Job)
        .where(Job.kind == JOB_KIND, Job.submission_id == submission_id, Job.state == JobState.queued)
        .limit(1)
    ).first()


def queue_feedback(session: Session, submission: Submission, *, release: bool) -> Job:
    """A feedback job for `submission` (sent after commit); a queued one is reused (and made to release)."""
    job = queued_job(session, submission.id)
    if job is not None:
        if release and not (job.payload or {}).get("release"):
            job.payload = {**(job.payload or {}), "release": True}
        return job
    job = jobs.create_job(
        session,
        JOB_KIND,
        lecture_id=submission.assignment.lecture_id,
        assignment_id=submission.assignment_id,
        submission_id=submission.id,
        payload={"release": release},
    )
    if submission.feedback_status != FeedbackStatus.released:
        submission.feedback_status = FeedbackStatus.generating
    enqueue(session, "feedback.generate", job_id=job.id)
    return job


def after_grading_change(session: Session, submission: Submission, record: SubmissionGrading | None) -> None:
    """Called whenever autograde or a tutor changed the record: release what the release mode makes due."""
    if release_due(session, submission):
        queue_feedback(session, submission, release=True)


def due_after_deadline(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queue the release of feedback whose assignment's deadline has passed (the service's periodic sweep).

    Returns the ids of the submissions queued."""
    now = now or utcnow()
    rows = session.scalars(
        select(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(
            Assignment.feedback_release == FeedbackRelease.after_deadline,
            Assignment.deadline.is_not(None),
            Assignment.deadline <= now,
            Assignment.deleted_at.is_(None),
            Submission.feedback_status != FeedbackStatus.released,
            Submission.feedback_status.not_in((FeedbackStatus.generating, FeedbackStatus.generation_failed)),
            Submission.auto_status == AutoStatus.automatically_graded,
        )
        .limit(limit)
    ).all()
    queued = []
    for submission in rows:
        if release_due(session, submission, now):
            queue_feedback(session, submission, release=True)
            queued.append(submission.id)
    return queued


def queue_due_releases(session: Session, assignment: Assignment) -> int:
    """After the release mode or deadline of `assignment` changed: queue every release now due."""
    count = 0
    for submission in session.scalars(
        select(Submission).where(
            Submission.assignment_id == assignment.id,
            Submission.feedback_status != FeedbackStatus.released,
            Submission.auto_status == AutoStatus.automatically_graded,
        )
    ):
        if release_due(session, submission):
            queue_feedback(session, submission, release=True)
            count += 1
    return count
