"""What a worker process needs to run tasks, built once per process from the same config as the service:
the database, the git store and the executor (database workers), or only the service's URL, a worker token
and the executor (remote workers, for remote executors such as the KubernetesExecutor)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader_service.executors.base import Executor, ResourceLimits
from grader_service.git.store import RepoStore
from grader_service.orm.session import Database
from grader_service.tasks.service_client import ServiceClient


@dataclass(frozen=True)
class TaskSettings:
    """What tasks need from the configuration; grader-service and grader-worker build it from the same config
    file (GraderService.task_settings). The callables run lazily, in the process that runs the tasks."""

    data_dir: Path
    git_root: Path
    #: a new executor configured from the config file
    make_executor: Callable[[], Executor]
    #: a Database on the configured URL (the schema is not checked or upgraded)
    open_db: Callable[[], Database]
    limits: ResourceLimits
    total_timeout: float
    service_url: str
    retry_delay: float


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


@dataclass
class RemoteWorkerContext:
    """A remote worker's context: no database, no data dir; every job state change goes through `client`."""

    client: ServiceClient
    executor: Executor
    name: str
    retry_delay: float = 5.0
    embedded: bool = False


Context = WorkerContext | RemoteWorkerContext

_lock = threading.Lock()
_contexts: dict[int, Context] = {}
_factory: Callable[[], Context] | None = None


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def configure(settings: TaskSettings) -> None:
    """Tell this process which settings to build contexts from (the service or grader-worker app)."""
    global _factory
    _factory = lambda: build_context(settings)  # noqa: E731


def configure_remote(settings: TaskSettings, service_url: str, api_token: str) -> None:
    """Build remote contexts: this process never opens the database or the data dir."""
    global _factory
    _factory = lambda: build_remote_context(settings, service_url, api_token)  # noqa: E731


def build_context(settings: TaskSettings, db: Database | None = None) -> WorkerContext:
    executor = settings.make_executor()
    scratch = Path(settings.data_dir) / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return WorkerContext(
        db=db or settings.open_db(),
        store=RepoStore(settings.git_root),
        executor=executor,
        limits=settings.limits,
        name=_worker_name(),
        scratch_root=scratch,
        total_timeout=settings.total_timeout,
        service_url=settings.service_url,
        retry_delay=settings.retry_delay,
    )


def build_remote_context(settings: TaskSettings, service_url: str, api_token: str) -> RemoteWorkerContext:
    return RemoteWorkerContext(
        client=ServiceClient(service_url, api_token),
        executor=settings.make_executor(),
        name=_worker_name(),
        retry_delay=settings.retry_delay,
    )


def get_context() -> Context:
    """The context of this process (prefork children build their own after the fork)."""
    pid = os.getpid()
    with _lock:
        ctx = _contexts.get(pid)
        if ctx is None:
            if _factory is None:
                raise RuntimeError("the worker was not configured (tasks.context.configure)")
            ctx = _contexts[pid] = _factory()
        return ctx


def get_db_context() -> WorkerContext:
    """The context of tasks that need the database and the git store (all but autograde)."""
    ctx = get_context()
    if not isinstance(ctx, WorkerContext):
        raise RuntimeError(
            "this grader-worker runs in remote mode (GraderWorker.service_url): it can only run "
            "autograde tasks; run a database worker for the generate, grades and batch queues"
        )
    return ctx


def set_context(ctx: Context) -> None:
    """Use an existing context in this process (the embedded worker shares the service's database)."""
    with _lock:
        _contexts[os.getpid()] = ctx
