"""The service side of remote executors (Kubernetes pods) and remote workers.

Pods: hand a job's input to its pod and take its result, both authorised by the job's short-lived token and
nothing else. Remote workers (a grader-worker with only the service URL and a worker token): claim an
autograde attempt, which returns the job spec and mints the pod's token, and report how the attempt ended
when the pod could not (failed, requeued after an infrastructure error, given up). Every transition is the
one database workers use (services.autograde_attempts, services.results), compare-and-set on the attempt."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from grader_service.auth.tokens import hash_token, new_token_value
from grader_service.errors import BadRequest, NotFound, Unauthorized
from grader_service.git.provided import merge_provided, provided_files
from grader_service.git.store import RepoStore
from grader_service.orm.models import Job, JobState, Submission
from grader_service.schemas.outcome import GradingOutcome
from grader_service.schemas.responses import service as out
from grader_service.services import autograde_attempts
from grader_service.services.autograde_attempts import graded_source
from grader_service.services.results import record_autograde

MAX_FILES = 2000


def _job_for_token(session: Session, job_id: int, token: str | None) -> Job:
    job = session.get(Job, job_id)
    if (
        token is None
        or job is None
        or not job.token_hash
        or not hmac.compare_digest(job.token_hash, hash_token(token))
    ):
        raise Unauthorized("a valid job token for this job is required")
    return job


def job_input(
    session: Session, store: RepoStore, job_id: int, token: str | None, limits: Any
) -> out.JobInput:
    job = _job_for_token(session, job_id, token)
    if job.state != JobState.running:
        raise NotFound(f"job {job_id} is not running")
    sub = session.get(Submission, job.submission_id)
    assert sub is not None
    assignment = sub.assignment
    ref, commit, _ = graded_source(job, sub)
    submitted = {path: store.read_file(ref, commit, path) for path in store.list_files(ref, commit)}
    # what the instructor provided is graded, not the student's copy of it
    provided = provided_files(store, assignment.lecture.code, assignment.id, assignment.release_commit)
    files = {
        path: base64.b64encode(content).decode("ascii")
        for path, content in merge_provided(submitted, provided).items()
    }
    return out.JobInput(
        job_id=job.id,
        submission_id=sub.id,
        gradebook=assignment.gradebook,
        cell_timeout=float(assignment.cell_timeout),
        timeout=float(limits.autograde_timeout),
        files=files,
    )


def _decode_files(raw: Any) -> dict[str, bytes]:
    if not isinstance(raw, dict) or len(raw) > MAX_FILES:
        raise BadRequest(
            f"files must be an object of at most {MAX_FILES} path: base64 entries", field="files"
        )
    files: dict[str, bytes] = {}
    for path, data in raw.items():
        if not isinstance(data, str):
            raise BadRequest(f"files[{path!r}] must be a base64 string", field="files")
        try:
            files[path] = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"files[{path!r}] is not valid base64", field="files") from None
    return files


def post_result(
    session: Session, store: RepoStore, job_id: int, token: str | None, body: Any
) -> out.ResultRecorded:
    """Record a pod's result once; a second post for a finished job is acknowledged and ignored."""
    job = _job_for_token(session, job_id, token)
    if job.state != JobState.running:
        return out.ResultRecorded(recorded=False, reason=f"job {job_id} is already {job.state.value}")
    outcome = GradingOutcome(
        ok=body.ok, result=body.result, files=_decode_files(body.files), log=body.log, error=body.error
    )
    if not record_autograde(session, store, job_id, None, outcome):
        return out.ResultRecorded(recorded=False, reason=f"job {job_id} is no longer running")
    return out.ResultRecorded(recorded=True)


#: (lecture code, assignment id) → executor options of that job (KubernetesExecutor: image, resources)
JobOptions = Callable[[str, str], dict[str, Any]]


def _autograde_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.kind != "autograde":
        raise NotFound(f"autograde job {job_id} not found")
    return job


def worker_claim(
    session: Session,
    job_id: int,
    worker: str,
    *,
    service_url: str,
    limits: Any,
    grading_limits: dict[str, int],
    job_options: JobOptions | None,
) -> out.Claimed | out.NotClaimed:
    """Start an attempt for a remote worker: the job spec its executor needs, with a fresh job token (the
    only time its value is known), or `claimed: false` and the reason (a duplicate delivery of a finished
    or cancelled job, or a job that cannot run, which is failed here)."""
    _autograde_job(session, job_id)
    token = new_token_value()
    started = autograde_attempts.start(session, job_id, worker, job_token=token)
    if isinstance(started, autograde_attempts.NotStarted):
        return out.NotClaimed(claimed=False, job_id=job_id, reason=started.reason)
    base = service_url.rstrip("/")
    return out.Claimed(
        claimed=True,
        job_id=started.job_id,
        attempt=started.number,
        submission_id=started.submission_id,
        gradebook=started.gradebook,
        cell_timeout=started.cell_timeout,
        timeout=float(limits.autograde_timeout),
        limits=dict(grading_limits),
        labels=started.labels,
        executor_options=job_options(started.lecture_code, str(started.assignment_id)) if job_options else {},
        job_token=token,
        service_url=service_url,
        input_url=f"{base}/api/jobs/{job_id}/input",
        result_url=f"{base}/api/jobs/{job_id}/result",
    )


def worker_fail(
    session: Session, store: RepoStore, job_id: int, attempt: int, error: str, log: str
) -> out.ResultRecorded:
    """The attempt ended without the pod posting a result: the job fails and the submission shows
    grading_failed with `error`. Ignored (recorded: false) when the pod did post, or the attempt is stale."""
    _autograde_job(session, job_id)
    outcome = GradingOutcome(ok=False, error=error, log=log)
    return out.ResultRecorded(recorded=record_autograde(session, store, job_id, attempt, outcome))


def worker_requeue(session: Session, job_id: int, attempt: int, error: str) -> out.Requeued:
    _autograde_job(session, job_id)
    return out.Requeued(requeued=autograde_attempts.requeue(session, job_id, attempt, error))


def worker_give_up(session: Session, job_id: int, attempt: int | None, error: str) -> out.GaveUp:
    _autograde_job(session, job_id)
    return out.GaveUp(failed=autograde_attempts.give_up(session, job_id, error, attempt))
