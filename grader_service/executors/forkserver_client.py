"""The worker's handle on its fork server (`forkserver.py`): started on first use, restarted if it died."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from typing import Any

from grader_service.executors.base import InfrastructureError


class ForkServer:
    """The worker's handle on its fork server process: started on first use, restarted if it died."""

    def __init__(self, python: str, log: Any) -> None:
        self.python = python
        self.log = log
        self.folder = ""
        self.paths: list[str] = []  # the template's Python installation (bound into every job's root)
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def socket_path(self) -> str:
        return os.path.join(self.folder, "forkserver.sock")

    def _start(self) -> None:
        # unix socket paths are limited to 107 bytes: a deep TMPDIR falls back to a shorter folder
        for parent in (tempfile.gettempdir(), "/tmp", "/dev/shm"):
            if len(os.path.join(parent, "grader-forkserver-xxxxxxxx", "forkserver.sock")) < 100:
                break
        self.folder = tempfile.mkdtemp(prefix="grader-forkserver-", dir=parent)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": self.folder,
            "IPYTHONDIR": os.path.join(self.folder, "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "TMPDIR": self.folder,
        }
        proc = subprocess.Popen(
            [self.python, "-m", "grader_service.executors.forkserver", self.socket_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd="/",
            env=env,
        )
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):  # until it is warm (about a second) or died
            if line.startswith(b"ready "):
                self.paths = json.loads(line[6:])["paths"]
                break
        else:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise InfrastructureError(f"the grading fork server did not start ({self.python})")
        proc.stdout.close()
        self.proc = proc
        self.log.info("grading fork server %d ready (%s)", proc.pid, self.python)

    def connect(self) -> socket.socket:
        """A connection to a running fork server (started or restarted as needed)."""
        with self._lock:
            for attempt in (1, 2):
                if self.proc is None or self.proc.poll() is not None:
                    self.stop()
                    self._start()
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(self.socket_path)
                    return sock
                except OSError as exc:
                    sock.close()
                    if attempt == 2:
                        raise InfrastructureError(f"cannot reach the grading fork server: {exc}") from None
                    self.stop()
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.stdin:
                self.proc.stdin.close()  # the server exits when this pipe closes
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ""
