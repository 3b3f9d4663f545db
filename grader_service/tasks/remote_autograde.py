"""The autograde task body of remote workers: claim the attempt from the service over HTTP, run the remote
executor (the pod fetches its input and posts its result itself), and report to the service only how the
attempt ended when the pod could not. No database, no data dir."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from grader_service.executors.base import ExecutorResult, InfrastructureError, JobSpec, ResourceLimits
from grader_service.tasks.context import RemoteWorkerContext

log = logging.getLogger(__name__)


def spec_from_claim(claim: dict[str, Any]) -> JobSpec:
    """The executor's job spec from the service's claim answer (POST /api/worker/jobs/{id}/claim)."""
    known = ResourceLimits.__dataclass_fields__
    limits = ResourceLimits(**{k: int(v) for k, v in claim.get("limits", {}).items() if k in known})
    return JobSpec(
        job_id=int(claim["job_id"]),
        submission_id=int(claim["submission_id"]),
        input_dir=None,
        gradebook=claim["gradebook"],
        cell_timeout=float(claim["cell_timeout"]),
        timeout=float(claim["timeout"]),
        limits=limits,
        service_url=claim["service_url"],
        job_token=claim["job_token"],
        labels={k: str(v) for k, v in claim["labels"].items()},
        executor_options=dict(claim.get("executor_options") or {}),
    )


def autograde(ctx: RemoteWorkerContext, job_id: int, *, attempt_box: list[int] | None = None) -> str:
    """Grade autograde job `job_id` through the service; returns what happened (for the task log).
    `attempt_box` receives the claimed attempt number (the retry path gives up with it)."""
    claim = ctx.client.claim(job_id, ctx.name)
    if not claim.get("claimed"):
        return str(claim.get("reason", "skipped"))
    attempt = int(claim["attempt"])
    if attempt_box is not None:
        attempt_box.append(attempt)
    try:
        result = asyncio.run(ctx.executor.run(spec_from_claim(claim)))
    except InfrastructureError as exc:  # back to queued, with the reason; the task retries with backoff
        ctx.client.requeue(job_id, attempt, str(exc))
        raise
    posted = result.remote
    if posted:  # the pod ended well, so it posted its result; if it did not, the job is still running
        result = ExecutorResult.failed("the grading pod ended without reporting a result", result.log)
    elif result.ok:  # a remote worker has no store to commit a locally produced result to
        result = ExecutorResult.failed(
            f"{type(ctx.executor).__name__} graded locally; a remote worker needs a "
            "remote executor (KubernetesExecutor)",
            result.log,
        )
    # compare-and-set at the service: ignored when the pod's result is in or a newer attempt owns the job
    if ctx.client.fail(job_id, attempt, result.error or "grading failed", result.log).get("recorded"):
        return f"failed: job {job_id} attempt {attempt}: {result.error}"
    if posted:
        return f"graded: job {job_id} attempt {attempt} (the pod posted its result)"
    return f"discarded: job {job_id} attempt {attempt} is no longer current"
