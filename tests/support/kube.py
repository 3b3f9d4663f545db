"""A real Kubernetes API server for tests (kube-apiserver built from Debian's source + etcd), and a test
stand-in for the kubelet. There is no kubelet or scheduler here, so `PlayedKubelet` PLAYS the kubelet: it
watches for pods, runs a pod's command locally as a process with the pod's environment, and patches the
pod's status as a kubelet would. Everything else is the real API server."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests


class KubeUnavailable(RuntimeError):
    pass


def kube_apiserver_binary() -> str:
    """The cached kube-apiserver that scripts/test.sh builds (about 5 minutes, once per machine); the tests
    never start that build themselves, so a missing binary is a loud skip, not a test timeout."""
    cache = Path(os.environ.get("GRADER_CACHE", Path.home() / ".cache" / "grader-service"))
    binary = cache / "k8s" / "kube-apiserver"
    if not os.access(binary, os.X_OK):
        raise KubeUnavailable(f"{binary} is missing: run scripts/kube-apiserver.sh (scripts/test.sh does)")
    if shutil.which("etcd") is None:
        raise KubeUnavailable("etcd is not installed: run scripts/kube-apiserver.sh (scripts/test.sh does)")
    return str(binary)


class KubeCluster:
    """etcd + kube-apiserver on loopback ports; `kubeconfig` authenticates as cluster admin."""

    def __init__(self, workdir: Path, etcd_port: int, api_port: int) -> None:
        self.dir = workdir
        self.etcd_port, self.api_port = etcd_port, api_port
        self.procs: list[subprocess.Popen[bytes]] = []
        self.kubeconfig = workdir / "kubeconfig"
        self.server = f"https://127.0.0.1:{api_port}"
        self.ca = workdir / "pki" / "serving" / "apiserver.crt"

    def start(self, apiserver: str) -> None:
        pki = self.dir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["openssl", "genrsa", "-out", str(pki / "sa.key"), "2048"], check=True, capture_output=True
        )
        subprocess.run(
            ["openssl", "rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub")],
            check=True,
            capture_output=True,
        )
        (pki / "tokens.csv").write_text("test-admin-token,admin,admin-uid,system:masters\n")
        e = self.etcd_port
        self.procs.append(
            subprocess.Popen(
                [
                    "etcd",
                    "--name",
                    "default",
                    "--data-dir",
                    str(self.dir / "etcd"),
                    "--listen-metrics-urls",
                    "",
                    "--listen-client-urls",
                    f"http://127.0.0.1:{e}",
                    "--advertise-client-urls",
                    f"http://127.0.0.1:{e}",
                    "--listen-peer-urls",
                    f"http://127.0.0.1:{e + 1}",
                    "--initial-advertise-peer-urls",
                    f"http://127.0.0.1:{e + 1}",
                    "--initial-cluster",
                    f"default=http://127.0.0.1:{e + 1}",
                ],
                stdout=(self.dir / "etcd.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        self._wait(lambda: requests.get(f"http://127.0.0.1:{e}/health", timeout=1).ok, "etcd")
        self.procs.append(
            subprocess.Popen(
                [
                    apiserver,
                    f"--etcd-servers=http://127.0.0.1:{e}",
                    "--bind-address=127.0.0.1",
                    "--advertise-address=127.0.0.1",
                    f"--secure-port={self.api_port}",
                    "--insecure-port=0",
                    f"--cert-dir={pki / 'serving'}",
                    "--service-cluster-ip-range=10.96.0.0/16",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    f"--service-account-key-file={pki / 'sa.pub'}",
                    f"--service-account-signing-key-file={pki / 'sa.key'}",
                    f"--token-auth-file={pki / 'tokens.csv'}",
                    "--authorization-mode=RBAC",
                    "--disable-admission-plugins=ServiceAccount",
                ],
                stdout=(self.dir / "apiserver.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        self._wait(
            lambda: (
                self.ca.exists()
                and requests.get(
                    f"{self.server}/readyz",
                    verify=str(self.ca),
                    headers={"Authorization": "Bearer test-admin-token"},
                    timeout=1,
                ).ok
            ),
            "kube-apiserver",
            timeout=120,
        )
        self.write_kubeconfig(self.kubeconfig, "test-admin-token")

    def write_kubeconfig(self, path: Path, token: str, namespace: str = "default") -> Path:
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: local, cluster: {{server: '{self.server}', "
            f"certificate-authority: '{self.ca}'}}}}]\n"
            f"users: [{{name: u, user: {{token: '{token}'}}}}]\n"
            f"contexts: [{{name: local, context: {{cluster: local, user: u, namespace: {namespace}}}}}]\n"
            "current-context: local\n"
        )
        return path

    def _wait(self, probe: Any, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if probe():
                    return
            except (requests.RequestException, OSError):
                pass
            if any(p.poll() is not None for p in self.procs):
                break
            time.sleep(0.2)
        raise KubeUnavailable(f"{what} did not start; logs in {self.dir}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


class PlayedKubelet(threading.Thread):
    """Plays the kubelet for pods in `namespace`: records each pod's spec, runs its command locally with its
    environment (the /work volume mapped to a local folder), and patches its status to Running and then
    Succeeded or Failed. Pods whose job id is in `ignore_jobs` are left Pending forever."""

    def __init__(self, api: Any, namespace: str, workroot: Path) -> None:
        super().__init__(daemon=True, name="played-kubelet")
        self.api, self.namespace, self.workroot = api, namespace, workroot
        self.seen: dict[str, Any] = {}
        self.ignore_jobs: set[str] = set()
        self._stop_event = threading.Event()

    def run(self) -> None:
        from kubernetes import watch

        while not self._stop_event.is_set():
            w = watch.Watch()
            for event in w.stream(self.api.list_namespaced_pod, self.namespace, timeout_seconds=2):
                pod = event["object"]
                if event["type"] != "ADDED" or pod.metadata.name in self.seen:
                    continue
                self.seen[pod.metadata.name] = pod
                if pod.metadata.labels.get("grader-service/job-id") in self.ignore_jobs:
                    continue
                threading.Thread(target=self._run_pod, args=(pod,), daemon=True).start()

    def _run_pod(self, pod: Any) -> None:
        name = pod.metadata.name
        self._status(name, {"phase": "Running"})
        container = pod.spec.containers[0]
        work = self.workroot / name
        work.mkdir(parents=True, exist_ok=True)
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
        mounts = {"/work": str(work)}
        mounts.update(self._secret_volumes(pod, container, work))
        for var in container.env:
            value = var.value
            for mount, local in mounts.items():
                if value.startswith(mount + "/"):
                    value = local + value[len(mount) :]
            env[var.name] = value
        for sub in ("home", "tmp"):
            (work / sub).mkdir(exist_ok=True)
        command = [
            sys.executable if container.command[0] == "python" else container.command[0],
            *container.command[1:],
        ]
        proc = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, timeout=300)
        (work / "pod.log").write_text(proc.stdout + proc.stderr)
        phase = "Succeeded" if proc.returncode == 0 else "Failed"
        self._status(
            name,
            {
                "phase": phase,
                "containerStatuses": [
                    {
                        "name": container.name,
                        "image": container.image,
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": proc.returncode,
                                "reason": "Completed" if phase == "Succeeded" else "Error",
                            }
                        },
                    }
                ],
            },
        )

    def _secret_volumes(self, pod: Any, container: Any, work: Path) -> dict[str, str]:
        """Secret volumes as the kubelet mounts them: each key a file (mode 0400) in a folder of its own."""
        import base64

        folders = {}
        for volume in pod.spec.volumes or []:
            if volume.secret is None:
                continue
            secret = self.api.read_namespaced_secret(volume.secret.secret_name, self.namespace)
            folder = work / "secrets" / volume.name
            folder.mkdir(parents=True, exist_ok=True)
            for key, data in (secret.data or {}).items():
                (folder / key).write_bytes(base64.b64decode(data))
                (folder / key).chmod(0o400)
            for mount in container.volume_mounts or []:
                if mount.name == volume.name:
                    folders[mount.mount_path] = str(folder)
        return folders

    def _status(self, name: str, status: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        # the executor may already have deleted it
        with contextlib.suppress(ApiException):
            self.api.patch_namespaced_pod_status(name, self.namespace, {"status": status})

    def stop(self) -> None:
        self._stop_event.set()
