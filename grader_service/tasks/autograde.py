"""The autograde task body: claim the job, export the submitted commit, run the executor, record once."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader_service.executors.base import ExecutorResult, JobSpec
from grader_service.git.names import RepoRef
from grader_service.git.store import StoreError
from grader_service.orm.base import utcnow
from grader_service.orm.models import AutoStatus, JobState, Submission
from grader_service.services import jobs
from grader_service.services.dispatch import enqueue
from grader_service.services.submissions import recompute_scores
from grader_service.tasks.context import WorkerContext

log = logging.getLogger(__name__)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """What the job row keeps of the pipeline's result: scores and statuses per cell (no outputs)."""
    notebooks = {}
    for name, nb in result.get("notebooks", {}).items():
        notebooks[name] = {
            "score": nb.get("score"), "max_score": nb.get("max_score"), "status": nb.get("status"),
            "cells": {gid: {k: c.get(k) for k in ("score", "max_score", "status", "comment") if k in c}
                      for gid, c in nb.get("cells", {}).items()},
        }
    return {"score": result.get("score"), "max_score": result.get("max_score"),
            "needs_manual": result.get("needs_manual"), "notebooks": notebooks}


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
        lecture_code, assignment_id, commit = assignment.lecture.code, assignment.id, sub.commit_hash
        spec_args = dict(job_id=job.id, submission_id=sub.id, gradebook=assignment.gradebook,
                         cell_timeout=float(assignment.cell_timeout), timeout=total_timeout, limits=ctx.limits)
        lecture_id, user_id, submission_id = assignment.lecture_id, sub.user_id, sub.id
        session.commit()

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

    graded_commit = None
    if result.ok and result.files:
        graded_commit = ctx.store.commit_tree(RepoRef(lecture_code, str(assignment_id), "autograde", username),
                                              result.files, f"Autograded submission {submission_id}",
                                              branch=f"submission-{submission_id}")
    with ctx.db.session() as session:
        job = jobs.lock_for_finish(session, job_id, attempt)
        if job is None:
            session.rollback()
            return "discarded: another attempt owns the job, or it was cancelled"
        sub = session.get(Submission, submission_id)
        assert sub is not None
        if result.ok and result.result is not None:
            summary = _summary(result.result)
            summary["autograde_commit"] = graded_commit
            sub.auto_score = float(result.result.get("score") or 0.0)
            sub.auto_status = AutoStatus.automatically_graded
            jobs.finish(job, JobState.succeeded, log=result.log, result=summary)
        else:
            sub.auto_status = AutoStatus.grading_failed
            jobs.finish(job, JobState.failed, log=result.log, error=result.error)
        recompute_scores(sub)
        sub.updated_at = utcnow()
        enqueue(session, "grades.recompute_learner", lecture_id=lecture_id, user_id=user_id)
        session.commit()
    return f"{'graded' if result.ok else 'failed'}: submission {submission_id}"
