"""The Celery tasks: thin wrappers taking ids; bounded retries with backoff for infrastructure errors only."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task

from grader_service.executors.base import InfrastructureError
from grader_service.grades import recompute
from grader_service.orm.models import AutoStatus, JobState, Submission
from grader_service.services import jobs
from grader_service.tasks import autograde as autograde_body
from grader_service.tasks import generate as generate_body
from grader_service.tasks.context import get_context

log = logging.getLogger(__name__)
MAX_RETRIES = 3


def _give_up(job_id: int, error: str) -> None:
    """After the last retry: the job fails with the infrastructure error (the student is not blamed)."""
    ctx = get_context()
    with ctx.db.session() as session:
        job = session.get(jobs.Job, job_id)
        if job is not None and job.state not in jobs.FINAL_STATES:
            jobs.finish(job, JobState.failed, error=f"infrastructure error after {MAX_RETRIES} retries: {error}")
            if job.submission_id:
                sub = session.get(Submission, job.submission_id)
                if sub is not None:
                    sub.auto_status = AutoStatus.grading_failed
        session.commit()


def _retry_or_fail(task: Task, job_id: int, exc: InfrastructureError) -> Any:
    if task.request.retries >= MAX_RETRIES:
        _give_up(job_id, str(exc))
        return f"failed: {exc}"
    log.warning("job %s: infrastructure error, retry %d: %s", job_id, task.request.retries + 1, exc)
    raise task.retry(exc=exc, countdown=min(60, 5 * 2 ** task.request.retries), max_retries=MAX_RETRIES)


def register_tasks(app: Celery) -> None:
    @app.task(name="autograde.run", shared=False, bind=True, acks_late=True, reject_on_worker_lost=True)
    def autograde_run(self: Task, job_id: int) -> str:
        ctx = get_context()
        try:
            return autograde_body.autograde(ctx, job_id, total_timeout=ctx.total_timeout)
        except InfrastructureError as exc:
            return _retry_or_fail(self, job_id, exc)

    @app.task(name="assignments.generate", shared=False, bind=True, acks_late=True, reject_on_worker_lost=True)
    def assignments_generate(self: Task, job_id: int) -> str:
        return generate_body.generate(get_context(), job_id)

    @app.task(name="grades.recompute_learner", shared=False, acks_late=True)
    def grades_recompute_learner(lecture_id: int, user_id: int) -> str:
        grade = recompute.recompute_learner(get_context().db.session_factory, lecture_id, user_id)
        return f"lecture {lecture_id} user {user_id}: {'recomputed' if grade is not None else 'not a member'}"

    @app.task(name="grades.recompute_lecture", shared=False, acks_late=True, reject_on_worker_lost=True)
    def grades_recompute_lecture(job_id: int) -> str:
        recompute.run_lecture_recompute(get_context().db.session_factory, job_id)
        return f"recompute job {job_id} done"
