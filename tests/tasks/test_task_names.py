"""Task names are declared once (grader_service.task_names): enqueue, the Celery routes and the
registered tasks all follow that declaration, and autograde retries with Celery's own backoff."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader_service.services.dispatch import RecordingDispatcher, enqueue
from grader_service.task_names import QUEUES, Task
from grader_service.tasks.celery_app import make_celery
from grader_service.tasks.registry import MAX_BACKOFF, MAX_RETRIES, register_tasks


def test_every_task_is_registered_and_routed_to_its_queue():
    app = make_celery("", queue_prefix="t-")
    register_tasks(app, retry_delay=2.0)
    assert {task.value for task in Task} <= set(app.tasks)
    assert QUEUES == ("autograde", "generate", "grades", "batch", "feedback")
    assert {q.name for q in app.conf.task_queues} == {"t-" + q for q in QUEUES}
    for task in Task:
        assert app.conf.task_routes[task.value] == {"queue": "t-" + task.queue}


def test_autograde_uses_celerys_bounded_backoff():
    # in a process of its own: tasks are shared, so the first registration in a process sets the options
    probe = (
        "from grader_service.tasks.celery_app import make_celery\n"
        "from grader_service.tasks.registry import register_tasks\n"
        "app = make_celery('')\n"
        "register_tasks(app, retry_delay=2.0)\n"
        "t = app.tasks['autograde.run']\n"
        "other = app.tasks['grades.recompute_learner']\n"
        "print(t.max_retries, [e.__name__ for e in t.autoretry_for], t.retry_backoff, t.retry_backoff_max,"
        " t.retry_jitter, getattr(other, 'autoretry_for', ()))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == [
        str(MAX_RETRIES),
        "['InfrastructureError']",
        "2.0",
        str(MAX_BACKOFF),
        "False",
        "()",  # the other tasks are not retried on their own
    ]


def test_enqueue_accepts_the_enum_and_its_names_and_nothing_else(tmp_path):
    from grader_service.orm.session import Database

    db = Database(f"sqlite:///{tmp_path}/t.db")
    rec = RecordingDispatcher()
    db.install_dispatcher(rec)
    try:
        with db.session() as s:
            enqueue(s, Task.RECOMPUTE_LECTURE, job_id=1)
            enqueue(s, "grades.recompute_learner", lecture_id=1, user_id=2)
            with pytest.raises(ValueError, match="unknown task 'grades.nope'"):
                enqueue(s, "grades.nope")
            s.commit()
        assert rec.sent == [
            ("grades.recompute_lecture", {"job_id": 1}),
            ("grades.recompute_learner", {"lecture_id": 1, "user_id": 2}),
        ]
        assert all(type(name) is str for name, _ in rec.sent)  # plain names go on the wire
    finally:
        db.close()
