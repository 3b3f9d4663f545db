"""Job rows: create, claim (one attempt at a time), finish with compare-and-set, cancel, and show."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, overload

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from grader_service.orm.base import utcnow
from grader_service.orm.models import Assignment, Job, JobState
from grader_service.schemas.responses.jobs import Job as JobView
from grader_service.schemas.text import printable

V = TypeVar("V", bound=JobView)

FINAL_STATES = (JobState.succeeded, JobState.failed, JobState.cancelled)
#: payload key of a job that is part of a bulk job (whose `result.progress` counts its finished parts)
PARENT_KEY = "bulk_job_id"


def serialise_bulk_requests(session: Session, assignment_id: int) -> None:
    """Make identical bulk requests for one assignment wait for each other before they look for a running
    job. SQLite has no row locks and reads outside a write transaction, so two requests could both find
    none: a write that changes nothing takes its one write lock first, and the second request waits for the
    first to commit. (PostgreSQL: the caller's FOR UPDATE of the assignment row does this.)"""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Assignment).where(Assignment.id == assignment_id).values(id=Assignment.id))


def create_job(
    session: Session,
    kind: str,
    *,
    lecture_id: int | None = None,
    assignment_id: int | None = None,
    submission_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Job:
    job = Job(
        kind=kind,
        state=JobState.queued,
        lecture_id=lecture_id,
        assignment_id=assignment_id,
        submission_id=submission_id,
        payload=payload or {},
        attempts=0,
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: int, worker: str) -> Job | None:
    """Start an attempt: None when the job is finished or cancelled (a duplicate delivery), else the job
    with `attempts` bumped; the caller's attempt number is `job.attempts`."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
    if job is None or job.state in FINAL_STATES:
        return None
    job.state = JobState.running
    job.attempts += 1
    job.worker = worker[:255]
    job.started_at = utcnow()
    job.finished_at = None
    job.error = None
    session.flush()
    return job


def lock_for_finish(session: Session, job_id: int, attempt: int) -> Job | None:
    """The job, locked, if `attempt` is still the current running attempt; None means: discard your result."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()
    if job is None or job.state != JobState.running or job.attempts != attempt:
        return None
    return job


def finish(
    job: Job,
    state: JobState,
    *,
    log: str | None = None,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    job.state = state
    job.finished_at = now or utcnow()
    # logs and errors quote student output: no NUL (PostgreSQL refuses it) or terminal controls stored
    if log is not None:
        job.log = printable(log)
    job.error = printable(error) if error is not None else None
    if result is not None:
        job.result = result
    parent_id = (job.payload or {}).get(PARENT_KEY)
    session = object_session(job)
    if parent_id is not None and session is not None:
        count_finished_part(session, int(parent_id), now=job.finished_at)


def count_finished_part(session: Session, parent_id: int, *, now: datetime | None = None) -> None:
    """Bring a bulk job's progress up to date after one of its parts finished; the bulk job succeeds when
    every part has finished (however each ended: the counts say how).

    The part's own state is written first and the bulk job locked before counting, so parts finishing at
    the same time are counted one after the other and the last one sees them all (PostgreSQL: row lock and
    a fresh snapshot per statement; SQLite: one writer at a time).
    """
    session.flush()
    parent = session.scalars(select(Job).where(Job.id == parent_id).with_for_update()).first()
    if parent is None or parent.state in FINAL_STATES:
        return
    part_ids = list((parent.payload or {}).get("job_ids") or [])
    counts = dict(
        session.execute(
            select(Job.state, func.count())
            .where(Job.id.in_(part_ids), Job.state.in_(FINAL_STATES))
            .group_by(Job.state)
        ).all()
    )
    done = sum(counts.values())
    result = dict(parent.result or {})
    result["progress"] = {"done": done, "total": len(part_ids)}
    result["succeeded"] = counts.get(JobState.succeeded, 0)
    result["failed"] = counts.get(JobState.failed, 0)
    result["cancelled"] = counts.get(JobState.cancelled, 0)
    parent.result = result
    if done >= len(part_ids):
        parent.state, parent.finished_at = JobState.succeeded, now or utcnow()


def requeue(session: Session, job_id: int, attempt: int, error: str) -> bool:
    """Put a job back to queued after an infrastructure error (a retry follows)."""
    job = lock_for_finish(session, job_id, attempt)
    if job is None:
        return False
    job.state = JobState.queued
    job.error = f"retrying after: {error}"
    return True


def duration(job: Job) -> float | None:
    if job.started_at and job.finished_at:
        return (job.finished_at - job.started_at).total_seconds()
    return None


@overload
def job_view(job: Job, *, with_log: bool, model: type[V], **extra: Any) -> V: ...
@overload
def job_view(job: Job, *, with_log: bool, **extra: Any) -> JobView: ...
def job_view(job: Job, *, with_log: bool, model: type[JobView] = JobView, **extra: Any) -> JobView:
    """The job as the API shows it (`model`: a JobView subclass for routes that show more, filled by `extra`);
    the log only `with_log` (staff)."""
    fields: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "attempts": job.attempts,
        "worker": job.worker,
        "queued_at": job.queued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration": duration(job),
        "error": job.error,
    }
    if with_log:
        fields["log"] = job.log or ""
    return model(**fields, **extra)


def latest_job(
    session: Session, kind: str, *, submission_id: int | None = None, assignment_id: int | None = None
) -> Job | None:
    stmt = select(Job).where(Job.kind == kind)
    if submission_id is not None:
        stmt = stmt.where(Job.submission_id == submission_id)
    if assignment_id is not None:
        stmt = stmt.where(Job.assignment_id == assignment_id)
    return session.scalars(stmt.order_by(Job.id.desc()).limit(1)).first()
