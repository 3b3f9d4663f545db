"""ProcessExecutor (the default): grades each submission in fresh sandboxed processes in a scratch folder.

The processes come from a fork server (`forkserver.py`): a template interpreter started once per worker
with a scrubbed environment and the pipeline and ipykernel imported. Each job gets, from a fork of it
(see docs/security.md for the threats and the tests that prove each defence):
- a scrubbed environment: no database URL, tokens or service config reach the notebook;
- new PID, mount, IPC, UTS and network namespaces: the job sees no other process, and its network holds
  only its own loopback device (nothing of the host or beyond is reachable);
- its own root filesystem (`jail.py`): only allow-listed host paths (system, Python), read-only; every
  other path (data folder, other jobs, config, homes) does not exist for it; the kernel writes only to a
  tmpfs with a size and inode quota;
- three processes with three uids: the grading process (`sandbox_uid_base`, CAP_KILL only, not
  dumpable), which alone reads the gradebook, and kernels forked from a spawner made before that, under a
  per-job uid with no capabilities, a seccomp filter and no descriptor of the grader's;
- a per-job cgroup: caps processes (fork bombs) and memory, and lets the worker kill every process of the
  job at the end;
- resource limits (address space, CPU seconds, file size, open files, processes);
- its own session, killed as a whole at the time limit; capped output; the scratch folder removed.
This needs root (see `sandbox.missing_privileges`); without it the executor refuses to grade and says what
is missing, unless `isolation = 'none'` (trusted notebooks only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Integer, List, Unicode, default

from grader_service.executors.base import Executor, ExecutorResult, InfrastructureError, JobSpec
from grader_service.executors.cgroups import JobCgroup
from grader_service.executors.forkserver import SANDBOX_FAILED
from grader_service.executors.forkserver_client import ForkServer
from grader_service.executors.outputs import OutputTooLarge, collect_files
from grader_service.executors.sandbox import missing_privileges
from grader_service.executors.sandbox_plan import (
    SYSTEM_MASKED,
    SYSTEM_PATHS,
    UidPool,
    hand_over,
    kernel_unreadable,
    layout_scratch,
    privileges_refusal,
    readability_refusal,
)

#: test-only: defences to switch off (comma-separated: netns, late_kernel, same_uid), so the security tests
#: can prove their probe fails without them. Never set it anywhere else.
WEAKEN_VARIABLE = "GRADER_TEST_ONLY_WEAKEN_SANDBOX"

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


class ProcessExecutor(Executor):
    """Runs the grading pipeline in fresh sandboxed processes from a fork server (see the module
    docstring)."""

    python = Unicode(
        sys.executable,
        help="Python interpreter that runs the pipeline (it needs grader_service and ipykernel installed).",
    ).tag(config=True)
    scratch_root = Unicode(help="Folder under which each job gets its scratch folder.").tag(config=True)
    isolation = Enum(
        ["full", "none"],
        "full",
        help="'full': the sandbox of the module docstring (needs root; without it jobs are refused "
        "with the missing privilege named); 'none': only limits and a scrubbed environment, for trusted "
        "notebooks on a machine without root (student code then runs with the worker's rights).",
    ).tag(config=True)
    sandbox_uid_base = Integer(
        61000,
        help="uid (and gid) of the grading processes; kernels get uids base+1 .. base+count-1, one per "
        "running job. Use ids no account or file on the host has.",
    ).tag(config=True)
    sandbox_uid_count = Integer(64, help="Size of the uid range (bounds the concurrent jobs).").tag(
        config=True
    )
    scratch_quota_bytes = Integer(
        256 << 20, help="Size of each job's tmpfs (the kernel's working folder, HOME, TMPDIR, /dev/shm)."
    ).tag(config=True)
    scratch_quota_inodes = Integer(16384, help="Files and folders each job's tmpfs may hold.").tag(
        config=True
    )
    sandbox_paths = List(
        Unicode(),
        help="Extra host paths bound read-only into every job's root (e.g. another kernel's "
        "installation); the system folders and the fork server's Python are always there.",
    ).tag(config=True)
    pipeline_options = List(
        Unicode(),
        help="Extra '--Class.trait=value' options of the grading pipeline in every job, e.g. "
        "'--Execute.kernel_argv=[...]' for a kernel started from its command line (in the sandbox it "
        "is exec'd by the kernel spawner, under the kernel uid and the seccomp filter).",
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
        if self.isolation == "none":
            for sub in ("home", "tmp"):
                (scratch / sub).mkdir(exist_ok=True)
        env = {k: os.environ[k] for k in self.env_keep if k in os.environ}
        env.update(
            {
                "PATH": f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(home),
                "TMPDIR": str(scratch / "tmp"),
                "PYTHONNOUSERSITE": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "JUPYTER_RUNTIME_DIR": str(scratch / "tmp"),
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
        self._uids = UidPool(self.sandbox_uid_base, self.sandbox_uid_count)
        self._weaken = {w for w in os.environ.get(WEAKEN_VARIABLE, "").split(",") if w}
        self._refusal: str | None = None

    def sandbox_refusal(self) -> str:
        """Why this worker cannot grade in the sandbox ('' when it can): missing privileges, or a Python
        installation the kernel uid cannot read. Checked once, after the fork server started."""
        if self.isolation == "none":
            return ""
        if self._refusal is None:
            missing = missing_privileges()
            if missing:
                self._refusal = privileges_refusal(missing)
            else:
                try:
                    self._server.connect().close()
                except InfrastructureError as exc:
                    self._refusal = f"{exc} (its error is in this worker's log above)"
                    self.log.error("%s", self._refusal)
                    return self._refusal
                uid = self._uids.base + 1
                unreadable = kernel_unreadable(self._server.paths + list(self.sandbox_paths), uid)
                self._refusal = readability_refusal(uid, unreadable) if unreadable else ""
            if self._refusal:
                self.log.error("%s", self._refusal)
        return self._refusal

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
        loop = asyncio.get_running_loop()
        refusal = await loop.run_in_executor(None, self.sandbox_refusal)
        if refusal:
            raise InfrastructureError(refusal)
        if self._weaken:
            self.log.warning("TEST ONLY: sandbox defences switched off: %s", ", ".join(sorted(self._weaken)))
        scratch = Path(tempfile.mkdtemp(prefix=f"grader-job{spec.job_id}-", dir=self.scratch_root))
        cgroup = None
        try:
            kernel_uid = self._uids.take() if self.isolation == "full" else 0
        except RuntimeError as exc:
            raise InfrastructureError(str(exc)) from None
        try:
            os.chmod(scratch, 0o700)
            submission = scratch / "submission"
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
            request: dict[str, Any] = {
                "cwd": str(scratch),
                "cgroups": [str(p) for p in cgroup.paths] if cgroup else [],
                "limits": rlimits,
                "isolation": self.isolation,
            }
            if self.isolation == "full":
                graded = self._full_sandbox(request, scratch, kernel_uid, limits.max_processes)
            else:
                graded = scratch / "out"
                request["env"] = self._env(scratch)
                if os.geteuid() != 0 and limits.max_processes:
                    rlimits["max_processes"] = limits.max_processes + _uid_process_count(os.geteuid())
            request["argv"] = [
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
                *self.pipeline_options,
            ]
            return await self._supervise(request, scratch, spec, cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(scratch, ignore_errors=True)
            if kernel_uid:
                self._uids.give_back(kernel_uid)

    def _full_sandbox(self, request: dict[str, Any], scratch: Path, kernel_uid: int, max_procs: int) -> Path:
        """Lay out and own the scratch folder for the full sandbox and describe the job's root; returns the
        folder (in the job's tmpfs) the graded notebooks are written to."""
        grader_uid = self._uids.grader
        parts = layout_scratch(scratch, grader_uid)
        hand_over(parts["submission"], grader_uid)
        box = parts["box"]
        request.update(
            {
                "env": self._env(box),
                "uids": {"grader": [grader_uid, grader_uid], "kernel": [kernel_uid, kernel_uid]},
                "kernel_limits": {"max_processes": max_procs} if max_procs else {},
                "grader_tmp": str(parts["gtmp"]),
                "graded": str(box / "graded"),
                "out": str(parts["out"]),
                "weaken": sorted(self._weaken),
                "jail": {
                    "root": str(parts["jail"]),
                    "readonly": [*SYSTEM_PATHS, *self._server.paths, *self.sandbox_paths],
                    "writable": [str(scratch)],
                    "box": str(box),
                    "box_bytes": self.scratch_quota_bytes,
                    "box_inodes": self.scratch_quota_inodes,
                    "kernel_uid": kernel_uid,
                    "kernel_gid": kernel_uid,
                    "masked": [*SYSTEM_MASKED, *self._hidden()],
                },
            }
        )
        return box / "graded"

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
            files = collect_files(scratch / "out", cap * 4)
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
