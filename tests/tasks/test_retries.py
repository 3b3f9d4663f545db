"""Bounded retries with backoff, for infrastructure errors only (executor doubles from tests/support)."""

from __future__ import annotations

import pytest

from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits, wait_graded

pytestmark = pytest.mark.slow


def _service(tmp_path_factory, make_db_url, executor: str) -> ServiceProcess:
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=tmp_path_factory.mktemp("retries"),
        executor_class=executor,
        task_retry_delay=0.2,
    )
    svc.start(worker="embedded")
    return svc


def test_infrastructure_errors_are_retried_then_graded_once(tmp_path_factory, make_db_url, tmp_path):
    svc = _service(tmp_path_factory, make_db_url, "tests.support.executors.FlakyExecutor")
    try:
        w = build_world(svc)
        aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Flaky"}).json()[
            "id"
        ]
        author_and_release(w, tmp_path, aid)
        sub = student_submits(w, tmp_path, aid, "student")
        graded = wait_graded(w, aid, sub["id"])
        assert graded["auto_status"] == "automatically_graded" and graded["auto_score"] == 3.0
        assert graded["autograde"]["attempts"] == 3 and graded["autograde"]["error"] is None
    finally:
        svc.stop()


def test_persistent_infrastructure_error_fails_after_bounded_retries(tmp_path_factory, make_db_url, tmp_path):
    svc = _service(tmp_path_factory, make_db_url, "tests.support.executors.BrokenExecutor")
    try:
        w = build_world(svc)
        aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Broken"}).json()[
            "id"
        ]
        author_and_release(w, tmp_path, aid)
        sub = student_submits(w, tmp_path, aid, "student")
        graded = wait_graded(w, aid, sub["id"])
        assert graded["auto_status"] == "grading_failed"
        assert graded["autograde"]["attempts"] == 4  # the first try and 3 retries
        assert (
            "after 3 retries" in graded["autograde"]["error"]
            and "unreachable" in graded["autograde"]["error"]
        )
    finally:
        svc.stop()
