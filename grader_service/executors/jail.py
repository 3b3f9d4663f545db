"""The sandbox launcher: `python -m grader_service.executors.jail SPEC_JSON -- CMD...`.

Started by ProcessExecutor, usually inside `unshare --mount --pid --fork --kill-child --mount-proc` (a
fresh PID namespace, so the graded code cannot see or signal any process of the worker, nor read their
/proc/<pid>/environ). In order, it:
1. joins the job's cgroup (pids.max and the memory limit also cover processes that leave the group),
2. when it may (root or a user namespace), makes every mount read-only except the job's scratch folder,
3. sets the resource limits (address space, CPU seconds, processes, file size, open files, no core files),
4. drops every capability and sets no_new_privs (via setpriv) so the mounts cannot be made writable again,
5. execs the command.
A step that is not possible here is skipped and reported on stderr; ProcessExecutor decides whether that
is acceptable.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys


def _note(message: str) -> None:
    print(f"[sandbox] {message}", file=sys.stderr, flush=True)


def join_cgroups(paths: list[str]) -> None:
    for path in paths:
        with open(os.path.join(path, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))


def read_only_except(writable: list[str]) -> None:
    """Remount everything read-only in this (private) mount namespace, then re-open `writable` for writing."""
    run = lambda *args: subprocess.run(["mount", *args], check=True, capture_output=True)  # noqa: E731
    run("--make-rprivate", "/")
    for path in writable:
        run("--bind", path, path)
    targets = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], check=True, capture_output=True,
                             text=True).stdout.split()
    for target in sorted(set(targets), key=len, reverse=True):
        target = target.encode().decode("unicode_escape")
        if target in writable:
            continue
        subprocess.run(["mount", "-o", "remount,bind,ro", target], capture_output=True)
    for path in writable:
        run("-o", "remount,bind,rw", path)


def set_limits(limits: dict[str, int]) -> None:
    table = {"memory_bytes": resource.RLIMIT_AS, "cpu_seconds": resource.RLIMIT_CPU,
             "max_processes": resource.RLIMIT_NPROC, "max_file_bytes": resource.RLIMIT_FSIZE,
             "max_open_files": resource.RLIMIT_NOFILE}
    for key, which in table.items():
        value = int(limits.get(key, 0))
        if value > 0:
            resource.setrlimit(which, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grader_service.executors.jail SPEC_JSON -- CMD...", file=sys.stderr)
        sys.exit(2)
    spec = json.loads(argv[0])
    command = argv[2:]
    if spec.get("cgroups"):
        join_cgroups(spec["cgroups"])
    if spec.get("read_only"):
        try:
            read_only_except(spec["writable"])
        except (subprocess.CalledProcessError, FileNotFoundError) as exc:
            _note(f"could not make the filesystem read-only: {exc}")
            if spec.get("require_isolation"):
                sys.exit(70)
    os.umask(0o077)
    set_limits(spec.get("limits", {}))
    if spec.get("drop_privileges") and shutil.which("setpriv"):
        command = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--", *command]
    os.execvpe(command[0], command, spec["env"])


if __name__ == "__main__":
    main(sys.argv[1:])
