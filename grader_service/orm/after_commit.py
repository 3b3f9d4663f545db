"""Messages held on a session until it commits, then handed to a dispatcher (dropped on rollback).

This is the mechanism under services.dispatch.enqueue: services add (task, kwargs) pairs with `defer`, and
`install` (called by Database.install_dispatcher, which the app wires) sends them after commit.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
PENDING = "grader_pending_tasks"


class Dispatcher(Protocol):
    def send(self, task: str, kwargs: dict[str, Any]) -> None: ...


def defer(session: Session, task: str, kwargs: dict[str, Any]) -> None:
    """Hold `task(**kwargs)` until `session` commits."""
    session.info.setdefault(PENDING, []).append((task, kwargs))


def install(factory: sessionmaker[Session], dispatcher: Dispatcher) -> None:
    """Send what sessions of `factory` deferred to `dispatcher` after each commit; drop it on rollback."""

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
