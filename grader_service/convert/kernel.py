"""A fresh, isolated Jupyter kernel process per submission: launch, run cells with timeouts, kill.

The kernel is started from its command line, or (`fork=True`, used inside the fork server's sandbox)
forked from a process that already has ipykernel imported: a new process all the same, started in a
tenth of the time. In the sandbox that process is a *kernel launcher* registered with
`set_kernel_launcher` (the spawner of `executors/kernel_spawner.py`, forked before the grader read any
secret), so the kernel never shares memory with the grading process. The kernel runs with an
explicit cwd and env (the grader's own process is never changed), talks over IPC sockets in a private
temporary folder (or loopback TCP), and is killed with its whole process group at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from queue import Empty
from typing import Any, Protocol

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from grader_service.convert.errors import KernelStartError
from grader_service.convert.options import set_option
from grader_service.convert.output_collector import OutputCollector

#: The default command line of a Python kernel: the grader's own interpreter and ipykernel (started by
#: `run_kernel`), no history database.
PYTHON_KERNEL_ARGV = [
    sys.executable,
    "-m",
    "grader_service.convert.kernel_launcher",
    "-f",
    "{connection_file}",
    "--HistoryManager.enabled=False",
]


#: glibc malloc arenas a kernel may use. glibc gives every thread that allocates an arena of its own, up to
#: 8 per CPU, each reserving 64 MiB of address space: a fresh ipykernel (11 threads) took 664 MiB of its
#: address space that way, with 2 arenas 205 MiB (296 forked), so a memory limit (RLIMIT_AS) leaves
#: student code about the memory it names. (Python's own small objects do not use malloc's arenas.)
MALLOC_ARENAS = 2


def few_malloc_arenas() -> None:
    """Cap this process's malloc arenas (glibc's mallopt(M_ARENA_MAX)); a no-op elsewhere. For a process
    that starts threads after this (an exec'd kernel gets MALLOC_ARENA_MAX in its environment instead)."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, MALLOC_ARENAS)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


class ChildKernel:
    """A kernel process that is this process's child, with the bits of Popen's interface that
    KernelProcess uses (a launcher's kernel is adopted: it is re-parented to the grader, PID 1)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class KernelLauncher(Protocol):
    """Starts a kernel elsewhere: (its full command line, cwd, env, memory limit, connection info) → the
    kernel process, a child of the caller. The connection info is the content of the connection file (the
    command line names the caller's copy, which the launcher replaces with its own). A command line that
    starts this interpreter's ipykernel (`forkable`) is forked, any other is exec'd."""

    def __call__(
        self, argv: list[str], cwd: str, env: dict[str, str], memory_limit: int, connection: dict[str, Any]
    ) -> ChildKernel: ...


_launcher: KernelLauncher | None = None


def set_kernel_launcher(launcher: KernelLauncher | None) -> None:
    """Route this process's kernels started with `fork=True` (exec'd ones too) through `launcher` (None:
    fork them here)."""
    global _launcher
    _launcher = launcher


class ForkedKernel(ChildKernel):
    """A kernel forked from this process (which has ipykernel imported). Only for a process that runs no
    other threads and holds nothing the kernel must not see."""

    def __init__(self, args: list[str], cwd: str, env: dict[str, str], memory_limit: int) -> None:
        pid = os.fork()
        if pid == 0:  # the kernel: never returns
            code = 1
            try:
                os.setsid()
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.closerange(3, 1 << 16)  # nothing of the grader (its pipes, its client sockets) leaks in
                sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                if memory_limit > 0:
                    import resource

                    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
                import asyncio

                # an event loop this process's client made is not the kernel's: its selector is gone
                asyncio.set_event_loop(asyncio.new_event_loop())
                run_kernel(args)
                code = 0
            finally:
                os._exit(code)
        super().__init__(pid)


#: a kernel's stdout/stderr send what they buffered once this much is waiting (see `bound_output_buffers`)
OUTPUT_FLUSH_BYTES = 1 << 20

#: iopub messages a kernel keeps queued for a grader that is not reading (see `_BoundedIOPub`)
IOPUB_QUEUE_MESSAGES = 16


def run_kernel(args: list[str]) -> None:
    """Be the kernel (in its own process, forked or exec'd): ipykernel with `args`, its output streams
    bounded, until it is shut down or killed."""
    few_malloc_arenas()
    sys.argv = ["ipykernel_launcher", *args]
    app = _kernel_app(args)
    bound_output_buffers()
    app.start()


def bound_output_buffers() -> None:
    """Make the kernel's stdout and stderr send their buffer once OUTPUT_FLUSH_BYTES are waiting.

    ipykernel buffers what a cell prints and sends it from its IO thread every 0.2 s: a loop printing
    100 MB fills the buffer faster than that, and sending it whole (the text, its encoding, the message)
    took 1.2 GB of address space beyond the kernel's own, so under a memory limit the kernel died in that
    cell or the next. Flushing from the writer (which waits for the IO thread) keeps that to a few MB.
    """
    from ipykernel.iostream import OutStream

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, OutStream):
            # a per-instance wrapper of ipykernel's method
            stream.write = _bounded_write(stream)  # type: ignore[method-assign]


def _bounded_write(stream: Any) -> Any:
    write, flush = stream.write, stream.flush
    pending = 0

    def bounded(text: str) -> int | None:
        nonlocal pending
        written: int | None = write(text)
        pending += len(text)
        if pending >= OUTPUT_FLUSH_BYTES:
            pending = 0
            flush()
        return written

    return bounded


def _kernel_app(args: list[str]) -> Any:
    """An initialised IPKernelApp for `args`. The usual command line (`-f FILE` and `--Class.trait=value`
    options) is turned into config directly: building traitlets' full argument parser for every kernel
    costs a third of its start-up."""
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config import Config

    connection_file, config = "", Config()
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "-f" and rest:
            connection_file = rest.pop(0)
        elif not set_option(config, arg):  # anything else: let the kernel parse its command line itself
            app = _bounded_iopub(IPKernelApp).instance()
            app.initialize(args)
            return app

    class ConfiguredKernelApp(_bounded_iopub(IPKernelApp)):  # type: ignore[misc]
        def parse_command_line(self, argv: Any = None) -> None:
            self.argv: list[str] = []  # the options arrived as config

    configured: IPKernelApp = ConfiguredKernelApp.instance(connection_file=connection_file, config=config)
    configured.initialize([])
    return configured


def _bounded_iopub(app_class: Any) -> Any:
    """`app_class` with an iopub socket that holds at most IOPUB_QUEUE_MESSAGES for a grader that is slow to
    read, and then makes the kernel's IO thread wait (XPUB_NODROP) instead of queueing more.

    zmq's default queue is 1000 messages: with the grader's process stalled for 0.3 s on a loaded machine, a
    cell printing 100 MB queued all of it in the kernel, whose address space went from 0.2 to 1.77 GB
    (fragmented malloc heaps), so under a 1 GiB limit it died (SIGSEGV) in about one run in four. With a
    short queue the writer's flush (`bound_output_buffers`) waits for the grader instead.
    """
    import zmq

    class BoundedIOPubApp(app_class):  # type: ignore[misc]
        def init_iopub(self, context: Any) -> None:
            # options must be set before the socket binds; context defaults apply to the sockets made here
            # (an option a socket type does not know is ignored) and are dropped right after
            context.setsockopt(zmq.SNDHWM, IOPUB_QUEUE_MESSAGES)
            context.setsockopt(zmq.XPUB_NODROP, 1)
            try:
                super().init_iopub(context)
            finally:
                context.sockopts.pop(zmq.SNDHWM, None)
                context.sockopts.pop(zmq.XPUB_NODROP, None)

    return BoundedIOPubApp


def forkable(argv: list[str]) -> bool:
    """Whether `argv` starts this interpreter's own ipykernel (so the kernel can be forked instead)."""
    return argv[:3] == PYTHON_KERNEL_ARGV[:3]


@dataclass
class CellRun:
    """What running one cell gave: outputs, the kernel's reply status and how long it took."""

    outputs: list[Any]
    status: str  # ok | error | timeout | kernel_died
    execution_count: int | None = None
    wrote_stderr: bool = False
    truncated: bool = False
    duration: float = 0.0
    reply: dict[str, Any] = field(default_factory=dict)
    kernel_lost: bool = False  # the kernel died or ignored the interrupt: start a new one


class KernelProcess:
    """One kernel process and its client.

    `launch()` starts the process and returns at once; `wait_ready()` blocks until it answers, so the
    caller can do other work while the kernel boots.
    """

    def __init__(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        *,
        memory_limit: int = 0,
        collect_limit: int = 2_000_000,
        fork: bool = False,
    ) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.memory_limit = memory_limit
        self.collect_limit = collect_limit
        self.fork = fork and forkable(self.argv)
        self.use_launcher = fork  # in a sandbox every kernel, forked or exec'd, comes from the launcher
        self.proc: subprocess.Popen[bytes] | ChildKernel | None = None
        self.client: BlockingKernelClient | None = None
        self._tmp: str | None = None
        self.launched_at = 0.0
        self.ready_at = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------
    def launch(self) -> None:
        """Start the kernel process (does not wait for it to answer)."""
        self._tmp = tempfile.mkdtemp(prefix="grader-kernel-")
        connection_file = os.path.join(self._tmp, "kernel.json")
        ipc_base = os.path.join(self._tmp, "ipc")
        launcher = _launcher if self.use_launcher else None
        if (
            launcher is None and len(ipc_base.encode()) + 8 <= 100
        ):  # unix socket paths are limited to ~107 bytes
            write_connection_file(connection_file, ip=ipc_base, transport="ipc")
        else:  # a launcher's kernel (another uid) or a deep TMPDIR: loopback TCP (messages are signed)
            write_connection_file(connection_file, ip="127.0.0.1", transport="tcp")
        env = dict(self.env)
        env.setdefault("IPYTHONDIR", os.path.join(self._tmp, "ipython"))
        env.setdefault("MALLOC_ARENA_MAX", str(MALLOC_ARENAS))  # see few_malloc_arenas
        argv = [part.replace("{connection_file}", connection_file) for part in self.argv]
        self.launched_at = time.perf_counter()
        if launcher is not None:
            import json

            with open(connection_file) as fh:
                connection = json.load(fh)
            try:
                self.proc = launcher(argv, self.cwd, env, self.memory_limit, connection)
            except OSError as err:
                self._cleanup_files()
                raise KernelStartError(f"the kernel launcher failed: {err}") from None
            self._connect(connection_file)
            return
        if self.fork:
            self.proc = ForkedKernel(argv[3:], self.cwd, env, self.memory_limit)
            self._connect(connection_file)
            return
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as err:
            self._cleanup_files()
            raise KernelStartError(f"cannot start kernel {argv[0]!r}: {err.strerror}") from None
        if self.memory_limit > 0 and sys.platform.startswith("linux"):
            import resource

            # the process may already be gone; wait_ready reports that
            with contextlib.suppress(OSError, ValueError):
                resource.prlimit(self.proc.pid, resource.RLIMIT_AS, (self.memory_limit, self.memory_limit))
        self._connect(connection_file)

    def _connect(self, connection_file: str) -> None:
        client = BlockingKernelClient(connection_file=connection_file)
        client.load_connection_file()
        client.start_channels(hb=False)  # liveness is the process itself; no heartbeat thread
        self.client = client

    def wait_ready(self, timeout: float) -> None:
        """Block until the kernel answers kernel_info on shell and publishes on iopub."""
        assert self.client is not None and self.proc is not None
        deadline = time.perf_counter() + timeout
        got_reply = False
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise KernelStartError(f"the kernel exited with code {self.proc.returncode} while starting")
            if not got_reply:
                self.client.kernel_info()
                try:
                    msg = self.client.get_shell_msg(timeout=0.02)
                except Empty:
                    continue
                got_reply = msg["msg_type"] == "kernel_info_reply"
                continue
            try:
                self.client.get_iopub_msg(timeout=0.05)
            except Empty:
                self.client.kernel_info()  # iopub not subscribed yet (slow joiner): ask again
                continue
            self._drain()
            self.ready_at = time.perf_counter()
            return
        raise KernelStartError(f"the kernel did not answer within {timeout:g} s")

    def _drain(self) -> None:
        assert self.client is not None
        for get in (self.client.get_iopub_msg, self.client.get_shell_msg):
            while True:
                try:
                    get(timeout=0.01)
                except Empty:
                    break

    def alive(self) -> bool:
        """Whether the kernel process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def interrupt(self) -> None:
        """Send SIGINT to the kernel's process group (ipykernel raises KeyboardInterrupt)."""
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)

    def shutdown(self) -> None:
        """Kill the kernel and everything it started, close the sockets and remove the temp folder."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.proc is not None:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None
        self._cleanup_files()

    def _cleanup_files(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- execution -------------------------------------------------------------------------------------
    def run_cell(self, source: str, timeout: float | None, interrupt_grace: float = 5.0) -> CellRun:
        """Run one cell; on timeout interrupt the kernel and wait `interrupt_grace` seconds for it."""
        assert self.client is not None
        started = time.perf_counter()
        collector = OutputCollector(self.collect_limit)
        msg_id = self.client.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
        deadline = started + timeout if timeout else None
        idle = self._collect(msg_id, collector, deadline)
        status = "ok"
        reply: dict[str, Any] = {}
        if idle == "timeout":
            self.interrupt()
            idle = self._collect(msg_id, collector, time.perf_counter() + interrupt_grace)
            collector.add_error(
                "CellTimeoutError", f"the cell did not finish within {timeout:g} seconds and was interrupted"
            )
            status = "timeout"
        if idle == "died":
            collector.add_error("DeadKernelError", "the kernel died while running this cell")
            return self._finish(collector, "kernel_died", None, started, reply, kernel_lost=True)
        if status == "timeout" and idle != "idle":
            # The kernel ignored the interrupt: it cannot run the next cells.
            return self._finish(collector, status, None, started, reply, kernel_lost=True)
        # idle was seen, so the reply is normally there already; a loaded machine may be slow to deliver it
        reply = self._get_reply(msg_id, time.perf_counter() + max(interrupt_grace, 15.0))
        if status == "ok" and reply.get("status") == "error":
            status = "error"
            if not collector.saw_error:
                # The error was raised but nothing showed it (e.g. showtraceback was replaced): record it.
                collector.add_error(
                    str(reply.get("ename", "Error")),
                    str(reply.get("evalue", "")),
                    reply.get("traceback") or None,
                )
        elif status == "ok" and reply.get("status") not in ("ok", None):
            status = "error"
        elif status == "ok" and not reply:
            # no execute_reply: nothing says the cell succeeded (what it printed is no evidence)
            status = "error"
            collector.add_error("NoReplyError", "the kernel sent no reply for this cell")
        if status == "ok" and collector.saw_error:
            status = "error"
        return self._finish(collector, status, reply.get("execution_count"), started, reply)

    def request(self, code: str, user_expressions: dict[str, str], timeout: float) -> dict[str, Any]:
        """Run `code` silently (no history, outputs dropped) and evaluate `user_expressions` after it;
        return the execute_reply's content, or {} when none came within `timeout` seconds."""
        assert self.client is not None
        msg_id = self.client.execute(
            code, silent=True, store_history=False, user_expressions=user_expressions, allow_stdin=False
        )
        deadline = time.perf_counter() + timeout
        if self._collect(msg_id, OutputCollector(10_000), deadline) != "idle":
            return {}
        return self._get_reply(msg_id, deadline)

    @staticmethod
    def _finish(
        collector: OutputCollector,
        status: str,
        count: int | None,
        started: float,
        reply: dict[str, Any],
        kernel_lost: bool = False,
    ) -> CellRun:
        return CellRun(
            outputs=collector.outputs,
            status=status,
            execution_count=count,
            wrote_stderr=collector.wrote_stderr,
            truncated=collector.truncated,
            duration=time.perf_counter() - started,
            reply=reply,
            kernel_lost=kernel_lost,
        )

    def _collect(self, msg_id: str, collector: OutputCollector, deadline: float | None) -> str:
        """Read iopub until the kernel is idle for `msg_id`: returns 'idle', 'timeout' or 'died'."""
        assert self.client is not None
        while True:
            wait = 0.25 if deadline is None else min(0.25, deadline - time.perf_counter())
            if wait <= 0:
                return "timeout"
            try:
                msg = self.client.get_iopub_msg(timeout=wait)
            except Empty:
                if not self.alive():
                    return "died"
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return "idle"
            collector.add_message(msg)

    def _get_reply(self, msg_id: str, deadline: float) -> dict[str, Any]:
        assert self.client is not None
        while time.perf_counter() < deadline:
            try:
                msg = self.client.get_shell_msg(timeout=max(0.01, deadline - time.perf_counter()))
            except Empty:
                break
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                content: dict[str, Any] = msg["content"]
                return content
        return {}
