"""Enqueue background work only after the transaction commits (the seam between services and tasks).

Services call `enqueue(session, Task.RECOMPUTE_LEARNER, lecture_id=1, user_id=2)`; nothing is sent
unless and until that session commits (a rollback drops it); the after-commit hook itself lives in
orm/after_commit.py. The app installs a `Dispatcher` with `Database.install_dispatcher`: Celery in
production and in the embedded default (tasks/), or `InlineDispatcher`, which runs registered functions in
a thread pool, for tests and tools that have no worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from grader_service.orm.after_commit import Dispatcher, defer
from grader_service.task_names import Task

log = logging.getLogger(__name__)
__all__ = ["Dispatcher", "InlineDispatcher", "RecordingDispatcher", "Task", "enqueue"]


def enqueue(session: Session, task: Task | str, **kwargs: Any) -> None:
    """Send `task(**kwargs)` after `session` commits. Arguments must be JSON (ids, not objects).

    `_options` (a dict) is not an argument: it carries delivery options such as time limits.
    """
    defer(session, Task.named(task).value, kwargs)


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
