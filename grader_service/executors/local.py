"""LocalExecutor: grades in the worker process itself. UNSAFE (student code runs as the worker): dev/tests."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from grader_service.convert import ConvertError, autograde
from grader_service.executors.base import Executor, ExecutorResult, JobSpec
from grader_service.executors.outputs import collect_files


class LocalExecutor(Executor):
    """Runs the pipeline in-process (its kernel is still a child process). Never use it for real students:
    the notebook can read the worker's files and environment."""

    async def run(self, spec: JobSpec) -> ExecutorResult:
        if spec.input_dir is None:
            return ExecutorResult.failed("LocalExecutor needs the submission on the worker's disk")
        return await asyncio.get_running_loop().run_in_executor(None, self._run_sync, spec)

    def _run_sync(self, spec: JobSpec) -> ExecutorResult:
        assert spec.input_dir is not None  # run() answers a job without one
        with tempfile.TemporaryDirectory(prefix="grader-local-") as scratch:
            out = Path(scratch) / "graded"
            try:
                result = autograde(
                    spec.input_dir, out, spec.gradebook, cell_timeout=spec.cell_timeout, timeout=spec.timeout
                )
            except ConvertError as exc:
                return ExecutorResult.failed(f"grading failed: {exc}")
            log = "\n".join(result.get("log", []))
            return ExecutorResult(
                ok=True,
                result=result,
                files=collect_files(out, spec.limits.max_output_bytes * 4),
                log=self.clip_log(log),
            )
