"""The Celery tasks: thin wrappers taking ids; bounded retries with backoff for infrastructure errors only.

With a broker, Celery retries an autograde that hit an InfrastructureError (`autoretry_for`, `retry_backoff`
from GraderService.task_retry_delay, `max_retries`), and `GradingTask.on_failure` fails the job once the
retries are used up. The embedded transport cannot deliver delayed messages, so the embedded worker retries
in its own thread, with the same bounds.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery, Task

from grader_service.executors.base import InfrastructureError
from grader_service.grades.api import recompute_learner, run_lecture_recompute
from grader_service.services import autograde_attempts as attempts
from grader_service.task_names import Task as TaskName
from grader_service.tasks import autograde as autograde_body
from grader_service.tasks import feedback as feedback_body
from grader_service.tasks import generate as generate_body
from grader_service.tasks import remote_autograde
from grader_service.tasks.context import RemoteWorkerContext, get_context, get_db_context
from grader_service.tasks.service_client import ServiceRefused

log = logging.getLogger(__name__)
MAX_RETRIES = 3
#: the longest wait before a retry, in seconds
MAX_BACKOFF = 60


class AttemptError(InfrastructureError):
    """A remote worker's infrastructure error, with the attempt the service must hear gave up."""

    def __init__(self, message: str, attempt: int | None) -> None:
        super().__init__(message)
        self.attempt = attempt


def _job_id(args: Any, kwargs: Any) -> int:
    return int(kwargs["job_id"] if "job_id" in (kwargs or {}) else args[0])


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


class GradingTask(Task):
    """Celery's retries of an infrastructure error are logged; when they are used up, the job fails."""

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        log.warning(
            "job %s: infrastructure error, retry %d: %s", _job_id(args, kwargs), self.request.retries + 1, exc
        )

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if isinstance(exc, InfrastructureError):
            _give_up(_job_id(args, kwargs), str(exc), getattr(exc, "attempt", None))


def autograde_run(self: Task, job_id: int) -> str:
    ctx = get_context()
    if isinstance(ctx, RemoteWorkerContext):  # no database here: the service keeps the job's state
        claimed: list[int] = []
        try:
            return remote_autograde.autograde(ctx, job_id, attempt_box=claimed)
        except InfrastructureError as exc:  # Celery retries it (autoretry_for)
            raise AttemptError(str(exc), claimed[-1] if claimed else None) from exc
        except ServiceRefused as exc:  # e.g. the job was deleted with its lecture: nothing to retry
            log.error("job %s: %s", job_id, exc)
            return f"refused: {exc}"
    retries = self.request.retries
    while True:
        try:
            return autograde_body.autograde(ctx, job_id, total_timeout=ctx.total_timeout)
        except InfrastructureError as exc:
            if not ctx.embedded:
                raise  # Celery retries it (autoretry_for)
            # the embedded transport cannot deliver delayed messages: back off here, in this worker thread
            # (never on the service's IO loop), with the same bounds as a broker retry
            if retries >= MAX_RETRIES:
                _give_up(job_id, str(exc))
                return f"failed: {exc}"
            log.warning("job %s: infrastructure error, retry %d: %s", job_id, retries + 1, exc)
            time.sleep(min(MAX_BACKOFF, ctx.retry_delay * 2**retries))
            retries += 1


def assignments_generate(self: Task, job_id: int) -> str:
    return generate_body.generate(get_db_context(), job_id)


def feedback_generate(job_id: int) -> str:
    return feedback_body.generate(get_db_context(), job_id)


def feedback_bulk(job_id: int) -> str:
    return feedback_body.bulk(get_db_context(), job_id)


def grades_recompute_learner(lecture_id: int, user_id: int) -> str:
    grade = recompute_learner(get_db_context().db.session_factory, lecture_id, user_id)
    return f"lecture {lecture_id} user {user_id}: {'recomputed' if grade is not None else 'not a member'}"


def grades_recompute_lecture(job_id: int) -> str:
    run_lecture_recompute(get_db_context().db.session_factory, job_id)
    return f"recompute job {job_id} done"


def register_tasks(app: Celery, *, retry_delay: float = 5.0) -> None:
    """Register every task of `TaskName` on `app`; `retry_delay` is the first retry's wait in seconds
    (doubling, at most MAX_BACKOFF; Celery's retry_backoff counts whole seconds, at least one).

    The tasks are shared, as Celery's worker threads look tasks up in the default app: every app this
    process finalizes gets them, with the options of the first registration. A process runs one
    configuration (like tasks.context), so that is this process's retry_delay.
    """
    app.task(
        name=TaskName.AUTOGRADE.value,
        base=GradingTask,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(InfrastructureError,),
        max_retries=MAX_RETRIES,
        retry_backoff=retry_delay,
        retry_backoff_max=MAX_BACKOFF,
        retry_jitter=False,
    )(autograde_run)
    app.task(name=TaskName.GENERATE.value, bind=True, acks_late=True, reject_on_worker_lost=True)(
        assignments_generate
    )
    app.task(name=TaskName.RECOMPUTE_LEARNER.value, acks_late=True)(grades_recompute_learner)
    app.task(name=TaskName.RECOMPUTE_LECTURE.value, acks_late=True, reject_on_worker_lost=True)(
        grades_recompute_lecture
    )
    app.task(name=TaskName.FEEDBACK.value, acks_late=True, reject_on_worker_lost=True)(feedback_generate)
    app.task(name=TaskName.FEEDBACK_BULK.value, acks_late=True, reject_on_worker_lost=True)(feedback_bulk)
    app.finalize()
    missing = {task.value for task in TaskName} - set(app.tasks)
    if missing:
        raise RuntimeError(f"tasks not registered: {sorted(missing)}")
