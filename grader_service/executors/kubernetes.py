"""KubernetesExecutor: one pod per job. The pod needs no volume shared with the service: it fetches its input
from the service with the job's short-lived token and posts its result back (executors/pod_runner.py).

The token reaches the pod as a file from a per-job Secret (mode 0400, read only by the runner, never an
environment variable). Inside the pod the runner grades through the same sandbox as the ProcessExecutor
(own namespaces with no network, own root, a kernel uid, seccomp), so its container runs as root with only
the capabilities that sandbox needs (`SANDBOX_CAPABILITIES`) and no privilege escalation; the chart's
NetworkPolicy is the second line of defence, not the only one.

Permissions it needs in its namespace (and nothing else): pods: create, get, list, watch, delete;
secrets: create, delete.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable
from typing import Any

from traitlets import Any as AnyTrait
from traitlets import Bool, Dict, Float, Integer, List, Unicode

from grader_service.executors.base import Executor, ExecutorResult, InfrastructureError, JobSpec

LABEL_JOB = "grader-service/job-id"
#: where the job token's Secret is mounted in the grading container
TOKEN_DIR = "/var/run/grader-job"
#: what the in-pod sandbox needs (see executors/sandbox.py); everything else is dropped
SANDBOX_CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "NET_ADMIN",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_ADMIN",
]


def _label_value(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", value)[:63].strip("-_.")
    return cleaned or "x"


class KubernetesExecutor(Executor):
    """Grades each submission in its own pod (see the module docstring)."""

    remote = True

    namespace = Unicode("default", help="Namespace the grading pods run in.").tag(config=True)
    kubeconfig = Unicode(
        "", help="kubeconfig file; empty: in-cluster config, else the default kubeconfig."
    ).tag(config=True)
    kube_context = Unicode("", help="kubeconfig context to use (empty: its current context).").tag(
        config=True
    )
    image = Unicode(
        "grader-service-grading:latest",
        help="Default grading image (must contain grader-service and the kernels the notebooks need).",
    ).tag(config=True)
    images = Dict(
        Unicode(),
        help="Image per lecture code or per '<lecture code>/<assignment id>' (the more "
        "specific one wins), e.g. {'ml101': 'registry/ml:2026'}. For remote workers "
        "(GraderWorker.service_url) the service resolves this from its own config and sends it with "
        "each claim.",
    ).tag(config=True)
    image_pull_policy = Unicode("IfNotPresent", help="imagePullPolicy of the grading container.").tag(
        config=True
    )
    resources = Dict(
        default_value={
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"},
        },
        help="Default resources of a grading pod.",
    ).tag(config=True)
    lecture_resources = Dict(
        help="Resources per lecture code or '<lecture code>/<assignment id>' (resolved by the "
        "service for remote workers, like `images`)."
    ).tag(config=True)
    run_as_user = Integer(
        1000,
        help="fsGroup of grading pods. The runner itself runs as root with only SANDBOX_CAPABILITIES, to "
        "build the sandbox its kernels run in (their own uid, no network, seccomp).",
    ).tag(config=True)
    service_url = Unicode(
        "", help="URL the pods reach the service at (default: the service's public_url)."
    ).tag(config=True)
    extra_volumes = List(Dict(), help="Extra pod volumes.").tag(config=True)
    extra_volume_mounts = List(Dict(), help="Extra volume mounts of the grading container.").tag(config=True)
    tolerations = List(Dict(), help="Tolerations of grading pods.").tag(config=True)
    node_selector = Dict(Unicode(), help="nodeSelector of grading pods.").tag(config=True)
    image_pull_secrets = List(Unicode(), help="Names of image pull secrets.").tag(config=True)
    extra_labels = Dict(Unicode(), help="Extra labels of grading pods.").tag(config=True)
    pre_spawn_hook = AnyTrait(
        None,
        allow_none=True,
        help="Callable(executor, pod: dict, spec: JobSpec) called "
        "before the pod is created; it may change the pod manifest.",
    ).tag(config=True)
    delete_pods = Bool(True, help="Delete each pod when it finished or timed out.").tag(config=True)
    start_timeout = Float(300, help="Seconds a pod may stay Pending before the job is given up.").tag(
        config=True
    )

    _api: Any = None

    def core_api(self) -> Any:
        if self._api is None:
            from kubernetes import client, config

            try:
                if self.kubeconfig or not _in_cluster():
                    api_client = config.new_client_from_config(
                        config_file=self.kubeconfig or None, context=self.kube_context or None
                    )
                else:
                    config.load_incluster_config()
                    api_client = client.ApiClient()
            except Exception as exc:  # noqa: BLE001 - any config problem is an infrastructure problem
                raise InfrastructureError(f"cannot configure the Kubernetes client: {exc}") from exc
            self._api = client.CoreV1Api(api_client)
        return self._api

    @staticmethod
    def _pick(table: dict[str, Any], lecture: str, assignment: str, default: Any) -> Any:
        return table.get(f"{lecture}/{assignment}", table.get(lecture, default))

    def job_options(self, lecture_code: str, assignment_id: str) -> dict[str, Any]:
        """The pod image and resources of a job of this lecture/assignment (the more specific entry wins)."""
        return {
            "image": self._pick(self.images, lecture_code, assignment_id, self.image),
            "resources": copy.deepcopy(
                self._pick(self.lecture_resources, lecture_code, assignment_id, self.resources)
            ),
        }

    def pod_manifest(self, spec: JobSpec) -> dict[str, Any]:
        attempt = spec.labels.get("attempt", "1")
        name = f"grader-job-{spec.job_id}-{attempt}"
        deadline = int(spec.timeout + self.overall_timeout_margin)
        labels = {
            "app.kubernetes.io/name": "grader-service",
            "app.kubernetes.io/component": "grading",
            LABEL_JOB: str(spec.job_id),
            "grader-service/submission-id": str(spec.submission_id),
            **{k: _label_value(v) for k, v in self.extra_labels.items()},
        }
        annotations = {f"grader-service/{k}": str(v) for k, v in spec.labels.items()}
        # a remote worker's claim carries what the service resolved; otherwise this executor's own tables
        options = {
            **self.job_options(spec.labels.get("lecture", ""), spec.labels.get("assignment", "")),
            **spec.executor_options,
        }
        container: dict[str, Any] = {
            "name": "grader",
            "image": options["image"],
            "imagePullPolicy": self.image_pull_policy,
            "command": ["python", "-m", "grader_service.executors.pod_runner"],
            "env": [
                {"name": "GRADER_SERVICE_URL", "value": self.service_url or spec.service_url},
                {"name": "GRADER_JOB_ID", "value": str(spec.job_id)},
                {"name": "GRADER_JOB_TOKEN_FILE", "value": f"{TOKEN_DIR}/token"},
                {"name": "GRADER_WORK_DIR", "value": "/work/grading"},
                {"name": "HOME", "value": "/work/home"},
                {"name": "TMPDIR", "value": "/work/tmp"},
            ],
            "resources": copy.deepcopy(options["resources"]),
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": False,
                "runAsUser": 0,
                "capabilities": {"drop": ["ALL"], "add": list(SANDBOX_CAPABILITIES)},
            },
            "volumeMounts": [
                {"name": "work", "mountPath": "/work"},
                {"name": "job-token", "mountPath": TOKEN_DIR, "readOnly": True},
                *copy.deepcopy(self.extra_volume_mounts),
            ],
        }
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": labels,
                "annotations": annotations,
            },
            "spec": {
                "restartPolicy": "Never",
                "activeDeadlineSeconds": deadline,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": {
                    "fsGroup": self.run_as_user,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "volumes": [
                    {"name": "work", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "job-token", "secret": {"secretName": name, "defaultMode": 0o400}},
                    *copy.deepcopy(self.extra_volumes),
                ],
            },
        }
        if self.tolerations:
            pod["spec"]["tolerations"] = copy.deepcopy(self.tolerations)
        if self.node_selector:
            pod["spec"]["nodeSelector"] = dict(self.node_selector)
        if self.image_pull_secrets:
            pod["spec"]["imagePullSecrets"] = [{"name": n} for n in self.image_pull_secrets]
        hook: Callable[..., Any] | None = self.pre_spawn_hook
        if hook is not None:
            hook(self, pod, spec)
        return pod

    async def run(self, spec: JobSpec) -> ExecutorResult:
        if not spec.job_token:
            raise InfrastructureError("the KubernetesExecutor needs a job token in the job spec")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._run_sync, spec)

    def _run_sync(self, spec: JobSpec) -> ExecutorResult:
        from kubernetes.client.exceptions import ApiException

        transport_errors = _transport_errors()

        api = self.core_api()
        pod = self.pod_manifest(spec)
        name = pod["metadata"]["name"]
        try:
            self._create_token_secret(api, name, pod["metadata"]["labels"], spec.job_token)
        except ApiException as exc:
            raise InfrastructureError(
                f"creating the token secret {name} failed: {exc.status} {exc.reason} (the executor's "
                "service account needs secrets: create, delete)"
            ) from exc
        except transport_errors as exc:
            raise InfrastructureError(
                f"the Kubernetes API cannot be reached to create secret {name}: {exc}"
            ) from exc
        try:
            return self._run_pod(api, spec, pod)
        finally:
            self._delete_secret(api, name)

    def _run_pod(self, api: Any, spec: JobSpec, pod: dict[str, Any]) -> ExecutorResult:
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException

        transport_errors = _transport_errors()
        name = pod["metadata"]["name"]
        try:
            api.create_namespaced_pod(self.namespace, pod)
        except ApiException as exc:
            if exc.status == 409:  # a previous attempt's pod of the same name: replace it
                self._delete(api, name)
                api.create_namespaced_pod(self.namespace, pod)
            else:
                raise InfrastructureError(f"creating pod {name} failed: {exc.status} {exc.reason}") from exc
        except transport_errors as exc:
            raise InfrastructureError(
                f"the Kubernetes API cannot be reached to create pod {name}: {exc}"
            ) from exc
        deadline = pod["spec"]["activeDeadlineSeconds"]
        outcome: ExecutorResult | None = None
        try:
            w = watch.Watch()
            for event in w.stream(
                api.list_namespaced_pod,
                self.namespace,
                label_selector=f"{LABEL_JOB}={spec.job_id}",
                field_selector=f"metadata.name={name}",
                timeout_seconds=deadline,
            ):
                obj = event["object"]
                if event["type"] == "DELETED":
                    outcome = ExecutorResult.failed(f"the grading pod {name} was deleted before it finished")
                    break
                phase = obj.status.phase if obj.status else None
                if phase == "Succeeded":
                    outcome = ExecutorResult(ok=True, remote=True, log=f"pod {name} succeeded")
                    break
                if phase == "Failed":
                    reason = obj.status.reason or _terminated_reason(obj) or "failed"
                    if reason == "DeadlineExceeded":
                        outcome = ExecutorResult.failed(f"the time limit ({deadline}s) was exceeded")
                    else:
                        outcome = ExecutorResult.failed(f"the grading pod failed: {reason}")
                    break
            w.stop()
            if outcome is None:
                outcome = ExecutorResult.failed(
                    f"the time limit ({deadline}s) was exceeded; the pod was deleted"
                )
        except ApiException as exc:
            raise InfrastructureError(f"watching pod {name} failed: {exc.status} {exc.reason}") from exc
        except transport_errors as exc:
            raise InfrastructureError(
                f"watching pod {name} failed: the Kubernetes API cannot be reached: {exc}"
            ) from exc
        finally:
            if self.delete_pods:
                self._delete(api, name)
        return outcome

    def _create_token_secret(self, api: Any, name: str, labels: dict[str, str], token: str) -> None:
        """The job token as a Secret the pod mounts (replacing a previous attempt's of the same name)."""
        from kubernetes.client.exceptions import ApiException

        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace, "labels": labels},
            "type": "Opaque",
            "stringData": {"token": token},
        }
        try:
            api.create_namespaced_secret(self.namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self._delete_secret(api, name)
            api.create_namespaced_secret(self.namespace, body)

    def _delete_secret(self, api: Any, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            api.delete_namespaced_secret(name, self.namespace)
        except ApiException as exc:
            if exc.status != 404:
                self.log.warning("could not delete the token secret %s: %s", name, exc.reason)
        except _transport_errors() as exc:
            self.log.warning("could not delete the token secret %s: %s", name, exc)

    def _delete(self, api: Any, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        transport_errors = _transport_errors()

        try:
            api.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                self.log.warning("could not delete pod %s: %s", name, exc.reason)
        except transport_errors as exc:
            self.log.warning("could not delete pod %s: %s", name, exc)


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The Kubernetes client's connection failures (refused, reset, TLS, timeouts): infrastructure errors."""
    import urllib3

    return (urllib3.exceptions.HTTPError, OSError)


def _terminated_reason(pod: Any) -> str | None:
    for status in pod.status.container_statuses or []:
        term = status.state.terminated if status.state else None
        if term is not None:
            return f"{term.reason or 'exited'} (exit code {term.exit_code})"
    return None


def _in_cluster() -> bool:
    import os

    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
