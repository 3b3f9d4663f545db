"""KubernetesExecutor against a REAL Kubernetes API server (kube-apiserver from Debian's source + etcd).

Played, not real: there is no kubelet or scheduler on this machine, so `PlayedKubelet` plays the kubelet
(it runs each pod's command as a local process with the pod's environment and patches the pod's status).
Real: the API server, RBAC, the pod objects, the watch the executor relies on, pod deletion, the service's
job-input and job-result endpoints, git, kernels. The executor authenticates with a service account that
has only the documented permissions (pods: create, get, list, watch, delete; secrets: create,
delete). Remote workers, which run
this executor with only the service URL, are tested end to end in tests/tasks/test_remote_worker.py."""

from __future__ import annotations

import os
import socket
import time

import pytest
from traitlets.config import Config

from grader_service.executors.kubernetes import SANDBOX_CAPABILITIES
from tests.support.kube import KubeCluster, KubeUnavailable, PlayedKubelet, kube_apiserver_binary
from tests.support.server import ServiceProcess
from tests.support.world import build_world
from tests.tasks.test_embedded_pipeline import author_and_release, student_submits, wait_graded

pytestmark = pytest.mark.slow
NAMESPACE = "grading"


def _port_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        binary = kube_apiserver_binary()
    except KubeUnavailable as exc:
        pytest.skip(f"!!! no kube-apiserver could be built or found ({exc}); Kubernetes tests SKIPPED !!!")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        api_port = s.getsockname()[1]
    kube = KubeCluster(tmp_path_factory.mktemp("kube"), _port_pair(), api_port)
    try:
        kube.start(binary)
    except KubeUnavailable as exc:
        kube.stop()
        pytest.fail(str(exc))
    yield kube
    kube.stop()


@pytest.fixture(scope="module")
def admin_api(cluster):
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig)))


@pytest.fixture(scope="module")
def executor_kubeconfig(cluster, admin_api, tmp_path_factory):
    """A service account with exactly the documented permissions, and a kubeconfig using its token."""
    from kubernetes import client

    rbac = client.RbacAuthorizationV1Api(admin_api.api_client)
    admin_api.create_namespace({"metadata": {"name": NAMESPACE}})
    admin_api.create_namespaced_service_account(NAMESPACE, {"metadata": {"name": "grader-executor"}})
    rbac.create_namespaced_role(
        NAMESPACE,
        {
            "metadata": {"name": "grader-executor"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods"],
                    "verbs": ["create", "get", "list", "watch", "delete"],
                },
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete"]},
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        NAMESPACE,
        {
            "metadata": {"name": "grader-executor"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "grader-executor"},
            "subjects": [{"kind": "ServiceAccount", "name": "grader-executor", "namespace": NAMESPACE}],
        },
    )
    token = admin_api.create_namespaced_service_account_token(
        "grader-executor", NAMESPACE, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    return cluster.write_kubeconfig(tmp_path_factory.mktemp("sa") / "kubeconfig", token, NAMESPACE)


@pytest.fixture(scope="module")
def kube_service(executor_kubeconfig, admin_api, make_db_url, tmp_path_factory):
    config = Config(
        {
            "KubernetesExecutor": {
                "namespace": NAMESPACE,
                "kubeconfig": str(executor_kubeconfig),
                "image": "registry.example/grading:1",
                "overall_timeout_margin": 20,
                "images": {"special": "registry.example/special:2"},
            }
        }
    )
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=tmp_path_factory.mktemp("kdata"),
        config=config,
        executor_class="grader_service.executors.kubernetes.KubernetesExecutor",
        autograde_timeout=60,
    )
    svc.start(worker="embedded")
    kubelet = PlayedKubelet(admin_api, NAMESPACE, tmp_path_factory.mktemp("kubelet"))
    kubelet.start()
    yield svc, kubelet
    kubelet.stop()
    svc.stop()


def test_sa_permissions_are_only_the_documented_ones(executor_kubeconfig):
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(executor_kubeconfig)))
    api.list_namespaced_pod(NAMESPACE)
    for forbidden in (
        lambda: api.list_namespaced_secret(NAMESPACE),
        lambda: api.list_namespaced_pod("default"),
    ):
        with pytest.raises(ApiException) as info:
            forbidden()
        assert info.value.status == 403


