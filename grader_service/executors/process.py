"""ProcessExecutor (the default): grades each submission in fresh sandboxed processes in a scratch folder.

The processes come from a fork server (`forkserver.py`): a template interpreter started once per worker
with a scrubbed environment and the pipeline and ipykernel imported. Each job gets, from a fork of it:
- a scrubbed environment: no database URL, tokens or service config reach the notebook;
- a new PID and mount namespace: the notebook sees no other process (not even another job's), the
  filesystem is read-only except its scratch folder, the service's data folder, config files and the fork
  server's socket are hidden, and every capability is dropped;
- a per-job cgroup: caps processes (fork bombs) and memory, and lets the worker kill every process of the
  job at the end;
- resource limits (address space, CPU seconds, file size, open files, processes for non-root workers);
- its own session, killed as a whole at the time limit; capped output; the scratch folder removed.
The notebook's kernel is a fresh process forked from the job's grading process, never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, List, Unicode, default

from grader_service.executors.base import Executor, ExecutorResult, InfrastructureError, JobSpec
from grader_service.executors.cgroups import JobCgroup
from grader_service.executors.forkserver import SANDBOX_FAILED
from grader_service.executors.outputs import OutputTooLarge, collect_files

SIGNAL_MESSAGES = {
    signal.SIGXCPU: "the CPU time limit ({cpu}s) was exceeded",
    signal.SIGXFSZ: "a file grew past the file size limit",
    signal.SIGSEGV: "the grading process crashed (segmentation fault)",
}


def _uid_process_count(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


class ForkServer:
    """The worker's handle on its fork server process: started on first use, restarted if it died."""

    def __init__(self, python: str, log: Any) -> None:
        self.python = python
        self.log = log
        self.folder = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def socket_path(self) -> str:
        return os.path.join(self.folder, "forkserver.sock")

    def _start(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="grader-forkserver-")
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
            if line.strip() == b"ready":
                break
        else:
            proc.kill()
            proc.wait()
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


