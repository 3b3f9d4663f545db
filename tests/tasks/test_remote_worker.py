"""A remote grader-worker: only the broker URL, the service URL and a worker token; no database, no data dir.

Real: the service (PostgreSQL), RabbitMQ, a `grader-worker` process in remote mode (its db_url points at a
port where nothing listens and its data dir does not exist), the Kubernetes API server with RBAC, the
KubernetesExecutor's pods and watch, git, kernels; a database worker process for the generate and grades
queues. Played, not real: the kubelet (tests/support/kube.py runs each pod's command as a local process).
"""

from __future__ import annotations

import socket
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from tests.executors.test_kubernetes_executor import (  # noqa: F401 - module fixtures: a real API server
    NAMESPACE,
    admin_api,
    cluster,
    executor_kubeconfig,
)
from tests.support.kube import PlayedKubelet
from tests.support.server import ServiceProcess
from tests.support.workers import make_worker_token
from tests.support.world import LectureWorld, build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits, wait_graded
from tests.tasks.test_rabbitmq_worker import BROKER, WorkerProcess, _rabbit_up

pytestmark = pytest.mark.slow
KUBE = "grader_service.executors.kubernetes.KubernetesExecutor"
UNREACHABLE_DB = "postgresql+psycopg://nobody:nothing@127.0.0.1:9/no_database_here"
CRASH_HOOK = '''
def crash_some_pods(executor, pod, spec):
    """The pods of student2-* users exit at once, without posting a result."""
    if spec.labels.get("user", "").startswith("student2-"):
        pod["spec"]["containers"][0]["command"] = ["python", "-c", "raise SystemExit(3)"]


c.KubernetesExecutor.pre_spawn_hook = crash_some_pods
'''


@dataclass
class Setup:
    svc: ServiceProcess
    kubelet: PlayedKubelet
    remote: WorkerProcess
    tmp: Path
    nowhere: Path
    world: LectureWorld
    aid: int
    token: str
    config: Path

    def pods_of(self, job_id: int) -> list[Any]:
        return [
            p
            for p in self.kubelet.seen.values()
            if p.metadata.labels.get("grader-service/job-id") == str(job_id)
        ]


def remote_config(svc: ServiceProcess, prefix: str, kubeconfig: Path, nowhere: Path) -> str:
    return (
        textwrap.dedent(f"""
        c.GraderService.broker_url = {BROKER!r}
        c.GraderService.queue_prefix = {prefix!r}
        c.GraderService.db_url = {UNREACHABLE_DB!r}
        c.GraderService.data_dir = {str(nowhere)!r}
        c.GraderService.executor_class = {KUBE!r}
        c.KubernetesExecutor.namespace = {NAMESPACE!r}
        c.KubernetesExecutor.kubeconfig = {str(kubeconfig)!r}
        c.KubernetesExecutor.image = "registry.example/worker-default:9"
        c.KubernetesExecutor.overall_timeout_margin = 20
        c.GraderWorker.service_url = {svc.url!r}
        """)
        + CRASH_HOOK
    )


