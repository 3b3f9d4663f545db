"""ProcessExecutor (the default): grades in a sandboxed child process in a fresh scratch folder.

Layers, each skipped (with a log line) only where this machine cannot provide it:
- a scrubbed environment: no database URL, tokens or service config reach the notebook;
- a new PID and mount namespace (`unshare`): the notebook sees no other process, the filesystem is
  read-only except its scratch folder, and every capability is dropped;
- a per-job cgroup: caps processes (fork bombs) and memory, and lets the worker kill every process of the
  job at the end;
- resource limits (address space, CPU seconds, file size, open files, processes for non-root workers);
- its own session, killed as a whole at the time limit; capped output; the scratch folder removed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path

from traitlets import Bool, Dict, List, Unicode, default

from grader_service.executors.base import Executor, ExecutorResult, InfrastructureError, JobSpec
from grader_service.executors.cgroups import JobCgroup
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


class ProcessExecutor(Executor):
    """Runs `grader-convert autograde` in a sandboxed child process (see the module docstring)."""

    python = Unicode(sys.executable, help="Python interpreter that runs the pipeline (it needs "
                     "grader_service and ipykernel installed).").tag(config=True)
    scratch_root = Unicode(help="Folder under which each job gets its scratch folder.").tag(config=True)
    isolation = Unicode("auto", help="'namespaces': require PID/mount namespaces and a read-only filesystem "
                        "(fail the job otherwise); 'auto': use them when this machine allows; 'none': only "
                        "limits and a scrubbed environment.").tag(config=True)
    use_cgroups = Bool(True, help="Create a cgroup per job (process and memory caps) when allowed.").tag(config=True)
    env_keep = List(Unicode(), ["LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ"],
                    help="Variables of the worker's environment passed to the notebook.").tag(config=True)
    extra_env = Dict(help="Extra variables for the notebook's environment.").tag(config=True)

    @default("scratch_root")
    def _scratch_default(self) -> str:
        return tempfile.gettempdir()

    def _env(self, scratch: Path) -> dict[str, str]:
        home = scratch / "home"
        for sub in ("home", "tmp", "runtime"):
            (scratch / sub).mkdir(exist_ok=True)
        env = {k: os.environ[k] for k in self.env_keep if k in os.environ}
        env.update({
            "PATH": f"{Path(self.python).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home), "TMPDIR": str(scratch / "tmp"), "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": str(home / ".ipython"),
            "MPLCONFIGDIR": str(home / ".matplotlib"), "LANG": env.get("LANG", "C.UTF-8"),
        })
        env.update({str(k): str(v) for k, v in self.extra_env.items()})
        return env

    def _namespaces(self) -> list[str] | None:
        if self.isolation == "none" or shutil.which("unshare") is None:
            return None
        prefix = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
        if os.geteuid() != 0:
            prefix[1:1] = ["--user", "--map-root-user"]
        return prefix

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
                cgroup = JobCgroup.create(f"job{spec.job_id}-{uuid.uuid4().hex[:8]}",
                                          max_pids=limits.max_processes, memory_bytes=limits.memory_bytes)
            namespaces = self._namespaces()
            if namespaces is None and self.isolation == "namespaces":
                raise InfrastructureError("isolation='namespaces' but `unshare` is not available")
            rlimits: dict[str, int] = {"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds,
                                       "max_file_bytes": limits.max_file_bytes,
                                       "max_open_files": limits.max_open_files}
            if os.geteuid() != 0 and limits.max_processes:
                rlimits["max_processes"] = limits.max_processes + _uid_process_count(os.geteuid())
            jail = {"cgroups": [str(p) for p in cgroup.paths] if cgroup else [], "limits": rlimits,
                    "read_only": namespaces is not None, "writable": [str(scratch)],
                    "drop_privileges": namespaces is not None, "env": self._env(scratch),
                    "require_isolation": self.isolation == "namespaces"}
            inner = [self.python, "-m", "grader_service.executors.grade_entry", "autograde", "-i", str(submission),
                     "-o", str(graded), "--gradebook", "/dev/stdin", "--cell-timeout", str(spec.cell_timeout),
                     "--timeout", str(spec.timeout), "--json"]
            argv = [*(namespaces or []), self.python, "-m", "grader_service.executors.jail", json.dumps(jail),
                    "--", *inner]
            return await self._supervise(argv, scratch, spec, cgroup)
        finally:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(scratch, ignore_errors=True)

    async def _supervise(self, argv: list[str], scratch: Path, spec: JobSpec,
                         cgroup: JobCgroup | None) -> ExecutorResult:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=scratch, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"})
        assert proc.stdin and proc.stdout and proc.stderr
        cap = spec.limits.max_output_bytes or (64 << 20)
        stdout_task = asyncio.ensure_future(_read_capped(proc.stdout, cap))
        stderr_task = asyncio.ensure_future(_read_capped(proc.stderr, self.max_log_bytes))
        try:
            proc.stdin.write(json.dumps(spec.gradebook).encode())
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        proc.stdin.close()
        budget = spec.timeout + self.overall_timeout_margin
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), budget)
        except asyncio.TimeoutError:
            timed_out = True
            _kill_group(proc.pid)
            if cgroup:
                cgroup.kill_all()
            await proc.wait()
        _kill_group(proc.pid)
        out, out_cut = await stdout_task
        err, _ = await stderr_task
        log = self.clip_log(err.decode("utf-8", "replace"))
        rc = proc.returncode
        if timed_out:
            return ExecutorResult.failed(f"the time limit ({budget:.0f}s for the whole submission) was exceeded",
                                         log)
        if rc == 70 and "[sandbox]" in log:
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
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


__all__ = ["ProcessExecutor"]