class ProcessExecutor(Executor):
    """Runs the grading pipeline in fresh sandboxed processes from a fork server (see the module
    docstring)."""

    python = Unicode(
        sys.executable,
        help="Python interpreter that runs the pipeline (it needs grader_service and ipykernel installed).",
    ).tag(config=True)
    scratch_root = Unicode(help="Folder under which each job gets its scratch folder.").tag(config=True)
    isolation = Unicode(
        "auto",
        help="'namespaces': require PID/mount namespaces and a read-only filesystem "
        "(fail the job otherwise); 'auto': use them when this machine allows; 'none': only "
        "limits and a scrubbed environment.",
    ).tag(config=True)
    use_cgroups = Bool(True, help="Create a cgroup per job (process and memory caps) when allowed.").tag(
        config=True
    )
    env_keep = List(
        Unicode(),
        ["LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ"],
        help="Variables of the worker's environment passed to the notebook.",
    ).tag(config=True)
    extra_env = Dict(help="Extra variables for the notebook's environment.").tag(config=True)
    hidden_paths = List(
        Unicode(),
        help="Files and folders the notebook must not see (covered by empty mounts), "
        "besides the service's data folder and config files, which are always hidden.",
    ).tag(config=True)

    @default("scratch_root")
    def _scratch_default(self) -> str:
        return tempfile.gettempdir()

    def _env(self, scratch: Path) -> dict[str, str]:
        home = scratch / "home"
        for sub in ("home", "tmp", "runtime"):
            (scratch / sub).mkdir(exist_ok=True)
        env = {k: os.environ[k] for k in self.env_keep if k in os.environ}
        env.update(
            {
                "PATH": f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(home),
                "TMPDIR": str(scratch / "tmp"),
                "PYTHONNOUSERSITE": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
                "JUPYTER_PLATFORM_DIRS": "1",
                "IPYTHONDIR": str(home / ".ipython"),
                "MPLCONFIGDIR": str(home / ".matplotlib"),
                "LANG": env.get("LANG", "C.UTF-8"),
            }
        )
        env.update({str(k): str(v) for k, v in self.extra_env.items()})
        return env

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._server = ForkServer(self.python, self.log)

    def close(self) -> None:
        self._server.stop()

    def _hidden(self) -> list[str]:
        """Paths the notebook must not read: the service's data folder and config files, the fork server."""
        hidden = [str(p) for p in self.hidden_paths]
        parent = self.parent
        if parent is not None:
            data_dir = getattr(parent, "data_dir", "")
            if data_dir:
                hidden.append(str(data_dir))
            hidden.extend(str(p) for p in getattr(parent, "loaded_config_files", []) or [])
        if self._server.folder:
            hidden.append(self._server.folder)
        return hidden

    async def run(self, spec: JobSpec) -> ExecutorResult:
        if spec.input_dir is None:
            return ExecutorResult.failed("ProcessExecutor needs the submission on the worker's disk")
        scratch = Path(tempfile.mkdtemp(prefix=f"grader-job{spec.job_id}-", dir=self.scratch_root))
        cgroup = None
        try:
            os.chmod(scratch, 0o700)
            submission, graded = scratch / "submission", scratch / "graded"
            shutil.copytree(spec.input_dir, submission, symlinks=True)
            limits = spec.limits
            if self.use_cgroups:
                cgroup = JobCgroup.create(
                    f"job{spec.job_id}-{uuid.uuid4().hex[:8]}",
                    max_pids=limits.max_processes,
                    memory_bytes=limits.memory_bytes,
                )
            rlimits: dict[str, int] = {
                "memory_bytes": limits.memory_bytes,
                "cpu_seconds": limits.cpu_seconds,
                "max_file_bytes": limits.max_file_bytes,
                "max_open_files": limits.max_open_files,
            }
            if os.geteuid() != 0 and limits.max_processes:
                rlimits["max_processes"] = limits.max_processes + _uid_process_count(os.geteuid())
            argv = [
                "autograde",
                "-i",
                str(submission),
                "-o",
                str(graded),
                "--gradebook",
                "/dev/stdin",
                "--cell-timeout",
                str(spec.cell_timeout),
                "--timeout",
                str(spec.timeout),
                "--json",
            ]
            request = {
                "argv": argv,
                "cwd": str(scratch),
                "env": self._env(scratch),
                "writable": [str(scratch)],
                "hidden": self._hidden(),
                "cgroups": [str(p) for p in cgroup.paths] if cgroup else [],
                "limits": rlimits,
                "isolation": self.isolation,
            }
            return await self._supervise(request, scratch, spec, cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(scratch, ignore_errors=True)

    async def _supervise(
        self, request: dict[str, Any], scratch: Path, spec: JobSpec, cgroup: JobCgroup | None
    ) -> ExecutorResult:
        loop = asyncio.get_running_loop()
        conn = await loop.run_in_executor(None, self._server.connect)
        pipes = [os.pipe() for _ in range(3)]  # the job's stdin, stdout, stderr
        try:
            socket.send_fds(
                conn, [json.dumps(request).encode() + b"\n"], [pipes[0][0], pipes[1][1], pipes[2][1]]
            )
        finally:
            for fd in (pipes[0][0], pipes[1][1], pipes[2][1]):
                os.close(fd)
        conn.setblocking(False)
        events, _ = await asyncio.open_unix_connection(sock=conn)
        cap = spec.limits.max_output_bytes or (64 << 20)
        stdout_task = asyncio.ensure_future(_read_capped(await _pipe_reader(pipes[1][0]), cap))
        stderr_task = asyncio.ensure_future(_read_capped(await _pipe_reader(pipes[2][0]), self.max_log_bytes))
        feed = loop.run_in_executor(None, _write_all, pipes[0][1], json.dumps(spec.gradebook).encode())
        budget = spec.timeout + self.overall_timeout_margin
        timed_out = False
        pid = 0
        rc: int | None = None
        try:
            async with asyncio.timeout(budget):
                started = json.loads(await events.readline() or b"{}")
                pid = int(started.get("pid", 0))
                finished = json.loads(await events.readline() or b"{}")
                rc = finished.get("exit")
        except TimeoutError:
            timed_out = True
        except ValueError:
            rc = None
        if pid and (timed_out or rc is None):  # after a reported exit the pid may already be someone else's
            _kill_group(pid)
        if cgroup:
            cgroup.kill_all()
        try:
            async with asyncio.timeout(10):
                out, out_cut = await stdout_task
                err, _ = await stderr_task
                await feed
        except TimeoutError:
            stdout_task.cancel()
            stderr_task.cancel()
            raise InfrastructureError("the grading process's pipes stayed open after it ended") from None
        finally:
            events.feed_eof()
            conn.close()
        log = self.clip_log(err.decode("utf-8", "replace"))
        if timed_out:
            return ExecutorResult.failed(
                f"the time limit ({budget:.0f}s for the whole submission) was exceeded", log
            )
        if rc is None:
            rc = -signal.SIGKILL  # the supervisor vanished without a word: it was killed
        if rc == SANDBOX_FAILED and "[sandbox]" in log:
            raise InfrastructureError(f"the sandbox could not be set up: {log.strip()[-500:]}")
        if rc != 0:
            return ExecutorResult.failed(self._explain(rc, log, spec, cgroup), log)
        if out_cut:
            return ExecutorResult.failed("the grading result was larger than the output limit", log)
        try:
            result = json.loads(out)
        except ValueError:
            return ExecutorResult.failed("the grading process printed no valid result", log)
        try:
            files = collect_files(scratch / "graded", cap * 4)
        except OutputTooLarge as exc:
            return ExecutorResult.failed(str(exc), log)
        return ExecutorResult(ok=True, result=result, files=files, log=log)

    def _explain(self, rc: int, log: str, spec: JobSpec, cgroup: JobCgroup | None) -> str:
        if cgroup is not None and cgroup.oom_killed():
            return f"the memory limit ({spec.limits.memory_bytes >> 20} MiB) was exceeded"
        if rc < 0:
            sig = signal.Signals(-rc)
            template = SIGNAL_MESSAGES.get(sig, "the grading process was killed by {name}")
            return template.format(cpu=spec.limits.cpu_seconds, name=sig.name)
        for line in reversed(log.strip().splitlines()):
            if "error:" in line:
                return "grading failed: " + line.split("error:", 1)[1].strip()
        return f"the grading process exited with status {rc}"


async def _pipe_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


def _write_all(fd: int, data: bytes) -> None:
    """Give the grading process its input; a process that died or stopped reading is not an error here."""
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """Read everything (so the child never blocks on a full pipe) but keep at most `cap` bytes."""
    kept = bytearray()
    cut = False
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return bytes(kept), cut
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        if len(chunk) > room:
            cut = True


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


__all__ = ["ProcessExecutor"]
