"""Request bodies of the remote-worker routes (/api/worker/...): strict, like every request model."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from grader_service.schemas.requests import Strict
from grader_service.schemas.text import LineText, MultilineText

Attempt = Annotated[int, Field(ge=1, le=1_000_000, description="the attempt number the claim returned")]
Error = Annotated[MultilineText, Field(min_length=1, max_length=10_000)]


class WorkerClaim(Strict):
    """A remote worker starts an attempt at an autograde job."""

    worker: Annotated[
        LineText, Field(min_length=1, max_length=255, description="the worker's name (host:pid)")
    ]


class WorkerFailure(Strict):
    """The executor ended without the pod posting a result (pod failed, deadline, deleted)."""

    attempt: Attempt
    error: Error
    log: Annotated[MultilineText, Field(max_length=4 << 20)] = ""


class WorkerRequeue(Strict):
    """An infrastructure error: the attempt goes back to queued and the worker's task retries it."""

    attempt: Attempt
    error: Error


class WorkerGiveUp(Strict):
    """The task's retries are used up: fail the job unless it finished meanwhile."""

    attempt: Attempt | None = Field(
        description="the last attempt the worker claimed; null when no claim "
        "succeeded (e.g. the service was unreachable)"
    )
    error: Error
