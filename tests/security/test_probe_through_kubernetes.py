"""The sandbox probe through the KubernetesExecutor: the service creates the pod (real kube-apiserver), the
played kubelet runs the pod's command locally as the pod would (root, the token from its Secret volume),
and the runner's sandbox must hold every check, as the ProcessExecutor's does."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from grader_service.executors.process import ProcessExecutor
from tests.executors.test_kubernetes_executor import (  # noqa: F401 - fixtures
    NAMESPACE,
    admin_api,
    cluster,
    executor_kubeconfig,
)
from tests.security.test_probe_through_the_service import REPO, assert_probe_passed, author_probe, submit
from tests.support.kube import PlayedKubelet
from tests.support.probe import ProbeTargets, default_tcp_targets
from tests.support.server import ServiceProcess
from tests.support.world import build_world

pytestmark = pytest.mark.slow


def test_the_probe_holds_inside_a_grading_pod(
    executor_kubeconfig,  # noqa: F811
    admin_api,  # noqa: F811
    make_db_url,
    tmp_path_factory,
    tmp_path,
):
    config = Config({"KubernetesExecutor": {"namespace": NAMESPACE, "kubeconfig": str(executor_kubeconfig)}})
    data_dir = tmp_path_factory.mktemp("kprobe-data")
    svc = ServiceProcess(
        db_url=make_db_url("sqlite"),
        data_dir=data_dir,
        config=config,
        executor_class="grader_service.executors.kubernetes.KubernetesExecutor",
        autograde_timeout=180,
    )
    svc.start(worker="embedded")
    workroot = tmp_path_factory.mktemp("kprobe-kubelet")
    decoy = workroot / "grader-job-999-1"
    (decoy / "submission").mkdir(parents=True)
    (decoy / "submission" / "answer.ipynb").write_text("another pod's submission")
    kubelet = PlayedKubelet(admin_api, NAMESPACE, workroot)
    kubelet.start()
    try:
        defaults = ProcessExecutor.class_traits()
        t = ProbeTargets(
            tcp=default_tcp_targets(svc.port),
            grader_uid=defaults["sandbox_uid_base"].default_value,
            forbidden=[
                str(data_dir),
                str(decoy),
                str(REPO / "pyproject.toml"),
                "/etc/shadow",
                str(workroot / "*" / "secrets" / "*" / "token"),  # the runner's job token
            ],
            scratch_root=str(workroot),
            quota_bytes=defaults["scratch_quota_bytes"].default_value,
            quota_inodes=defaults["scratch_quota_inodes"].default_value,
        )
        w = build_world(svc)
        aid = author_probe(w, tmp_path, t)
        sub_id = submit(w, tmp_path, aid, "student")
        assert_probe_passed(w, aid, sub_id, "student", tmp_path)
        token_files = list(workroot.glob("grader-job-*/secrets/job-token/token"))
        assert token_files and all(f.stat().st_mode & 0o777 == 0o400 for f in token_files)
    finally:
        kubelet.stop()
        svc.stop()
