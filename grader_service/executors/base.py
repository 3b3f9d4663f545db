"""The executor contract (after JupyterHub's Spawner): `run(spec) -> ExecutorResult`, runs student code."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from grader_service.schemas.outcome import GradingOutcome


@dataclass(frozen=True)
class ResourceLimits:
    """What one grading run may use. Zero means 'no limit' for that resource.

    These are the defaults of the executor's limit traits (`Executor.cpu_seconds`...), the one place
    they are declared.
    """

    memory_bytes: int = 2 << 30
    cpu_seconds: int = 600
    max_processes: int = 64
    max_file_bytes: int = 256 << 20
    max_open_files: int = 256
    max_output_bytes: int = 4 << 20


@dataclass(frozen=True)
class JobSpec:
    """Everything an executor needs to grade one submission; no database handle, no service secrets."""

    job_id: int
    submission_id: int
    input_dir: Path | None
    gradebook: dict[str, Any]
    cell_timeout: float
    timeout: float
    limits: ResourceLimits = ResourceLimits()
    # for executors that cannot share the worker's disk (Kubernetes): where the pod fetches and reports
    service_url: str = ""
    job_token: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    #: options the service resolved for this job (Executor.job_options); they win over the executor's own
    executor_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExecutorResult(GradingOutcome):
    """A GradingOutcome as an executor returns it."""

    #: the executor's remote side already posted the result to the service (Kubernetes); nothing to record
    remote: bool = False

    @classmethod
    def failed(cls, error: str, log: str = "") -> ExecutorResult:
        return cls(ok=False, error=error, log=log)


class InfrastructureError(RuntimeError):
    """The executor could not run the job for reasons unrelated to the student's code (retry later)."""


class Executor(LoggingConfigurable):
    """Base class of executors. Subclasses implement `run`; the worker writes results back.

    Contract: never raise for anything the student's code did (return `ExecutorResult.failed` with a clear
    message); raise `InfrastructureError` only when the job should be retried (no cluster, disk full...).
    """

    #: True for executors whose remote side fetches its input from the service and posts its result back
    remote = False

    overall_timeout_margin = Float(
        30.0,
        help="Seconds added to the notebook time budget before the whole run "
        "is killed (kernel start, scoring, writing results).",
    ).tag(config=True)
    max_log_bytes = Integer(256 << 10, help="The log kept per job is cut to this size.").tag(config=True)

    # -- what one grading run may use (0: no limit); the defaults are ResourceLimits' --
    memory_bytes = Integer(
        ResourceLimits.memory_bytes, help="Bytes of memory (address space) a grading run may use."
    ).tag(config=True)
    cpu_seconds = Integer(ResourceLimits.cpu_seconds, help="CPU seconds a grading run may use.").tag(
        config=True
    )
    max_processes = Integer(
        ResourceLimits.max_processes, help="Processes a grading run may have at once."
    ).tag(config=True)
    max_file_bytes = Integer(ResourceLimits.max_file_bytes, help="Largest file a grading run may write.").tag(
        config=True
    )
    max_open_files = Integer(ResourceLimits.max_open_files, help="Open files a grading run may have.").tag(
        config=True
    )
    max_output_bytes = Integer(
        ResourceLimits.max_output_bytes,
        help="Largest result a grading run may print (the graded files may take four times as much).",
    ).tag(config=True)

    def resource_limits(self) -> ResourceLimits:
        """The limits this executor is configured with (the service sends them with each job)."""
        return ResourceLimits(**{f.name: getattr(self, f.name) for f in fields(ResourceLimits)})

    async def run(self, spec: JobSpec) -> ExecutorResult:
        raise NotImplementedError

    def job_options(self, lecture_code: str, assignment_id: str) -> dict[str, Any]:
        """Per-job options (JSON) the service hands to remote workers with a claim; none by default."""
        return {}

    def close(self) -> None:
        """Release what the executor keeps between jobs (the process executor's fork server)."""

    def clip_log(self, text: str) -> str:
        data = text.encode("utf-8", "replace")
        if len(data) <= self.max_log_bytes:
            return text
        return data[: self.max_log_bytes].decode("utf-8", "ignore") + "\n[log cut]"
