"""The autograde task body: claim the job, export the submitted commit, run the executor, record once."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from grader_service.auth.tokens import hash_token, new_token_value
from grader_service.executors.base import ExecutorResult, InfrastructureError, JobSpec
from grader_service.git.names import RepoRef
from grader_service.git.store import StoreError
from grader_service.orm.models import AutoStatus, JobState, Submission
from grader_service.services import jobs
from grader_service.services.results import record_autograde
from grader_service.tasks.context import WorkerContext

log = logging.getLogger(__name__)


def autograde(ctx: WorkerContext, job_id: int, *, total_timeout: float) -> str:
    """Grade the submission of autograde job `job_id`; returns what happened (for the task log)."""
    with ctx.db.session() as session:
        job = jobs.claim(session, job_id, ctx.name)
        if job is None:
            session.commit()
            return "skipped: the job is already finished or cancelled"
        attempt = job.attempts
        sub = session.get(Submission, job.submission_id)
        assert sub is not None
        assignment, username = sub.assignment, sub.user.name
        problem = None
        if assignment.gradebook is None:
            problem = "the assignment has no generated release (gradebook); generate it, then re-run autograde"
        elif not sub.commit_hash:
            problem = "the submission names no commit"
        if problem:
            jobs.finish(job, JobState.failed, error=problem, log=problem)
            sub.auto_status = AutoStatus.grading_failed
            session.commit()
            return f"failed: {problem}"
        sub.auto_status = AutoStatus.running
        job_token = ""
        if ctx.executor.remote:
            job_token = new_token_value()  # this attempt's pod authenticates with it, for this job only
            job.token_hash = hash_token(job_token)
        lecture_code, assignment_id, commit = assignment.lecture.code, assignment.id, sub.commit_hash
        spec_args = dict(job_id=job.id, submission_id=sub.id, gradebook=assignment.gradebook,
                         cell_timeout=float(assignment.cell_timeout), timeout=total_timeout, limits=ctx.limits,
                         service_url=ctx.service_url, job_token=job_token,
                         labels={"lecture": lecture_code, "assignment": str(assignment.id), "user": username,
                                 "submission": str(sub.id), "attempt": str(attempt)})
        submission_id = sub.id
        session.commit()

    try:
        return _run(ctx, job_id, attempt, submission_id, user_repo_args=(lecture_code, assignment_id, username,
                                                                           commit), spec_args=spec_args)
    except InfrastructureError as exc:  # back to queued, with the reason; the task retries with backoff
        with ctx.db.session() as session:
            jobs.requeue(session, job_id, attempt, str(exc))
            session.commit()
        raise


def _run(ctx: WorkerContext, job_id: int, attempt: int, submission_id: int, *,
         user_repo_args: tuple[str, int, str, str], spec_args: dict) -> str:  # type: ignore[type-arg]
    lecture_code, assignment_id, username, commit = user_repo_args
    if ctx.executor.remote:  # the executor's pod fetches the submission from the service itself
        result = asyncio.run(ctx.executor.run(JobSpec(input_dir=None, **spec_args)))
        return _record(ctx, job_id, attempt, submission_id, result)
    workdir = Path(tempfile.mkdtemp(prefix=f"export-job{job_id}-", dir=ctx.scratch_root))
    try:
        user_repo = RepoRef(lecture_code, str(assignment_id), "user", username)
        try:
            ctx.store.export(user_repo, commit, workdir / "submission")
        except StoreError as exc:
            result = ExecutorResult.failed(f"the submitted commit cannot be graded: {exc}")
        else:
            result = asyncio.run(ctx.executor.run(JobSpec(input_dir=workdir / "submission", **spec_args)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return _record(ctx, job_id, attempt, submission_id, result)


def _record(ctx: WorkerContext, job_id: int, attempt: int, submission_id: int, result: ExecutorResult) -> str:
    if result.remote:  # the pod posted its result; if it did not, the job is still running: fail it
        result = ExecutorResult.failed("the grading pod ended without reporting a result", result.log)
    with ctx.db.session() as session:
        recorded = record_autograde(session, ctx.store, job_id, attempt, result)
        session.commit()
    if not recorded:
        return "discarded: another attempt owns the job, or it was cancelled"
    return f"{'graded' if result.ok else 'failed'}: submission {submission_id}"
