"""Execute: run every code cell in a fresh kernel with per-cell and overall time limits."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbformat import NotebookNode
from traitlets import Bool, Dict, Float, Int, List, Unicode

from grader_service.convert import cells
from grader_service.convert.errors import KernelStartError
from grader_service.convert.guard import KernelGuard, imported_modules
from grader_service.convert.kernel import PYTHON_KERNEL_ARGV, CellRun, KernelProcess
from grader_service.convert.notebook_io import notebook_language
from grader_service.convert.preprocessors.base import Preprocessor, Resources

#: Metadata key where the grader records how a cell ran; scoring trusts only what it wrote itself.
RUN_KEY = "grader_service"


class Execute(Preprocessor):
    """Run the code cells in order in a new kernel started for this notebook only.

    The kernel starts in `begin` (so it boots while earlier steps run) with cwd and env from
    ``resources["execution"]`` and is killed in `end`; the grader process's own cwd and environment are
    never touched. A cell that runs past `cell_timeout` is interrupted, gets a CellTimeoutError output,
    and the next cells still run; a kernel that dies or ignores the interrupt is replaced by a new one.
    After `timeout` seconds in all, the remaining cells are not run and get an error output.
    In a Python kernel the guard (`convert/guard.py`) is installed before the first cell; each test cell
    runs with the kernel's hook points put back, and its status and shown value come from the guard's
    signed account; a test cell the guard cannot vouch for gets the status "tampered".
    Side effects: replaces outputs and execution counts of code cells; writes each code cell's run
    status to ``metadata.grader_service``; writes seconds spent to ``resources["timings"]``.
    """

    cell_timeout = Float(30.0, help="Seconds one cell may run before it is interrupted (0: no limit).").tag(
        config=True
    )
    timeout = Float(600.0, help="Seconds the whole notebook may run (0: no limit).").tag(config=True)
    startup_timeout = Float(60.0, help="Seconds to wait for a kernel to start.").tag(config=True)
    interrupt_grace = Float(
        5.0, help="Seconds an interrupted cell gets to stop before the kernel is killed."
    ).tag(config=True)
    max_kernel_restarts = Int(3, help="Kernels started again after one dies, per notebook.").tag(config=True)
    kernel_argv = List(
        Unicode(),
        default_value=[],
        help="Command line of the kernel, with '{connection_file}'. Empty: the grader's own Python "
        "(ipykernel) for Python notebooks, else the installed kernelspec named in the notebook.",
    ).tag(config=True)
    inherit_env = List(
        Unicode(),
        default_value=["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT"],
        help="Variables passed from the grader's environment to the kernel; nothing else leaks in.",
    ).tag(config=True)
    extra_env = Dict(
        default_value={"NBGRADER_EXECUTION": "autograde", "GRADER_SERVICE_EXECUTION": "autograde"},
        help="Variables set in the kernel's environment (notebooks can tell they are being graded).",
    ).tag(config=True)
    memory_limit = Int(0, help="Address-space limit of the kernel in bytes (0: none; Linux only).").tag(
        config=True
    )
    fork_kernel = Bool(
        False,
        help="Fork the Python kernel from this process instead of starting an interpreter (only for a "
        "single-threaded process with ipykernel imported: the fork server's grading process sets it).",
    ).tag(config=True)
    guard_tests = Bool(
        True,
        help="Install the kernel guard in Python kernels: put back the hook points student code can change "
        "(IPython transformers, events, display and exception hooks, trace functions, builtins, stdlib "
        "modules) before each test cell and trust only its signed account of how the cell ended.",
    ).tag(config=True)
    collect_limit = Int(
        2_000_000, help="Characters of output kept per cell while running (bounds memory; see LimitOutput)."
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._kernel: KernelProcess | None = None
        self._guard: KernelGuard | None = None
        self._started = 0.0

    # -- kernel lifecycle -------------------------------------------------------------------------------
    def _argv(self, resources: Resources) -> list[str]:
        if self.kernel_argv:
            return list(self.kernel_argv)
        language = resources.get("language", "python")
        if language == "python":
            return list(PYTHON_KERNEL_ARGV)
        name = resources.get("kernel_name") or language
        try:
            spec = KernelSpecManager().get_kernel_spec(name)
        except NoSuchKernel:
            raise KernelStartError(
                f"no kernel installed for language {language!r} (kernelspec {name!r})"
            ) from None
        return list(spec.argv)

    def _env(self, resources: Resources) -> dict[str, str]:
        env = {key: os.environ[key] for key in self.inherit_env if key in os.environ}
        env.update({str(k): str(v) for k, v in self.extra_env.items()})
        env.update(resources.get("execution", {}).get("env", {}))
        return env

    def _new_kernel(self, resources: Resources) -> KernelProcess:
        cwd = resources.get("execution", {}).get("cwd") or os.getcwd()
        kernel = KernelProcess(
            self._argv(resources),
            str(cwd),
            self._env(resources),
            memory_limit=self.memory_limit,
            collect_limit=self.collect_limit,
            fork=self.fork_kernel,
        )
        kernel.launch()
        return kernel

    def begin(self, resources: Resources) -> None:
        if self.enabled and self._kernel is None:
            self._started = time.perf_counter()
            self._kernel = self._new_kernel(resources)

    def end(self, resources: Resources) -> None:
        if self._kernel is not None:
            started = time.perf_counter()
            self._kernel.shutdown()
            self._kernel = None
            timings = resources.setdefault("timings", {})
            timings["kernel_stop"] = timings.get("kernel_stop", 0.0) + time.perf_counter() - started

    def _wait_ready(self, resources: Resources) -> None:
        assert self._kernel is not None
        started = time.perf_counter()
        try:
            self._kernel.wait_ready(self.startup_timeout)
        except KernelStartError:
            self._kernel.shutdown()
            self._kernel = None
            raise
        timings = resources.setdefault("timings", {})
        timings["kernel_wait"] = timings.get("kernel_wait", 0.0) + time.perf_counter() - started
        timings["kernel_start"] = (
            timings.get("kernel_start", 0.0) + self._kernel.ready_at - self._kernel.launched_at
        )

    # -- running ----------------------------------------------------------------------------------------
    def preprocess(self, nb: NotebookNode, resources: Resources) -> tuple[NotebookNode, Resources]:
        resources.setdefault("language", notebook_language(nb))
        if self._kernel is None:
            self.begin(resources)
        self._wait_ready(resources)
        tests = [cells.source_text(c) for c in nb.cells if c.cell_type == "code" and cells.is_test(c)]
        modules = imported_modules(tests)
        self._install_guard(resources, modules, bool(tests))
        started = time.perf_counter()
        deadline = started + self.timeout if self.timeout else None
        restarts = 0
        for index, cell in enumerate(nb.cells):
            cell.metadata.pop(RUN_KEY, None)
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            remaining = None if deadline is None else deadline - time.perf_counter()
            if remaining is not None and remaining <= 0 or self._kernel is None:
                self._not_run(
                    cell,
                    "the notebook's time limit was reached before this cell ran"
                    if self._kernel is not None
                    else "no kernel was left to run this cell",
                )
                continue
            if not cell.source.strip():
                cell.metadata[RUN_KEY] = {"status": "ok", "stderr": False, "duration": 0.0}
                continue
            limit = self.cell_timeout or None
            if remaining is not None:
                limit = remaining if limit is None else min(limit, remaining)
            guarded = self._guard is not None and cells.is_test(cell)
            if guarded and not self._enter_guard(cell, index, resources):
                continue
            run = self._kernel.run_cell(cell.source, limit, self.interrupt_grace)
            cell.outputs = run.outputs
            cell.execution_count = run.execution_count
            cell.metadata[RUN_KEY] = {
                "status": run.status,
                "stderr": run.wrote_stderr,
                "duration": round(run.duration, 4),
                "truncated": run.truncated,
            }
            if guarded and not run.kernel_lost:
                self._leave_guard(cell, index, run, resources)
            if run.status in ("timeout", "kernel_died"):
                self.note(
                    resources,
                    f"cell {index}: {run.status.replace('_', ' ')} after {run.duration:.1f} s",
                    logging.WARNING,
                )
            if run.kernel_lost:
                self._kernel.shutdown()
                self._kernel = None
                if restarts < self.max_kernel_restarts:
                    restarts += 1
                    self.note(resources, f"cell {index}: starting a new kernel for the remaining cells")
                    self._kernel = self._new_kernel(resources)
                    self._wait_ready(resources)
                    self._install_guard(resources, modules, bool(tests))
                else:
                    self._guard = None
        timings = resources.setdefault("timings", {})
        timings["execute"] = timings.get("execute", 0.0) + time.perf_counter() - started
        return nb, resources

    # -- the guard --------------------------------------------------------------------------------------
    def _install_guard(self, resources: Resources, modules: list[str], needed: bool) -> None:
        """Install the guard in the (fresh) kernel before any student cell runs in it."""
        self._guard = None
        if not (self.guard_tests and needed and resources.get("language", "python") == "python"):
            return
        assert self._kernel is not None
        started = time.perf_counter()
        guard = KernelGuard(self._kernel, timeout=max(self.startup_timeout, 10.0))
        why = guard.install(modules)
        timings = resources.setdefault("timings", {})
        timings["guard"] = timings.get("guard", 0.0) + time.perf_counter() - started
        if why:
            # no student code has run in this kernel yet: this is the environment, not tampering
            self.note(resources, f"test cells run without the kernel guard: {why}", logging.WARNING)
            return
        self._guard = guard

    def _enter_guard(self, cell: NotebookNode, index: int, resources: Resources) -> bool:
        """Put the hook points back before test cell `index`; False (cell marked tampered) if that failed."""
        assert self._guard is not None
        answer = self._guard.enter()
        if not answer.ok:
            self._tampered(cell, index, answer.reason, resources)
            return False
        restored = answer.data.get("restored") or []
        if restored or answer.data.get("shadowed"):
            shadowed = ", ".join(answer.data.get("shadowed") or [])
            self.note(
                resources,
                f"cell {index}: put back before the test: {', '.join(restored[:20]) or 'nothing'}"
                + (f"; names hiding builtins set aside: {shadowed}" if shadowed else ""),
            )
        if answer.data.get("threads"):
            self.note(resources, f"cell {index}: student threads still running: {answer.data['threads']}")
        return True

    def _leave_guard(self, cell: NotebookNode, index: int, run: CellRun, resources: Resources) -> None:
        """Check the guard's signed account of test cell `index` against the kernel's reply."""
        assert self._guard is not None
        answer = self._guard.leave()
        meta = cell.metadata[RUN_KEY]
        if run.status != "ok":
            return  # failed either way; leave() only brought the names set aside back
        runs = answer.data.get("runs") if answer.ok else None
        if not isinstance(runs, list) or not runs:
            self._tampered(cell, index, answer.reason or "the guard saw the test cell not run", resources)
            return
        if answer.data.get("late"):
            self.note(resources, f"cell {index}: changed after the guard's check: {answer.data['late'][:20]}")
        errors = [r.get("error") for r in runs if isinstance(r, dict) and r.get("error")]
        errors += [str(name) for name in answer.data.get("raised") or []]
        if errors:
            self._tampered(cell, index, f"the kernel replied ok but the cell raised {errors[0]}", resources)
            return
        last = runs[-1] if isinstance(runs[-1], dict) else {}
        meta["guard"] = {"shown": bool(last.get("shown")), "value": last.get("value")}

    def _tampered(self, cell: NotebookNode, index: int, reason: str, resources: Resources) -> None:
        message = f"the grader could not run this test as written: {reason}"
        cell.outputs = [
            NotebookNode(
                output_type="error",
                ename="GraderTampered",
                evalue=message,
                traceback=[f"GraderTampered: {message}"],
            )
        ]
        previous = cell.metadata.get(RUN_KEY, {})
        cell.metadata[RUN_KEY] = {
            "status": "tampered",
            "stderr": False,
            "duration": previous.get("duration", 0.0),
        }
        self.note(resources, f"cell {index}: tampered: {reason}", logging.WARNING)

    @staticmethod
    def _not_run(cell: NotebookNode, reason: str) -> None:
        cell.outputs = [
            NotebookNode(
                output_type="error", ename="CellNotRun", evalue=reason, traceback=[f"CellNotRun: {reason}"]
            )
        ]
        cell.metadata[RUN_KEY] = {"status": "not_run", "stderr": False, "duration": 0.0}
