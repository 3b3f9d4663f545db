"""The autograde task body of database workers: claim the job, export the submitted commit, run the executor,
record once. (Remote workers, with no database, run tasks/remote_autograde.py instead.)"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader_service.auth.tokens import new_token_value
from grader_service.executors.base import ExecutorResult, InfrastructureError, JobSpec
from grader_service.git.names import RepoRef
from grader_service.git.provided import provided_files, restore_provided
from grader_service.git.store import StoreError
from grader_service.services import autograde_attempts as attempts
from grader_service.services.results import record_autograde
from grader_service.tasks.context import WorkerContext

log = logging.getLogger(__name__)


def autograde(ctx: WorkerContext, job_id: int, *, total_timeout: float) -> str:
    """Grade the submission of autograde job `job_id`; returns what happened (for the task log)."""
    # a remote executor's pod authenticates with this attempt's token, for this job only
    job_token = new_token_value() if ctx.executor.remote else ""
    with ctx.db.session() as session:
        started = attempts.start(session, job_id, ctx.name, job_token=job_token or None)
        session.commit()
    if isinstance(started, attempts.NotStarted):
        return started.reason
    spec_args = dict(
        job_id=started.job_id,
        submission_id=started.submission_id,
        gradebook=started.gradebook,
        cell_timeout=started.cell_timeout,
        timeout=total_timeout,
        limits=ctx.limits,
        service_url=ctx.service_url,
        job_token=job_token,
        labels=started.labels,
    )
    try:
        return _run(
            ctx,
            job_id,
            started.number,
            started.submission_id,
            source=(started.source, started.commit),
            release=(started.lecture_code, started.assignment_id, started.release_commit),
            spec_args=spec_args,
        )
    except InfrastructureError as exc:  # back to queued, with the reason; the task retries with backoff
        with ctx.db.session() as session:
            attempts.requeue(session, job_id, started.number, str(exc))
            session.commit()
        raise


def _run(
    ctx: WorkerContext,
    job_id: int,
    attempt: int,
    submission_id: int,
    *,
    source: tuple[RepoRef | None, str],
    release: tuple[str, int, str | None],
    spec_args: dict[str, Any],
) -> str:
    user_repo, commit = source  # the student's commit, or a tutor's version in the `edit` repo
    lecture_code, assignment_id, release_commit = release
    if ctx.executor.remote:  # the executor's pod fetches the submission from the service itself
        result = asyncio.run(ctx.executor.run(JobSpec(input_dir=None, **spec_args)))
        return _record(ctx, job_id, attempt, submission_id, result)
    workdir = Path(tempfile.mkdtemp(prefix=f"export-job{job_id}-", dir=ctx.scratch_root))
    try:
        assert user_repo is not None
        try:
            ctx.store.export(user_repo, commit, workdir / "submission")
            # what the instructor provided is graded, not the student's copy of it
            provided = provided_files(ctx.store, lecture_code, assignment_id, release_commit)
            restore_provided(workdir / "submission", provided)
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
