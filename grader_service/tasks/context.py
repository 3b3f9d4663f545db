"""What a worker process needs to run tasks: the database, the git store and the executor, built once per
process from the same config as the service."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader_service.executors.base import Executor, ResourceLimits
from grader_service.git.store import RepoStore
from grader_service.orm.session import Database

if TYPE_CHECKING:
    from grader_service.app import GraderService


@dataclass
class WorkerContext:
    db: Database
    store: RepoStore
    executor: Executor
    limits: ResourceLimits
    name: str
    scratch_root: Path
    total_timeout: float = 600.0
    service_url: str = ""
    retry_delay: float = 5.0
    #: the in-process worker of the embedded default (its transport cannot deliver delayed messages)
    embedded: bool = False


_lock = threading.Lock()
_contexts: dict[int, WorkerContext] = {}
_service: GraderService | None = None


def configure(service: GraderService) -> None:
    """Tell this process which configuration to build contexts from (the service or grader-worker app)."""
    global _service
    _service = service


def build_context(service: GraderService, db: Database | None = None) -> WorkerContext:
    executor = service.executor_class(parent=service)
    scratch = Path(service.data_dir) / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return WorkerContext(db=db or service.init_db(ensure=False), store=RepoStore(service.git_root),
                         executor=executor, limits=service.resource_limits,
                         name=f"{socket.gethostname()}:{os.getpid()}", scratch_root=scratch,
                         total_timeout=service.autograde_timeout, service_url=service.public_url,
                         retry_delay=service.task_retry_delay)


def get_context() -> WorkerContext:
    """The context of this process (prefork children build their own after the fork)."""
    pid = os.getpid()
    with _lock:
        ctx = _contexts.get(pid)
        if ctx is None:
            if _service is None:
                raise RuntimeError("the worker was not configured (tasks.context.configure)")
            ctx = _contexts[pid] = build_context(_service)
        return ctx


def set_context(ctx: WorkerContext) -> None:
    """Use an existing context in this process (the embedded worker shares the service's database)."""
    with _lock:
        _contexts[os.getpid()] = ctx
