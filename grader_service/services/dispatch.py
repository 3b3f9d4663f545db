"""Enqueue background work only after the transaction commits (the seam between services and tasks).

Services call `enqueue(session, "grades.recompute_learner", lecture_id=1, user_id=2)`; nothing is sent
unless and until that session commits (a rollback drops it). The app installs a `Dispatcher` on the
session factory: Celery in production and in the embedded default (tasks/), or `InlineDispatcher`, which
runs registered functions in a thread pool, for tests and tools that have no worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
PENDING = "grader_pending_tasks"

#: every task name the services may enqueue, with the queue it belongs to
TASK_QUEUES: dict[str, str] = {
    "autograde.run": "autograde",
    # its own queue: remote workers (service URL only) consume `autograde` and cannot generate
    "assignments.generate": "generate",
    "grades.recompute_learner": "grades",
    "grades.recompute_lecture": "batch",
    # database workers: feedback pages are read from and committed to the git store
    "feedback.generate": "feedback",
    "feedback.bulk": "feedback",
}


class Dispatcher(Protocol):
    def send(self, task: str, kwargs: dict[str, Any]) -> None: ...


def enqueue(session: Session, task: str, **kwargs: Any) -> None:
    """Send `task(**kwargs)` after `session` commits. Arguments must be JSON (ids, not objects).

    `_options` (a dict) is not an argument: it carries delivery options such as time limits.
    """
    if task not in TASK_QUEUES:
        raise ValueError(f"unknown task {task!r}")
    session.info.setdefault(PENDING, []).append((task, kwargs))


def install(factory: sessionmaker[Session], dispatcher: Dispatcher) -> None:
    @event.listens_for(factory, "after_commit")
    def _send(session: Session) -> None:
        for task, kwargs in session.info.pop(PENDING, []):
            try:
                dispatcher.send(task, kwargs)
            except Exception:  # the data is committed; a lost message is repaired by a re-run, not a crash
                log.exception("could not enqueue %s(%s)", task, kwargs)

    @event.listens_for(factory, "after_rollback")
    def _drop(session: Session) -> None:
        session.info.pop(PENDING, None)


class InlineDispatcher:
    """Runs registered task functions in a thread pool of its own (no broker, no worker process)."""

    def __init__(self, threads: int = 2) -> None:
        self.functions: dict[str, Callable[..., Any]] = {}
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grader-inline-task")
        self.futures: list[Future[Any]] = []

    def register(self, task: str, fn: Callable[..., Any]) -> None:
        self.functions[task] = fn

    def send(self, task: str, kwargs: dict[str, Any]) -> None:
        kwargs = {k: v for k, v in kwargs.items() if k != "_options"}
        fn = self.functions.get(task)
        if fn is None:
            log.warning("no function registered for task %s; dropped", task)
            return
        self.futures.append(self.pool.submit(fn, **kwargs))

    def drain(self, timeout: float = 30) -> None:
        """Wait for every task sent so far (tests)."""
        while self.futures:
            self.futures.pop(0).result(timeout)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class RecordingDispatcher:
    """Remembers what was sent (tests that check what a use case enqueues)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, task: str, kwargs: dict[str, Any]) -> None:
        self.sent.append((task, kwargs))
