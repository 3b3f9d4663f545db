"""An autograde attempt's start and its infrastructure ends (requeue, give up): the one place these state
transitions live, used by database workers (tasks/autograde.py) and by remote workers over HTTP
(services/remote_jobs.py). Results are recorded by services/results.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from grader_service.auth.tokens import hash_token
from grader_service.git.names import RepoRef
from grader_service.orm.models import AutoStatus, Job, JobState, Submission
from grader_service.services import jobs


@dataclass(frozen=True)
class Attempt:
    """A claimed attempt: what the executor needs to know about the job, without the database."""

    job_id: int
    number: int
    submission_id: int
    gradebook: dict[str, Any]
    cell_timeout: float
    lecture_code: str
    assignment_id: int
    username: str
    commit: str
    #: the repo the graded version is in: the student's `user` repo or the tutor's `edit` repo
    source: RepoRef | None = None
    #: the assignment's release, whose provided files are put back over the submission before grading
    release_commit: str | None = None

    @property
    def labels(self) -> dict[str, str]:
        """Names of the job for executors (pod labels and annotations, per-lecture settings)."""
        return {
            "lecture": self.lecture_code,
            "assignment": str(self.assignment_id),
            "user": self.username,
            "submission": str(self.submission_id),
            "attempt": str(self.number),
        }


@dataclass(frozen=True)
class NotStarted:
    """The job was not started: `reason` says why (a duplicate delivery, or a job that cannot run)."""

    reason: str


def start(
    session: Session, job_id: int, worker: str, *, job_token: str | None = None
) -> Attempt | NotStarted:
    """Claim autograde job `job_id` for `worker` (row lock, compare-and-set: a finished or cancelled job is
    not started again) and mark its submission running. A job that cannot run (no gradebook, no commit) is
    failed right here. `job_token`, for remote executors, becomes this attempt's only credential for the
    job's input and result routes (a new claim replaces it, so an older attempt's pod is shut out).
    The caller commits."""
    job = jobs.claim(session, job_id, worker)
    if job is None:
        return NotStarted("skipped: the job is already finished or cancelled")
    sub = session.get(Submission, job.submission_id)
    assert sub is not None
    assignment = sub.assignment
    source, commit, _ = graded_source(job, sub)
    problem = None
    if assignment.gradebook is None:
        problem = "the assignment has no generated release (gradebook); generate it, then re-run autograde"
    elif not commit:
        problem = "the submission names no commit"
    if problem:
        jobs.finish(job, JobState.failed, error=problem, log=problem)
        sub.auto_status = AutoStatus.grading_failed
        return NotStarted(f"failed: {problem}")
    sub.auto_status = AutoStatus.running
    if job_token:
        job.token_hash = hash_token(job_token)
    assert assignment.gradebook is not None  # no gradebook is a problem (above)
    return Attempt(
        job_id=job.id,
        number=job.attempts,
        submission_id=sub.id,
        gradebook=assignment.gradebook,
        cell_timeout=float(assignment.cell_timeout),
        lecture_code=assignment.lecture.code,
        assignment_id=assignment.id,
        username=sub.user.name,
        commit=commit,
        source=source,
        release_commit=assignment.release_commit,
    )


def graded_source(job: Job, sub: Submission) -> tuple[RepoRef, str, str]:
    """(repo, commit, version) an autograde job grades: the student's commit, or the tutor's corrected
    version in the submission's `edit` repo (`payload.version == "edit"`, commit fixed when queued)."""
    assignment = sub.assignment
    code, aid = assignment.lecture.code, str(assignment.id)
    payload = job.payload or {}
    if payload.get("version") == "edit":
        return RepoRef(code, aid, "edit", str(sub.id)), str(payload.get("commit") or ""), "edit"
    return RepoRef(code, aid, "user", sub.user.name), sub.commit_hash or "", "original"


def requeue(session: Session, job_id: int, attempt: int, error: str) -> bool:
    """Back to queued after an infrastructure error (the task retries); False if `attempt` is not current."""
    return jobs.requeue(session, job_id, attempt, error)


def give_up(session: Session, job_id: int, error: str, attempt: int | None = None) -> bool:
    """After the last retry: fail the job with the infrastructure error (the student is not blamed) unless
    it finished meanwhile or, when `attempt` is given, a newer attempt owns it. True when it was failed."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.state in jobs.FINAL_STATES or (attempt is not None and job.attempts != attempt):
        return False
    jobs.finish(job, JobState.failed, error=error)
    if job.submission_id:
        sub = session.get(Submission, job.submission_id)
        if sub is not None:
            sub.auto_status = AutoStatus.grading_failed
    return True
