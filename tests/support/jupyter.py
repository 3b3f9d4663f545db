"""Real processes for the hub tests: a single-user Jupyter server with the relay, and a JupyterHub."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.support.server import free_port

BIN = Path(sys.executable).parent


def wait_http(
    url: str,
    timeout: float,
    ok: tuple[int, ...] = (200,),
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
    **kw: Any,
) -> requests.Response:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"process exited ({proc.returncode}) before {url} answered:\n"
                f"{log.read_text()[-3000:] if log else ''}"
            )
        try:
            r = requests.get(url, timeout=5, **kw)
            if r.status_code in ok:
                return r
            last = r.status_code
        except requests.ConnectionError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(
        f"{url} did not answer within {timeout}s (last: {last}):\n{log.read_text()[-3000:] if log else ''}"
    )


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class JupyterServer:
    """`jupyter server` with the relay (enabled in the venv's jupyter_server_config.d), a token, a root
    dir."""

    def __init__(self, root: Path, service_url: str, env: dict[str, str], *args: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = os.urandom(16).hex()
        self.log = root.parent / f"{root.name}-jupyter.log"
        self.service_url = service_url
        self.env = env
        self.args = args
        self.proc: subprocess.Popen | None = None

    def start(self) -> JupyterServer:
        self.root.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "GRADER_"))}
        env.update(self.env)
        env["HOME"] = str(self.root)
        cmd = [
            str(BIN / "jupyter"),
            "server",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--log-level=DEBUG",
            f"--GraderRelay.service_url={self.service_url}",
            *self.args,
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self._logfile = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self._logfile, stderr=subprocess.STDOUT, cwd=self.root
        )
        return self

    def wait(self, timeout: float = 60) -> JupyterServer:
        assert self.proc is not None
        wait_http(
            f"{self.url}/api/status",
            timeout,
            proc=self.proc,
            log=self.log,
            headers={"Authorization": f"token {self.token}"},
        )
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self._logfile.close()

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}/{path.lstrip('/')}", headers=headers, timeout=120, **kw)


class Hub:
    """A real `jupyterhub -f <config>` on free ports, with its own data dir; stopped with SIGTERM."""

    def __init__(self, config: Path, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.port, self.api_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "jupyterhub.log"
        self.env = {
            "HUB_IP": "127.0.0.1",
            "HUB_PORT": str(self.port),
            "HUB_API_PORT": str(self.api_port),
            "PROXY_API_PORT": str(self.proxy_api_port),
            "HUB_DATA_DIR": str(data_dir),
            "JUPYTERHUB_CRYPT_KEY": os.urandom(32).hex(),
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Hub:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "GRADER_"))}
        env.update(self.env)
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        self._logfile = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(self.config)],
            env=env,
            cwd=self.data_dir,
            stdout=self._logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{self.url}/hub/api/", timeout, proc=self.proc, log=self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=30)
            self._logfile.close()
            # the proxy and user servers the Hub started, should it have been killed
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def api(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/hub/api/{path.lstrip('/')}",
            headers={"Authorization": f"token {token}"},
            timeout=30,
            **kw,
        )
