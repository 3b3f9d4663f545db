"""The kernel spawner: the clean process every kernel of a job is forked from.

The job's grading process forks it right after building the sandbox and before it reads the gradebook, so
the spawner's memory never held hidden tests, and the grader's pipes (its stdin carries the gradebook, its
stdout the result) are closed in it. The grader then routes its kernels here (`convert.kernel`'s
`set_kernel_launcher`). For each request the spawner forks twice; the kernel:

- leaves the spawner's session, keeps no descriptor of it (a socket pair with the grader) or of the grader;
- switches to the job's kernel uid and gid (`sandbox.become_kernel`: no capabilities, no_new_privs) and
  loads the seccomp filter (`syscall_filter.install`);
- writes its connection file into its own TMPDIR and becomes an ipykernel (`kernel.run_kernel`), or, for
  another language's kernelspec, execs its command line (exec keeps the uid, the filter and no_new_privs).

The middle process exits at once, so the kernel is re-parented to the grader (PID 1 of the job's PID
namespace), which waits for it and signals it (it keeps CAP_KILL for that). The spawner stays root inside
the sandbox: it must switch uids. It is not dumpable and nothing of the kernel can address it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from typing import Any

from grader_service.convert.kernel import PYTHON_KERNEL_ARGV, ChildKernel, forkable, run_kernel
from grader_service.executors import syscall_filter
from grader_service.executors.sandbox import become_kernel, set_dumpable, set_limits


class KernelSpawner:
    """The grader's handle on its spawner; `launch` has the signature of a `convert.kernel.KernelLauncher`."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid
        self._replies = sock.makefile("rb")

    @classmethod
    def start(cls, kernel_uid: int, kernel_gid: int, limits: dict[str, int] | None = None) -> KernelSpawner:
        """Fork the spawner from this (still clean) process."""
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ours.close()
                _serve(theirs, kernel_uid, kernel_gid, limits or {})
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        return cls(ours, pid)

    def launch(
        self, argv: list[str], cwd: str, env: dict[str, str], memory_limit: int, connection: dict[str, Any]
    ) -> ChildKernel:
        request = {
            "args": argv,
            "cwd": cwd,
            "env": env,
            "memory_limit": memory_limit,
            "connection": connection,
            "connection_file": _connection_arg(argv),
        }
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(self._replies.readline() or b"{}")
        if "pid" not in reply:
            raise OSError(0, reply.get("error", "the kernel spawner is gone"))
        return ChildKernel(int(reply["pid"]))


def _connection_arg(argv: list[str]) -> str:
    """The grader's connection file in a kernel command line (the argument after -f, or one ending .json)."""
    if "-f" in argv[:-1]:
        return argv[argv.index("-f") + 1]
    return next((arg for arg in argv if arg.endswith(".json")), "")


def _serve(sock: socket.socket, uid: int, gid: int, limits: dict[str, int]) -> None:
    set_dumpable(False)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, sock.fileno())
    os.closerange(sock.fileno() + 1, 1 << 16)
    requests = sock.makefile("rb")
    while line := requests.readline():
        request = json.loads(line)
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:
            os.close(read)
            kernel = os.fork()
            if kernel == 0:
                os.close(write)
                sock.close()
                _be_kernel(request, uid, gid, limits)
            os.write(write, str(kernel).encode())
            os._exit(0)
        os.close(write)
        pid = os.read(read, 32)
        os.close(read)
        os.waitpid(middle, 0)  # once it is gone the kernel belongs to PID 1, the grader
        sock.sendall(json.dumps({"pid": int(pid)} if pid else {"error": "fork failed"}).encode() + b"\n")


def _be_kernel(request: dict[str, Any], uid: int, gid: int, limits: dict[str, int]) -> None:
    """The kernel (never returns)."""
    code = 1
    try:
        os.setsid()
        os.closerange(3, 1 << 16)
        sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
        memory = int(request.get("memory_limit") or 0)
        set_limits({**limits, **({"memory_bytes": memory} if memory > 0 else {})})
        become_kernel(uid, gid)
        syscall_filter.install()
        env = {str(k): str(v) for k, v in request["env"].items()}
        folder = env.get("TMPDIR") or request["cwd"]
        env["IPYTHONDIR"] = os.path.join(folder, "ipython")  # the grader's default is its own folder
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None  # inherited from the grader: its private folder
        connection_file = os.path.join(folder, f".kernel-{os.getpid()}.json")
        fd = os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(request["connection"], fh)
        theirs = request.get("connection_file", "")
        argv = [connection_file if arg == theirs else arg for arg in request["args"]]
        if not forkable(argv):
            os.execvpe(argv[0], argv, env)
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        run_kernel(argv[len(PYTHON_KERNEL_ARGV[:3]) :])
        code = 0
    finally:
        os._exit(code)


__all__ = ["KernelSpawner"]
