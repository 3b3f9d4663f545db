"""Test doubles of the executor (the JupyterHub mocking pattern): they fail on purpose the way
infrastructure fails, and otherwise grade for real with the ProcessExecutor."""

from __future__ import annotations

from collections import Counter

from grader_service.executors.base import ExecutorResult, InfrastructureError, JobSpec
from grader_service.executors.process import ProcessExecutor


class FlakyExecutor(ProcessExecutor):
    """Raises InfrastructureError on the first two runs of every job, then grades for real."""

    failures_per_job = 2
    calls: Counter[int] = Counter()

    async def run(self, spec: JobSpec) -> ExecutorResult:
        FlakyExecutor.calls[spec.job_id] += 1
        if FlakyExecutor.calls[spec.job_id] <= self.failures_per_job:
            raise InfrastructureError(
                f"scratch disk unavailable (simulated, call {FlakyExecutor.calls[spec.job_id]})"
            )
        return await super().run(spec)


class BrokenExecutor(ProcessExecutor):
    """Always raises InfrastructureError: the job must fail after the bounded retries."""

    async def run(self, spec: JobSpec) -> ExecutorResult:
        raise InfrastructureError("the grading cluster is unreachable (simulated)")
