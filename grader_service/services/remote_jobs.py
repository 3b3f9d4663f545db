"""The service side of remote executors (Kubernetes pods): hand a job's input to its pod and take its result,
both authorised by the job's short-lived token and nothing else."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from sqlalchemy.orm import Session

from grader_service.auth.tokens import hash_token
from grader_service.errors import BadRequest, NotFound, Unauthorized
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore
from grader_service.orm.models import Job, JobState, Submission
from grader_service.schemas.outcome import GradingOutcome
from grader_service.services.results import record_autograde

MAX_FILES = 2000


def _job_for_token(session: Session, job_id: int, token: str | None) -> Job:
    job = session.get(Job, job_id)
    if token is None or job is None or not job.token_hash or not hmac.compare_digest(job.token_hash,
                                                                                     hash_token(token)):
        raise Unauthorized("a valid job token for this job is required")
    return job


def job_input(session: Session, store: RepoStore, job_id: int, token: str | None, limits: Any) -> dict[str, Any]:
    job = _job_for_token(session, job_id, token)
    if job.state != JobState.running:
        raise NotFound(f"job {job_id} is not running")
    sub = session.get(Submission, job.submission_id)
    assert sub is not None
    assignment = sub.assignment
    ref = RepoRef(assignment.lecture.code, str(assignment.id), "user", sub.user.name)
    files = {path: base64.b64encode(store.read_file(ref, sub.commit_hash or "", path)).decode("ascii")
             for path in store.list_files(ref, sub.commit_hash or "")}
    return {"job_id": job.id, "submission_id": sub.id, "gradebook": assignment.gradebook,
            "cell_timeout": float(assignment.cell_timeout), "timeout": float(limits.autograde_timeout),
            "files": files}


def _decode_files(raw: Any) -> dict[str, bytes]:
    if not isinstance(raw, dict) or len(raw) > MAX_FILES:
        raise BadRequest(f"files must be an object of at most {MAX_FILES} path: base64 entries", field="files")
    files: dict[str, bytes] = {}
    for path, data in raw.items():
        if not isinstance(data, str):
            raise BadRequest(f"files[{path!r}] must be a base64 string", field="files")
        try:
            files[path] = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"files[{path!r}] is not valid base64", field="files") from None
    return files


def post_result(session: Session, store: RepoStore, job_id: int, token: str | None,
                body: Any) -> dict[str, Any]:
    """Record a pod's result once; a second post for a finished job is acknowledged and ignored."""
    job = _job_for_token(session, job_id, token)
    if job.state != JobState.running:
        return {"recorded": False, "reason": f"job {job_id} is already {job.state.value}"}
    outcome = GradingOutcome(ok=body.ok, result=body.result, files=_decode_files(body.files), log=body.log,
                             error=body.error)
    if not record_autograde(session, store, job_id, None, outcome):
        return {"recorded": False, "reason": f"job {job_id} is no longer running"}
    return {"recorded": True}
