"""Recording an autograde outcome, once: from a worker's executor or from a remote executor's result post."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from grader_service.convert.test_errors import visible_test_errors
from grader_service.git.names import RepoRef
from grader_service.git.store import RepoStore
from grader_service.orm.base import utcnow
from grader_service.orm.models import AutoStatus, Job, JobState, Submission
from grader_service.schemas.outcome import GradingOutcome
from grader_service.services import grading_record, jobs
from grader_service.services.autograde_attempts import graded_source
from grader_service.services.dispatch import Task, enqueue
from grader_service.services.feedback_state import after_grading_change


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """What the job row keeps of the pipeline's result: scores and statuses per cell (no outputs)."""
    notebooks = {}
    for name, nb in result.get("notebooks", {}).items():
        notebooks[name] = {
            "score": nb.get("score"),
            "max_score": nb.get("max_score"),
            "status": nb.get("status"),
            "cells": {
                gid: {k: c.get(k) for k in ("score", "max_score", "status", "comment") if k in c}
                for gid, c in nb.get("cells", {}).items()
            },
        }
    return {
        "score": result.get("score"),
        "max_score": result.get("max_score"),
        "needs_manual": result.get("needs_manual"),
        "notebooks": notebooks,
        "timings": result.get("timings", {}),
    }


def record_autograde(
    session: Session, store: RepoStore, job_id: int, attempt: int | None, outcome: GradingOutcome
) -> bool:
    """Write `outcome` for the running `job_id` (of `attempt`, when given) and its submission; False when the
    job is no longer that running attempt (finished, cancelled, re-claimed): then nothing is written."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.state != JobState.running or (attempt is not None and job.attempts != attempt):
        return False
    sub = session.get(Submission, job.submission_id)
    assert sub is not None
    assignment = sub.assignment
    graded_commit = None
    if outcome.ok and outcome.files:
        graded_commit = store.commit_tree(
            RepoRef(assignment.lecture.code, str(assignment.id), "autograde", sub.user.name),
            outcome.files,
            f"Autograded submission {sub.id}",
            branch=f"submission-{sub.id}",
        )
    _, commit, version = graded_source(job, sub)
    graded = outcome.ok and outcome.result is not None
    if graded:
        assert outcome.result is not None
        summary = summarise(outcome.result)
        summary["autograde_commit"] = graded_commit
        summary["version"], summary["graded_commit"] = version, commit
        sub.auto_score = float(outcome.result.get("score") or 0.0)
        sub.auto_status = AutoStatus.automatically_graded
        jobs.finish(job, JobState.succeeded, log=outcome.log, result=summary)
    else:
        sub.auto_status = AutoStatus.grading_failed
        jobs.finish(job, JobState.failed, log=outcome.log, error=outcome.error or "grading failed")
    if assignment.gradebook:
        # the per-cell record; the submission's score is derived from it (a failure leaves cells to humans)
        record = grading_record.sync_autograde(
            session,
            sub,
            assignment.gradebook,
            outcome.result if graded else None,
            visible_test_errors(outcome.files, assignment.gradebook) if graded else {},
            version=version,
            commit=commit,
            autograde_commit=graded_commit,
            job_id=job.id,
        )
        after_grading_change(session, sub, record)
    else:
        grading_record.apply_to_submission(sub, [])
    sub.updated_at = utcnow()
    enqueue(session, Task.RECOMPUTE_LEARNER, lecture_id=assignment.lecture_id, user_id=sub.user_id)
    return True
