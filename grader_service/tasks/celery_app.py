"""Builds the Celery app from the service's config: queues, JSON only, late acks, prefetch 1, task routes."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from grader_service.task_names import QUEUES, Task

__all__ = ["EMBEDDED_BROKER", "QUEUES", "CeleryDispatcher", "make_celery"]
EMBEDDED_BROKER = "memory://localhost/"


def make_celery(broker_url: str, *, queue_prefix: str = "", main: str = "grader_service") -> Celery:
    """The Celery app; an empty `broker_url` means the embedded in-process transport.

    `queue_prefix` lets several installations (or test runs) share one broker without sharing queues.
    """
    app = Celery(main, broker=broker_url or EMBEDDED_BROKER, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[
            Queue(
                queue_prefix + name,
                Exchange(queue_prefix + name, type="direct"),
                routing_key=queue_prefix + name,
            )
            for name in QUEUES
        ],
        task_default_queue=queue_prefix + "autograde",
        task_routes={task.value: {"queue": queue_prefix + task.queue} for task in Task},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        broker_heartbeat=30,
    )
    if not broker_url:
        app.conf.broker_transport_options = {"polling_interval": 0.05}
    return app


class CeleryDispatcher:
    """The services' Dispatcher in production and in the embedded default: sends tasks by name."""

    def __init__(self, app: Celery, queue_prefix: str = "") -> None:
        self.app = app
        self.queue_prefix = queue_prefix

    def send(self, task: str, kwargs: dict[str, Any]) -> None:
        kwargs = dict(kwargs)
        options = kwargs.pop("_options", None) or {}
        name = Task.named(task)
        self.app.send_task(name.value, kwargs=kwargs, queue=self.queue_prefix + name.queue, **options)
