"""Grading use cases: generate an assignment, queue, re-run and cancel autograde jobs, show jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader_service.auth.roles import Actor
from grader_service.errors import BadRequest, Conflict, NotFound
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore
from grader_service.orm.models import AutoStatus, Job, JobState, Submission
from grader_service.schemas.grading_record import AutogradeRequest
from grader_service.schemas.responses.jobs import Job as JobView
from grader_service.services import jobs
from grader_service.services.access import get_assignment, get_lecture, get_submission
from grader_service.services.dispatch import Task, enqueue
from grader_service.services.guards import require
from grader_service.services.settings import Limits

ACTIVE = (JobState.queued, JobState.running)


def queue_autograde(
    session: Session, submission: Submission, limits: Limits, payload: dict[str, Any] | None = None
) -> Job:
    """A new autograde job for `submission`, sent to the `autograde` queue when the transaction commits.
    `payload` {"version": "edit", "commit": ...} grades a tutor's corrected version instead."""
    job = jobs.create_job(
        session,
        "autograde",
        lecture_id=submission.assignment.lecture_id,
        assignment_id=submission.assignment_id,
        submission_id=submission.id,
        payload=payload,
    )
    submission.auto_status = AutoStatus.pending
    enqueue(session, Task.AUTOGRADE, job_id=job.id, _options=limits.task_time_limits())
    return job


def active_job(session: Session, kind: str, **where: int) -> Job | None:
    stmt = select(Job).where(Job.kind == kind, Job.state.in_(ACTIVE))
    for column, value in where.items():
        stmt = stmt.where(getattr(Job, column) == value)
    return session.scalars(stmt.limit(1)).first()


def rerun_autograde(
    session: Session,
    actor: Actor,
    lid: int,
    aid: int,
    sid: int,
    limits: Limits,
    body: AutogradeRequest | None = None,
    store: RepoStore | None = None,
) -> Job:
    """Grade the submission again: the student's commit, or (version=edit) a tutor's corrected version
    from the submission's `edit` repo, its newest commit unless one is named. The student's commit is
    never touched; the grading record says which version it graded."""
    submission = get_submission(session, actor, lid, aid, sid)
    require(session, submission.assignment, "grade")
    body = body or AutogradeRequest()
    if body.commit is not None and body.version != "edit":
        raise BadRequest("commit: only a version=edit re-run names a commit", field="commit")
    payload = None
    if body.version == "edit":
        assert store is not None
        ref = RepoRef(submission.assignment.lecture.code, str(submission.assignment_id), "edit", str(sid))
        commit = body.commit or store.head(ref)
        if commit is None:
            raise Conflict(
                f"the edit repo of submission {sid} has no commits: push the corrected version to "
                f"/git/{ref} first"
            )
        if not store.has_commit(ref, commit):
            raise BadRequest(f"commit {commit} is not in the edit repo of submission {sid}", field="commit")
        payload = {"version": "edit", "commit": commit}
    if active_job(session, "autograde", submission_id=submission.id):
        raise Conflict("this submission is already queued or being graded; cancel that job first")
    return queue_autograde(session, submission, limits, payload)


def cancel_autograde(session: Session, actor: Actor, lid: int, aid: int, sid: int) -> Job:
    submission = get_submission(session, actor, lid, aid, sid)
    require(session, submission.assignment, "grade")
    job = active_job(session, "autograde", submission_id=submission.id)
    if job is None:
        raise Conflict("no autograde job of this submission is queued or running")
    jobs.finish(job, JobState.cancelled, error=f"cancelled by {actor.name}")
    submission.auto_status = AutoStatus.grading_failed
    return job


def request_generate(session: Session, actor: Actor, lid: int, aid: int, force: bool = False) -> Job:
    """Generate (again): a released or closed assignment needs `force`, and the job's result then lists
    what changed for the students (cells added or removed, points, tests)."""
    assignment = get_assignment(session, actor, lid, aid)
    require(session, assignment, "regenerate", force=force)
    if active_job(session, "generate", assignment_id=assignment.id):
        raise Conflict("this assignment is already being generated")
    job = jobs.create_job(
        session,
        "generate",
        lecture_id=lid,
        assignment_id=assignment.id,
        payload={"force": force, "status": assignment.status.value},
    )
    enqueue(session, Task.GENERATE, job_id=job.id)
    return job


def get_job(session: Session, actor: Actor, lid: int, job_id: int) -> JobView:
    get_lecture(session, actor, lid)
    job = session.get(Job, job_id)
    if job is None or job.lecture_id != lid:
        raise NotFound(f"job {job_id} not found")
    return jobs.job_view(
        job,
        with_log=True,
        assignment_id=job.assignment_id,
        submission_id=job.submission_id,
        result=job.result,
    )


def autograde_state(session: Session, submission: Submission, *, with_log: bool) -> JobView | None:
    job = jobs.latest_job(session, "autograde", submission_id=submission.id)
    return None if job is None else jobs.job_view(job, with_log=with_log)
