"""The Celery tasks: thin wrappers taking ids; bounded retries with backoff for infrastructure errors only."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, Task, shared_task

from grader_service.executors.base import InfrastructureError
from grader_service.grades import recompute
from grader_service.services import autograde_attempts as attempts
from grader_service.tasks import autograde as autograde_body
from grader_service.tasks import feedback as feedback_body
from grader_service.tasks import generate as generate_body
from grader_service.tasks import remote_autograde
from grader_service.tasks.context import RemoteWorkerContext, get_context, get_db_context
from grader_service.tasks.service_client import ServiceRefused

log = logging.getLogger(__name__)
MAX_RETRIES = 3


def _give_up(job_id: int, error: str, attempt: int | None = None) -> None:
    """After the last retry: the job fails with the infrastructure error (the student is not blamed)."""
    message = f"infrastructure error after {MAX_RETRIES} retries: {error}"
    ctx = get_context()
    if isinstance(ctx, RemoteWorkerContext):
        try:
            ctx.client.give_up(job_id, attempt, message)
        except (InfrastructureError, ServiceRefused) as exc:  # nothing more to try; the reason is in the log
            log.error("job %s: could not report giving up to the service: %s", job_id, exc)
        return
    with ctx.db.session() as session:
        attempts.give_up(session, job_id, message)
        session.commit()


def _retry_or_fail(task: Task, job_id: int, exc: InfrastructureError, attempt: int | None = None) -> Any:
    if task.request.retries >= MAX_RETRIES:
        _give_up(job_id, str(exc), attempt)
        return f"failed: {exc}"
    log.warning("job %s: infrastructure error, retry %d: %s", job_id, task.request.retries + 1, exc)
    delay = min(60.0, get_context().retry_delay * 2**task.request.retries)
    raise task.retry(exc=exc, countdown=delay, max_retries=MAX_RETRIES)


@shared_task(name="autograde.run", bind=True, acks_late=True, reject_on_worker_lost=True)
def autograde_run(self: Task, job_id: int) -> str:
    ctx = get_context()
    if isinstance(ctx, RemoteWorkerContext):  # no database here: the service keeps the job's state
        claimed: list[int] = []
        try:
            return remote_autograde.autograde(ctx, job_id, attempt_box=claimed)
        except InfrastructureError as exc:
            return _retry_or_fail(self, job_id, exc, claimed[-1] if claimed else None)
        except ServiceRefused as exc:  # e.g. the job was deleted with its lecture: nothing to retry
            log.error("job %s: %s", job_id, exc)
            return f"refused: {exc}"
    retries = self.request.retries
    while True:
        try:
            return autograde_body.autograde(ctx, job_id, total_timeout=ctx.total_timeout)
        except InfrastructureError as exc:
            if not ctx.embedded:
                return _retry_or_fail(self, job_id, exc)
            # the embedded transport cannot deliver delayed messages: back off here, in this worker thread
            # (never on the service's IO loop), with the same bounds as a broker retry
            if retries >= MAX_RETRIES:
                _give_up(job_id, str(exc))
                return f"failed: {exc}"
            log.warning("job %s: infrastructure error, retry %d: %s", job_id, retries + 1, exc)
            time.sleep(min(60.0, ctx.retry_delay * 2**retries))
            retries += 1


@shared_task(name="assignments.generate", bind=True, acks_late=True, reject_on_worker_lost=True)
def assignments_generate(self: Task, job_id: int) -> str:
    return generate_body.generate(get_db_context(), job_id)


@shared_task(name="feedback.generate", acks_late=True, reject_on_worker_lost=True)
def feedback_generate(job_id: int) -> str:
    return feedback_body.generate(get_db_context(), job_id)


@shared_task(name="feedback.bulk", acks_late=True, reject_on_worker_lost=True)
def feedback_bulk(job_id: int) -> str:
    return feedback_body.bulk(get_db_context(), job_id)


@shared_task(name="grades.recompute_learner", acks_late=True)
def grades_recompute_learner(lecture_id: int, user_id: int) -> str:
    grade = recompute.recompute_learner(get_db_context().db.session_factory, lecture_id, user_id)
    return f"lecture {lecture_id} user {user_id}: {'recomputed' if grade is not None else 'not a member'}"


@shared_task(name="grades.recompute_lecture", acks_late=True, reject_on_worker_lost=True)
def grades_recompute_lecture(job_id: int) -> str:
    recompute.run_lecture_recompute(get_db_context().db.session_factory, job_id)
    return f"recompute job {job_id} done"


def register_tasks(app: Celery) -> None:
    """The tasks above are shared tasks: every Celery app of this process gets them when it finalizes."""
    app.finalize()
    missing = {
        "autograde.run",
        "assignments.generate",
        "grades.recompute_learner",
        "grades.recompute_lecture",
        "feedback.generate",
        "feedback.bulk",
    } - set(app.tasks)
    if missing:
        raise RuntimeError(f"tasks not registered: {sorted(missing)}")