def test_pod_per_submission_graded_through_the_watch(kube_service, admin_api, tmp_path):
    svc, kubelet = kube_service
    w = build_world(svc)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Pods"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    sub = student_submits(w, tmp_path, aid, "student")
    graded = wait_graded(w, aid, sub["id"])
    assert graded["auto_status"] == "automatically_graded", graded
    assert graded["auto_score"] == 3.0
    job_id = str(graded["autograde"]["id"])
    pods = [p for p in kubelet.seen.values() if p.metadata.labels.get("grader-service/job-id") == job_id]
    assert len(pods) == 1
    pod = pods[0]
    spec, container = pod.spec, pod.spec.containers[0]
    assert spec.automount_service_account_token is False and spec.restart_policy == "Never"
    assert spec.active_deadline_seconds == 80  # 60 s budget + 20 s margin
    # the runner is root with only what the in-pod sandbox needs; its kernels get their own uid (probe tests)
    assert container.security_context.run_as_user == 0 and spec.security_context.fs_group == 1000
    assert container.security_context.allow_privilege_escalation is False
    assert container.security_context.capabilities.drop == ["ALL"]
    assert set(container.security_context.capabilities.add) == set(SANDBOX_CAPABILITIES)
    assert container.security_context.read_only_root_filesystem is True
    assert container.resources.limits["memory"] == "1Gi" and container.resources.requests["cpu"] == "500m"
    assert container.image == "registry.example/grading:1"
    assert not spec.volumes[0].host_path and spec.volumes[0].empty_dir is not None  # no volume shared with us
    assert pod.metadata.annotations["grader-service/user"] == w.names["student"]
    env = {e.name: e.value for e in container.env}
    assert env["GRADER_JOB_ID"] == job_id and "GRADER_DB_URL" not in env
    assert not any("TOKEN" in e.name and e.name != "GRADER_JOB_TOKEN_FILE" for e in container.env)
    assert env["GRADER_JOB_TOKEN_FILE"] == "/var/run/grader-job/token"
    token_volume = next(v for v in spec.volumes if v.name == "job-token")
    assert token_volume.secret.secret_name == pod.metadata.name and token_volume.secret.default_mode == 0o400
    token = (kubelet.workroot / pod.metadata.name / "secrets" / "job-token" / "token").read_text()
    assert len(token) >= 32
    # deleted after completion
    svc.wait_for(
        lambda: (
            not admin_api.list_namespaced_pod(
                NAMESPACE, label_selector=f"grader-service/job-id={job_id}"
            ).items
        )
    )
    assert not admin_api.list_namespaced_secret(  # the token's secret is gone too
        NAMESPACE, label_selector=f"grader-service/job-id={job_id}"
    ).items
    # the job token died with the job: a late or forged post is refused or ignored
    r = svc.request(
        "POST",
        f"/api/jobs/{job_id}/result",
        headers={"Authorization": f"token {token}"},
        json={"ok": False, "error": "late"},
    )
    assert r.status_code == 200 and r.json()["recorded"] is False
    assert (
        w.req("tutor", "GET", f"{w.lecture_path}/assignments/{aid}/submissions/{sub['id']}").json()[
            "auto_score"
        ]
        == 3.0
    )


