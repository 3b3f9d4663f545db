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

    template ─fork→ supervisor: new session, joins the job's cgroup, new mount, IPC, UTS, network and PID
                    namespaces, reports {"pid"}, waits for the grader and reports {"exit"} (the exit code,
                    or minus the signal that killed it)
                    ─fork→ grader (PID 1 of its namespace): builds the job's root (`jail.build_jail`:
                           allow-listed host paths read-only, the scratch folder, a quota'd tmpfs for the
                           kernel), brings up loopback, sets limits, then, before reading the gradebook
                           from its stdin, forks the kernel spawner (`kernel_spawner.py`), switches to the
                           grading uid (CAP_KILL only, not dumpable) and runs `grader-convert` in-process.
                           Its kernels come from the spawner: another uid, no capabilities, seccomp.
                           At the end it copies the graded folder out of the tmpfs.
                    ─fork→ spawner ─fork→ kernel (re-parented to the grader)

The template itself is not dumpable, so nothing running under another uid can read its memory. At start
it prints `ready {"paths": [...]}`: the folders of its Python installation, which every job's root binds.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import stat
import struct
import sys
import tempfile
import traceback
from typing import Any

from grader_service.executors.jail import JailPlan, build_jail
from grader_service.executors.kernel_spawner import KernelSpawner
from grader_service.executors.sandbox import (
    SandboxError,
    become_grader,
    enter_namespaces,
    loopback_up,
    set_dumpable,
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

    try:
        import pyseccomp  # noqa: F401 - loads libseccomp now, not in a kernel that can no longer look for it
    except (ImportError, RuntimeError) as exc:
        print(
            f"the kernels' seccomp filter needs libseccomp ({exc}): apt-get install libseccomp2",
            file=sys.stderr,
        )
        sys.exit(1)

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
    isolated = request.get("isolation", "full") == "full"
    if isolated:
        try:
            enter_namespaces(network="netns" not in request.get("weaken", []))
        except OSError as exc:
            _note(f"cannot create the job's namespaces: {exc}")
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
    weaken = set(request.get("weaken", []))
    try:
        argv = list(request["argv"])
        if isolated:
            try:
                build_jail(JailPlan(**request["jail"]))
                if "netns" not in weaken:
                    loopback_up()
            except OSError as exc:
                _note(f"could not build the job's filesystem: {exc}")
                return SANDBOX_FAILED
        os.umask(0o002)  # the kernel (in the job's group) may write in folders the grader creates
        set_limits(request.get("limits", {}))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = request.get("grader_tmp") or None
        if isolated:
            argv = _start_kernels(request, argv, weaken)
        from grader_service.convert.cli import main as convert_main

        code = convert_main([*argv, "--Execute.fork_kernel=True"])
        if isolated and code == 0:
            _copy_out(request["graded"], request["out"])
    except SandboxError as exc:
        _note(f"could not finish the sandbox: {exc}")
        code = SANDBOX_FAILED
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the grader reports everything on stderr
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


def _start_kernels(request: dict[str, Any], argv: list[str], weaken: set[str]) -> list[str]:
    """Fork the kernel spawner while this process is still clean, then become the grading uid."""
    from grader_service.convert.kernel import set_kernel_launcher

    grader_uid, grader_gid = request["uids"]["grader"]
    kernel_uid, kernel_gid = request["uids"]["kernel"]
    if "same_uid" in weaken:  # mutation tests only: the kernel runs as the grader
        kernel_uid = grader_uid
    book = b""
    if "late_kernel" in weaken:  # mutation tests only: the spawner is forked after the gradebook is read
        book = sys.stdin.buffer.read()
        request["held"] = json.loads(book)
    spawner = KernelSpawner.start(kernel_uid, kernel_gid, request.get("kernel_limits", {}))
    set_kernel_launcher(spawner.launch)
    become_grader(grader_uid, grader_gid, groups=[kernel_gid])
    # The gradebook arrives on stdin, a pipe of the worker's uid: read through the descriptor, since the
    # grading uid may not reopen it by name; kept in the grader's private folder (0700, its uid).
    book = book or sys.stdin.buffer.read()
    path = os.path.join(request["grader_tmp"], "gradebook.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(book)
    argv = [path if part == "/dev/stdin" else part for part in argv]
    return argv


def _copy_out(graded: str, out: str) -> None:
    """Copy the graded folder out of the job's tmpfs (gone with its mount namespace): regular files the
    grader can read, never following a link the kernel may have planted."""
    for dirpath, dirnames, filenames in os.walk(graded, followlinks=False):
        target_dir = os.path.normpath(os.path.join(out, os.path.relpath(dirpath, graded)))
        os.makedirs(target_dir, exist_ok=True)
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            try:
                fd = os.open(os.path.join(dirpath, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as src:
                if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
                    continue
                with open(os.path.join(target_dir, name), "wb") as dst:
                    shutil.copyfileobj(src, dst)


def python_paths() -> list[str]:
    """The folders of this interpreter's installation and of the pipeline (what a kernel needs to import)."""
    import grader_service

    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    found += [p for p in sys.path if os.path.isabs(p) and os.path.isdir(p)]
    found.append(os.path.dirname(os.path.abspath(grader_service.__file__)))
    return sorted({os.path.realpath(p) for p in found} - {"/"})


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
    set_dumpable(False)
    print("ready " + json.dumps({"paths": python_paths()}), flush=True)
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
