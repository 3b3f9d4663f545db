"""The grading fork server: a clean, pre-imported template process that forks one sandboxed process per job.

Starting a Python interpreter and importing the pipeline and ipykernel costs most of a second; doing it once
per worker instead of twice per submission is what makes grading fast. Isolation is unchanged: every job
still gets fresh processes (never one that ran another student's code), its own namespaces, limits and
cgroup. The template is started by `ProcessExecutor` with `exec` and a scrubbed environment, so its memory
never held a database URL, a token or the service config, and it never runs notebook code itself.

    python -m grader_service.executors.forkserver SOCKET_PATH

It listens on SOCKET_PATH (in a private folder the sandbox hides) and accepts requests only from its parent
(the worker, checked with SO_PEERCRED); it exits when its stdin (a pipe from the worker) closes. A request is
one JSON line sent with three file descriptors (the job's stdin, stdout, stderr). For each request:

    template ─fork→ supervisor: new session, joins the job's cgroup, new mount + PID namespaces,
                    reports {"pid"}, waits for the grader and reports {"exit"} (the exit code, or minus
                    the signal that killed it)
                    ─fork→ grader (PID 1 of its namespace): fresh /proc, hidden paths, read-only
                           filesystem except the scratch folder, limits, scrubbed environment, no
                           capabilities; runs `grader-convert` in-process. Its kernel is forked from it in
                           turn (`Execute.fork_kernel`), so the kernel starts with ipykernel imported.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import traceback
from typing import Any

from grader_service.executors.sandbox import (
    SandboxError,
    drop_privileges,
    enter_namespaces,
    seal_filesystem,
    set_limits,
)

#: exit status of the grader when the sandbox could not be built (the executor retries such jobs)
SANDBOX_FAILED = 70


def _note(message: str) -> None:
    print(f"[sandbox] {message}", file=sys.stderr, flush=True)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 16)
        if not more:
            raise ValueError("the request ended early")
        data += more
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request carries exactly three file descriptors")
    return json.loads(data), fds


# -- warming the template ------------------------------------------------------------------------------
def _kernel_modules() -> list[str]:
    """The modules a kernel imports while starting and running its first cell, found in a throwaway child
    (nothing of it stays in the template): the template imports them so every kernel starts warm."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 1)
            os.dup2(null, 2)
            from ipykernel.kernelapp import IPKernelApp
            from jupyter_client.connect import write_connection_file

            folder = tempfile.mkdtemp(prefix="grader-warm-")
            connection = os.path.join(folder, "kernel.json")
            write_connection_file(connection, ip=os.path.join(folder, "ipc"), transport="ipc")
            app = IPKernelApp.instance()
            app.initialize(["-f", connection, "--HistoryManager.enabled=False"])
            shell = app.shell
            assert shell is not None  # initialize() made it
            shell.run_cell("print(1 + 1)", store_history=False)
            os.write(write, "\n".join(sorted(sys.modules)).encode())
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return [
        name for name in b"".join(chunks).decode().split("\n") if name and not name.startswith("__main__")
    ]


def warm() -> None:
    """Import what every job needs, so a fork starts with it (copy-on-write, shared by all jobs)."""
    import nbformat

    import grader_service.convert.cli  # noqa: F401
    import grader_service.convert.converters  # noqa: F401
    from grader_service.convert.cell_records import new_cell_records, validate_cell_records

    # build the schema validators once, here, instead of in every job
    nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    validate_cell_records(new_cell_records())
    for name in _kernel_modules():
        if name not in sys.modules:
            # a module that only imports in a kernel is just not pre-imported
            with contextlib.suppress(Exception):
                importlib.import_module(name)


# -- one job --------------------------------------------------------------------------------------------
def _supervise(conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """The supervisor process of one job (never returns)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    _send(conn, {"pid": os.getpid()})
    for path in request.get("cgroups", []):
        with open(os.path.join(path, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))
    isolated = False
    if request.get("isolation", "auto") != "none":
        try:
            enter_namespaces()
            isolated = True
        except OSError as exc:
            _note(f"no PID/mount namespaces on this machine: {exc}")
            if request.get("isolation") == "namespaces":
                _send(conn, {"exit": SANDBOX_FAILED})
                os._exit(0)
    child = os.fork()
    if child == 0:
        conn.close()
        os._exit(_grade(request, isolated))
    _, status = os.waitpid(child, 0)
    _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
    os._exit(0)


def _grade(request: dict[str, Any], isolated: bool) -> int:
    """The grading process: finish the sandbox, then run the pipeline in-process. Returns the exit code."""
    try:
        if isolated:
            try:
                seal_filesystem(request["writable"], request.get("hidden", []))
            except OSError as exc:
                _note(f"could not seal the filesystem: {exc}")
                if request.get("isolation") == "namespaces":
                    return SANDBOX_FAILED
        os.umask(0o077)
        set_limits(request.get("limits", {}))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if os.geteuid() == 0:
            try:
                drop_privileges()
            except SandboxError as exc:
                _note(f"could not drop privileges: {exc}")
                return SANDBOX_FAILED
        from grader_service.convert.cli import main as convert_main

        code = convert_main([*request["argv"], "--Execute.fork_kernel=True"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the grader reports everything on stderr
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


# -- the server loop ------------------------------------------------------------------------------------
def _peer_pid(conn: socket.socket) -> int:
    pid, _uid, _gid = struct.unpack(
        "3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    )
    return int(pid)


def _thread_count() -> int:
    with open("/proc/self/status") as fh:
        return int(fh.read().split("Threads:")[1].split()[0])


def serve(path: str) -> None:
    warm()
    if _thread_count() != 1:  # a fork copies only the calling thread: locks held by others would stay held
        print(
            "the fork server must stay single-threaded, but importing the pipeline started threads",
            file=sys.stderr,
        )
        sys.exit(1)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    print("ready", flush=True)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nobody reads our stdout any more
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            return  # the worker is gone
        if listener not in readable:
            continue
        conn, _ = listener.accept()
        with conn:
            if _peer_pid(conn) != parent:
                continue
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError):
                continue
            if os.fork() == 0:
                try:
                    listener.close()
                    _supervise(conn, request, fds)
                except BaseException as exc:  # noqa: BLE001 - reported to the worker as a sandbox failure
                    _note(f"the job supervisor failed: {exc!r}")
                    with contextlib.suppress(OSError):
                        _send(conn, {"exit": SANDBOX_FAILED})
                finally:
                    os._exit(SANDBOX_FAILED)
            for fd in fds:
                os.close(fd)


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: python -m grader_service.executors.forkserver SOCKET_PATH", file=sys.stderr)
        sys.exit(2)
    serve(sys.argv[1])


if __name__ == "__main__":
    main()
