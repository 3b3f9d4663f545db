"""Production shape: the service sends to the real RabbitMQ (127.0.0.1:5672), a separate `grader-worker`
process grades, PostgreSQL holds the data. Includes a worker killed with SIGKILL mid-job (the job is
re-delivered and graded exactly once) and a task delivered twice (graded once)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grader_service.orm.models import Job
from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits, wait_graded

pytestmark = pytest.mark.slow
BROKER = os.environ.get("GRADER_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _rabbit_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


class WorkerProcess:
    """`grader-worker -f config` (solo pool, one task at a time); `env` is added to this process's env."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "grader_service.worker",
                "-f",
                str(config),
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--name",
                f"test-{uuid.uuid4().hex[:6]}@localhost",
            ],
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text():
                return
            if self.proc.poll() is not None:
                raise AssertionError("grader-worker exited:\n" + self.log.read_text())
            time.sleep(0.1)
        raise AssertionError("grader-worker did not get ready:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def broker_setup(tmp_path_factory, make_db_url):
    if not _rabbit_up():
        pytest.skip(
            "!!! RabbitMQ is not reachable on 127.0.0.1:5672 (scripts/services.sh starts it); "
            "the RabbitMQ worker tests are SKIPPED !!!"
        )
    tmp = tmp_path_factory.mktemp("broker")
    db_url = make_db_url("postgresql")
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    config = tmp / "grader_service_config.py"
    config.write_text(
        f"c.GraderService.db_url = {db_url!r}\nc.GraderService.data_dir = {str(tmp / 'data')!r}\n"
        f"c.GraderService.broker_url = {BROKER!r}\nc.GraderService.queue_prefix = {prefix!r}\n"
    )
    svc = ServiceProcess(db_url=db_url, data_dir=tmp / "data", broker_url=BROKER, queue_prefix=prefix)
    svc.start(worker="broker")
    yield svc, config, tmp
    svc.stop()


def test_push_submit_score_with_rabbitmq_and_a_separate_worker(broker_setup, tmp_path):
    svc, config, tmp = broker_setup
    worker = WorkerProcess(config, tmp / "worker1.log")
    try:
        worker.wait_ready()
        w = build_world(svc)
        aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Squares"}).json()[
            "id"
        ]
        author_and_release(w, tmp_path, aid)
        sub = student_submits(w, tmp_path, aid, "student")
        graded = wait_graded(w, aid, sub["id"])
        assert graded["auto_status"] == "automatically_graded" and graded["auto_score"] == 3.0
        assert graded["autograde"]["worker"].startswith(socket.gethostname())
    finally:
        worker.stop()


def test_sigkilled_worker_job_is_redelivered_and_graded_once(broker_setup, tmp_path):
    svc, config, tmp = broker_setup
    first = WorkerProcess(config, tmp / "killed.log")
    second = None
    try:
        first.wait_ready()
        w = build_world(svc)
        aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Slow"}).json()["id"]
        author_and_release(w, tmp_path, aid)
        sub = student_submits(w, tmp_path, aid, "student", extra_cells=["import time\ntime.sleep(8)"])
        path = f"{w.released_path.rsplit('/', 1)[0]}/{aid}/submissions/{sub['id']}"
        svc.wait_for(
            lambda: w.req("tutor", "GET", path).json()["autograde"]["state"] == "running", timeout=60
        )
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait()
        second = WorkerProcess(config, tmp / "second.log")
        graded = wait_graded(w, aid, sub["id"])
        assert graded["auto_status"] == "automatically_graded" and graded["auto_score"] == 3.0
        assert graded["autograde"]["attempts"] == 2 and graded["autograde"]["state"] == "succeeded"
        with svc.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Job).where(Job.submission_id == sub["id"])) == 1
        # a duplicate delivery of the finished job changes nothing
        svc.app_celery.send_task(
            "autograde.run",
            kwargs={"job_id": graded["autograde"]["id"]},
            queue=svc.app.queue_prefix + "autograde",
        )
        time.sleep(2)
        again = w.req("tutor", "GET", path).json()
        assert again["autograde"] == graded["autograde"] and again["auto_score"] == 3.0
    finally:
        first.stop()
        if second:
            second.stop()