@pytest.fixture(scope="module")
def remote(executor_kubeconfig, admin_api, make_db_url, tmp_path_factory):  # noqa: F811
    if not _rabbit_up():
        pytest.skip(
            "!!! RabbitMQ is not reachable on 127.0.0.1:5672 (scripts/services.sh starts it); "
            "the remote worker tests are SKIPPED !!!"
        )
    tmp = tmp_path_factory.mktemp("remote")
    db_url = make_db_url("postgresql")
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    data, nowhere = tmp / "data", tmp / "no-data-dir-here"
    # the service's config decides the pod image (the remote worker's own default must not be used)
    svc = ServiceProcess(
        db_url=db_url,
        data_dir=data,
        broker_url=BROKER,
        queue_prefix=prefix,
        executor_class=KUBE,
        autograde_timeout=60,
        config=Config({"KubernetesExecutor": {"image": "registry.example/service-default:1"}}),
    )
    svc.start(worker="broker")
    kubelet = PlayedKubelet(admin_api, NAMESPACE, tmp_path_factory.mktemp("kubelet"))
    kubelet.start()
    db_config = tmp / "db_worker_config.py"
    db_config.write_text(
        f"c.GraderService.db_url = {db_url!r}\nc.GraderService.data_dir = {str(data)!r}\n"
        f"c.GraderService.broker_url = {BROKER!r}\nc.GraderService.queue_prefix = {prefix!r}\n"
        "c.GraderWorker.queues = ['generate', 'grades', 'batch']\n"
    )
    config = tmp / "remote_worker_config.py"
    config.write_text(remote_config(svc, prefix, executor_kubeconfig, nowhere))
    db_worker = WorkerProcess(db_config, tmp / "db-worker.log")
    token = make_worker_token(svc)
    worker = WorkerProcess(
        config, tmp / "remote-worker.log", env={"GRADER_WORKER_TOKEN": token, "GRADER_DB_URL": UNREACHABLE_DB}
    )
    try:
        db_worker.wait_ready()
        worker.wait_ready()
        world = build_world(svc)
        aid = world.req(
            "instructor", "POST", world.lecture_path + "/assignments", json={"name": "Remote"}
        ).json()["id"]
        author_and_release(world, tmp, aid)  # the generate queue: the database worker
        setup = Setup(svc, kubelet, worker, tmp, nowhere, world, aid, token, config)
        yield setup
    finally:
        worker.stop()
        if "setup" in locals():
            setup.remote.stop()
        db_worker.stop()
        kubelet.stop()
        svc.stop()


def _job_of(s: Setup, sub_id: int) -> dict:
    return s.world.req(
        "tutor", "GET", f"{s.world.lecture_path}/assignments/{s.aid}/submissions/{sub_id}"
    ).json()


def test_remote_worker_grades_with_only_the_service_url(remote, tmp_path):
    s = remote
    sub = student_submits(s.world, tmp_path, s.aid, "student")
    graded = wait_graded(s.world, s.aid, sub["id"])
    assert graded["auto_status"] == "automatically_graded", graded
    assert graded["auto_score"] == 3.0
    job = graded["autograde"]
    assert job["state"] == "succeeded" and job["attempts"] == 1
    assert job["worker"].startswith(socket.gethostname())
    pods = s.pods_of(job["id"])
    assert len(pods) == 1
    assert pods[0].spec.containers[0].image == "registry.example/service-default:1"
    env = {e.name: e.value for e in pods[0].spec.containers[0].env}
    assert env["GRADER_SERVICE_URL"].rstrip("/") == s.svc.url and "GRADER_DB_URL" not in env

    # the grade update ran on the database worker (the grades queue)
    def entry():
        r = s.world.req(
            "instructor", "GET", s.world.lecture_path + f"/gradebook?username={s.world.names['student']}"
        )
        return any(
            b["assignment_id"] == s.aid and b["score_earned"] == 3.0 for b in r.json()["section_breakdown"]
        )

    s.svc.wait_for(entry, timeout=30)
    log = s.remote.log.read_text()
    assert "remote mode" in log and "no database" in log
    assert not s.nowhere.exists(), "the remote worker touched its data dir"


def test_pod_that_exits_without_a_result_fails_the_submission_clearly(remote, tmp_path):
    s = remote
    sub = student_submits(s.world, tmp_path, s.aid, "student2")
    graded = wait_graded(s.world, s.aid, sub["id"])
    assert graded["auto_status"] == "grading_failed", graded
    job = graded["autograde"]
    assert job["state"] == "failed" and job["attempts"] == 1
    assert job["error"] == "the grading pod failed: Error (exit code 3)"
    assert len(s.pods_of(job["id"])) == 1
    assert not s.nowhere.exists()