def test_pod_that_never_finishes_is_deleted_at_the_deadline(kube_service, admin_api, tmp_path):
    svc, kubelet = kube_service
    from grader_service.tasks.context import get_context

    executor = get_context().executor
    w = build_world(svc)
    aid = w.req("instructor", "POST", w.lecture_path + "/assignments", json={"name": "Stuck"}).json()["id"]
    author_and_release(w, tmp_path, aid)
    # the next job's pod stays Pending (the played kubelet ignores it); its deadline is 60 - 55 = 5 s
    executor.overall_timeout_margin = -55
    try:
        with svc.db.session() as s:
            from sqlalchemy import func, select

            from grader_service.orm.models import Job

            next_id = (s.scalar(select(func.max(Job.id))) or 0) + 1
        kubelet.ignore_jobs.update(str(next_id + i) for i in range(3))
        started = time.monotonic()
        sub = student_submits(w, tmp_path, aid, "student")
        graded = wait_graded(w, aid, sub["id"])
    finally:
        executor.overall_timeout_margin = 20
    assert graded["auto_status"] == "grading_failed"
    assert "time limit" in graded["autograde"]["error"]
    assert time.monotonic() - started < 40
    job_id = str(graded["autograde"]["id"])
    assert not admin_api.list_namespaced_pod(
        NAMESPACE, label_selector=f"grader-service/job-id={job_id}"
    ).items


def test_manifest_options(kube_service):
    from grader_service.executors.base import JobSpec
    from grader_service.executors.kubernetes import KubernetesExecutor

    seen = []
    ex = KubernetesExecutor(
        namespace="n",
        images={"special": "img:special", "special/7": "img:seven"},
        lecture_resources={"special": {"limits": {"memory": "4Gi"}}},
        tolerations=[{"key": "grading", "operator": "Exists"}],
        node_selector={"pool": "grading"},
        image_pull_secrets=["regcred"],
        extra_volumes=[{"name": "data", "configMap": {"name": "d"}}],
        extra_volume_mounts=[{"name": "data", "mountPath": "/data", "readOnly": True}],
        pre_spawn_hook=lambda executor, pod, spec: seen.append(pod["metadata"]["name"]),
    )
    spec = JobSpec(
        job_id=5,
        submission_id=9,
        input_dir=None,
        gradebook={},
        cell_timeout=10,
        timeout=100,
        job_token="t",
        labels={"lecture": "special", "assignment": "7", "attempt": "2"},
    )
    pod = ex.pod_manifest(spec)
    c = pod["spec"]["containers"][0]
    assert c["image"] == "img:seven" and c["resources"] == {"limits": {"memory": "4Gi"}}
    assert pod["spec"]["tolerations"] and pod["spec"]["nodeSelector"] == {"pool": "grading"}
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert seen == ["grader-job-5-2"]
    other = ex.pod_manifest(
        JobSpec(
            job_id=6,
            submission_id=9,
            input_dir=None,
            gradebook={},
            cell_timeout=10,
            timeout=100,
            job_token="t",
            labels={"lecture": "special", "assignment": "8"},
        )
    )
    assert other["spec"]["containers"][0]["image"] == "img:special"
    assert os.environ.get("KUBERNETES_SERVICE_HOST") is None


def test_options_from_the_service_win_over_the_executors_own_tables():
    """A remote worker's claim carries the image and resources the service resolved (job_options)."""
    from grader_service.executors.base import JobSpec
    from grader_service.executors.kubernetes import KubernetesExecutor

    service_side = KubernetesExecutor(
        images={"ml": "img:ml"}, lecture_resources={"ml/3": {"limits": {"cpu": "4"}}}
    )
    options = service_side.job_options("ml", "3")
    assert options == {"image": "img:ml", "resources": {"limits": {"cpu": "4"}}}
    worker_side = KubernetesExecutor(image="img:worker-default")
    spec = JobSpec(
        job_id=1,
        submission_id=2,
        input_dir=None,
        gradebook={},
        cell_timeout=10,
        timeout=100,
        job_token="t",
        labels={"lecture": "ml", "assignment": "3"},
        executor_options=options,
    )
    container = worker_side.pod_manifest(spec)["spec"]["containers"][0]
    assert container["image"] == "img:ml" and container["resources"] == {"limits": {"cpu": "4"}}
    plain = JobSpec(
        job_id=1,
        submission_id=2,
        input_dir=None,
        gradebook={},
        cell_timeout=10,
        timeout=100,
        job_token="t",
        labels={"lecture": "ml", "assignment": "3"},
    )
    assert worker_side.pod_manifest(plain)["spec"]["containers"][0]["image"] == "img:worker-default"