def test_job_delivered_twice_runs_once(remote, tmp_path):
    s = remote
    sub = student_submits(s.world, tmp_path, s.aid, "tutor")
    job_id = _job_of(s, sub["id"])["autograde"]["id"]
    s.svc.app_celery.send_task(
        "autograde.run", kwargs={"job_id": job_id}, queue=s.svc.app.queue_prefix + "autograde"
    )
    graded = wait_graded(s.world, s.aid, sub["id"])
    assert graded["auto_status"] == "automatically_graded" and graded["auto_score"] == 3.0
    s.svc.wait_for(lambda: "skipped: the job is already finished" in s.remote.log.read_text(), timeout=30)
    time.sleep(1)
    again = _job_of(s, sub["id"])
    assert again["autograde"]["attempts"] == 1 and again["autograde"]["state"] == "succeeded"
    assert again["autograde"] == graded["autograde"]
    assert len(s.pods_of(job_id)) == 1


def test_remote_worker_refuses_to_start_without_a_valid_token_or_a_remote_executor(remote):
    s = remote
    config = s.tmp / "remote_worker_config.py"
    bad = WorkerProcess(config, s.tmp / "bad-token.log", env={"GRADER_WORKER_TOKEN": "not-a-token"})
    assert bad.proc.wait(60) == 2
    assert "refused the worker token" in bad.log.read_text()
    user_token = s.world.tokens["admin"]  # a user token, even an admin's, is not a worker token
    admin = WorkerProcess(config, s.tmp / "user-token.log", env={"GRADER_WORKER_TOKEN": user_token})
    assert admin.proc.wait(60) == 2
    assert "only a worker token" in admin.log.read_text()
    local = s.tmp / "local_executor_config.py"
    local.write_text(
        config.read_text().replace(repr(KUBE), repr("grader_service.executors.local.LocalExecutor"))
    )
    wrong = WorkerProcess(local, s.tmp / "local.log", env={"GRADER_WORKER_TOKEN": "x"})
    assert wrong.proc.wait(60) == 2
    assert "needs a remote executor" in wrong.log.read_text()
    assert not s.nowhere.exists()


def test_infrastructure_errors_are_requeued_then_given_up_over_http(remote, tmp_path):
    """The Kubernetes API is unreachable: each attempt is requeued at the service, the task retries with
    backoff, and after the last retry the worker gives up: the submission shows a clear failed state."""
    s = remote
    dead = s.tmp / "dead-kubeconfig"
    dead.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: d, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: 'x'}}]\n"
        "contexts: [{name: d, context: {cluster: d, user: u}}]\ncurrent-context: d\n"
    )
    config = s.tmp / "dead_cluster_config.py"
    config.write_text(
        s.config.read_text() + f"\nc.KubernetesExecutor.kubeconfig = {str(dead)!r}\n"
        "c.GraderService.task_retry_delay = 0.2\n"
    )
    s.remote.stop()  # the healthy remote worker steps aside, so the broken one gets the job
    broken = WorkerProcess(config, s.tmp / "dead-cluster.log", env={"GRADER_WORKER_TOKEN": s.token})
    try:
        broken.wait_ready()
        sub = student_submits(s.world, tmp_path, s.aid, "instructor")  # staff may hand in too
        graded = wait_graded(s.world, s.aid, sub["id"])
    finally:
        broken.stop()
        s.remote = WorkerProcess(
            s.config, s.tmp / "remote-worker-2.log", env={"GRADER_WORKER_TOKEN": s.token}
        )
    assert graded["auto_status"] == "grading_failed", graded
    job = graded["autograde"]
    assert job["state"] == "failed" and job["attempts"] == 4  # the first try and 3 retries
    assert job["error"].startswith(
        "infrastructure error after 3 retries: the Kubernetes API cannot be reached"
    )
    assert not s.pods_of(job["id"])
    assert not s.nowhere.exists()
